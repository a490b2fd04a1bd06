import Foundation

/// Runs blocking work — a read from a socket, a wait for a child process's output — on a thread of its
/// own, never on one of Swift's few cooperative threads: an in-process server answers on those, so a test
/// blocking them would wait for an answer that cannot come.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
