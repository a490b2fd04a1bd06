import CBurgSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts programs as child processes with `posix_spawn`, without Foundation's `Process`: on Linux its
/// `run()` reads `/proc/self/fd` with a buffer over-read that crashes the parent now and then
/// (swift-corelibs-foundation #5472, in Swift 6.3.1). The child gets the given standard streams and
/// no other descriptor of the parent (so it holds none of the parent's locks or sockets), the default
/// signal dispositions and an empty signal mask.
public enum ProcessSpawn {
    /// Starts `executable` with `arguments` (argv[0] is `executable`) and `environment` (nil: this
    /// process's). Returns the child's pid; reap it with ``exit(of:wait:)``.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: Int32, stdout: Int32, stderr: Int32
    ) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        for (from, to) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            posix_spawn_file_actions_adddup2(&actions, from, to)
        }
        #if os(Linux)
        let closing = cburg_spawn_close_from(&actions, 3)
        guard closing == 0 else { throw SystemError(call: "posix_spawn_file_actions_addclosefrom_np", errno: closing) }
        #endif
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let variables = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        let envp = variables.map { $0.map { strdup($0) } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = argv.withUnsafeBufferPointer { arguments in
            if let envp {
                return envp.withUnsafeBufferPointer { variables in
                    posix_spawn(&pid, executable, &actions, &attributes, arguments.baseAddress!, variables.baseAddress!)
                }
            }
            return posix_spawn(&pid, executable, &actions, &attributes, arguments.baseAddress!, environ)
        }
        guard result == 0 else { throw SystemError(call: "posix_spawn \(executable)", errno: result) }
        return pid
    }

    /// How the child ended, once it has (nil while it runs, with `wait: false`). Reaps the child: ask
    /// until it answers, then keep the answer (the pid may be reused afterwards).
    public static func exit(of pid: pid_t, wait: Bool) -> ChildExit? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, wait ? 0 : WNOHANG)
            if result == -1 && errno == EINTR { continue }
            guard result == pid else { return nil }
            break
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as functions.
        let signal = status & 0x7f
        return signal == 0 ? ChildExit(code: (status >> 8) & 0xff, signal: nil) : ChildExit(code: nil, signal: signal)
    }
}

/// How a child process ended: its exit code, or the signal that ended it.
public struct ChildExit: Sendable, Equatable {
    public var code: Int32?
    public var signal: Int32?
    public init(code: Int32?, signal: Int32?) {
        self.code = code
        self.signal = signal
    }

    /// As a shell reports it: the exit code, or 128 + the signal.
    public var status: Int32 { code ?? 128 + (signal ?? 0) }
}
