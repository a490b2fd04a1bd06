import BurgAuth
import BurgCore
import BurgRecords
import BurgStore
import BurgTestSupport
import Foundation
import Logging
import Synchronization

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ duration: Duration) { current.withLock { $0 += duration.seconds } }
}

/// A real store in a temporary data directory with the records and auth schema, and an authenticator
/// using bcrypt cost 4 (the minimum) so that tests stay fast; the cost is the only difference.
struct AuthFixture {
    let dir: TemporaryDirectory
    let store: Store
    let clock = TestClock()
    let auth: Authenticator

    static let migrations = StoreMigrations.store + CollectionRegistry.migrations + AuthSchema.migrations

    init(settings: AuthSettings? = nil, dir existing: TemporaryDirectory? = nil) async throws {
        dir = try existing ?? TemporaryDirectory()
        store = try Store(StoreConfiguration(dataDirectory: dir.path), migrations: Self.migrations)
        var settings = settings ?? AuthSettings()
        if settings.bcryptCost == AuthSettings().bcryptCost { settings.bcryptCost = 4 }
        let clock = self.clock
        auth = try await Authenticator(store: store, dataDirectory: dir.path, settings: settings,
            logger: Logger(label: "test"), now: { clock.now })
    }

    @discardableResult
    func user(_ email: String, _ password: String = "correct horse") async throws -> RecordModel {
        try await auth.createRecord(collection: "users", values: [
            "email": .string(email), "password": .string(password), "passwordConfirm": .string(password),
        ])
    }
}
