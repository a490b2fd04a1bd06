import BurgCore
import BurgStore
import Foundation
internal import GRDB

/// Why seeding could not start; nothing was written.
public struct SeedError: BurgError, Equatable {
    public var collection: String
    public var field: String
    public var message: String
    public var description: String { "cannot seed \(collection).\(field): \(message)" }
    public var exitCode: Int32 { ExitStatus.dataError }
}

/// Fills a collection with realistic test records (`burg seed`): values shaped by each field's type,
/// options and name (`first_name` gets first names, `*_number` a numbered code, `birth_date` a plausible
/// date), relations to existing records of the target. Names stay unique past the pools (a counter is
/// appended), unique fields never collide, and the same `seed` gives the same records.
public struct RecordSeeder: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Inserts `count` records in batches of `batchSize`; returns how many were inserted. Every record
    /// passes the collection's validation.
    @discardableResult
    public func seed(
        _ collectionName: String, count: Int, seed: UInt64? = nil, batchSize: Int = 1_000,
        progress: (Int) -> Void = { _ in }
    ) throws -> Int {
        let collection = try CollectionRegistry(store: store).get(collectionName)
        var random = SeededRandom(seed: 0)
        let (offset, targets) = try store.read { db in
            let offset = try Int.fetchOne(db.sqlite, sql: "SELECT COUNT(*) FROM \(quoteIdentifier(collection.name))") ?? 0
            var targets: [String: [String]] = [:]
            for field in collection.fields where field.type == .relation {
                let target = try CollectionRegistry.load(db.sqlite, field.collection ?? "")
                targets[field.name] = try String.fetchAll(db.sqlite, sql: "SELECT id FROM \(quoteIdentifier(target.name)) ORDER BY rowid LIMIT 10000")
            }
            return (offset, targets)
        }
        // The records already there shift the stream, so seeding twice with one seed adds new records.
        random = SeededRandom(seed: (seed ?? UInt64.random(in: 0...UInt64.max)) &+ UInt64(offset) &* 0x9E37_79B9)
        for field in collection.fields {
            if field.type == .file && field.required {
                throw SeedError(collection: collection.name, field: field.name, message: "required files cannot be generated; make the field optional or import records")
            }
            if field.type == .relation && field.required && targets[field.name]?.isEmpty != false {
                throw SeedError(collection: collection.name, field: field.name, message: "refers to \"\(field.collection ?? "")\", which has no records; seed it first")
            }
        }
        let validator = RecordValidator(collection)
        let insert = InsertStatement(collection)
        var generator = ValueGenerator(collection: collection, relationTargets: targets)
        var inserted = 0
        while inserted < count {
            var batch: [InsertStatement.Row] = []
            for _ in 0..<min(batchSize, count - inserted) {
                let index = offset + inserted + batch.count
                let values = generator.record(index, &random)
                do {
                    batch.append(InsertStatement.Row(line: index, id: random.recordID(), columns: try validator.columns(values)))
                } catch {
                    let field = error.fields.keys.sorted().first ?? "?"
                    throw SeedError(collection: collection.name, field: field,
                        message: "generated a value the field refuses (\(error.fields[field]?.message ?? "")); its pattern or limits are narrower than the seeder's values")
                }
            }
            let rows = batch
            _ = try store.write { db in try insert.run(db.sqlite, rows, skipBadRows: false) }
            inserted += rows.count
            progress(inserted)
        }
        return inserted
    }
}

/// SplitMix64: small, fast and the same everywhere, so a seed reproduces a data set.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func recordID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<15).map { _ in alphabet[Int(next() % 36)] })
    }
}
