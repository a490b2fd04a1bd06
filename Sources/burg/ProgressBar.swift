import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A progress bar on stderr for work measured in bytes or items: `label [#####-----] 52% 1.2 MB/s ETA 4 s`.
/// Redrawn in place at most 10 times a second on a terminal; without one, a plain line every 5 seconds.
/// Either way it ends with ``finish(completed:outcome:detail:)``, which draws the final state on a line of
/// its own whatever the throttle: 100 % when the work completed, else where it stopped and why.
final class ProgressBar: @unchecked Sendable {
    // @unchecked Sendable: the mutable state is only touched under `lock`.
    private let lock = NSLock()
    private let label: String
    private let terminal = isatty(STDERR_FILENO) == 1
    private let started = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    private var last: (done: Int, total: Int?, detail: String) = (0, nil, "")
    private var finished = false
    private let unit: String?

    /// `unit` names what is counted (`"records"`); nil counts bytes.
    init(label: String, unit: String? = nil) {
        self.label = label
        self.unit = unit
    }

    /// Whether nothing was reported yet (a display that never started need not end).
    var isIdle: Bool {
        lock.lock()
        defer { lock.unlock() }
        return lastDraw == nil
    }

    func update(done: Int, total: Int?, detail: String) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        last = (done, total, detail)
        let now = ContinuousClock.now
        let interval: Duration = terminal ? .milliseconds(100) : .seconds(5)
        if let lastDraw, now - lastDraw < interval { return }
        lastDraw = now
        let text = render(done: done, total: total, detail: detail, final: false, now: now)
        emit(terminal ? "\r\u{1B}[K" + text : text + "\n")
    }

    /// Draws the last line: at 100 % (`done` set to the total) when `completed`, else at the last state
    /// reported followed by `outcome` ("interrupted", "failed"). `detail` replaces the last detail.
    func finish(completed: Bool = true, outcome: String? = nil, detail: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        // Refused before any work started: the error says it all, there is no display to end.
        if !completed && lastDraw == nil { return }
        var (done, total, lastDetail) = last
        if completed, let total { done = max(done, total) }
        var text = render(done: done, total: total, detail: detail ?? lastDetail, final: true, now: .now)
        if let outcome { text += " — " + outcome }
        emit((terminal ? "\r\u{1B}[K" : "") + text + "\n")
    }

    private func render(done: Int, total: Int?, detail: String, final: Bool, now: ContinuousClock.Instant) -> String {
        let elapsed = max(0.001, (now - started).seconds)
        let rate = Double(done) / elapsed
        var text = label
        let speed = unit.map { String(format: "%.0f %@/s", rate, $0) } ?? "\(Self.bytes(rate))/s"
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let filled = Int(fraction * 20)
            text += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled) + "]"
            text += " \(Int(fraction * 100))% \(speed)"
            if final {
                text += String(format: " in %.1f s", elapsed)
            } else {
                let eta = rate > 0 ? Int((Double(total - done) / rate).rounded(.up)) : 0
                text += " ETA \(eta) s"
            }
        } else {
            if final { text += String(format: " done in %.1f s", elapsed) }
            if !detail.isEmpty { text += ":" }
        }
        if !detail.isEmpty { text += ((total ?? 0) > 0 ? "  " : " ") + detail }
        return text
    }

    private func emit(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    static func bytes(_ value: Double) -> String {
        value >= 1e9 ? String(format: "%.1f GB", value / 1e9) : value >= 1e6 ? String(format: "%.1f MB", value / 1e6)
            : String(format: "%.0f kB", value / 1e3)
    }
}
