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
    /// Password sign-ins a client address may burst, and their refill per second. The default lets an
    /// office of a hundred behind one address sign in at nine o'clock, then two more a second; password
    /// guessing is held by the lockout (per identity and per address), so this bucket bounds only the
    /// hashing work one address can cause (two bcrypt hashes a second, a few percent of a core).
    public var authBurst = 100
    public var authRefillPerSecond = 2.0
    /// The largest multipart body (a create or update with files) accepted; each file is further held
    /// to its field's `maxSize`. JSON bodies are limited to 32 MiB.
    public var maxUploadSize = 1 << 30
    /// The most requests one `POST /api/batch` may carry (PocketBase's `batch.maxRequests`); 0 turns
    /// batches off (403). On by default, unlike PocketBase: a batch is one transaction under the same
    /// rules as its requests one by one.
    public var batchMaxRequests = 50
    /// Requests per second each caller (a token, or a client address without one) may make to any API
    /// route on average, and in a burst; 0: no limit beyond the sign-in routes' own.
    public var rateLimit = 0.0
    public var rateBurst = 100
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
    /// The worker supervisor's state for `/api/health`, when `serve` runs workers.
    public var workerStatus: (@Sendable () -> WorkerSupervisor.Status)?
    public init() {}
}

/// Builds the HTTP API over a store: PocketBase's records, collections and auth routes, health, and
/// one error shape for everything. The result is a `Service` for the process's ServiceGroup (SIGTERM
/// stops accepting, finishes requests in flight). Building it has no side effects: uploads a killed
/// server left half-spooled in `<data dir>/uploads-tmp` are removed when it starts, before it serves.
public func buildApplication(
    store: Store, authenticator: Authenticator, configuration: ServerConfiguration, logger: Logger
) -> some ApplicationProtocol {
    let broker = RealtimeBroker(store: store, logger: logger)
    let router = buildRouter(store: store, authenticator: authenticator, configuration: configuration, broker: broker)
    var application = Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Burg"),
        logger: logger)
    application.addServices(broker)
    let dataDirectory = store.configuration.dataDirectory
    application.beforeServerStarts {
        // Directory listing and unlinks: off Swift's cooperative threads.
        try await BlockingWork.run { MultipartForm.removeLeftovers(dataDirectory: dataDirectory) }
    }
    return application
}

/// The router of ``buildApplication(store:authenticator:configuration:logger:)``: its middleware and
/// every route of the API. Registering has no side effects, so ``apiRoutes(store:authenticator:)`` can
/// read the same table back.
func buildRouter(
    store: Store, authenticator: Authenticator, configuration: ServerConfiguration, broker: RealtimeBroker
) -> Router<BurgRequestContext> {
    let router = Router(context: BurgRequestContext.self)
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
    if configuration.rateLimit > 0 {
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(capacity: max(1, configuration.rateBurst), refillPerSecond: configuration.rateLimit)))
    }
    let auth = RequestAuth(authenticator: authenticator)
    var records = RecordsRoutes(store: store, auth: auth, authenticator: authenticator)
    records.maxUploadSize = configuration.maxUploadSize
    records.add(to: router)
    CollectionsRoutes(store: store, auth: auth, audit: authenticator.audit).add(to: router)
    AuthRoutes(auth: auth, authenticator: authenticator,
               limiter: RateLimiter(capacity: configuration.authBurst, refillPerSecond: configuration.authRefillPerSecond),
               records: records).add(to: router)
    HealthRoutes(store: store, interval: configuration.healthInterval, workers: configuration.workerStatus).add(to: router)
    FilesRoutes(store: store, auth: auth, authenticator: authenticator).add(to: router)
    AuditRoutes(auth: auth, audit: authenticator.audit).add(to: router)
    BatchRoutes(records: records, auth: auth, maxRequests: configuration.batchMaxRequests).add(to: router)
    RealtimeRoutes(broker: broker, auth: auth).add(to: router)
    return router
}
