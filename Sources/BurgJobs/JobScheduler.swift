import BurgCore
import BurgStore
import Foundation
internal import GRDB
import Logging
import ServiceLifecycle

/// A cron schedule stored in the database.
public struct JobSchedule: Sendable, Codable, Equatable {
    /// What to do with slots missed while no scheduler ran: `once` fires one job for all of them,
    /// `all` fires one per missed slot, `skip` fires none and waits for the next slot.
    public enum Missed: String, Sendable, Codable { case once, all, skip }

    public var name: String
    public var cron: String
    public var kind: String
    public var args: String = "{}"
    public var queue: String = "default"
    public var missed: Missed = .once

    public init(name: String, cron: String, kind: String, args: String = "{}", missed: Missed = .once) {
        self.name = name
        self.cron = cron
        self.kind = kind
        self.args = args
        self.missed = missed
    }
}

/// Fires due cron slots. Any number of schedulers (processes) may run: each slot is claimed by inserting
/// `(schedule, slot)` into `_job_schedule_fires`, whose primary key lets exactly one of them enqueue it.
public struct JobScheduler: Service, Sendable {
    public let queue: JobQueue
    public var interval: Duration = .seconds(1)
    let logger: Logger

    public init(queue: JobQueue, logger: Logger = Logger(label: "burg.scheduler")) {
        self.queue = queue
        self.logger = logger
    }

    /// Adds or replaces a schedule (validated: cron syntax, kind, arguments).
    public func save(_ schedule: JobSchedule) throws {
        let cron = try CronExpression(schedule.cron)
        guard let kind = queue.registry.kind(named: schedule.kind) else {
            throw JobError(.unknownKind, "unknown job kind \"\(schedule.kind)\"")
        }
        try kind.validate(arguments: schedule.args)
        guard let next = cron.next(after: queue.clock.now()) else { throw JobError(.invalidSchedule, "cron \"\(schedule.cron)\" never fires") }
        try queue.store.write { db in
            let updated = ["cron", "kind", "args", "queue", "missed", "next_slot"]
            let upsert = db.dialect.upsert(onConflict: ["name"], set: updated.map { "\($0) = \(db.dialect.excluded($0))" })
            try db.sqlite.execute(sql: """
                INSERT INTO _job_schedules (name, cron, kind, args, queue, missed, next_slot) VALUES (?, ?, ?, ?, ?, ?, ?)
                \(upsert)
                """, arguments: [schedule.name, cron.description, schedule.kind, schedule.args, schedule.queue, schedule.missed.rawValue, next])
        }
    }

    public func remove(_ name: String) throws {
        try queue.store.write { db in try db.sqlite.execute(sql: "DELETE FROM _job_schedules WHERE name = ?", arguments: [name]) }
    }

    /// Enqueues the due slots; returns the ids of the jobs this call enqueued.
    @discardableResult
    public func tick() throws -> [Int64] {
        let now = queue.clock.now()
        let queue = self.queue
        // A read first: an idle server ticks every second, and most ticks have nothing due.
        let anyDue = try queue.store.read { db in
            try Bool.fetchOne(db.sqlite, sql: "SELECT EXISTS (SELECT 1 FROM _job_schedules WHERE next_slot <= ?)", arguments: [now]) ?? false
        }
        guard anyDue else { return [] }
        return try queue.store.write { db in
            var enqueued: [Int64] = []
            let due = try Row.fetchAll(db.sqlite, sql: "SELECT * FROM _job_schedules WHERE next_slot <= ?", arguments: [now])
            for row in due {
                let name: String = row["name"]
                guard let cron = try? CronExpression(row["cron"]) else { continue }
                var slots: [Double] = []
                var slot: Double = row["next_slot"]
                while slot <= now, slots.count < 1000 {
                    slots.append(slot)
                    guard let next = cron.next(after: slot) else { break }
                    slot = next
                }
                let missed = JobSchedule.Missed(rawValue: row["missed"]) ?? .once
                let fire: [Double] = switch missed {
                case .all: slots
                case .once: slots.last.map { [$0] } ?? []
                case .skip: slots.count == 1 && now - slots[0] < 60 ? slots : []
                }
                for firing in fire {
                    try db.sqlite.execute(sql: "INSERT OR IGNORE INTO _job_schedule_fires (name, slot, job_id) VALUES (?, ?, 0)", arguments: [name, firing])
                    guard db.sqlite.changesCount == 1 else { continue }
                    var request = JobRequest(kind: row["kind"], args: row["args"])
                    request.queue = row["queue"]
                    let id = try queue.enqueue(request, in: db)
                    try db.sqlite.execute(sql: "UPDATE _job_schedule_fires SET job_id = ? WHERE name = ? AND slot = ?", arguments: [id, name, firing])
                    enqueued.append(id)
                }
                try db.sqlite.execute(sql: "UPDATE _job_schedules SET next_slot = ? WHERE name = ? AND next_slot < ?", arguments: [slot, name, slot])
            }
            return enqueued
        }
    }

    public func run() async throws {
        // Cancelled (another service of the group failed) ends the loop as surely as a graceful shutdown.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let fired = try tick()
                if !fired.isEmpty { logger.info("scheduled job(s) enqueued", metadata: ["ids": "\(fired)"]) }
            } catch {
                logger.error("scheduler tick failed: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }
}
