import BurgCore
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about the machine and the device under a target, stored with every run so that figures can
/// be read later ("which disk was this?"). Every field is best effort: unknown stays nil.
public struct MachineInfo: Codable, Sendable, Equatable {
    public var hostname: String?
    public var processors: Int
    public var cpuModel: String?
    public var kernel: String?
    public var fileSystem: String?
    public var mountPoint: String?
    public var mountSource: String?
    public var mountOptions: String?
    /// Block device name (e.g. "nvme0n1", "vda") and what /sys/block says about it.
    public var device: String?
    public var deviceModel: String?
    public var rotational: Bool?
    public var scheduler: String?

    /// Collects the facts for `directory`.
    public static func collect(for directory: FilePath, fileSystem: FileSystemInfo?) -> MachineInfo {
        var info = MachineInfo(processors: ProcessInfo.processInfo.activeProcessorCount)
        info.hostname = ProcessInfo.processInfo.hostName
        info.fileSystem = fileSystem?.typeName
        #if os(Linux)
        info.cpuModel = readText("/proc/cpuinfo")?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        info.kernel = readText("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines)
        var status = stat()
        if stat(directory.string, &status) == 0 {
            let major = (status.st_dev >> 8) & 0xFFF | ((status.st_dev >> 32) & ~0xFFF)
            let minor = (status.st_dev & 0xFF) | ((status.st_dev >> 12) & ~0xFF)
            info.fillMount(major: UInt64(major), minor: UInt64(minor))
            info.fillDevice(major: UInt64(major), minor: UInt64(minor))
        }
        #endif
        return info
    }

    init(processors: Int) { self.processors = processors }

    private static func readText(_ path: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) }
    }

    /// From /proc/self/mountinfo: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue".
    private mutating func fillMount(major: UInt64, minor: UInt64) {
        guard let text = Self.readText("/proc/self/mountinfo") else { return }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[2] == "\(major):\(minor)", let dash = fields.firstIndex(of: "-"),
                  dash + 3 < fields.count + 1 else { continue }
            mountPoint = String(fields[4])
            mountOptions = String(fields[5]) + (dash + 3 < fields.count ? "," + fields[dash + 3] : "")
            mountSource = dash + 2 < fields.count ? String(fields[dash + 2]) : nil
        }
    }

    /// /sys/dev/block/M:m links to the partition or disk; the disk's queue/ and device/ hold the facts.
    private mutating func fillDevice(major: UInt64, minor: UInt64) {
        let link = "/sys/dev/block/\(major):\(minor)"
        guard let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: link) else { return }
        var disk = URL(fileURLWithPath: link).deletingLastPathComponent().appendingPathComponent(resolved).standardized
        // A partition's directory sits inside its disk's directory and has a "partition" file.
        if FileManager.default.fileExists(atPath: disk.appendingPathComponent("partition").path) {
            disk = disk.deletingLastPathComponent()
        }
        device = disk.lastPathComponent
        func read(_ relative: String) -> String? {
            Self.readText(disk.appendingPathComponent(relative).path)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        deviceModel = [read("device/vendor"), read("device/model")].compactMap { $0 }.filter { !$0.isEmpty }
            .joined(separator: " ")
        if deviceModel?.isEmpty == true { deviceModel = nil }
        rotational = read("queue/rotational").map { $0 == "1" }
        scheduler = read("queue/scheduler")
    }
}
