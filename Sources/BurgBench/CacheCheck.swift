/// Flags figures that a cache rather than the device produced ("cached?"), with the reason.
///
/// Direct I/O bypasses the guest's page cache, but not every cache below it: a virtual disk's host may
/// acknowledge writes from its own memory, and a file small enough for a device's or host's cache is read
/// from there. Three signs are checked: the target keeps files in memory (tmpfs, run with
/// `--allow-cached`); a figure is above what the device's interface can carry (a SATA link, a spinning
/// disk, the PCIe link an NVMe drive reports, or any single device's interface); large sequential writes
/// run much faster than reads of the same shape, which a disk does not do but a write cache does.
public enum CacheCheck {
    /// Sequential writes this many times faster than the reads of the same shape are a cache's.
    public static let writeOverReadLimit = 1.5

    /// The fastest a device like `machine`'s can plausibly move data, and what that limit is.
    public static func ceiling(_ machine: MachineInfo) -> (bytesPerSecond: Double, what: String) {
        if machine.rotational == true { return (300e6, "a spinning disk (about 300 MB/s at most)") }
        if let link = machine.linkBytesPerSecond, link > 0 {
            return (link, "the device's PCIe link (\(machine.link ?? "reported by sysfs"))")
        }
        switch machine.transport {
        case "sata": return (600e6, "a SATA link (600 MB/s)")
        case "usb": return (2.5e9, "a USB link (USB 3.2 2x2: 2.5 GB/s)")
        case "mmc": return (400e6, "an SD or eMMC card (about 400 MB/s at most)")
        default: return (16e9, "a single device's interface (PCIe 5.0 x4: about 16 GB/s)")
        }
    }

    /// Sets `cached` on every figure that shows one of the signs.
    public static func mark(_ figures: inout [BenchSummary.Figures], machine: MachineInfo, memoryTarget: Bool) {
        let limit = ceiling(machine)
        for index in figures.indices {
            let figure = figures[index]
            figures[index].cached = reason(figure, among: figures, machine: machine, limit: limit, memoryTarget: memoryTarget)
        }
    }

    static func reason(
        _ figure: BenchSummary.Figures, among figures: [BenchSummary.Figures], machine: MachineInfo,
        limit: (bytesPerSecond: Double, what: String), memoryTarget: Bool
    ) -> String? {
        if memoryTarget {
            return "the target's file system (\(machine.fileSystem ?? "memory-backed")) keeps files in memory: memory was measured, not a disk"
        }
        let rate = figure.bytesPerSecond.median
        if rate > limit.bytesPerSecond {
            return "\(ThroughputUnit.megabytes.format(rate)) is more than \(limit.what) can carry"
        }
        let workload = figure.workload
        if machine.rotational == true && workload.pattern == .random && workload.blockSize <= 16384 && figure.iops.median > 2500 {
            return "\(formatFixed(figure.iops.median, decimals: 0)) IOPS of small random I/O is more than a spinning disk does (a few hundred)"
        }
        if workload.readPercent == 0 && workload.pattern == .sequential && workload.blockSize >= 128 << 10,
           let read = figures.first(where: { other in
               other.engine == figure.engine && other.workload.readPercent == 100 && other.workload.pattern == workload.pattern
                   && other.workload.blockSize == workload.blockSize && other.workload.queueDepth == workload.queueDepth
           }), read.bytesPerSecond.median > 0, rate > writeOverReadLimit * read.bytesPerSecond.median
        {
            let factor = formatFixed(rate / read.bytesPerSecond.median, decimals: 1)
            return "writes ran \(factor)× as fast as reads of the same shape (\(read.workload.name)): a cache that O_DIRECT does not bypass (the drive's, or a virtual disk's host) acknowledged them"
        }
        return nil
    }
}
