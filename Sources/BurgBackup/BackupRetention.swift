import Foundation
import SystemPackage

/// Which archives to keep: the newest `keepLast`, plus the newest of each of the last `daily` days,
/// `weekly` ISO weeks and `monthly` months (UTC). Everything else may be pruned.
public struct RetentionPolicy: Sendable, Equatable, Codable {
    public var keepLast: Int = 7
    public var daily: Int = 7
    public var weekly: Int = 4
    public var monthly: Int = 6

    public init() {}

    /// The names among `archives` (name, time) to delete.
    public func prune(_ archives: [(name: String, date: Date)], now: Date) -> [String] {
        let newestFirst = archives.sorted { $0.date > $1.date }
        var keep = Set(newestFirst.prefix(max(0, keepLast)).map(\.name))
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func generations(_ count: Int, _ component: Calendar.Component, _ key: (Date) -> DateComponents) {
            guard count > 0, let start = calendar.date(byAdding: component, value: -count, to: now) else { return }
            var seen = Set<DateComponents>()
            for archive in newestFirst where archive.date > start {
                if seen.insert(key(archive.date)).inserted { keep.insert(archive.name) }
            }
        }
        generations(daily, .day) { calendar.dateComponents([.year, .month, .day], from: $0) }
        generations(weekly, .weekOfYear) { calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0) }
        generations(monthly, .month) { calendar.dateComponents([.year, .month], from: $0) }
        return newestFirst.map(\.name).filter { !keep.contains($0) }
    }
}

/// The archives in a backups directory.
public enum BackupCatalog {
    /// (file name, time from the name), newest first; files that are not Burg archives are ignored.
    public static func archives(in directory: FilePath) -> [(name: String, date: Date)] {
        let formatter = utcFormatter(archiveStampFormat)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.string)) ?? []
        return names.compactMap { name -> (String, Date)? in
            guard name.hasPrefix("burg-"), name.hasSuffix(".zip") || name.hasSuffix(".zip.enc") else { return nil }
            let stamp = name.dropFirst(5).prefix(19)
            return formatter.date(from: String(stamp)).map { (name, $0) }
        }.sorted { $0.1 > $1.1 }
    }

    /// Deletes what `policy` does not keep; returns the deleted names.
    @discardableResult
    public static func prune(_ directory: FilePath, policy: RetentionPolicy, now: Date = Date(), dryRun: Bool = false) throws -> [String] {
        let doomed = policy.prune(archives(in: directory), now: now)
        if !dryRun {
            for name in doomed { try FileManager.default.removeItem(atPath: directory.appending(name).string) }
        }
        return doomed
    }
}
