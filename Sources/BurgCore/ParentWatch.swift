import Foundation

#if os(Linux)
import CBurgSystem
import Glibc
#endif

/// A child process that must not outlive its parent (a `burg worker` started by `burg serve`): when the
/// parent dies — even by `kill -9` — the child receives SIGTERM and shuts down gracefully.
public enum ParentWatch {
    /// The environment variable a supervisor sets to its pid for the children it starts.
    public static let variable = "BURG_SUPERVISOR_PID"

    /// If this process was started by a supervisor (``variable`` is set), arranges to get SIGTERM when
    /// that supervisor dies; returns false when it is already gone (the caller should exit).
    /// Linux only; elsewhere (untested) it does nothing and returns true.
    public static func terminateWithSupervisor() -> Bool {
        #if os(Linux)
        guard let parent = ProcessInfo.processInfo.environment[variable].flatMap(Int32.init) else { return true }
        _ = cburg_set_parent_death_signal(SIGTERM)
        // The supervisor may have died before the request took effect: then we were re-parented.
        return getppid() == parent
        #else
        return true
        #endif
    }
}
