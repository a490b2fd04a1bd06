import ArgumentParser
import BurgCore
import BurgStore  // STORE
import Logging
import ServiceLifecycle
import BurgAuth
import BurgJobs
import BurgServer
import Configuration
import Foundation
import SystemPackage

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run Burg on a data directory until SIGINT or SIGTERM.",
        discussion: """
            Takes the data directory for this process (a second `burg serve` on the same directory exits with status 75 and names the running one), creates the directory if needed (mode 0700), and runs until stopped: the HTTP API (PocketBase-compatible, on --http, loopback by default), background maintenance, cron schedules of the job queue, and with --workers N that many supervised `burg worker` processes. SIGTERM/SIGINT finish requests in flight, then stop the workers, schedules and maintenance, and exit 0.

            Each setting comes from its flag, else its BURG_* environment variable, else the config file (burg.json), else its default; --print-config shows what would run and where each value came from. docs/OPERATIONS.md lists every setting.

            Everything is checked before anything is created: a malformed --http or a flag out of range exits 64, a wrong or unknown setting 78, a port another process listens on 75, an address this machine does not have 69, a port below 1024 without privileges 77.
            """
    )

    @OptionGroup var dataDir: DataDirOptions
    @Option(
        help: ArgumentHelp("Address to serve the HTTP API on (0.0.0.0:8090 to listen on every interface; port 0: any free port). Default: \(Self.defaultText("server.http")).", valueName: "HOST:PORT"),
        transform: HTTPAddress.parse)
    var http: HTTPAddress?
    @Option(
        help: ArgumentHelp("Web origins whose pages may call the API from a browser: * (any, as PocketBase; tokens never travel in cookies) or a comma-separated list such as http://localhost:5173,https://app.example.com. Default: *.", valueName: "ORIGINS"),
        transform: { text in
            guard AllowedOrigins(list: text) != nil else {
                throw ValidationError("--origins takes * or a comma-separated list of origins such as https://app.example.com (scheme and host, no path), not \"\(text)\"")
            }
            return text
        })
    var origins: String?
    @Option(help: ArgumentHelp("Directory whose files are served at / (a web app, as PocketBase's pb_public). Default: burg_public beside the data directory, when it exists.", valueName: "DIR"))
    var publicDir: String?
    @Option(help: ArgumentHelp("Whether a GET that matches no route and no file gets the public directory's index.html (a single-page app's own routes); never for /api/. Default: true.", valueName: "true|false"))
    var indexFallback: Bool?
    @Option(help: ArgumentHelp("Sign-in requests one client address may make in a burst. Default: \(Self.defaultText("auth.burst")).", valueName: "n"))
    var authBurst: Int?
    @Option(help: ArgumentHelp("Sign-in requests per second a client address regains after a burst. Default: \(Self.defaultText("auth.refill")).", valueName: "n"))
    var authRefill: Double?
    @Option(help: ArgumentHelp("Whether the rate limit rules (the rateLimits settings) are applied; false: no request is limited, for a benchmark or a server behind a proxy that limits. Set, it pins rateLimits.enabled. Default: \(Self.defaultText("rateLimit.enabled")).", valueName: "true|false"))
    var rateLimitsEnabled: Bool?
    @Option(help: ArgumentHelp("Requests per second each client address may make to any API route, as the /api/ rate limit rule; 0: no /api/ rule. Unset: Burg's default rule (3000 per 30 s). Set, it pins rateLimits.rules.", valueName: "n"))
    var rateLimit: Double?
    @Option(help: ArgumentHelp("Requests a caller may make in a burst when --rate-limit is set. Default: \(Self.defaultText("rateLimit.burst")).", valueName: "n"))
    var rateBurst: Int?
    @Option(help: ArgumentHelp("bcrypt cost of new password hashes (4…31; each step doubles the time a hash takes). Default: \(Self.defaultText("auth.bcryptCost")).", valueName: "n"))
    var bcryptCost: Int?
    @Option(help: ArgumentHelp("Failed sign-ins of one identity within the lockout window that lock it. Default: \(Self.defaultText("auth.lockoutAfter")).", valueName: "n"))
    var lockoutAfter: Int?
    @Option(help: ArgumentHelp("Minutes a locked identity (or address) stays locked, and the window failures are counted in. Default: \(Self.defaultText("auth.lockoutMinutes")).", valueName: "n"))
    var lockoutMinutes: Int?
    @Option(help: ArgumentHelp("Largest multipart request (a create or update with files), in MiB; each file is also held to its field's maxSize. Default: \(Self.defaultText("server.maxUpload")).", valueName: "MiB"))
    var maxUpload: Int?
    @Option(help: ArgumentHelp("The most requests one POST /api/batch may carry (all written in one transaction, or none); 0 turns batches off. Default: \(Self.defaultText("server.batchMaxRequests")).", valueName: "n"))
    var batchMaxRequests: Int?
    @OptionGroup(title: "Store options") var storeOptions: StoreOptions  // STORE
    @Option(help: ArgumentHelp("JSON config file (default: <data dir>/burg.json if it exists); flags and BURG_* environment variables override it. Every setting is listed in docs/OPERATIONS.md.", valueName: "FILE"))
    var config: String?
    @Option(help: ArgumentHelp("Seconds /api/health reuses its full check (quick_check, queue, backups); probes in between only prove the database answers. Default: \(Self.defaultText("health.interval")).", valueName: "seconds"))
    var healthInterval: Double?
    @Option(help: "Least severe log level written (trace, debug, info, notice, warning, error, critical). Default: info.")
    var logLevel: LogLevelOption?
    @Option(help: ArgumentHelp("Worker processes to run and supervise (restarted on crash with backoff; 0: none). Default: 0.", valueName: "n"))
    var workers: Int?
    @Option(help: ArgumentHelp("Jobs each worker runs at once. Default: \(Self.defaultText("workers.concurrency")).", valueName: "n"))
    var workerConcurrency: Int?
    @Option(help: ArgumentHelp("Seconds before restarting a crashed worker; doubles per crash up to --worker-max-backoff. Default: \(Self.defaultText("workers.backoff")).", valueName: "seconds"))
    var workerBackoff: Double?
    @Option(help: ArgumentHelp("Longest wait before restarting a crashed worker. Default: \(Self.defaultText("workers.maxBackoff")).", valueName: "seconds"))
    var workerMaxBackoff: Double?
    @Option(help: ArgumentHelp("How long a worker's claim on a job lasts without a heartbeat; a killed worker's jobs run again after it. Default: \(Self.defaultText("workers.lease")).", valueName: "seconds"))
    var workerLease: Double?
    @Option(help: ArgumentHelp("Crashes of one worker within 5 minutes after which it is not restarted (health: unhealthy). Default: \(Self.defaultText("workers.crashLimit")).", valueName: "n"))
    var workerCrashLimit: Int?
    @Flag(help: "Print every setting's effective value and its source (flag, environment, file, default) as JSON, and exit without creating or opening anything.")
    var printConfig = false

    private static func defaultText(_ key: String) -> String { SettingKey.named(key)?.defaultValue ?? "none" }

    /// The flags given, by setting key: the highest-priority source of ``BurgSettings``.
    var flagValues: [String: ConfigContent] {
        var values = storeOptions.flagValues
        values["server.http"] = http.map { .string($0.description) }
        values["server.origins"] = origins.map { .string($0) }
        values["server.publicDir"] = publicDir.map { .string($0) }
        values["server.indexFallback"] = indexFallback.map { .bool($0) }
        values["server.maxUpload"] = maxUpload.map { .int($0) }
        values["server.batchMaxRequests"] = batchMaxRequests.map { .int($0) }
        values["auth.burst"] = authBurst.map { .int($0) }
        values["auth.refill"] = authRefill.map { .double($0) }
        values["auth.bcryptCost"] = bcryptCost.map { .int($0) }
        values["auth.lockoutAfter"] = lockoutAfter.map { .int($0) }
        values["auth.lockoutMinutes"] = lockoutMinutes.map { .int($0) }
        values["rateLimit.enabled"] = rateLimitsEnabled.map { .bool($0) }
        values["rateLimit.perSecond"] = rateLimit.map { .double($0) }
        values["rateLimit.burst"] = rateBurst.map { .int($0) }
        values["workers.count"] = workers.map { .int($0) }
        values["workers.concurrency"] = workerConcurrency.map { .int($0) }
        values["workers.backoff"] = workerBackoff.map { .double($0) }
        values["workers.maxBackoff"] = workerMaxBackoff.map { .double($0) }
        values["workers.lease"] = workerLease.map { .double($0) }
        values["workers.crashLimit"] = workerCrashLimit.map { .int($0) }
        values["health.interval"] = healthInterval.map { .double($0) }
        values["logs.level"] = logLevel.map { .string($0.level.rawValue) }
        return values
    }

    /// Every flag in its range (exit 64); `--http`, `--origins` and the choices were checked while parsing.
    /// Store flags are checked by ``StoreOptions``.
    func validate() throws {
        try SettingKey.checkFlags(flagValues.filter { !$0.key.hasPrefix("store.") })
    }

    func run() async throws {
        EarlySignals.install()
        // A closed stdout (the log's reader went away) must not kill the server mid-request.
        signal(SIGPIPE, SIG_IGN)
        try await reportingErrors {
            // Every refusal that needs no data directory comes before it is created: the settings (file,
            // environment, ranges), and a busy or foreign address (unless a server already holds the
            // directory: that says more).
            let read = try await BurgSettings.load(dataDir: dataDir.filePath, configFile: config, flags: flagValues)
            let settings = try ServeSettings(read, dataDirectory: dataDir.filePath)
            if printConfig {
                print(settings.effectiveJSON)
                return
            }
            if InstanceLock.currentHolder(dataDir: dataDir.filePath) == nil {
                try ListenError.check(host: settings.http.host, port: settings.http.port)
            }
            try DataDirectory.prepare(dataDir.filePath)
            let instance = try InstanceLock.acquire(dataDir: dataDir.filePath)
            defer { instance.release() }
            let logger = try ServeLogging.start(dataDir: dataDir, settings: settings)
            let store = try Store(settings.servedStore, migrations: BurgSchema.migrations, logger: Logger(label: "burg.store"))
            // Checked again now that this process holds the directory: a port taken meanwhile.
            try ListenError.check(host: settings.http.host, port: settings.http.port)
            let authenticator = try await Authenticator(
                store: store, dataDirectory: dataDir.filePath, settings: settings.auth, logger: Logger(label: "burg.auth"))
            if try await authenticator.superuserCount() == 0 {
                logger.notice("no superuser yet: create one with `burg superuser upsert EMAIL PASSWORD --data-dir \(dataDir.path)`")
            }
            let supervisor = settings.workers.supervision(dataDirectory: dataDir.absolutePath).map { WorkerSupervisor($0) }
            var server = settings.server
            if let supervisor { server.workerStatus = { supervisor.status } }
            let absoluteDataDir = dataDir.absolutePath
            server.restoreBackup = { archive in try RestoreLauncher.start(archive, dataDirectory: absoluteDataDir) }
            // ServiceGroup starts these in order and stops them in reverse: on SIGTERM the HTTP server
            // drains first (its requests still have the store, its maintenance and the workers), then the
            // workers, schedules and maintenance; the store closes when the group has ended.
            var services: [any Service] = [
                EarlySignals(),
                StoreMaintenance(store: store, configuration: settings.maintenance),
                JobScheduler(queue: JobQueue(store: store, registry: BurgJobKinds.registry(store: store, dataDirectory: dataDir.filePath))),
            ]
            if let supervisor { services.append(supervisor) }
            // The settings in force (`/api/settings`), for every part that reads one at use time.
            let runtimeSettings = RuntimeSettings(defaults: server.settingsDefaults, pins: server.settingsPins)
            services.append(buildApplication(
                store: store, authenticator: authenticator, configuration: server, settings: runtimeSettings, logger: Logger(label: "burg.http")))
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

/// `--log-level`: swift-log's levels by name.
struct LogLevelOption: ExpressibleByArgument {
    let level: Logger.Level
    init(level: Logger.Level) { self.level = level }
    init?(argument: String) {
        guard let level = Logger.Level(rawValue: argument.lowercased()) else { return nil }
        self.level = level
    }
    var defaultValueDescription: String { level.rawValue }
}

/// Keeps the service group (and so the process) alive until a graceful shutdown is requested.
