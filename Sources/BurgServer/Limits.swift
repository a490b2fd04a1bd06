import BurgRecords
import Hummingbird
import HummingbirdCore

/// Every bound Burg puts on what a client or a file may send, in one list: each is enforced where the
/// value is read (the constant named here) and refused with an error that names the limit. The table
/// in docs/OPERATIONS.md ("Limits") is checked against this list by a test, so the two cannot drift.
public enum Limits {
    public struct Limit: Sendable {
        /// The key in the documentation's table.
        public var name: String
        public var value: Int
        /// What is refused beyond it, and how.
        public var refusal: String
    }

    public static var all: [Limit] {
        [
            Limit(name: "page", value: ListQuery.maxPage, refusal: "400 naming `page`"),
            Limit(name: "perPage", value: ListQuery.maxPerPage, refusal: "lowered to it (PocketBase does the same with its own maximum)"),
            Limit(name: "filter length", value: FilterParser.maxLength, refusal: "400, also for access rules when they are stored"),
            Limit(name: "filter nesting", value: FilterParser.maxDepth, refusal: "400 (parentheses)"),
            Limit(name: "filter comparisons", value: FilterParser.maxComparisons, refusal: "400"),
            Limit(name: "sort terms", value: SortOrder.maxTerms, refusal: "400"),
            Limit(name: "expand depth", value: ExpandPaths.maxDepth, refusal: "400"),
            Limit(name: "fields per collection", value: CollectionModel.maxFields, refusal: "400"),
            Limit(name: "field maxSelect, text min/max", value: CollectionModel.maxCount, refusal: "400 at the field when the collection is stored"),
            Limit(name: "JSON body bytes", value: BurgRequestContext.maxBodySize, refusal: "413, before the body is read when Content-Length declares it"),
            Limit(name: "multipart body MiB", value: ServerConfiguration().maxUploadSize >> 20, refusal: "413 the same way; `--max-upload`"),
            Limit(name: "realtime topic bytes", value: RealtimeRoutes.maxTopicLength, refusal: "400"),
            Limit(name: "request head bytes", value: HTTP1Channel.Configuration().httpDecoder.maxHeaderListSize, refusal: "400 and the connection closed"),
            Limit(name: "idle connection seconds", value: Int(ServerConfiguration().idleTimeout.components.seconds), refusal: "the connection is closed (a stalled head or body too)"),
            Limit(name: "import line bytes", value: ImportOptions().maxLineLength, refusal: "exit 65 naming the line; `burg import --max-line-length`"),
            Limit(name: "import batch size", value: ImportOptions.maxBatchSize, refusal: "exit 64; `burg import --batch-size`"),
        ]
    }
}
