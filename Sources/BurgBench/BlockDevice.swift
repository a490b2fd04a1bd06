import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What sysfs says about the block device under a target, with vendor and device ids resolved to names
/// ("Virtio 1.0 block device, Red Hat, Inc." rather than "0x1af4").
///
/// Guarantees: everything is read below `sysfs` (normally /sys; a test passes a fake tree); every field
/// is best effort and nil when sysfs does not say; ids are resolved through the system's PCI id database
/// (``PCIIDs``) when it has them, and virtio device types through the virtio specification's numbers,
/// which need no database. A partition is described by its disk, a device-mapper or md device by the
/// first device below it.
public struct BlockDevice: Sendable, Equatable {
    /// The kernel's name of the disk: "vda", "nvme0n1", "sda".
    public var name: String
    /// The model, as the device or the id database names it.
    public var model: String?
    public var vendor: String?
    /// "nvme", "virtio", "sata", "scsi", "usb", "mmc".
    public var transport: String?
    public var rotational: Bool?
    public var scheduler: String?
    /// The PCIe link as sysfs reports it ("8.0 GT/s PCIe x4"), for NVMe drives.
    public var link: String?
    /// What that link carries at most, in bytes per second (after line encoding).
    public var linkBytesPerSecond: Double?

    /// The disk behind device number `major:minor` (`<sysfs>/dev/block/M:m`).
    public static func forDevice(major: UInt64, minor: UInt64, sysfs: FilePath = "/sys", pciIDs: PCIIDs = .system) -> BlockDevice? {
        guard var disk = realPath(sysfs.appending("dev/block/\(major):\(minor)")) else { return nil }
        // A partition's directory sits inside its disk's directory and has a "partition" file.
        if exists(disk.appending("partition")) { disk.removeLastComponent() }
        return read(disk: disk, sysfs: sysfs, pciIDs: pciIDs)
    }

    /// The disk named `name` (`<sysfs>/block/<name>`).
    public static func named(_ name: String, sysfs: FilePath = "/sys", pciIDs: PCIIDs = .system) -> BlockDevice? {
        guard let disk = realPath(sysfs.appending("block").appending(name)) else { return nil }
        return read(disk: disk, sysfs: sysfs, pciIDs: pciIDs)
    }

    static func read(disk: FilePath, sysfs: FilePath, pciIDs: PCIIDs, depth: Int = 0) -> BlockDevice? {
        guard let name = disk.lastComponent?.string else { return nil }
        // Device mapper (LVM, LUKS) and md: describe the first device below.
        if depth < 4, let slave = try? FileManager.default.contentsOfDirectory(atPath: disk.appending("slaves").string).sorted().first,
           let below = realPath(disk.appending("slaves").appending(slave))
        {
            let disk = exists(below.appending("partition")) ? below.removingLastComponent() : below
            guard var lower = read(disk: disk, sysfs: sysfs, pciIDs: pciIDs, depth: depth + 1) else { return nil }
            lower.name = name + " on " + lower.name
            return lower
        }
        var device = BlockDevice(name: name)
        device.rotational = text(disk.appending("queue/rotational")).map { $0 == "1" }
        device.scheduler = text(disk.appending("queue/scheduler"))
        guard let parent = realPath(disk.appending("device")) else { return device }
        if name.hasPrefix("nvme") {
            device.transport = "nvme"
            device.model = text(parent.appending("model"))
            // The namespace's device is the controller; the controller's device is the PCI function.
            if let pci = realPath(parent.appending("device")) { device.fillPCI(pci, pciIDs: pciIDs, model: false) }
        } else if text(parent.appending("modalias"))?.hasPrefix("virtio:") == true || name.hasPrefix("vd") {
            device.transport = "virtio"
            let type = text(parent.appending("device")).flatMap(hex)
            // The virtio device's parent is the PCI function that carries it.
            device.fillPCI(parent.removingLastComponent(), pciIDs: pciIDs, model: true)
            if device.model == nil { device.model = type.map(virtioTypeName) }
            if device.vendor == nil, let id = text(parent.appending("vendor")) { device.vendor = "vendor " + id }
        } else if name.hasPrefix("mmcblk") {
            device.transport = "mmc"
            device.model = text(parent.appending("name"))
            device.vendor = text(parent.appending("manfid")).map { "manufacturer " + $0 }
        } else {
            let vendor = text(parent.appending("vendor"))
            device.model = text(parent.appending("model"))
            device.vendor = vendor == "ATA" ? nil : vendor
            device.transport = parent.string.contains("/usb") ? "usb" : vendor == "ATA" ? "sata" : "scsi"
        }
        return device
    }

    /// Vendor, model (when `model`) and link of the PCI function at `pci`.
    private mutating func fillPCI(_ pci: FilePath, pciIDs: PCIIDs, model: Bool) {
        guard let vendorID = Self.text(pci.appending("vendor")).flatMap(Self.hex) else { return }
        vendor = pciIDs.vendor(vendorID) ?? vendor
        if vendor == nil { vendor = "vendor 0x" + String(vendorID, radix: 16, uppercase: false) }
        if model, let deviceID = Self.text(pci.appending("device")).flatMap(Self.hex) {
            self.model = pciIDs.device(vendor: vendorID, device: deviceID)
        }
        if let speed = Self.text(pci.appending("current_link_speed")), let width = Self.text(pci.appending("current_link_width")),
           let lanes = Double(width), let gigaTransfers = Double(speed.prefix { $0.isNumber || $0 == "." }), lanes > 0
        {
            link = "\(speed) x\(width)"
            // PCIe 1 and 2 encode 8 bits in 10, PCIe 3 and later 128 in 130.
            let encoding = gigaTransfers <= 5 ? 0.8 : 128.0 / 130.0
            linkBytesPerSecond = gigaTransfers * 1e9 * encoding * lanes / 8
        }
    }

    /// One line for reports: "Virtio 1.0 block device, Red Hat, Inc. (virtio)".
    public var summary: String {
        let what = [model, vendor].compactMap { $0 }.joined(separator: ", ")
        let how = [transport, rotational.map { $0 ? "rotational" : "non-rotational" }, link].compactMap { $0 }.joined(separator: ", ")
        return (what.isEmpty ? name : "\(name): \(what)") + (how.isEmpty ? "" : " (\(how))")
    }

    /// Device types of the virtio specification (1.2, section 5).
    static func virtioTypeName(_ type: Int) -> String {
        switch type {
        case 1: return "virtio network device"
        case 2: return "virtio block device"
        case 8: return "virtio SCSI host"
        case 26: return "virtio file system"
        default: return "virtio device type \(type)"
        }
    }

    static func hex(_ text: String) -> Int? {
        Int(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: 16)
    }

    static func text(_ path: FilePath) -> String? {
        guard let data = FileManager.default.contents(atPath: path.string) else { return nil }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    /// `path` with every symbolic link resolved; nil when it does not exist.
    static func realPath(_ path: FilePath) -> FilePath? {
        guard let resolved = path.withPlatformString({ realpath($0, nil) }) else { return nil }
        defer { free(resolved) }
        return FilePath(String(cString: resolved))
    }

    static func exists(_ path: FilePath) -> Bool { FileManager.default.fileExists(atPath: path.string) }

    init(name: String) { self.name = name }
}

/// The PCI id database (pci.ids, from the pciutils or hwdata package) as far as the system has it.
public struct PCIIDs: Sendable, Equatable {
    /// Where distributions install it.
    public static let standardPaths: [FilePath] = ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids"]
    /// The system's database, or an empty one when none is installed.
    public static var system: PCIIDs { PCIIDs(paths: standardPaths) }

    private let text: String?

    /// The first of `paths` that can be read.
    public init(paths: [FilePath]) {
        text = paths.lazy.compactMap { FileManager.default.contents(atPath: $0.string) }.first.map { String(decoding: $0, as: UTF8.self) }
    }

    public var isEmpty: Bool { text == nil }

    /// "Red Hat, Inc." for 0x1af4.
    public func vendor(_ id: Int) -> String? { lookup(vendor: id, device: nil) }

    /// "Virtio 1.0 block device" for 0x1af4, 0x1042.
    public func device(vendor: Int, device: Int) -> String? { lookup(vendor: vendor, device: device) }

    /// The file lists each vendor as "1af4  Red Hat, Inc." and its devices below it as "\t1042  Name".
    private func lookup(vendor: Int, device: Int?) -> String? {
        guard let text else { return nil }
        func key(_ id: Int) -> String {
            let digits = String(id, radix: 16)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
        let vendorKey = key(vendor), deviceKey = device.map(key)
        var inVendor = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.first == "#" { continue }
            if line.first != "\t" {
                if inVendor { return nil }
                guard line.hasPrefix(vendorKey + "  ") else { continue }
                if deviceKey == nil { return String(line.dropFirst(6)).trimmingCharacters(in: .whitespaces) }
                inVendor = true
            } else if inVendor, let deviceKey, line.hasPrefix("\t" + deviceKey + "  ") {
                return String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
