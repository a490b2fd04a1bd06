import BurgCore
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few system calls the engines share: monotonic time, thread CPU time, aligned buffers, opening a
/// file for direct I/O.
enum SystemIO {
    /// Monotonic nanoseconds.
    @inline(__always)
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// CPU time (user + system) of the calling thread in nanoseconds.
    static func threadCPUTime() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// Direct I/O needs buffers aligned to the device's logical block; 4096 covers every common device.
    static let alignment = 4096

    /// A buffer of `size` bytes aligned for direct I/O, filled with pseudo-random (incompressible) bytes.
    static func randomBuffer(_ size: Int, seed: UInt64) -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer?
        precondition(posix_memalign(&pointer, alignment, max(size, alignment)) == 0, "out of memory")
        fillRandom(pointer!, size, seed: seed)
        return pointer!
    }

    /// Fills with xorshift output: incompressible to any dedup or compression in the storage path.
    static func fillRandom(_ pointer: UnsafeMutableRawPointer, _ size: Int, seed: UInt64) {
        var generator = FastRandom(seed: seed)
        let words = pointer.bindMemory(to: UInt64.self, capacity: size / 8)
        for index in 0..<(size / 8) { words[index] = generator.next() }
    }

    /// Opens `path` read-write, bypassing the page cache when `direct` (O_DIRECT on Linux, F_NOCACHE on
    /// Darwin). Throws `.cachedOnly` when the file system refuses direct I/O.
    static func openFile(_ path: FilePath, direct: Bool, create: Bool = false) throws(BenchError) -> Int32 {
        // Never through a symbolic link: a link planted in the target could point the I/O at another file.
        var flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW
        if create { flags |= O_CREAT | O_EXCL }
        #if os(Linux)
        if direct { flags |= oDirect }
        #endif
        let fd = path.withPlatformString { name in
            var fd: Int32
            repeat { fd = open(name, flags, 0o600) } while fd == -1 && errno == EINTR
            return fd
        }
        if fd < 0 {
            let error = errno
            if error == ELOOP { throw BenchError(.symbolicLink, subject: path.string) }
            if direct && error == EINVAL {
                throw BenchError(.cachedOnly, subject: path.removingLastComponent().string, detail: "O_DIRECT refused")
            }
            throw BenchError(.io, subject: path.string, detail: SystemError(call: "open", errno: error).description)
        }
        #if canImport(Darwin)
        // Untested: Darwin is compile-guarded only.
        if direct { _ = fcntl(fd, F_NOCACHE, 1) }
        #endif
        return fd
    }

    #if os(Linux)
    /// O_DIRECT, which Swift's Glibc module does not export (it is behind _GNU_SOURCE); the value differs
    /// between architectures (asm-generic/fcntl.h vs arch/arm64).
    #if arch(arm64)
    static let oDirect: Int32 = 0o200000
    #else
    static let oDirect: Int32 = 0o40000
    #endif
    #endif

    static func ioError(_ path: FilePath, _ call: String, _ error: Int32) -> BenchError {
        BenchError(.io, subject: path.string, detail: SystemError(call: call, errno: error).description)
    }
}

/// xorshift64*: fast, good enough for offsets and incompressible payloads; not for secrets.
struct FastRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    @inline(__always)
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
