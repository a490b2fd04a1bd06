import BurgCore
import Foundation
import SystemPackage

/// How a running `burg serve` was started — its executable, arguments and working directory, read
/// from `/proc` before it is stopped — so that it can be started again the same way, or the command
/// that does so printed. Linux only; elsewhere only the lock record's command line is known.
struct ServerCommandLine: Sendable {
    var pid: Int32
    var executable: String
    var arguments: [String]
    var workingDirectory: String

    /// The server holding `dataDir`, if one runs.
    static func of(dataDir: FilePath) -> ServerCommandLine? {
        guard let holder = InstanceLock.currentHolder(dataDir: dataDir), holder.isAlive else { return nil }
        #if os(Linux)
        let proc = "/proc/\(holder.pid)"
        if let raw = try? AtomicFile.read(FilePath(proc + "/cmdline")),
           let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: proc + "/cwd"),
           let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: proc + "/exe") {
            let words = raw.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            let arguments = Array(words.dropFirst().filter { !$0.isEmpty })
            return ServerCommandLine(pid: holder.pid, executable: exe, arguments: arguments, workingDirectory: cwd)
        }
        #endif
        let words = holder.command.split(separator: " ").map(String.init)
        return ServerCommandLine(
            pid: holder.pid, executable: words.first ?? "burg", arguments: Array(words.dropFirst()),
            workingDirectory: FileManager.default.currentDirectoryPath)
    }

    /// A shell command that starts the server again: `cd DIR && EXE ARGS…`, each word quoted if needed.
    var shellCommand: String {
        "cd \(Self.quote(workingDirectory)) && " + ([executable] + arguments).map(Self.quote).joined(separator: " ")
    }

    /// Starts the server again in its own session (so it outlives this command and the terminal),
    /// output to /dev/null (it logs to `<data dir>/logs/burg.log` as well), and waits up to 30 s until it
    /// holds `dataDir`. Returns its pid; throws when it exits or does not take the directory in time.
    func start(dataDir: FilePath) throws -> Int32 {
        let process = Self.detached(executable, arguments)
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CLIInputError(message: "cannot start burg serve again (\(error)); start it with: \(shellCommand)", exitCode: ExitStatus.failure)
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let holder = InstanceLock.currentHolder(dataDir: dataDir), holder.isAlive, holder.pid != pid {
                return holder.pid
            }
            // setsid forks (and exits 0) when it cannot make the session in place.
            if !process.isRunning && process.terminationStatus != 0 {
                throw CLIInputError(
                    message: "burg serve did not start again (exit status \(process.terminationStatus)); see \(dataDir.appending("logs/burg.log")) and start it with: \(shellCommand)",
                    exitCode: ExitStatus.failure)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CLIInputError(
            message: "burg serve (pid \(process.processIdentifier)) did not take \(dataDir) within 30 s; see \(dataDir.appending("logs/burg.log"))",
            exitCode: ExitStatus.failure)
    }

    /// `executable arguments…` in a session of its own (through setsid where it exists), so that it
    /// outlives this process and its terminal.
    static func detached(_ executable: String, _ arguments: [String]) -> Process {
        let process = Process()
        let setsid = "/usr/bin/setsid"
        if FileManager.default.isExecutableFile(atPath: setsid) {
            process.executableURL = URL(fileURLWithPath: setsid)
            process.arguments = [executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        return process
    }

    static func quote(_ word: String) -> String {
        let safe = word.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_./:=,@+".unicodeScalars.contains($0) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// `POST /api/backups/{key}/restore` for a running `burg serve`: a `burg backup restore ARCHIVE
/// --restart` of this very binary, in a session of its own (it outlives the server it stops), its output
/// appended to `<data dir>/backups/restore.log`. It stops this server with SIGTERM, restores, and starts
/// the server again with the same command line — also when the restore fails, with the data directory
/// unchanged.
enum RestoreLauncher {
    static func start(_ archive: FilePath, dataDirectory: String) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let process = ServerCommandLine.detached(executable, ["backup", "restore", archive.string, "--restart", "--data-dir", dataDirectory])
        let log = FilePath(dataDirectory).appending("backups/restore.log")
        let fd = open(log.string, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        let output = fd >= 0 ? FileHandle(fileDescriptor: fd, closeOnDealloc: true) : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }
}
