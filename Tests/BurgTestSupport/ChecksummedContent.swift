/// File content that proves its own integrity: `[sequence: 8 bytes][payload][FNV-1a 64 of all before: 8 bytes]`.
/// Crash tests write it and check that whatever survives is one whole, untorn version.
public enum ChecksummedContent {
    /// Produces the content for `sequence` in chunks of at most `chunk` bytes, `size` bytes in all.
    public static func generate(sequence: UInt64, size: Int, chunk: Int = 1 << 20, _ emit: ([UInt8]) throws -> Void) rethrows {
        precondition(size >= 16)
        var hash = FNV1a()
        var header = withUnsafeBytes(of: sequence.littleEndian) { Array($0) }
        hash.add(header)
        try emit(header)
        header.removeAll()
        var remaining = size - 16
        var state = sequence &* 0x9E37_79B9_7F4A_7C15 | 1
        while remaining > 0 {
            let count = min(chunk, remaining)
            var block = [UInt8](repeating: 0, count: count)
            for index in 0..<count {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                block[index] = UInt8(truncatingIfNeeded: state)
            }
            hash.add(block)
            try emit(block)
            remaining -= count
        }
        try emit(withUnsafeBytes(of: hash.value.littleEndian) { Array($0) })
    }

    /// The sequence number if `bytes` is one whole version, nil if torn or corrupt.
    public static func verify(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count >= 16 else { return nil }
        var hash = FNV1a()
        hash.add(bytes[..<(bytes.count - 8)])
        let stored = bytes[(bytes.count - 8)...].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        guard UInt64(littleEndian: stored) == hash.value else { return nil }
        return UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    }

    struct FNV1a {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add(_ bytes: some Sequence<UInt8>) {
            for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
    }
}
