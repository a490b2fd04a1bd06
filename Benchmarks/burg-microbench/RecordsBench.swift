import ArgumentParser
import BurgAuth
import BurgBackup
import BurgBench
import BurgCore
import BurgJobs
import BurgRecords
import BurgStore
import Foundation
import SystemPackage

/// Listing and search on an imported data directory (Benchmarks/records.sh): list + exact count of an
/// indexed filter, a deep page by offset and by cursor, and `~` on a searchable field against the same
/// query on a non-searchable copy (a LIKE scan). Medians of several runs; prints one JSON line.
struct RecordsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "records-query")
    @Option var dir: String
    @Option var collection = "orders"
    @Option var plain = "orders_plain"
    @Option var runs = 15
    @Option(help: "Comma-separated substrings to search for in the title.") var needles = "valve hou,sensor gea,routine kn,cable pum,bracket st"

    func median(_ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let started = ContinuousClock.now
            try body()
            times.append((ContinuousClock.now - started).seconds * 1000)
        }
        return times.sorted()[times.count / 2]
    }

    func run() async throws {
        // The data directory was made by `burg`, so it carries every capability's migrations (the same
        // list as the executable's BurgSchema; a store refuses a database with migrations it does not know).
        let migrations: StoreMigrations = .store + CollectionRegistry.migrations + BenchHistory.migrations + AuthSchema.migrations
            + BackupHistory.migrations + JobSchema.migrations
        let store = try Store(StoreConfiguration(dataDirectory: FilePath(dir)), migrations: migrations)
        let records = RecordStore(store: store)
        var result: [String: Double] = [:]
        var query = ListQuery()
        query.perPage = 50

        query.filter = "status = 'open'"
        var total = 0
        result["list_count_indexed_ms"] = try median { total = try records.list(collection, query).totalItems }
        result["matching"] = Double(total)
        query.filter = ""
        query.sort = "-created"
        result["list_count_all_ms"] = try median { total = try records.list(collection, query).totalItems }
        result["rows"] = Double(total)
        query.skipTotal = true
        query.filter = "status = 'open'"
        query.sort = ""
        query.page = 2_000
        result["deep_page_offset_ms"] = try median { _ = try records.list(collection, query) }
        // The same page reached by cursor: the cost of one page after the previous page's cursor.
        query.page = 1
        query.perPage = 50
        var cursor: String?
        for _ in 0..<1_999 {
            query.cursor = cursor
            cursor = try await records.list(collection, query).nextCursor
        }
        query.cursor = cursor
        result["deep_page_cursor_ms"] = try median { _ = try records.list(collection, query) }
        query.cursor = nil
        query.skipTotal = false

        // Contains-search: the trigram index against a LIKE scan of the same rows.
        let needles = self.needles.split(separator: ",").map(String.init)
        var index = 0
        var found = 0
        var scanned = 0
        result["search_fts_ms"] = try median {
            query.filter = "title ~ '\(needles[index % needles.count])'"
            index += 1
            found = try records.list(collection, query).totalItems
        }
        index = 0
        result["search_like_ms"] = try median {
            query.filter = "title ~ '\(needles[index % needles.count])'"
            index += 1
            scanned = try records.list(plain, query).totalItems
        }
        guard found == scanned else { throw ValidationError("index and scan disagree: \(found) vs \(scanned)") }
        result["search_matches"] = Double(found)
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
