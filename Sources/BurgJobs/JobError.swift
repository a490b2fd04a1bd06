import BurgCore

/// Why a queue operation was refused; nothing was enqueued or changed.
public struct JobError: CodedError, Equatable {
    public enum Code: String, Sendable, CaseIterable {
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


    public static func exitStatus(for code: Code) -> Int32 {
        switch code {
        case .unknownKind, .invalidArguments, .invalidSchedule: ExitStatus.usage
        case .notFound: ExitStatus.noInput
        case .invalidState: ExitStatus.dataError
        }
    }
}
