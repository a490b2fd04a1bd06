import BurgCore
import Foundation
import Logging

/// `burg serve`'s logs: JSON lines to stdout and `<data dir>/logs/burg.log` (10 MB × 10); only the
/// instance-lock holder writes there.
enum ServeLogging {
    /// Creates the log directory, installs the handler at `logs.level`, and logs the start with the
    /// store's effective settings.
    static func start(dataDir: DataDirOptions, settings: ServeSettings) throws -> Logger {
        let logs = dataDir.filePath.appending("logs")
        if mkdir(logs.string, 0o700) != 0 && errno != EEXIST {
            throw CLIInputError(
                message: "cannot create the log directory \(logs): \(String(cString: strerror(errno))); make \(dataDir.path) writable",
                exitCode: ExitStatus.cantCreate)
        }
        JSONLogHandler.bootstrap(file: try RotatingLogFile(directory: logs), logLevel: settings.logLevel)
        let logger = Logger(label: "burg.serve")
        logger.info(
            "Burg \(BurgVersion.current) running",
            metadata: [
                "dataDir": "\(dataDir.path)", "absolutePath": "\(dataDir.absolutePath)",
                "pid": "\(ProcessIdentity.pid)",
            ])
        let store = settings.store
        logger.info(
            "store settings",
            metadata: [
                "configFile": "\(settings.settings.filePath?.string ?? "none")",
                "synchronous": "\(store.synchronous.rawValue)",
                "busyTimeout": "\(store.busyTimeout.seconds)",
                "retryDeadline": "\(store.retry.deadline.seconds)",
                "maxReaders": "\(store.maxReaders)",
                "walSizeLimit": "\(store.walSizeLimit)",
            ])
        return logger
    }
}
