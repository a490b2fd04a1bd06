import BurgAuth
import BurgCore
import BurgJobs
import BurgRecords
import BurgStore
import Hummingbird
import Logging
import NIOCore
import SystemPackage

/// Where and how the HTTP API listens.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8090
    /// Password sign-ins a client address may burst, and their refill per second: the numbers of the
    /// default `*:auth` rate limit rule (100 per 50 s). The default lets an office of a hundred behind one
    /// address sign in at nine o'clock, then two more a second; password guessing is held by the lockout
    /// (per identity and per address), so this bounds only the hashing work one address can cause (two
    /// bcrypt hashes a second, a few percent of a core).
    public var authBurst = 100
    public var authRefillPerSecond = 2.0
    /// The largest multipart body (a create or update with files) accepted; each file is further held
    /// to its field's `maxSize`. JSON bodies are limited to 32 MiB.
    public var maxUploadSize = 1 << 30
    /// The most requests one `POST /api/batch` may carry (PocketBase's `batch.maxRequests`) until a
    /// superuser changes it in the settings; 0 turns batches off (403). On by default, unlike
    /// PocketBase: a batch is one transaction under the same rules as its requests one by one.
    public var batchMaxRequests = 50
    /// Requests per second each client address may make to any API route on average, and in a burst:
    /// the default `/api/` rule's numbers; nil: Burg's default rule (3000 per 30 s); 0: no `/api/` rule.
    public var rateLimit: Double?
    public var rateBurst = 100
    /// Whether the rate limit rules apply until a superuser changes `rateLimits.enabled`.
    public var rateLimitsEnabled = true
    /// Settings of `/api/settings` that the static configuration set explicitly (see ``SettingPin``).
    public var settingsPins: [SettingPin] = []
    /// How often realtime reads the change feed for changes other processes committed (a `burg import`,
    /// a worker); a change this server commits is sent at once.
    public var realtimePollInterval: Duration = .milliseconds(100)
    /// How often a save of the settings by another process on the same data directory is looked for
    /// (a save through this server is in force at once); zero: never.
    public var settingsRefreshInterval: Duration = .seconds(2)
    /// A connection that sends nothing for this long — idle between requests, or stalled in the middle
    /// of a request's head or body — is closed, so slow or half-sent requests cannot pile up.
    public var idleTimeout: Duration = .seconds(60)
    /// How long `/api/health` reuses its full check (probes in between only prove the database answers).
    public var healthInterval: Duration = .seconds(10)
    /// Web origins whose pages may call the API from a browser; any, as PocketBase (see ``AllowedOrigins``).
    public var allowedOrigins: AllowedOrigins = .any
    /// A directory whose files are served at `/` (a web app, as PocketBase's `pb_public`); nil: none.
    public var publicDirectory: String?
    /// Whether a `GET` matching no route and no file gets the public directory's `index.html` (a
    /// single-page app's own routes); never for `/api/…`.
    public var indexFallback = true
    /// Starts a restore of the archive at the path that stops this server, replaces the data directory
    /// and starts the server again (`burg serve` spawns `burg backup restore --restart`); nil:
    /// `POST /api/backups/{key}/restore` answers that this server cannot restore itself.
    public var restoreBackup: (@Sendable (FilePath) throws -> Void)?
    /// The worker supervisor's state for `/api/health`, when `serve` runs workers.
    public var workerStatus: (@Sendable () -> WorkerSupervisor.Status)?
    public init() {}

    /// What `/api/settings` holds before a superuser changes anything: Burg's defaults
    /// (``AppSettings/burg``) with this configuration's batch size and rate limit numbers.
    public var settingsDefaults: AppSettings {
        var settings = AppSettings.burg
        settings.batch.maxRequests = batchMaxRequests
        settings.batch.enabled = batchMaxRequests > 0
        settings.rateLimits.enabled = rateLimitsEnabled
        settings.rateLimits.rules = settings.rateLimits.rules.compactMap { rule in
            var rule = rule
            switch rule.label {
            case "*:auth":
                rule.maxRequests = authBurst
                rule.duration = Self.seconds(authBurst, perSecond: authRefillPerSecond)
            case "/api/":
                guard let rateLimit else { return rule }
                guard rateLimit > 0 else { return nil }
                rule.maxRequests = max(1, rateBurst)
                rule.duration = Self.seconds(rule.maxRequests, perSecond: rateLimit)
            default: break
            }
            return rule
        }
        return settings
    }

    /// The whole seconds in which `count` requests refill at `perSecond` (at least 1).
    static func seconds(_ count: Int, perSecond: Double) -> Int {
        let seconds = Double(count) / max(perSecond, 1e-9)
        return seconds >= 1e9 ? 1_000_000_000 : max(1, Int(seconds.rounded()))
    }
}

/// Builds the HTTP API over a store: PocketBase's records, collections and auth routes, health, and
/// one error shape for everything. The result is a `Service` for the process's ServiceGroup (SIGTERM
/// stops accepting, finishes requests in flight). Building it has no side effects: uploads a killed
/// server left half-spooled in `<data dir>/uploads-tmp` are removed when it starts, before it serves.
///
/// `settings` are the settings in force (`/api/settings`), shared with whatever else reads them (a mail
/// sender); by default new ones from the configuration's defaults and pins. What is stored is read into
/// them before the server accepts its first request.
public func buildApplication(
    store: Store, authenticator: Authenticator, configuration: ServerConfiguration, settings: RuntimeSettings? = nil, logger: Logger
) -> some ApplicationProtocol {
    let broker = RealtimeBroker(store: store, logger: logger, pollInterval: configuration.realtimePollInterval)
    let settings = settings ?? RuntimeSettings(defaults: configuration.settingsDefaults, pins: configuration.settingsPins)
    let router = buildRouter(store: store, authenticator: authenticator, configuration: configuration, settings: settings, broker: broker)
    var application = Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Burg"),
        logger: logger)
    application.addServices(broker)
    if configuration.settingsRefreshInterval > .zero {
        application.addServices(SettingsRefresh(settings: settings, store: store, interval: configuration.settingsRefreshInterval,
                                                logger: Logger(label: "burg.settings")))
    }
    let dataDirectory = store.configuration.dataDirectory
    application.beforeServerStarts {
        // Directory listing and unlinks: off Swift's cooperative threads.
        try await BlockingWork.run { MultipartForm.removeLeftovers(dataDirectory: dataDirectory) }
        try await settings.load(from: store)
    }
    return application
}

/// The router of ``buildApplication(store:authenticator:configuration:logger:)``: its middleware and
/// every route of the API. Registering has no side effects, so ``apiRoutes(store:authenticator:)`` can
/// read the same table back.
func buildRouter(
    store: Store, authenticator: Authenticator, configuration: ServerConfiguration, settings: RuntimeSettings, broker: RealtimeBroker
) -> Router<BurgRequestContext> {
    let router = Router(context: BurgRequestContext.self)
    // First: every later part (the log line included) sees the client address a trusted proxy reported.
    router.add(middleware: TrustedProxyMiddleware(settings: settings))
    // Outermost: the log line sees the final status, errors included.
    router.add(middleware: RequestLogMiddleware(logger: Logger(label: "burg.http")))
    // Outside the error middleware, so that errors carry the CORS headers a browser needs to read them.
    router.add(middleware: CrossOriginMiddleware(origins: configuration.allowedOrigins))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware())
    if let directory = configuration.publicDirectory {
        // Inside the error middleware: a path with `..` gets PocketBase's JSON 400.
        router.add(middleware: PublicFilesMiddleware(directory: directory, indexFallback: configuration.indexFallback,
                                                     threadPool: .singleton, logger: Logger(label: "burg.public")))
    }
    router.add(middleware: BodyLimitMiddleware(maxBodySize: BurgRequestContext.maxBodySize, maxUploadSize: configuration.maxUploadSize))
    router.add(middleware: RateLimitMiddleware(settings: settings))
    let auth = RequestAuth(authenticator: authenticator, settings: settings)
    var records = RecordsRoutes(store: store, auth: auth, authenticator: authenticator)
    records.maxUploadSize = configuration.maxUploadSize
    records.add(to: router)
    CollectionsRoutes(store: store, auth: auth, audit: authenticator.audit).add(to: router)
    AuthRoutes(auth: auth, authenticator: authenticator, records: records).add(to: router)
    HealthRoutes(store: store, interval: configuration.healthInterval, workers: configuration.workerStatus).add(to: router)
    FilesRoutes(store: store, auth: auth, authenticator: authenticator).add(to: router)
    AuditRoutes(auth: auth, audit: authenticator.audit).add(to: router)
    BatchRoutes(records: records, auth: auth, settings: settings).add(to: router)
    SettingsRoutes(store: store, auth: auth, settings: settings).add(to: router)
    BackupsRoutes(store: store, auth: auth, authenticator: authenticator, restore: configuration.restoreBackup).add(to: router)
    RealtimeRoutes(broker: broker, auth: auth).add(to: router)
    return router
}
