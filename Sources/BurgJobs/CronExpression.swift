import Foundation

/// A 5-field cron expression (`minute hour day-of-month month day-of-week`, UTC) with `*`, lists `1,5`,
/// ranges `1-5`, steps `*/15` and `10-50/20`; day-of-week 0–7 (0 and 7 are Sunday). As in cron, when
/// both day fields are restricted a time matches if either does.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    let minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    let daysRestricted: Bool, weekdaysRestricted: Bool

    public init(_ text: String) throws {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw JobError(.invalidSchedule, "cron \"\(text)\": expected 5 fields (minute hour day month weekday), found \(fields.count)")
        }
        func parse(_ field: String, _ name: String, _ range: ClosedRange<Int>) throws -> Set<Int> {
            var values = Set<Int>()
            for part in field.split(separator: ",", omittingEmptySubsequences: false) {
                let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
                guard (1...2).contains(pieces.count) else { throw JobError(.invalidSchedule, "cron \"\(text)\": bad \(name) \"\(part)\"") }
                var step = 1
                if pieces.count == 2 {
                    guard let parsed = Int(pieces[1]), parsed >= 1 else { throw JobError(.invalidSchedule, "cron \"\(text)\": bad step in \(name) \"\(part)\"") }
                    step = parsed
                }
                var bounds: ClosedRange<Int>
                if pieces[0] == "*" {
                    bounds = range
                } else {
                    let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                    guard (1...2).contains(ends.count), let low = ends.first ?? nil, let high = ends.last ?? nil, low <= high,
                          range.contains(low), range.contains(high) else {
                        throw JobError(.invalidSchedule, "cron \"\(text)\": \(name) \"\(part)\" is outside \(range.lowerBound)–\(range.upperBound)")
                    }
                    bounds = low...(pieces.count == 2 && ends.count == 1 ? range.upperBound : high)
                }
                values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
            }
            return values
        }
        minutes = try parse(fields[0], "minute", 0...59)
        hours = try parse(fields[1], "hour", 0...23)
        days = try parse(fields[2], "day of month", 1...31)
        months = try parse(fields[3], "month", 1...12)
        weekdays = Set(try parse(fields[4], "day of week", 0...7).map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
        description = fields.joined(separator: " ")
    }

    /// The first slot strictly after `time` (seconds since 1970), or nil if none within ~4 years.
    public func next(after time: Double) -> Double? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var minute = (floor(time / 60) + 1) * 60
        let limit = minute + 4 * 366 * 86400
        while minute < limit {
            let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: Date(timeIntervalSince1970: minute))
            guard months.contains(parts.month!) else {
                // Jump to the first day of the next month.
                let start = calendar.date(from: calendar.dateComponents([.year, .month], from: Date(timeIntervalSince1970: minute)))!
                minute = calendar.date(byAdding: .month, value: 1, to: start)!.timeIntervalSince1970
                continue
            }
            let dayMatches: Bool
            let day = days.contains(parts.day!), weekday = weekdays.contains(parts.weekday! - 1)
            switch (daysRestricted, weekdaysRestricted) {
            case (true, true): dayMatches = day || weekday
            case (true, false): dayMatches = day
            case (false, true): dayMatches = weekday
            case (false, false): dayMatches = true
            }
            guard dayMatches else {
                minute = (floor(minute / 86400) + 1) * 86400
                continue
            }
            guard hours.contains(parts.hour!) else {
                minute = (floor(minute / 3600) + 1) * 3600
                continue
            }
            if minutes.contains(parts.minute!) { return minute }
            minute += 60
        }
        return nil
    }
}
