import BurgCore

/// Why a queue operation was refused; nothing was enqueued or changed.
public struct JobError: BurgError, Equatable {
    public enum Code: String, Sendable, Equatable {
        case unknownKind = "job_unknown_kind"
        case invalidArguments = "job_invalid_arguments"
        case invalidSchedule = "job_invalid_schedule"
        case notFound = "job_not_found"
        case invalidState = "job_invalid_state"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// 400 for bad input, 404 for an unknown job, 409 for a job in the wrong state.
    public var httpStatus: Int {
        switch code {
        case .unknownKind, .invalidArguments, .invalidSchedule: 400
        case .notFound: 404
        case .invalidState: 409
        }
    }

    public var exitCode: Int32 {
        switch code {
        case .unknownKind, .invalidArguments, .invalidSchedule: ExitStatus.usage
        case .notFound: ExitStatus.noInput
        case .invalidState: ExitStatus.dataError
        }
    }
}
