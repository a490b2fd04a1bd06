import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A progress bar on stderr for work measured in bytes or items: `label [#####-----] 52% 1.2 MB/s ETA 4 s`.
/// Redrawn in place at most 10 times a second on a terminal; without one, a plain line every 5 seconds.
final class ProgressBar: @unchecked Sendable {
    // @unchecked Sendable: the mutable state is only touched under `lock`.
    private let lock = NSLock()
    private let label: String
    private let terminal = isatty(STDERR_FILENO) == 1
    private let started = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    private var drew = false
    private let unit: String?

    /// `unit` names what is counted (`"records"`); nil counts bytes.
    init(label: String, unit: String? = nil) {
        self.label = label
        self.unit = unit
    }

    func update(done: Int, total: Int?, detail: String) {
        lock.lock()
        defer { lock.unlock() }
        let now = ContinuousClock.now
        let interval: Duration = terminal ? .milliseconds(100) : .seconds(5)
        if let lastDraw, now - lastDraw < interval { return }
        lastDraw = now
        let elapsed = max(0.001, (now - started).seconds)
        let rate = Double(done) / elapsed
        var text = label
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let filled = Int(fraction * 20)
            let eta = rate > 0 ? Int((Double(total - done) / rate).rounded(.up)) : 0
            text += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled) + "]"
            let speed = unit.map { String(format: "%.0f %@/s", rate, $0) } ?? "\(Self.bytes(rate))/s"
            text += " \(Int(fraction * 100))% \(speed) ETA \(eta) s"
        }
        text += "  " + detail
        emit(terminal ? "\r\u{1B}[K" + text : text + "\n")
        drew = true
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if terminal && drew { emit("\r\u{1B}[K") }
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
