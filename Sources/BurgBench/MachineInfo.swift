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
    /// Block device name (e.g. "nvme0n1", "vda") and what sysfs says about it (see ``BlockDevice``).
    public var device: String?
    /// The model by name ("Virtio 1.0 block device", "Samsung SSD 980 PRO 1TB").
    public var deviceModel: String?
    public var deviceVendor: String?
    /// "nvme", "virtio", "sata", "scsi", "usb", "mmc".
    public var transport: String?
    public var rotational: Bool?
    public var scheduler: String?
    /// An NVMe drive's PCIe link ("8.0 GT/s PCIe x4") and what it carries at most, bytes per second.
    public var link: String?
    public var linkBytesPerSecond: Double?

    /// Collects the facts for `directory`; device facts come from `sysfs` and `pciIDs`.
    public static func collect(
        for directory: FilePath, fileSystem: FileSystemInfo?, sysfs: FilePath = "/sys", pciIDs: PCIIDs = .system
    ) -> MachineInfo {
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
            if let device = BlockDevice.forDevice(major: UInt64(major), minor: UInt64(minor), sysfs: sysfs, pciIDs: pciIDs) {
                info.describe(device)
            }
        }
        #endif
        return info
    }

    public init(processors: Int) { self.processors = processors }

    /// A /proc file read to its end (Foundation reads one 4 KiB page of it, as its size says 0; a
    /// container's mountinfo is often longer).
    private static func readText(_ path: String) -> String? {
        (try? AtomicFile.read(FilePath(path))).map { String(decoding: $0, as: UTF8.self) }
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

    /// Takes the device facts of `device`.
    public mutating func describe(_ device: BlockDevice) {
        self.device = device.name
        deviceModel = device.model
        deviceVendor = device.vendor
        transport = device.transport
        rotational = device.rotational
        scheduler = device.scheduler
        link = device.link
        linkBytesPerSecond = device.linkBytesPerSecond
    }

    /// "vda: Virtio 1.0 block device, Red Hat, Inc. (virtio, non-rotational)", or nil when unknown.
    public var deviceSummary: String? {
        guard let device else { return nil }
        var described = BlockDevice(name: device)
        described.model = deviceModel
        described.vendor = deviceVendor
        described.transport = transport
        described.rotational = rotational
        described.link = link
        return described.summary
    }
}
