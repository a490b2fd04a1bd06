import ArgumentParser
import BurgCore
import BurgStore  // STORE
import Logging
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run Burg on a data directory until SIGINT or SIGTERM.",
        discussion: """
            Takes the data directory for this process (a second `burg serve` on the same directory exits
            with status 75 and names the running one), creates the directory if needed (mode 0700), and
            runs until stopped. The HTTP API arrives with the server; until then `serve` holds the data
            directory and runs its background maintenance.
            """
    )

    @OptionGroup var dataDir: DataDirOptions
    @OptionGroup(title: "Store options") var storeOptions: StoreOptions  // STORE
    @Option(help: ArgumentHelp("JSON config file (default: <data dir>/burg.json if it exists); flags and BURG_* environment variables override it.", valueName: "FILE"))
    var config: String?

    func run() async throws {
        LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        let logger = Logger(label: "burg.serve")
        try await reportingErrors {
            try DataDirectory.prepare(dataDir.filePath)
            let instance = try InstanceLock.acquire(dataDir: dataDir.filePath)
            defer { instance.release() }
            logger.info(
                "Burg \(BurgVersion.current) running",
                metadata: [
                    "dataDir": "\(dataDir.path)", "absolutePath": "\(dataDir.absolutePath)",
                    "pid": "\(ProcessIdentity.pid)",
                ])
            // STORE: open the Store here and add its maintenance service to `services`.
            let settings = try await BurgSettings.load(dataDir: dataDir.filePath, configFile: config)
            let storeConfiguration = storeOptions.configuration(dataDirectory: dataDir.filePath, settings: settings)
            logger.info(
                "store settings",
                metadata: [
                    "configFile": "\(settings.filePath?.string ?? "none")",
                    "synchronous": "\(storeConfiguration.synchronous.rawValue)",
                    "busyTimeout": "\(storeConfiguration.busyTimeout.seconds)",
                    "retryDeadline": "\(storeConfiguration.retry.deadline.seconds)",
                    "maxReaders": "\(storeConfiguration.maxReaders)",
                    "walSizeLimit": "\(storeConfiguration.walSizeLimit)",
                ])
            let store = try Store(
                storeConfiguration, migrations: BurgSchema.migrations,
                logger: Logger(label: "burg.store"))
            let services: [any Service] = [
                UntilShutdown(),
                StoreMaintenance(store: store, configuration: storeOptions.maintenance(settings: settings)),
            ]
            let group = ServiceGroup(
                configuration: .init(
                    services: services.map { .init(service: $0) },
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
            logger.info("Burg stopped", metadata: ["dataDir": "\(dataDir.path)"])
        }
    }
}

/// Keeps the service group (and so the process) alive until a graceful shutdown is requested.
struct UntilShutdown: Service {
    func run() async throws {
        try await gracefulShutdown()
    }
}
