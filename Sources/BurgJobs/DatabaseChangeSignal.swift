import BurgCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Wakes an idle worker when the database's WAL is written (a commit, by any process), so that new jobs
/// start within a millisecond or two while an idle worker uses no CPU. Linux: inotify on the data
/// directory, read by a dedicated thread. Elsewhere (untested): no events; the worker's periodic claim
/// picks new jobs up.
final class DatabaseChangeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
    }

    private let state = Mutex(State())
    private let descriptor: Int32

    init(databasePath: String) {
        #if os(Linux)
        let directory = (databasePath as NSString).deletingLastPathComponent
        let walName = (databasePath as NSString).lastPathComponent + "-wal"
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        descriptor = fd
        guard fd >= 0, inotify_add_watch(fd, directory.isEmpty ? "." : directory, UInt32(IN_MODIFY | IN_CREATE)) >= 0 else { return }
        let thread = Thread { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count < 0, errno == EINTR { continue }
                    return
                }
                // Events are (wd, mask, cookie, len, name[len]); signal when the WAL is among them.
                var offset = 0
                var walWritten = false
                while offset + 16 <= count {
                    let length = Int(buffer[offset + 12]) | Int(buffer[offset + 13]) << 8 | Int(buffer[offset + 14]) << 16 | Int(buffer[offset + 15]) << 24
                    let nameBytes = buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }
                    if String(decoding: nameBytes, as: UTF8.self) == walName { walWritten = true }
                    offset += 16 + length
                }
                guard let self else { return }
                if walWritten { self.signal() }
            }
        }
        thread.name = "burg.jobs.inotify"
        thread.start()
        #else
        descriptor = -1
        #endif
    }

    private func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Waits for a change (one since the last wait counts) or `timeout`, whichever comes first.
    func wait(timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let generation = state.withLock { state -> Int? in
                if state.pending {
                    state.pending = false
                    return nil
                }
                state.waiter = continuation
                state.generation += 1
                return state.generation
            }
            guard let generation else { return continuation.resume() }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds) { [weak self] in
                self?.expire(generation)
            }
        }
    }

    private func expire(_ generation: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.generation == generation, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    deinit {
        #if os(Linux)
        if descriptor >= 0 { close(descriptor) }  // ends the reader thread's read()
        #endif
    }
}
