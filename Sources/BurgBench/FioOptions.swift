/// User-supplied fio options, checked against a strict allow-list before they reach fio's command line.
///
/// Only options that shape the workload pass (block size, engine among the in-process ones, rates,
/// sync behaviour, ...), each with a value of the expected form. Everything that runs programs, reads or
/// writes files other than the test file, talks to the network, changes privileges or the scheduler, or
/// expands `${...}` is refused, as is any option not on the list: fio grows options faster than a
/// deny-list could follow.
public struct FioOptions: Sendable, Equatable {
    /// The accepted options as fio command-line arguments (`--name=value`).
    public private(set) var arguments: [String] = []

    public init() {}

    /// Parses `name=value` or `name` (a leading `--` is accepted); throws `.refusedFioOption` naming the
    /// option and why.
    public init(_ options: [String]) throws(BenchError) {
        for option in options { arguments.append(try Self.check(option)) }
    }

    enum Value {
        case none, flag, size, number, duration, percent, list, choice(Set<String>), cpuList, text
    }

    /// The allow-list: option name → what its value must look like.
    static let allowed: [String: Value] = [
        "bs": .size, "blocksize": .size, "bsrange": .text, "bssplit": .text, "blockalign": .size,
        "ba": .size, "iodepth": .number,
        "iodepth_batch": .number, "iodepth_batch_complete_min": .number, "iodepth_batch_complete_max": .number,
        "iodepth_low": .number, "loops": .number,
        "rw": .choice(["read", "write", "randread", "randwrite", "rw", "readwrite", "randrw", "trimwrite"]),
        "readwrite": .choice(["read", "write", "randread", "randwrite", "rw", "readwrite", "randrw"]),
        "rwmixread": .percent, "rwmixwrite": .percent,
        "ioengine": .choice(["psync", "sync", "pvsync", "pvsync2", "vsync", "libaio", "io_uring", "posixaio", "mmap"]),
        "direct": .flag, "buffered": .flag, "sync": .choice(["0", "1", "none", "sync", "dsync"]),
        "fsync": .number, "fdatasync": .number, "end_fsync": .flag, "fsync_on_close": .flag,
        "runtime": .duration, "ramp_time": .duration, "time_based": .none, "startdelay": .duration,
        "norandommap": .none, "randrepeat": .flag, "randseed": .number,
        "random_generator": .choice(["tausworthe", "lfsr", "tausworthe64"]),
        "random_distribution": .text, "percentage_random": .percent,
        "rate": .text, "rate_iops": .text, "rate_min": .text, "rate_process": .choice(["linear", "poisson"]),
        "thinktime": .duration, "thinktime_blocks": .number, "thinktime_spin": .duration,
        "refill_buffers": .none, "scramble_buffers": .flag, "buffer_compress_percentage": .percent,
        "buffer_compress_chunk": .size, "dedupe_percentage": .percent, "zero_buffers": .none,
        "invalidate": .flag, "fadvise_hint": .choice(["0", "1", "sequential", "random"]),
        "fallocate": .choice(["none", "native", "posix", "keep", "truncate", "0", "1"]),
        "hipri": .none, "fixedbufs": .none, "registerfiles": .none, "sqthread_poll": .flag,
        "nonvectored": .flag, "uncached": .flag,
        "cpus_allowed": .cpuList, "cpus_allowed_policy": .choice(["shared", "split"]),
        "percentile_list": .list, "lat_percentiles": .flag, "clat_percentiles": .flag, "slat_percentiles": .flag,
        "disable_lat": .flag, "disable_clat": .flag, "disable_slat": .flag, "gtod_reduce": .flag,
        "group_reporting": .none, "verify": .choice(["0", "md5", "crc64", "crc32c", "crc32c-intel", "crc32", "crc16", "crc7", "xxhash", "sha256", "sha512", "sha1", "meta", "pattern", "null"]),
        "do_verify": .flag, "verify_fatal": .flag, "verify_backlog": .number, "verify_interval": .size,
        "serialize_overlap": .flag, "unified_rw_reporting": .flag,
    ]

    /// Refused with a specific reason (anything else unknown is refused as "not on the allow-list").
    static func refusalReason(_ name: String) -> String? {
        switch name {
        case "exec_prerun", "exec_postrun": return "it runs a program"
        case "server", "client", "daemonize", "remote_config": return "it makes fio talk to the network or detach"
        case "include", "stonewall_file": return "it reads other job files"
        case "output", "output-format", "bandwidth-log", "write_iolog", "read_iolog", "iolog", "replay_redirect",
             "merge_blktrace_file", "write_bw_log", "write_lat_log", "write_iops_log", "write_hist_log",
             "log_offset", "log_compression", "log_store_compressed", "trigger-file", "exitall_on_error":
            return "it writes or reads files other than the test file"
        case "filename", "directory", "filename_format", "opendir", "nrfiles", "unlink", "unlink_each_loop",
             "create_only", "file_service_type", "pre_read", "file_append", "create_on_open", "create_serialize":
            return "the test file is chosen and removed by Burg"
        case "size", "filesize", "io_size", "io_limit", "offset", "offset_increment", "offset_align", "number_ios",
             "numjobs", "zonemode", "zonesize", "zonerange", "zoneskip", "zonecapacity", "size_percent":
            // fio would size or place I/O beyond Burg's test file (it grows the file to fit), past the
            // free-space check; the queue depth sets the jobs (numjobs times the region would do the same).
            return "Burg sizes the test file and places the I/O in it (use --file-size and the workload's queue depth)"
        case "allow_mounted_write", "allow_file_create": return "it lifts fio's protection of mounted devices"
        case "ioscheduler": return "it changes the system's I/O scheduler"
        case "uid", "gid", "cgroup", "cgroup_weight", "prio", "prioclass", "nice": return "it changes privileges or priorities"
        default:
            if name.hasPrefix("trigger") { return "it runs a command when triggered" }
            if name.hasPrefix("write_") && name.hasSuffix("_log") { return "it writes log files" }
            if name.contains("iolog") { return "it reads or writes I/O logs" }
            return nil
        }
    }

    static func check(_ option: String) throws(BenchError) -> String {
        var text = Substring(option)
        while text.hasPrefix("-") { text = text.dropFirst() }
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts.first.map(String.init)?.lowercased() ?? ""
        let value = parts.count == 2 ? String(parts[1]) : nil
        func refuse(_ reason: String) -> BenchError {
            BenchError(.refusedFioOption, subject: "'\(option)'", detail: reason)
        }
        if option.contains("$") { throw refuse("`$` expansions (${...}, $mb_memory, ...) are not allowed") }
        if option.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw refuse("control characters are not allowed")
        }
        // fio's options are ASCII. Checked by scalar, before any test by Character: Swift's `isNumber` and
        // `isLetter` also hold for other scripts' digits and letters and for a letter with combining marks.
        if option.unicodeScalars.contains(where: { !$0.isASCII }) {
            throw refuse("only ASCII characters are allowed (fio reads nothing else)")
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw refuse("not an option name")
        }
        if let reason = refusalReason(name) { throw refuse(reason) }
        if name == "ioengine", let value, value.hasPrefix("external") || value == "exec" || value.contains("/") {
            throw refuse("external and exec engines run foreign code")
        }
        guard let kind = allowed[name] else { throw refuse("not on the allow-list of workload options") }
        if let value, value.contains("/") || value.contains("\\") {
            throw refuse("values with paths are not allowed")
        }
        guard valid(value, kind) else { throw refuse("unexpected value \(value.map { "'\($0)'" } ?? "(none)")") }
        return "--" + name + (value.map { "=" + $0 } ?? "")
    }

    private static func valid(_ value: String?, _ kind: Value) -> Bool {
        switch kind {
        case .none: return value == nil
        case .flag: return value == nil || value == "0" || value == "1"
        case .choice(let choices): return value.map { choices.contains($0.lowercased()) } ?? false
        case .number: return value.map { !$0.isEmpty && $0.allSatisfy(\.isNumber) } ?? false
        case .percent: return value.flatMap { Int($0) }.map { (0...100).contains($0) } ?? false
        case .size, .duration:
            // 4k, 1m, 64KiB, 10s, 500ms, 1.5
            guard let value, let first = value.first, first.isNumber else { return false }
            return value.allSatisfy { $0.isNumber || $0.isLetter || $0 == "." } && value.count <= 20
        case .list: return value.map { !$0.isEmpty && $0.allSatisfy { $0.isNumber || $0 == ":" || $0 == "." } } ?? false
        case .cpuList: return value.map { !$0.isEmpty && $0.allSatisfy { $0.isNumber || $0 == "," || $0 == "-" } } ?? false
        case .text:
            guard let value, !value.isEmpty, value.count <= 200 else { return false }
            return value.allSatisfy { $0.isLetter || $0.isNumber || ":,.%-_".contains($0) }
        }
    }
}
