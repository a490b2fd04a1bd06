import BurgCore
import SystemPackage

/// Why a benchmark was refused or failed. The description names what (the target, the option, the run)
/// and says what to do; nothing was written when a run is refused before it starts.
public struct BenchError: CodedError, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        /// The target is a system directory (/, /etc, /usr, ...).
        case systemDirectory
        /// The configuration's allow-list does not contain the target.
        case notAllowed
        /// The target does not exist or is not a directory.
        case noTarget
        /// The target is not writable by this user.
        case notWritable
        /// Not enough free space for the test files plus the safety margin.
        case insufficientSpace
        /// Another benchmark runs on the same target.
        case alreadyRunning
        /// Direct I/O is impossible there (tmpfs) and `--allow-cached` was not given.
        case cachedOnly
        /// fio is not installed or cannot be started: exit 69.
        case fioMissing
        /// fio failed, timed out or printed no usable JSON (after its retry): exit 74, fio's stderr in the detail.
        case fioFailed
        /// A user-supplied fio option is not on the allow-list.
        case refusedFioOption
        /// Workload or command-line values are out of range.
        case invalidSettings
        /// SIGINT (or cancellation) stopped the run; its test files were removed.
        case interrupted
        /// Reading or writing the test file failed.
        case io
        /// Verify mode read back a block that differs from what was written.
        case verifyFailed
        /// No stored run has that id.
        case runNotFound
        /// The lock or a test file in the target is a symbolic link (or not a regular file).
        case symbolicLink
    }

    public var code: Code
    /// What the error is about: a directory, an option, a run id.
    public var subject: String
    /// Specifics (which limit, what the system said).
    public var detail: String?
    /// The process holding the target, for `.alreadyRunning`.
    public var holder: LockHolder?

    public init(_ code: Code, subject: String, detail: String? = nil, holder: LockHolder? = nil) {
        self.code = code
        self.subject = subject
        self.detail = detail
        self.holder = holder
    }

    private var specifics: String { detail.map { " (\($0))" } ?? "" }

    public var description: String {
        switch code {
        case .systemDirectory:
            return "refusing to benchmark \(subject): it is a system directory; pass --target with a directory on the disk to test, e.g. a fresh directory under /srv or /mnt"
        case .notAllowed:
            return "refusing to benchmark \(subject): it is not under a directory of the bench allow-list\(specifics); add it to the allow-list or choose an allowed target"
        case .noTarget:
            return "cannot benchmark \(subject): \(detail ?? "it does not exist or is not a directory"); create the directory first"
        case .notWritable:
            return "cannot benchmark \(subject): it is not writable by this user\(specifics); fix its permissions or choose another target"
        case .insufficientSpace:
            return "refusing to benchmark \(subject): too little free space\(specifics); free space or pass a smaller --file-size"
        case .alreadyRunning:
            let who = holder.map { " (pid \($0.pid): \($0.command))" } ?? ""
            return "a benchmark is already running on \(subject)\(who); wait for it to finish or stop it"
        case .cachedOnly:
            return "refusing to benchmark \(subject): direct I/O is impossible there\(specifics), so the figures would measure memory, not a disk; pass --allow-cached to run anyway (results are marked cached)"
        case .fioMissing:
            return "fio is not installed\(specifics); install it (Debian: apt-get install fio) or use --engine native"
        case .fioFailed:
            return "fio failed on \(subject)\(specifics); run it with --engine native, or check fio's message above"
        case .refusedFioOption:
            return "refusing fio option \(subject)\(specifics); only options that shape the workload are allowed"
        case .invalidSettings:
            return "invalid benchmark settings for \(subject)\(specifics)"
        case .interrupted:
            return "benchmark on \(subject) interrupted; its test files were removed"
        case .io:
            return "I/O on \(subject) failed\(specifics)"
        case .verifyFailed:
            return "verification failed on \(subject)\(specifics): the disk returned data that differs from what was written"
        case .runNotFound:
            return "there is no benchmark run \(subject); `burg bench history` lists the stored runs"
        case .symbolicLink:
            return "refusing to benchmark: \(subject) is \(detail ?? "a symbolic link"), where Burg keeps its own lock or test file; "
                + "Burg never follows links there (one could point its writes at another file): remove it and run again"
        }
    }

    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .systemDirectory, .notAllowed: return ExitStatus.noPermission
        case .noTarget: return ExitStatus.noInput
        case .notWritable: return ExitStatus.noPermission
        case .insufficientSpace: return ExitStatus.cantCreate
        case .alreadyRunning: return ExitStatus.tempFail
        case .cachedOnly, .fioMissing: return ExitStatus.unavailable
        case .fioFailed: return ExitStatus.ioError
        case .refusedFioOption, .invalidSettings: return ExitStatus.usage
        case .interrupted: return 130
        case .io: return ExitStatus.ioError
        case .verifyFailed: return ExitStatus.dataError
        case .runNotFound: return ExitStatus.noInput
        case .symbolicLink: return ExitStatus.noPermission
        }
    }
}
