/// An error Burg reports to a person: its description says what happened, to what, and what to do.
///
/// Every layer's error type conforms, so the `burg` executable can print the description and end with
/// the matching ``ExitStatus`` without knowing the concrete type.
public protocol BurgError: Error, CustomStringConvertible, Sendable {
    /// The process exit status a CLI command ends with when this error reaches it.
    var exitCode: Int32 { get }
}

/// Exit statuses of the `burg` commands, after BSD's sysexits(3) so that scripts can tell classes of
/// failure apart. The table in README.md ("Exit codes") lists them for users.
public enum ExitStatus {
    public static let success: Int32 = 0
    /// Something failed that fits no narrower class.
    public static let failure: Int32 = 1
    /// The command line was wrong (unknown flag, bad value).
    public static let usage: Int32 = 64
    /// Input data was malformed (a file that is not what it claims to be).
    public static let dataError: Int32 = 65
    /// An input file or directory does not exist.
    public static let noInput: Int32 = 66
    /// A service or resource Burg needs is not available (e.g. a network file system was refused).
    public static let unavailable: Int32 = 69
    /// An internal error: a bug in Burg.
    public static let software: Int32 = 70
    /// An output file could not be created.
    public static let cantCreate: Int32 = 73
    /// Reading or writing failed at the operating-system level.
    public static let ioError: Int32 = 74
    /// Temporary failure: something is busy (a lock is held, Burg is already running); try again later.
    public static let tempFail: Int32 = 75
    /// Permission denied.
    public static let noPermission: Int32 = 77
    /// The configuration is invalid.
    public static let config: Int32 = 78
}
