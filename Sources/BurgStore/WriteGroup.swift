import Foundation
internal import GRDB
import Synchronization

extension Store {
    /// Like ``write(_:)`` — `BEGIN IMMEDIATE`, retried as a whole on SQLITE_BUSY, committed before it
    /// returns, errors as ``write(_:)`` throws them — for many small writes that arrive at once (one per
    /// API request). Writes that come while another group is committing wait, then run together: one
    /// transaction, one commit, each dirty page written to the WAL once for the whole group. Each runs
    /// in a savepoint of its own, so its error rolls back only its own changes and reaches only its
    /// own caller. Blocks the calling thread; the first caller to find no group running leads (runs the
    /// group on its thread), then hands the lead to the first caller that queued behind it.
    ///
    /// Bodies in a group run one after another, in arrival order, and see the changes of those before
    /// them (as serial transactions would). Like ``write(_:)``'s closure, `body` may run more than once.
    /// Never call it from inside another write of this store (it would wait for itself).
    @available(*, noasync, message: "blocks its thread: call the async overload")
    public func groupedWrite<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            var result: T?
            let pending = PendingWrite { db in result = try body(StoreTransaction(db)) }
            try writeGroup.submit(pending, store: self)
            guard let result else { preconditionFailure("a grouped write returned without running its body") }
            return result
        }
    }

    /// Async variant of ``groupedWrite(_:)`` for request handlers: the caller suspends instead of
    /// blocking a thread while its write waits for and runs in a group. When no group is running, one
    /// starts on the store's group queue (a serial dispatch queue, outside Swift's cooperative pool),
    /// which keeps leading while async writes keep coming and hands the lead to a blocking caller
    /// whose write comes next.
    public func groupedWrite<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let slot = ResultSlot<T>()
            let pending = PendingWrite({ db in slot.value = try body(StoreTransaction(db)) }, resume: { pending in
                if let error = pending.error {
                    continuation.resume(throwing: error)
                } else if let value = slot.value {
                    continuation.resume(returning: value)
                } else {
                    preconditionFailure("a grouped write returned without running its body")
                }
            })
            writeGroup.submit(asynchronous: pending, store: self)
        }
    }

    /// Runs `group` in one transaction (retried as a whole while the database is locked) and records
    /// each write's outcome in its ``PendingWrite/error``. Never throws: a failure of the transaction
    /// itself becomes the error of every write in it (none of them is committed).
    fileprivate func commit(_ group: [PendingWrite]) {
        do {
            try retrying(sleep: { duration in Self.sleepBlocking(duration) }) {
                try pool.writeWithoutTransaction { db in try runGroup(group, db) }
            }
        } catch {
            for pending in group { pending.error = error }
            for _ in group.dropFirst() { recorder.recordFailedWrite() }  // the retry loop counted one
        }
    }

    private func runGroup(_ group: [PendingWrite], _ db: Database) throws {
        for pending in group { pending.error = nil }  // an earlier attempt's outcome does not count
        let asked = ContinuousClock.now
        try db.beginTransaction(.immediate)
        let locked = ContinuousClock.now
        writeGroup.forgetStatementsIfSchemaChanged(db)
        var committed = 0
        do {
            for pending in group {
                try db.cachedStatement(sql: "SAVEPOINT burg_grouped_write").execute()
                do {
                    try pending.run?(db)
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT burg_grouped_write").execute()
                    committed += 1
                } catch {
                    // SQLite ends the whole transaction on some errors (disk full, I/O): then the
                    // group's earlier writes are gone too, and the group fails (or retries) as one.
                    guard db.isInsideTransaction else { throw error }
                    try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT burg_grouped_write").execute()
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT burg_grouped_write").execute()
                    pending.error = groupMemberError(error)
                }
            }
            let bodiesDone = ContinuousClock.now
            try db.commit()
            recorder.recordWrite(lockWait: locked - asked, transaction: ContinuousClock.now - locked,
                                 commit: ContinuousClock.now - bodiesDone, writes: committed)
            commits.signal()
        } catch {
            if db.isInsideTransaction { try? db.rollback() }
            throw error
        }
    }

    /// A member's own error as ``write(_:)`` would throw it: SQLite's as ``StoreError``, others as is.
    private func groupMemberError(_ error: any Error) -> any Error {
        recorder.recordFailedWrite()
        guard let databaseError = error as? DatabaseError else { return error }
        return StoreError(databaseError, path: path)
    }
}

/// One caller's grouped write: its body, then its outcome.
///
/// `@unchecked Sendable` is safe here: the caller creates it, hands it to the group and then only waits
/// (on `wake`, or suspended in its continuation); the leader runs `run` and sets `error` and `leads`
/// before signalling `wake` or calling `resume`, and the caller reads them only after its wait returns
/// or from inside `resume` on the leader's thread. The semaphore (the signal happens before the wait
/// returns) or the call orders every access, so no two threads ever touch these fields at once.
final class PendingWrite: @unchecked Sendable {
    /// The caller's body; the leader lets go of it before waking the caller, which must hold the only
    /// reference when it returns (the body is its non-escaping closure, see `withoutActuallyEscaping`).
    private(set) var run: ((Database) throws -> Void)?
    var error: (any Error)?
    /// Woken to lead the next group rather than because its write is done.
    var leads = false
    let wake = DispatchSemaphore(value: 0)
    /// An async caller's continuation, called on the leader's thread instead of signalling `wake`.
    private let resume: ((PendingWrite) -> Void)?

    init(_ run: @escaping (Database) throws -> Void, resume: ((PendingWrite) -> Void)? = nil) {
        self.run = run
        self.resume = resume
    }

    /// An async caller cannot lead on its own thread: the group queue leads for it.
    var isAsynchronous: Bool { resume != nil }

    /// Called by the leader once the write is committed or failed, before waking its caller.
    func finish() { run = nil }

    /// Tells the caller its write is done (committed or failed, see `error`).
    func complete() {
        if let resume { resume(self) } else { wake.signal() }
    }
}

/// Where an async grouped write's body leaves its value for the continuation: only the leader's thread
/// touches it — the body writes it, then `resume` reads it.
private final class ResultSlot<T> {
    var value: T?
}

/// The queue of grouped writes and who leads (see ``Store/groupedWrite(_:)``).
final class WriteGroup: Sendable {
    /// The most writes one transaction takes; more wait for the next one.
    static let maxSize = 256

    private struct State {
        var queue: [PendingWrite] = []
        var leading = false
    }

    private let state = Mutex(State())
    /// Where groups of async writes run (they have no thread of their own to lead on).
    private let queue = DispatchQueue(label: "burg.store.write-group", qos: .userInitiated)
    /// The schema version the writer's cached statements were prepared under.
    private let preparedUnder = Mutex<Int32?>(nil)

    /// Grouped writes use cached statements (record inserts, reads by id). GRDB refreshes a reader's
    /// cache when the schema changes, not the writer's — and a statement SQLite re-prepares after a
    /// change (a field added by another process) keeps the column names GRDB read before. So the
    /// leader compares the schema version at the start of each group and drops the cache when it moved.
    func forgetStatementsIfSchemaChanged(_ db: Database) {
        guard let version = try? db.schemaVersion() else {
            db.clearSchemaCache()
            return
        }
        preparedUnder.withLock { preparedUnder in
            if preparedUnder != version {
                db.clearSchemaCache()
                preparedUnder = version
            }
        }
    }

    /// Queues `pending` and returns once it is committed or failed (throwing its error).
    func submit(_ pending: PendingWrite, store: Store) throws {
        if !enqueue(pending) {
            pending.wake.wait()
            if !pending.leads {
                if let error = pending.error { throw error }
                return
            }
        }
        lead(store: store, caller: pending)
        if let error = pending.error { throw error }
    }

    /// Queues an async `pending` (its `resume` is called once it is committed or failed); starts a
    /// leader on the group queue when no group is running.
    func submit(asynchronous pending: PendingWrite, store: Store) {
        if enqueue(pending) { queue.async { self.lead(store: store, caller: nil) } }
    }

    /// Appends `pending`; true when no group is running, so that the caller must lead.
    private func enqueue(_ pending: PendingWrite) -> Bool {
        state.withLock { state in
            state.queue.append(pending)
            guard !state.leading else { return false }
            state.leading = true
            return true
        }
    }

    /// Leads: commits the group at the head of the queue, tells its members, then hands the lead on —
    /// to the next blocking caller (woken to lead on its own thread), or to the group queue for an async
    /// one — or, with the queue empty, stops leading. `caller` is the blocking caller on whose thread
    /// this runs (its write heads the queue: a new leader found it empty, a promoted one was first), nil
    /// on the group queue, which keeps leading while the next write is async.
    private func lead(store: Store, caller: PendingWrite?) {
        while true {
            let group = state.withLock { state in
                let group = Array(state.queue.prefix(Self.maxSize))
                state.queue.removeFirst(group.count)
                return group
            }
            store.commit(group)
            for member in group { member.finish() }
            let next = state.withLock { state -> PendingWrite? in
                guard let first = state.queue.first else {
                    state.leading = false
                    return nil
                }
                if !first.isAsynchronous { first.leads = true }
                return first
            }
            for member in group where member !== caller { member.complete() }
            guard let next else { return }
            if !next.isAsynchronous {
                next.wake.signal()
                return
            }
            if caller != nil {
                queue.async { self.lead(store: store, caller: nil) }
                return
            }
        }
    }
}
