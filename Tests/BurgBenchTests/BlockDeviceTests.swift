import BurgBench
import BurgTestSupport
import Foundation
import SystemPackage
import Testing

/// A fake sysfs tree laid out as the kernel does (directories under devices/, symbolic links from block/,
/// dev/block/ and each disk's device), with a virtio disk and its partition, an NVMe drive, a SATA disk
/// and an LVM volume on the SATA disk.
struct FakeSysfs {
    let dir: TemporaryDirectory
    var root: FilePath { dir.path("sys") }

    init() throws {
        dir = try TemporaryDirectory()
        let virtioPCI = "devices/pci0000:00/0000:00:02.0"
        try write("\(virtioPCI)/vendor", "0x1af4")
        try write("\(virtioPCI)/device", "0x1042")
        try write("\(virtioPCI)/virtio1/vendor", "0x1af4")
        try write("\(virtioPCI)/virtio1/device", "0x0002")
        try write("\(virtioPCI)/virtio1/modalias", "virtio:d00000002v00001AF4")
        try write("\(virtioPCI)/virtio1/block/vda/queue/rotational", "0")
        try write("\(virtioPCI)/virtio1/block/vda/queue/scheduler", "[none] mq-deadline")
        try write("\(virtioPCI)/virtio1/block/vda/vda1/partition", "1")
        try link("\(virtioPCI)/virtio1/block/vda/device", "../../../virtio1")
        try link("block/vda", "../\(virtioPCI)/virtio1/block/vda")
        try link("dev/block/254:0", "../../\(virtioPCI)/virtio1/block/vda")
        try link("dev/block/254:1", "../../\(virtioPCI)/virtio1/block/vda/vda1")

        let nvmePCI = "devices/pci0000:00/0000:00:03.0"
        try write("\(nvmePCI)/vendor", "0x144d")
        try write("\(nvmePCI)/device", "0xa80a")
        try write("\(nvmePCI)/current_link_speed", "16.0 GT/s PCIe")
        try write("\(nvmePCI)/current_link_width", "4")
        try write("\(nvmePCI)/nvme/nvme0/model", "Samsung SSD 980 PRO 1TB                 ")
        try link("\(nvmePCI)/nvme/nvme0/device", "../../../0000:00:03.0")
        try write("\(nvmePCI)/nvme/nvme0/nvme0n1/queue/rotational", "0")
        try link("\(nvmePCI)/nvme/nvme0/nvme0n1/device", "../../nvme0")
        try link("block/nvme0n1", "../\(nvmePCI)/nvme/nvme0/nvme0n1")

        let sata = "devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0"
        try write("\(sata)/vendor", "ATA     ")
        try write("\(sata)/model", "WDC WD40EFRX-68N")
        try write("\(sata)/block/sda/queue/rotational", "1")
        try link("\(sata)/block/sda/device", "../../../0:0:0:0")
        try link("block/sda", "../\(sata)/block/sda")
        try write("devices/virtual/block/dm-0/queue/rotational", "1")
        try link("devices/virtual/block/dm-0/slaves/sda", "../../../../pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda")
        try link("dev/block/253:0", "../../devices/virtual/block/dm-0")
    }

    /// A pci.ids excerpt in the database's format.
    func pciIDs() throws -> PCIIDs {
        let file = dir.path("pci.ids")
        try Data("""
            # comment
            144d  Samsung Electronics Co Ltd
            \ta808  NVMe SSD Controller SM981/PM981/PM983
            \ta80a  NVMe SSD Controller PM9A1/PM9A3/980PRO
            1af4  Red Hat, Inc.
            \t1001  Virtio block device
            \t1042  Virtio 1.0 block device
            \t\t1af4 1100  QEMU Virtual Machine
            1b36  Red Hat, Inc.
            C 01  Mass storage controller

            """.utf8).write(to: URL(fileURLWithPath: file.string))
        return PCIIDs(paths: [dir.path("missing.ids"), file])
    }

    private func write(_ relative: String, _ text: String) throws {
        let path = root.appending(relative)
        try FileManager.default.createDirectory(atPath: path.removingLastComponent().string, withIntermediateDirectories: true)
        try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path.string))
    }

    private func link(_ relative: String, _ destination: String) throws {
        let path = root.appending(relative)
        try FileManager.default.createDirectory(atPath: path.removingLastComponent().string, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path.string, withDestinationPath: destination)
    }
}

@Suite struct BlockDeviceTests {
    @Test func aVirtioDiskIsNamedFromThePCIDatabaseNotByItsVendorID() throws {
        let sysfs = try FakeSysfs()
        let device = try #require(BlockDevice.named("vda", sysfs: sysfs.root, pciIDs: try sysfs.pciIDs()))
        #expect(device.model == "Virtio 1.0 block device")
        #expect(device.vendor == "Red Hat, Inc.")
        #expect(device.transport == "virtio")
        #expect(device.rotational == false)
        #expect(device.scheduler == "[none] mq-deadline")
        #expect(device.summary == "vda: Virtio 1.0 block device, Red Hat, Inc. (virtio, non-rotational)")
        #expect(!device.summary.hasPrefix("0x") && !(device.model ?? "").contains("0x"))
    }

    @Test func withoutAPCIDatabaseAVirtioDiskIsNamedByItsVirtioTypeAndTheVendorIdIsLabelled() throws {
        let sysfs = try FakeSysfs()
        let device = try #require(BlockDevice.named("vda", sysfs: sysfs.root, pciIDs: PCIIDs(paths: [sysfs.dir.path("none")])))
        #expect(device.model == "virtio block device")
        #expect(device.vendor == "vendor 0x1af4")
        #expect(device.summary == "vda: virtio block device, vendor 0x1af4 (virtio, non-rotational)")
    }

    @Test func aPartitionIsDescribedByItsDisk() throws {
        let sysfs = try FakeSysfs()
        let device = try #require(BlockDevice.forDevice(major: 254, minor: 1, sysfs: sysfs.root, pciIDs: try sysfs.pciIDs()))
        #expect(device.name == "vda")
        #expect(device.model == "Virtio 1.0 block device")
    }

    @Test func anNVMeDriveHasItsModelItsVendorByNameAndItsLinkBandwidth() throws {
        let sysfs = try FakeSysfs()
        let device = try #require(BlockDevice.named("nvme0n1", sysfs: sysfs.root, pciIDs: try sysfs.pciIDs()))
        #expect(device.model == "Samsung SSD 980 PRO 1TB")
        #expect(device.vendor == "Samsung Electronics Co Ltd")
        #expect(device.transport == "nvme")
        #expect(device.link == "16.0 GT/s PCIe x4")
        // 16 GT/s x 4 lanes, 128b/130b encoding, in bytes.
        #expect(abs((device.linkBytesPerSecond ?? 0) - 16e9 * 4 * 128 / 130 / 8) < 1)
    }

    @Test func aSATADiskKeepsItsModelAndDropsTheATAPlaceholderVendor() throws {
        let sysfs = try FakeSysfs()
        let device = try #require(BlockDevice.named("sda", sysfs: sysfs.root, pciIDs: try sysfs.pciIDs()))
        #expect(device.model == "WDC WD40EFRX-68N")
        #expect(device.vendor == nil)
        #expect(device.transport == "sata")
        #expect(device.rotational == true)
    }

    @Test func aDeviceMapperVolumeIsDescribedByTheDiskBelowIt() throws {
        let sysfs = try FakeSysfs()
        let device = try #require(BlockDevice.forDevice(major: 253, minor: 0, sysfs: sysfs.root, pciIDs: try sysfs.pciIDs()))
        #expect(device.name == "dm-0 on sda")
        #expect(device.model == "WDC WD40EFRX-68N")
        #expect(device.transport == "sata")
    }

    @Test func anUnknownDeviceNumberGivesNothingRatherThanAGuess() throws {
        let sysfs = try FakeSysfs()
        #expect(BlockDevice.forDevice(major: 8, minor: 0, sysfs: sysfs.root, pciIDs: try sysfs.pciIDs()) == nil)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/block")))
    func thisMachinesDiskHasAModelNameNotAnId() throws {
        let dir = try TemporaryDirectory()
        let machine = MachineInfo.collect(for: dir.path, fileSystem: nil)
        if let model = machine.deviceModel {
            #expect(!model.hasPrefix("0x"), "\(model)")
        }
        if machine.device?.hasPrefix("vd") == true {
            #expect(machine.transport == "virtio")
            #expect(machine.deviceModel?.lowercased().contains("virtio") == true, "\(String(describing: machine.deviceModel))")
        }
    }
}
