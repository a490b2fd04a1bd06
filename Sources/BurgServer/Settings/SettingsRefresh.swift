import BurgStore
import Logging
import ServiceLifecycle

/// Keeps the settings in force current when another process (a second `burg serve` on the same data
/// directory, `burg` commands) saves them: every `interval` it reads the number of the last save, one
/// indexed read, and loads the settings again when it is newer than the one in force.
struct SettingsRefresh: Service {
    let settings: RuntimeSettings
    let store: Store
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                    try await settings.refresh(from: store)
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("settings: reading the stored settings failed; the ones in force stay", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

extension RuntimeSettings {
    /// Loads the stored settings again when a save newer than the one in force exists.
    func refresh(from store: Store) async throws {
        let stored = try await store.read { db in try StoredSettings.latestVersion(db) }
        if stored > snapshot.version { try await load(from: store) }
    }
}

extension StoredSettings {
    /// The number of the last save (0: nothing stored, or no `_settings` table).
    static func latestVersion(_ db: StoreTransaction) throws -> Int {
        guard try db.tableExists("_settings") else { return 0 }
        return Int(try db.column(sql: "SELECT coalesce(max(version), 0) FROM _settings").first?.integer ?? 0)
    }
}
