import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking wait for a lock, which a deadline or a cancellation can interrupt.
///
/// The waiting thread sleeps in the kernel (`F_OFD_SETLKW`). To stop it early a watchdog thread sends it
/// `SIGURG`, whose handler does nothing but makes the lock call return EINTR; the waiter then sees why it
/// was interrupted. The watchdog repeats the signal every 2 ms until the waiter has finished, which closes
/// the race where the signal lands just before the waiter enters the kernel.
///
/// `@unchecked Sendable`: every stored `var` is read and written only while `condition` is locked, and
/// `pthread_kill` targets the waiter only while `finished` is false under that lock, i.e. while the
/// waiting thread is certainly alive.
final class LockWaiter: @unchecked Sendable {
    enum Interruption { case timedOut, cancelled }

    private let condition = NSCondition()
    private let deadline: ContinuousClock.Instant?
    private let interruptible: Bool
    private var waiterThread: pthread_t?
    private var finished = false
    private var interruption: Interruption?

    init(deadline: ContinuousClock.Instant?, interruptible: Bool) {
        self.deadline = deadline
        self.interruptible = interruptible
    }

    /// Asks the wait to stop (from any thread). Harmless after the wait finished.
    func interrupt(_ reason: Interruption) {
        condition.lock()
        if interruption == nil { interruption = reason }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits on the calling thread until the lock is granted or the wait is interrupted.
    func wait(_ descriptor: Int32, _ mode: LockMode) -> Result<Void, LockError> {
        condition.lock()
        waiterThread = pthread_self()
        condition.unlock()
        var previousMask = sigset_t()
        if interruptible {
            _ = installInterruptHandler
            // Threads started from Dispatch workers (the cooperative pool among them) inherit a mask that
            // blocks asynchronous signals; a blocked SIGURG would stay pending and never interrupt the wait.
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGURG)
            pthread_sigmask(SIG_UNBLOCK, &unblock, &previousMask)
            Thread.detachNewThread { self.watch() }
        }
        defer {
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
            if interruptible { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
        }
        while true {
            condition.lock()
            let reason = interruption
            condition.unlock()
            if let reason {
                return .failure(LockError(reason == .timedOut ? .timedOut : .cancelled, path: ""))
            }
            switch LockPrimitive.set(descriptor, mode, wait: true) {
            case .acquired:
                return .success(())
            case .failed(let error) where error.errno == EINTR:
                continue  // interrupted by the watchdog or some other signal: look at `interruption` again
            case .failed(let error):
                return .failure(LockError(.system, path: "", underlying: error))
            case .busy:
                continue  // not returned by a waiting call; try again
            }
        }
    }

    /// The watchdog: sleeps until the deadline or an interruption, then signals the waiter until it is done.
    private func watch() {
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            if interruption == nil {
                if let deadline {
                    let remaining = ContinuousClock.now.duration(to: deadline)
                    if remaining <= .zero {
                        interruption = .timedOut
                        continue
                    }
                    _ = condition.wait(until: Date(timeIntervalSinceNow: remaining.seconds))
                } else {
                    condition.wait()
                }
            } else if let waiterThread {
                pthread_kill(waiterThread, SIGURG)
                _ = condition.wait(until: Date(timeIntervalSinceNow: 0.002))
            }
        }
    }
}

/// Installs, once per process, a handler for SIGURG that does nothing. Without SA_RESTART, a thread
/// blocked in a lock call returns EINTR when the signal arrives, which is all ``LockWaiter`` needs.
private let installInterruptHandler: Void = {
    var action = sigaction()
    #if os(Linux)
    action.__sigaction_handler.sa_handler = { _ in }
    #elseif canImport(Darwin)
    action.__sigaction_u.__sa_handler = { _ in }
    #endif
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGURG, &action, nil)
}()

extension Duration {
    /// The duration in seconds as a floating-point number.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whole microseconds (truncated).
    public var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

/// A duration for people: "1.25 s", "340 ms", "12 µs".
public func formatDuration(_ duration: Duration) -> String {
    let seconds = duration.seconds
    if seconds >= 1 { return "\((seconds * 100).rounded() / 100) s" }
    if seconds >= 0.001 { return "\((seconds * 10_000).rounded() / 10) ms" }
    return "\(Int((seconds * 1_000_000).rounded())) µs"
}
