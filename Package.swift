// swift-tools-version: 6.2
import Foundation
import PackageDescription

// Burg's own targets share one settings array. CI sets BURG_WARNINGS_AS_ERRORS=1 so that a warning in
// Burg's code fails the build, while warnings inside dependencies stay warnings.
let strictWarnings = ProcessInfo.processInfo.environment["BURG_WARNINGS_AS_ERRORS"] == "1"
let swiftSettings: [SwiftSetting] =
    [
        .swiftLanguageMode(.v6),
        .enableUpcomingFeature("ExistentialAny"),
    ] + (strictWarnings ? [.treatAllWarnings(as: .error)] : [])

// BURG_FUZZ=1 adds the libFuzzer harnesses (Fuzz/, run by scripts/fuzz.sh). They exist only then, so an
// ordinary build never links libFuzzer and no library target depends on fuzz code.
let fuzzing = ProcessInfo.processInfo.environment["BURG_FUZZ"] == "1"

let package = Package(
    name: "Burg",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "burg", targets: ["burg"]),
        .library(name: "BurgCore", targets: ["BurgCore"]),
        .library(name: "BurgStore", targets: ["BurgStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // multipart/form-data uploads, parsed as the body streams in (Hummingbird's recommended parser).
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        // NIOThreadPool: the threads the server's blocking database work runs on (Hummingbird's own NIO).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [
        // System headers Swift's Glibc module lacks (statfs). No logic lives here.
        .target(name: "CBurgSystem"),
        .target(
            name: "BurgCore",
            dependencies: [
                "CBurgSystem",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BurgStore",
            dependencies: [
                "BurgCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // NIOThreadPool: the threads blocking database work runs on for async callers (BlockingWork).
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BurgBench",
            dependencies: [
                "BurgCore",
                "BurgStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BurgRecords",
            dependencies: [
                "BurgCore",
                "BurgStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for binding bulk inserts directly (see InsertStatement).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Users, superusers, password hashing, tokens, lockout, rate limits and the audit log.
        .target(
            name: "BurgAuth",
            dependencies: [
                "BurgCore",
                "BurgStore",
                "BurgRecords",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The durable job queue, workers and their supervisor, cron schedules.
        .target(
            name: "BurgJobs",
            dependencies: [
                "BurgCore",
                "BurgStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Verified, consistent online backups, restore and retention.
        .target(
            name: "BurgBackup",
            dependencies: [
                "BurgCore",
                "BurgStore",
                "BurgRecords",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP API: PocketBase-compatible routes over the capabilities below it.
        .target(
            name: "BurgServer",
            dependencies: [
                "BurgAuth",
                "BurgBackup",
                "BurgBench",
                "BurgJobs",
                "BurgRecords",
                "BurgStore",
                "BurgCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "burg",
            dependencies: [
                "BurgServer",
                "BurgAuth",
                "BurgJobs",
                "BurgBackup",
                "BurgRecords",
                "BurgCore",
                "BurgStore",
                "BurgBench",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // A small program the tests start as real child processes (lock holders, concurrent writers,
        // processes to kill -9). It is not installed and has no user-facing contract.
        .executableTarget(
            name: "burg-test-helper",
            dependencies: [
                "BurgCore",
                "BurgTestSupport",
                "BurgStore",
                "BurgBench",
                "BurgBackup",
                "BurgJobs",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Micro-benchmarks run by Benchmarks/*.sh against named peers; see docs/PERFORMANCE.md.
        .executableTarget(
            name: "burg-microbench",
            dependencies: [
                "BurgCore",
                "BurgStore",
                "BurgBackup",
                "BurgJobs",
                "BurgRecords",
                "BurgAuth",
                "BurgBench",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // The realtime fan-out client (fanout): a thousand SSE streams on one event loop.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/burg-microbench",
            swiftSettings: swiftSettings
        ),
        // Shared by every test target: temporary directories, child processes, locating built binaries.
        .target(
            name: "BurgTestSupport",
            dependencies: [
                "BurgCore", "BurgStore", .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/BurgTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BurgCoreTests",
            dependencies: ["BurgCore", "BurgTestSupport", "burg", "burg-test-helper", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BurgStoreTests",
            dependencies: [
                "BurgCore", "BurgStore", "BurgTestSupport", "burg", "burg-test-helper",
                .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BurgRecordsTests",
            dependencies: ["BurgRecords", "BurgStore", "BurgTestSupport", "burg", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BurgBenchTests",
            dependencies: ["BurgBench", "BurgCore", "BurgStore", "BurgTestSupport", "burg", "burg-test-helper", .product(name: "GRDB", package: "GRDB.swift")],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BurgAuthTests",
            dependencies: ["BurgAuth", "BurgRecords", "BurgStore", "BurgCore", "BurgTestSupport", "burg", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BurgJobsTests",
            dependencies: ["BurgJobs", "BurgStore", "BurgCore", "BurgTestSupport", "burg", "burg-test-helper", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BurgBackupTests",
            dependencies: [
                "BurgBackup", "BurgStore", "BurgCore", "BurgRecords", "BurgTestSupport", "burg", "burg-test-helper",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BurgServerTests",
            dependencies: [
                "BurgServer", "BurgAuth", "BurgBackup", "BurgBench", "BurgJobs", "BurgRecords", "BurgStore", "BurgCore", "BurgTestSupport", "burg",
                // In-process HTTP: requests through buildApplication's router without a child process.
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            // The Python script the SDK test runs; read from the source tree, not a resource.
            exclude: ["sdk", "browser"],
            swiftSettings: swiftSettings
        ),
    ]
)

if fuzzing {
    package.targets += [
        // The declaration of libFuzzer's LLVMFuzzerRunDriver; no logic.
        .target(name: "CBurgFuzz", path: "Fuzz/CBurgFuzz"),
        // One executable, one harness per component (BURG_FUZZ_HARNESS picks it). Linked with libFuzzer and
        // AddressSanitizer; scripts/fuzz.sh builds the libraries with the matching coverage instrumentation.
        .executableTarget(
            name: "burg-fuzz",
            dependencies: [
                "CBurgFuzz", "BurgCore", "BurgStore", "BurgRecords", "BurgBench", "BurgBackup", "BurgServer",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Fuzz/burg-fuzz",
            swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
    ]
}
