// burg-fuzz: libFuzzer harnesses for Burg's parsers of untrusted input, one executable for all of them.
//
//   BURG_FUZZ_HARNESS=filter burg-fuzz [libFuzzer flags] [corpus directories]
//
// The harness is chosen by an environment variable, not an argument, because libFuzzer restarts the
// executable with the same arguments (fork, merge, minimize) and would take any extra one for a corpus.
import CBurgFuzz
import Foundation

let name = ProcessInfo.processInfo.environment["BURG_FUZZ_HARNESS"] ?? ""
guard let harness = Harness(rawValue: name) else {
    FileHandle.standardError.write(Data("""
        burg-fuzz: set BURG_FUZZ_HARNESS to one of: \(Harness.allCases.map { $0.rawValue }.joined(separator: ", "))
        (got "\(name)"); the other arguments are libFuzzer's (-help=1 lists them)

        """.utf8))
    exit(64)
}
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, harness.entry))

/// libFuzzer's own `main` (linked in whole with its runtime, but replaced by this file's entry point)
/// refers to this symbol; it is never called, the driver above gets the harness's callback instead.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { 0 }
