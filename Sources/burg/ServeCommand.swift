import ArgumentParser
import BurgCore
import BurgStore  // STORE
import Logging
import ServiceLifecycle
import BurgAuth
import BurgJobs
import BurgServer
import Foundation
import SystemPackage

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run Burg on a data directory until SIGINT or SIGTERM.",
        discussion: """
            Takes the data directory for this process (a second `burg serve` on the same directory exits with status 75 and names the running one), creates the directory if needed (mode 0700), and runs until stopped: the HTTP API (PocketBase-compatible, on --http, loopback by default), background maintenance, cron schedules of the job queue, and with --workers N that many supervised `burg worker` processes. SIGTERM/SIGINT finish requests in flight, then exit 0.

            The command line is checked before anything is created: a malformed --http exits 64, a port another process listens on 75, an address this machine does not have 69, a port below 1024 without privileges 77.
            """
    )

    @OptionGroup var dataDir: DataDirOptions
    @Option(
        help: ArgumentHelp("Address to serve the HTTP API on (0.0.0.0:8090 to listen on every interface; port 0: any free port).", valueName: "HOST:PORT"),
        transform: HTTPAddress.parse)
    var http = HTTPAddress(host: "127.0.0.1", port: 8090)
    @Option(
        help: ArgumentHelp("Web origins whose pages may call the API from a browser: * (any, as PocketBase; tokens never travel in cookies) or a comma-separated list such as http://localhost:5173,https://app.example.com.", valueName: "ORIGINS"),
        transform: { text in
            guard let origins = AllowedOrigins(list: text) else {
                throw ValidationError("--origins takes * or a comma-separated list of origins such as https://app.example.com (scheme and host, no path), not \"\(text)\"")
            }
            return origins
        })
    var origins: AllowedOrigins = .any
    @Option(help: ArgumentHelp("Directory whose files are served at / (a web app, as PocketBase's pb_public). Default: burg_public beside the data directory, when it exists.", valueName: "DIR"))
    var publicDir: String?
    @Option(help: ArgumentHelp("Whether a GET that matches no route and no file gets the public directory's index.html (a single-page app's own routes); never for /api/.", valueName: "true|false"))
    var indexFallback = true
    @Option(help: "Sign-in requests one client address may make in a burst.") var authBurst = 10
    @Option(help: "Sign-in requests per second a client address regains after a burst.") var authRefill = 1.0
    @Option(help: "Requests per second each caller (per token, else per client address) may make to any API route; 0: unlimited.")
    var rateLimit = 0.0
    @Option(help: "Requests a caller may make in a burst when --rate-limit is set.") var rateBurst = 100
    @Option(help: "bcrypt cost of new password hashes (4…31; each step doubles the time a hash takes).") var bcryptCost = AuthSettings().bcryptCost
    @Option(help: "Failed sign-ins of one identity within the lockout window that lock it.") var lockoutAfter = LockoutPolicy().maxFailures
    @Option(help: "Minutes a locked identity (or address) stays locked, and the window failures are counted in.")
    var lockoutMinutes = Int(LockoutPolicy().lockoutDuration.seconds / 60)
    @Option(help: ArgumentHelp("Largest multipart request (a create or update with files), in MiB; each file is also held to its field's maxSize.", valueName: "MiB"))
    var maxUpload = 1024
    @OptionGroup(title: "Store options") var storeOptions: StoreOptions  // STORE
    @Option(help: ArgumentHelp("JSON config file (default: <data dir>/burg.json if it exists); flags and BURG_* environment variables override it.", valueName: "FILE"))
    var config: String?
    @Option(help: "Seconds /api/health reuses its full check (quick_check, queue, backups); probes in between only prove the database answers.")
    var healthInterval = 10.0
    @Option(help: "Least severe log level written (trace, debug, info, notice, warning, error, critical).")
    var logLevel: LogLevelOption = .info
    @Option(help: "Worker processes to run and supervise (restarted on crash with backoff; 0: none).") var workers = 0
    @Option(help: "Jobs each worker runs at once.") var workerConcurrency = 16
    @Option(help: "Seconds before restarting a crashed worker; doubles per crash up to 60.") var workerBackoff = 1.0
    @Option(help: "Longest wait before restarting a crashed worker, in seconds.") var workerMaxBackoff = 60.0
    @Option(help: "Seconds a worker's claim on a job lasts without a heartbeat; a killed worker's jobs run again after it.") var workerLease = 30.0
    @Option(help: "Crashes of one worker within 5 minutes after which it is not restarted (health: unhealthy).") var workerCrashLimit = 5

    func validate() throws {
        let day = 86_400.0
        try OptionRange.check(authBurst, "--auth-burst", 1...Int(Int32.max), "requests")
        try OptionRange.check(authRefill, "--auth-refill", 0.000_001...1e9, "requests per second")
        try OptionRange.check(rateLimit, "--rate-limit", 0...1e9, "requests per second")
        try OptionRange.check(rateBurst, "--rate-burst", 1...Int(Int32.max), "requests")
        // MiB, shifted into bytes: 1 TiB at most keeps `maxUpload << 20` far from overflow.
        try OptionRange.check(maxUpload, "--max-upload", 1...(1 << 20), "MiB")
        try OptionRange.check(healthInterval, "--health-interval", 0...day, "seconds")
        try OptionRange.check(bcryptCost, "--bcrypt-cost", 4...31)
        try OptionRange.check(lockoutAfter, "--lockout-after", 1...1_000_000, "failures")
        // Minutes times 60 into seconds: a year at most.
        try OptionRange.check(lockoutMinutes, "--lockout-minutes", 1...525_600, "minutes")
        // Each worker is a process; more than this is a typo, not a deployment.
        try OptionRange.check(workers, "--workers", 0...256, "processes")
        try OptionRange.check(workerConcurrency, "--worker-concurrency", 1...1024, "jobs")
        try OptionRange.check(workerBackoff, "--worker-backoff", 0.01...3600, "seconds")
        try OptionRange.check(workerMaxBackoff, "--worker-max-backoff", 0.01...day, "seconds")
        try OptionRange.check(workerLease, "--worker-lease", 1...day, "seconds")
        try OptionRange.check(workerCrashLimit, "--worker-crash-limit", 1...1_000_000, "crashes")
    }

    /// `--public-dir`, which must be a directory; else `burg_public` beside the data directory when it
    /// exists; else none.
    func resolvedPublicDirectory() throws -> String? {
        var isDirectory: ObjCBool = false
        if let publicDir {
            guard FileManager.default.fileExists(atPath: publicDir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIInputError(message: "--public-dir \(publicDir) is not a directory; create it or leave the option out", exitCode: ExitStatus.noInput)
            }
            return publicDir
        }
        let beside = FilePath(dataDir.absolutePath).removingLastComponent().appending("burg_public").string
        return FileManager.default.fileExists(atPath: beside, isDirectory: &isDirectory) && isDirectory.boolValue ? beside : nil
    }

    func run() async throws {
        EarlySignals.install()
        // A closed stdout (the log's reader went away) must not kill the server mid-request.
        signal(SIGPIPE, SIG_IGN)
        try await reportingErrors {
            // Refusals that need no data directory come before it is created: the config file, and a
            // busy or foreign address (unless a server already holds the directory: that says more).
            let settings = try await BurgSettings.load(dataDir: dataDir.filePath, configFile: config)
            // A store value out of range in the file or the environment is refused here, before anything exists.
            var storeConfiguration = try storeOptions.configuration(dataDirectory: dataDir.filePath, settings: settings)
            let maintenance = try storeOptions.maintenance(settings: settings)
            let publicDirectory = try resolvedPublicDirectory()
            var server = ServerConfiguration()
            server.host = http.host
            server.port = http.port
            if InstanceLock.currentHolder(dataDir: dataDir.filePath) == nil {
                try ListenError.check(host: server.host, port: server.port)
            }
            try DataDirectory.prepare(dataDir.filePath)
            let instance = try InstanceLock.acquire(dataDir: dataDir.filePath)
            defer { instance.release() }
            // JSON lines to stdout and <data dir>/logs/burg.log (10 MB × 10); only the instance-lock
            // holder writes there.
            let logs = dataDir.filePath.appending("logs")
            if mkdir(logs.string, 0o700) != 0 && errno != EEXIST {
                throw CLIInputError(message: "cannot create the log directory \(logs): \(String(cString: strerror(errno))); make \(dataDir.path) writable", exitCode: ExitStatus.cantCreate)
            }
            JSONLogHandler.bootstrap(file: try RotatingLogFile(directory: logs), logLevel: logLevel.level)
            let logger = Logger(label: "burg.serve")
            logger.info(
                "Burg \(BurgVersion.current) running",
                metadata: [
                    "dataDir": "\(dataDir.path)", "absolutePath": "\(dataDir.absolutePath)",
                    "pid": "\(ProcessIdentity.pid)",
                ])
            // Commits never checkpoint: StoreMaintenance does, beside the writer, every --checkpoint-interval.
            storeConfiguration.autoCheckpointPages = 0
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
            // Checked again now that this process holds the directory: a port taken meanwhile.
            try ListenError.check(host: server.host, port: server.port)
            server.allowedOrigins = origins
            server.publicDirectory = publicDirectory
            server.indexFallback = indexFallback
            server.authBurst = authBurst
            server.authRefillPerSecond = authRefill
            server.rateLimit = rateLimit
            server.healthInterval = .milliseconds(Int64(healthInterval * 1000))
            server.rateBurst = rateBurst
            server.maxUploadSize = maxUpload << 20
            var authSettings = AuthSettings()
            authSettings.bcryptCost = bcryptCost
            authSettings.lockout.maxFailures = lockoutAfter
            authSettings.lockout.lockoutDuration = .seconds(lockoutMinutes * 60)
            authSettings.lockout.window = .seconds(lockoutMinutes * 60)
            let authenticator = try await Authenticator(
                store: store, dataDirectory: dataDir.filePath, settings: authSettings, logger: Logger(label: "burg.auth"))
            if try await authenticator.superuserCount() == 0 {
                logger.notice("no superuser yet: create one with `burg superuser upsert EMAIL PASSWORD --data-dir \(dataDir.path)`")
            }
            var supervisor: WorkerSupervisor?
            if workers > 0 {
                // This very binary, wherever it was started from.
                let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
                var supervision = WorkerSupervisor.Configuration(
                    workers: workers, executable: executable,
                    arguments: ["worker", "--data-dir", dataDir.absolutePath, "--concurrency", "\(workerConcurrency)", "--lease", "\(workerLease)"])
                supervision.maxBackoff = .milliseconds(Int64(max(0.01, workerMaxBackoff) * 1000))
                supervision.initialBackoff = .milliseconds(Int64(max(0.01, workerBackoff) * 1000))
                supervision.crashLimit = max(1, workerCrashLimit)
                let started = WorkerSupervisor(supervision)
                server.workerStatus = { started.status }
                supervisor = started
            }
            var services: [any Service] = [
                EarlySignals(),
                buildApplication(store: store, authenticator: authenticator, configuration: server, logger: Logger(label: "burg.http")),
                StoreMaintenance(store: store, configuration: maintenance),
                JobScheduler(queue: JobQueue(store: store, registry: BurgJobKinds.registry(store: store, dataDirectory: dataDir.filePath))),
            ]
            if let supervisor { services.append(supervisor) }
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
    static let info = LogLevelOption(level: .info)
    init(level: Logger.Level) { self.level = level }
    init?(argument: String) {
        guard let level = Logger.Level(rawValue: argument.lowercased()) else { return nil }
        self.level = level
    }
    var defaultValueDescription: String { level.rawValue }
}

/// Keeps the service group (and so the process) alive until a graceful shutdown is requested.
