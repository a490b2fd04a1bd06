import Dispatch
import Foundation
import Synchronization

/// Stops a running batch: items not yet started are not checked, the report says it was cancelled.
public final class BatchCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// How far a batch is: items done of the total, failures so far, rate and estimated time left.
public struct BatchProgress: Sendable, Equatable {
    public var done: Int
    public var total: Int
    public var failed: Int
    public var elapsed: Double
    /// Items per second so far.
    public var rate: Double { elapsed > 0 ? Double(done) / elapsed : 0 }
    /// Seconds left at the current rate (nil before the first item).
    public var eta: Double? { done > 0 && rate > 0 ? Double(total - done) / rate : nil }
}

/// Runs a check over items on `workers` threads of its own (not Swift's cooperative pool, which a
/// CPU-bound batch would starve), in chunks handed out by `next`. An item that takes longer than
/// `timeout` is reported as timed out and its thread is abandoned (its late result discarded) while a
/// fresh thread takes over, so one pathological item (say, a catastrophic regular expression) cannot stall
/// the batch.
enum BatchRunner {
    enum Outcome: Sendable {
        case passed
        case failed([String: FieldError])
        case timedOut
    }

    private struct Chunk<Item> {
        var items: [Item]
        var next = 0
        var finished = 0
        /// Per worker slot: the item index it runs and since when, or nil when idle.
        var running: [Int: (index: Int, since: ContinuousClock.Instant)] = [:]
        var abandoned: Set<Int> = []
        var nextSlot = 0
    }

    /// What the coordinator and the worker threads of one chunk share, each part behind its lock.
    private final class Shared<Item: Sendable>: Sendable {
        let chunk: Mutex<Chunk<Item>>
        let results = Mutex<[(Item, Outcome)]>([])
        init(_ items: [Item]) { chunk = Mutex(Chunk(items: items)) }

        func drain() -> [(Item, Outcome)] {
            results.withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
        }
    }

    /// Calls `next` until it returns nil, checks every item, and reports each outcome to `record` (on
    /// the calling thread, in no particular order) and progress about ten times a second.
    static func run<Item: Sendable>(
        total: Int, workers: Int, timeout: Duration, cancellation: BatchCancellation,
        next: () throws -> [Item]?, check: @escaping @Sendable (Item) -> Outcome,
        record: (Item, Outcome) -> Void, progress: (BatchProgress) -> Void
    ) throws -> (done: Int, failed: Int, cancelled: Bool) {
        let clock = ContinuousClock()
        let started = clock.now
        let workers = max(1, workers)
        var done = 0
        var failed = 0
        var lastProgress = started
        let wake = DispatchSemaphore(value: 0)

        while !cancellation.isCancelled, let items = try next(), !items.isEmpty {
            let shared = Shared(items)

            @Sendable func work(slot: Int) {
                while !cancellation.isCancelled {
                    let taken: (Int, Item)? = shared.chunk.withLock { state in
                        guard state.next < state.items.count, !state.abandoned.contains(slot) else { return nil }
                        defer { state.next += 1 }
                        state.running[slot] = (state.next, ContinuousClock.now)
                        return (state.next, state.items[state.next])
                    }
                    guard let (_, item) = taken else { break }
                    let outcome = check(item)
                    let keep = shared.chunk.withLock { state in
                        // A slot that was declared timed out lost its item; its late result is dropped.
                        guard !state.abandoned.contains(slot) else { return false }
                        state.running[slot] = nil
                        // The result is queued before the item counts as finished: the coordinator,
                        // seeing every item finished, must find every result.
                        shared.results.withLock { $0.append((item, outcome)) }
                        state.finished += 1
                        return true
                    }
                    guard keep else { return }
                    wake.signal()
                }
                shared.chunk.withLock { state in state.running[slot] = nil }
                wake.signal()
            }

            func start() {
                let slot = shared.chunk.withLock { state in
                    defer { state.nextSlot += 1 }
                    return state.nextSlot
                }
                let thread = Thread { work(slot: slot) }
                thread.stackSize = 1 << 20
                thread.start()
            }
            for _ in 0..<min(workers, items.count) { start() }

            while true {
                _ = wake.wait(timeout: .now() + .milliseconds(50))
                for (item, outcome) in shared.drain() {
                    done += 1
                    if case .passed = outcome {} else { failed += 1 }
                    record(item, outcome)
                }
                // Items over their time: report them, abandon their threads, start replacements.
                let now = clock.now
                let late: [(Int, Item)] = shared.chunk.withLock { state in
                    var late: [(Int, Item)] = []
                    for (slot, running) in state.running where now - running.since > timeout {
                        state.abandoned.insert(slot)
                        state.running[slot] = nil
                        state.finished += 1
                        late.append((slot, state.items[running.index]))
                    }
                    return late
                }
                for (_, item) in late {
                    done += 1
                    failed += 1
                    record(item, .timedOut)
                    start()
                }
                if now - lastProgress >= .milliseconds(100) {
                    lastProgress = now
                    progress(BatchProgress(done: done, total: total, failed: failed, elapsed: (now - started).seconds))
                }
                let (finished, count, idle) = shared.chunk.withLock { ($0.finished, $0.items.count, $0.running.isEmpty) }
                if finished == count || (cancellation.isCancelled && idle) {
                    // Results that arrived after the last drain.
                    for (item, outcome) in shared.drain() {
                        done += 1
                        if case .passed = outcome {} else { failed += 1 }
                        record(item, outcome)
                    }
                    break
                }
            }
        }
        progress(BatchProgress(done: done, total: total, failed: failed, elapsed: (clock.now - started).seconds))
        return (done, failed, cancellation.isCancelled)
    }
}
