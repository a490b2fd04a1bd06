import BurgAuth
import BurgBackup
import BurgBench
import BurgCore
import BurgJobs
import BurgRecords
@testable import BurgServer
import BurgStore
import Foundation
import Logging
import SystemPackage
import Testing

/// Every code of every Burg error maps to a deliberate HTTP status (ErrorMapping.swift): the table below
/// is the contract, walked code by code, so a changed status or a new code without a mapping fails here.
@Suite struct ErrorMappingTests {
    static let logger = Logger(label: "test.errors")
    static let root = FilePath(#filePath).removingLastComponent().removingLastComponent().removingLastComponent()
    static let secretPath = "/srv/burg-data-secret/data.db"

    /// The expected status of each code, by the error type's name and the code's name.
    static let table: [String: [String: Int]] = [
        "AuthError": ["auth_invalid_credentials": 400, "auth_locked_out": 429, "auth_invalid_token": 401,
                      "auth_not_auth_collection": 404, "auth_invalid_record": 400],
        "StoreError": ["busy": 503, "constraint": 400, "notADatabase": 503, "corrupt": 503, "newerSchema": 503,
                       "readOnly": 503, "networkFileSystem": 503, "missing": 503, "diskFull": 507, "io": 503, "sqlite": 503],
        "RecordError": ["record_not_found": 404, "record_invalid_query": 400, "record_forbidden": 400,
                        "record_superusers_only": 403, "record_broken_rule": 400, "record_protected": 400],
        "SchemaError": ["schema_invalid_name": 400, "schema_invalid_collection_name": 400, "schema_duplicate_field": 400, "schema_reserved_name": 400,
                        "schema_invalid_options": 400, "schema_collection_exists": 400, "schema_collection_missing": 404,
                        "schema_would_lose_data": 400, "schema_referenced": 400, "schema_protected": 400,
                        "schema_id_taken": 400, "schema_invalid_rule": 400, "schema_invalid_index": 400],
        "FilterError": ["filter_unexpected_character": 400, "filter_unterminated_string": 400, "filter_invalid_number": 400,
                        "filter_unexpected_token": 400, "filter_unexpected_end": 400, "filter_unknown_field": 400,
                        "filter_unknown_macro": 400, "filter_too_complex": 400, "sort_invalid": 400],
        "FileError": ["file_key_unavailable": 503, "file_key_exists": 503, "file_damaged": 503, "file_not_found": 404,
                      "file_io": 503, "file_no_space": 507, "file_read_only": 503],
        "ImportError": ["cannotOpen": 400, "badHeader": 400, "aborted": 400, "lineTooLong": 400],
        "AtomicFileError": ["directoryMissing": 503, "permissionDenied": 503, "targetIsDirectory": 503,
                            "readOnlyFileSystem": 503, "noSpace": 507, "io": 503],
        "LockError": ["wouldBlock": 503, "timedOut": 503, "cancelled": 503, "alreadyHeld": 503,
                      "networkFileSystem": 503, "cannotOpen": 503, "system": 503],
        "InstanceLockError": ["alreadyRunning": 409, "lockFailed": 503],
        "JobError": ["job_unknown_kind": 400, "job_invalid_arguments": 400, "job_invalid_schedule": 400,
                     "job_not_found": 404, "job_invalid_state": 409],
        "BackupError": ["backup_not_an_archive": 400, "backup_corrupt": 400, "backup_wrong_key": 400,
                        "backup_newer_schema": 400, "backup_inconsistent": 400, "backup_server_running": 409,
                        "backup_io": 503, "backup_not_found": 404],
        "BenchError": ["systemDirectory": 400, "notAllowed": 400, "noTarget": 400, "notWritable": 400,
                       "insufficientSpace": 400, "alreadyRunning": 409, "cachedOnly": 400, "fioMissing": 503,
                       "fioFailed": 503, "refusedFioOption": 400, "invalidSettings": 400, "interrupted": 409,
                       "io": 503, "verifyFailed": 503, "runNotFound": 404, "symbolicLink": 400],
    ]

    /// One error of each code of `E`, mapped.
    static func mapped<E: CodedError>(_ type: E.Type, _ make: (E.Code) -> E) -> [String: APIError] {
        Dictionary(uniqueKeysWithValues: E.Code.allCases.map { code in
            (E.name(of: code), APIError.from(make(code), logger: logger))
        })
    }

    static let answers: [String: [String: APIError]] = [
        "AuthError": mapped(AuthError.self) { AuthError($0, "auth failed", retryAfter: .seconds(30)) },
        "StoreError": mapped(StoreError.self) {
            StoreError($0, path: FilePath(secretPath), sqliteCode: 1, statement: "SELECT secret FROM t", message: "near x")
        },
        "RecordError": mapped(BurgRecords.RecordError.self) { BurgRecords.RecordError($0, collection: "posts", message: "rule: owner = @request.auth.id") },
        "SchemaError": mapped(SchemaError.self) { SchemaError($0, collection: "posts", field: "title", message: "bad") },
        "FilterError": mapped(FilterError.self) { FilterError($0, position: 3, message: "bad", text: "a = ") },
        "FileError": mapped(FileError.self) { FileError($0, path: secretPath, "failed") },
        "ImportError": mapped(ImportError.self) { ImportError(code: $0, path: "upload.csv", message: "line 3 is bad") },
        "AtomicFileError": mapped(AtomicFileError.self) { AtomicFileError($0, path: FilePath(secretPath)) },
        "LockError": mapped(LockError.self) { LockError($0, path: FilePath(secretPath)) },
        "InstanceLockError": mapped(InstanceLockError.self) { InstanceLockError($0, dataDir: FilePath(secretPath)) },
        "JobError": mapped(JobError.self) { JobError($0, "job refused") },
        "BackupError": mapped(BackupError.self) { BackupError($0, path: "backup.zip", "refused") },
        "BenchError": mapped(BenchError.self) { BenchError($0, subject: "/mnt/disk") },
    ]

    @Test func everyCodeOfEveryErrorHasItsDeliberateStatusAndNoneIsA500() {
        #expect(Set(Self.answers.keys) == Set(Self.table.keys))
        for (type, codes) in Self.answers {
            let expected = Self.table[type] ?? [:]
            #expect(Set(codes.keys) == Set(expected.keys), "codes of \(type)")
            for (code, answer) in codes {
                #expect(Int(answer.status.code) == expected[code], "\(type).\(code)")
                #expect(answer.status.code != 500, "\(type).\(code) falls through to a 500")
                #expect(!answer.message.isEmpty, "\(type).\(code) has no message")
            }
        }
    }

    @Test func theServersConditionsSayNothingWasSavedAndWhenToRetry() throws {
        let store = try #require(Self.answers["StoreError"])
        #expect(store["busy"]?.headers[.retryAfter] == "1")
        #expect(store["busy"]?.message.contains("Try again") == true)
        #expect(store["diskFull"]?.message.contains("disk is full") == true)
        #expect(store["readOnly"]?.headers[.retryAfter] != nil)
        for (code, answer) in store where code != "constraint" {
            #expect(answer.message.contains("nothing was saved"), "StoreError.\(code)")
        }
        #expect(Self.answers["AuthError"]?["auth_locked_out"]?.headers[.retryAfter] == "30")
        #expect(Self.answers["LockError"]?["timedOut"]?.headers[.retryAfter] == "1")
    }

    /// Guests reach records, files and the store: what they are told names no path, statement or rule.
    @Test func answersAGuestCanReachLeakNoPathSQLOrRuleText() {
        for type in ["StoreError", "FileError", "AtomicFileError", "LockError", "InstanceLockError", "RecordError"] {
            // These two carry a message Burg writes for the caller (which parameter, which record).
            for (code, answer) in Self.answers[type] ?? [:] where !["record_invalid_query", "record_protected"].contains(code) {
                let body = answer.json.jsonText
                #expect(!body.contains("burg-data-secret") && !body.contains("SELECT") && !body.contains("@request"),
                        "\(type).\(code): \(body)")
            }
        }
    }

    @Test func fieldErrorsNameTheFieldAFormShowsThemAt() {
        #expect(Self.answers["BenchError"]?["notAllowed"]?.data["target"]?.code == "notAllowed")
        #expect(Self.answers["JobError"]?["job_unknown_kind"]?.data["kind"] != nil)
        #expect(Self.answers["BackupError"]?["backup_corrupt"]?.data["file"]?.code == "backup_corrupt")
        #expect(Self.answers["SchemaError"]?["schema_invalid_rule"]?.data["title"]?.code == "validation_invalid_rule")
        // A refused index string: PocketBase's code at its position, `data.indexes.<i>`.
        #expect(Self.answers["SchemaError"]?["schema_invalid_index"]?.json.jsonText.contains("validation_invalid_index_expression") == true)
    }

    /// A new error type in Sources that declares codes must be added to the table above.
    @Test func everyCodedErrorInTheSourcesIsInTheTable() throws {
        let sources = Self.root.appending("Sources").string
        let enumerator = try #require(FileManager.default.enumerator(atPath: sources))
        var declared: Set<String> = []
        let pattern = try Regex(#"public struct (\w+): CodedError"#)
        while let file = enumerator.nextObject() as? String {
            guard file.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            for match in text.matches(of: pattern) {
                if let name = match.output[1].substring { declared.insert(String(name)) }
            }
        }
        #expect(declared.count >= 13)
        #expect(declared == Set(Self.table.keys))
    }
}
