import BurgAuth
import BurgRecords
import BurgStore
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import ServiceLifecycle
import Synchronization

/// PocketBase's realtime protocol over server-sent events:
/// `GET /api/realtime` opens a stream whose first event is `PB_CONNECT` with a client id;
/// `POST /api/realtime {clientId, subscriptions}` (with the client's token, if any) sets what it
/// receives, as PocketBase's topics: `posts/*` (or plain `posts`) every record of a collection, judged by
/// its list rule; `posts/<id>` one record, judged by its view rule; the collection by name or id; each
/// topic may carry `?options=…`. Each subscription that matches a change gets its own event, named
/// by the subscription exactly as sent: `{"action": "create"|"update"|"delete", "record": {...}}`, sent
/// only if the subscriber may see the record under that rule, with the subscriber's identity.
///
/// Changes come from the store's change feed, so writes by any process — the API, `burg import`,
/// workers — reach subscribers, in commit order. On shutdown every stream is closed.
///
/// A subscribed client whose connection drops is kept for ``resumeWindow``: a new `GET /api/realtime`
/// with `Last-Event-ID: <clientId>` (what a browser's EventSource sends when it reconnects by itself)
/// gets the same client id back, its subscriptions and identity, and the events it missed meanwhile
/// (up to ``maxMissed``; beyond that, or later, it starts afresh with a new id, as PocketBase's clients do).
/// The drop is noticed when a write to the connection fails; an event the kernel accepted for a peer
/// that was already gone cannot be told apart from one delivered, and is not resent.
final class RealtimeBroker: Service, Sendable {
    struct Client {
        /// nil while the client is away (its connection dropped), waiting to be resumed.
        var continuation: AsyncStream<String>.Continuation?
        var subscriptions: [RealtimeTopic] = []
        var identity: AuthIdentity?
        /// Set by the first subscription: from then on only its identity may change the subscriptions.
        var bound = false
        /// While away: since when, and the events it missed (nil once more than ``maxMissed``).
        var awaySince: ContinuousClock.Instant?
        var missed: [String]? = []
    }

    /// How long a dropped client can be resumed with `Last-Event-ID`.
    static let resumeWindow: Duration = .seconds(120)
    /// The most undelivered writes (each the events of one round of the change feed) kept for a dropped client.
    static let maxMissed = 1_000

    private let store: Store
    private let logger: Logger
    private let clients = Mutex<[String: Client]>([:])
    private let pollInterval: Duration

    init(store: Store, logger: Logger, pollInterval: Duration = .milliseconds(100)) {
        self.store = store
        self.logger = logger
        self.pollInterval = pollInterval
    }

    /// A client and the stream of SSE messages to send it: the one `resuming` names, if it dropped
    /// within ``resumeWindow`` and missed no more than ``maxMissed`` events, else a new one.
    func connect(resuming: String? = nil) -> (String, AsyncStream<String>) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(Self.maxMissed))
        pruneAway()
        let (id, missed) = clients.withLock { clients -> (String, [String]) in
            if let resuming, var client = clients[resuming], client.continuation == nil, let missed = client.missed {
                client.continuation = continuation
                client.awaySince = nil
                client.missed = []
                clients[resuming] = client
                return (resuming, missed)
            }
            let id = RecordID.generate() + RecordID.generate()
            clients[id] = Client(continuation: continuation)
            return (id, [])
        }
        continuation.yield(Self.message(id: id, event: "PB_CONNECT", dataText: JSONValue.object(["clientId": .string(id)]).jsonText))
        for message in missed { continuation.yield(message) }
        continuation.onTermination = { [weak self] _ in self?.leave(id, continuation: continuation) }
        return (id, stream)
    }

    /// Forgets the clients away for longer than ``resumeWindow`` (at each connect and each poll of the
    /// change feed, so their missed events are not held on to).
    func pruneAway() {
        let now = ContinuousClock.now
        clients.withLock { clients in
            if clients.values.contains(where: { $0.awaySince.map { now - $0 > Self.resumeWindow } ?? false }) {
                clients = clients.filter { $0.value.awaySince.map { now - $0 <= Self.resumeWindow } ?? true }
            }
        }
    }

    /// The client's connection ended: a subscribed client waits to be resumed, any other is removed.
    /// Only the connection `continuation` belongs to (a resumed client has a newer one).
    private func leave(_ id: String, continuation: AsyncStream<String>.Continuation) {
        clients.withLock { clients in
            guard let current = clients[id]?.continuation, current == continuation else { return }
            Self.goAway(id, in: &clients, missed: [])
        }
    }

    /// Marks a client away with `missed` as the events it has missed so far; one without
    /// subscriptions has nothing to resume and is removed.
    private static func goAway(_ id: String, in clients: inout [String: Client], missed: [String]) {
        guard var client = clients[id] else { return }
        guard !client.subscriptions.isEmpty else {
            clients.removeValue(forKey: id)
            return
        }
        client.continuation = nil
        client.awaySince = .now
        client.missed = missed
        clients[id] = client
    }

    enum SubscribeOutcome { case subscribed, noSuchClient, otherIdentity }

    /// Sets a client's subscriptions and identity. The identity of the first subscription binds the
    /// client: later ones must come from the same record, or — a guest signing in — from a guest
    /// client upgrading to a record (as PocketBase allows). Anything else is `otherIdentity`, so a
    /// client id seen by someone else cannot be taken over.
    func subscribe(_ id: String, _ subscriptions: [String], identity: AuthIdentity?) -> SubscribeOutcome {
        clients.withLock { clients in
            guard var client = clients[id] else { return .noSuchClient }
            if client.bound, let bound = client.identity {
                guard let identity, identity.collectionId == bound.collectionId, identity.recordId == bound.recordId else {
                    return .otherIdentity
                }
            }
            client.bound = true
            var seen = Set<String>()
            client.subscriptions = subscriptions.filter { seen.insert($0).inserted }.map(RealtimeTopic.init)
            client.identity = identity
            clients[id] = client
            return .subscribed
        }
    }

    /// The client's connection failed while `unsent` was being written: it goes away (if subscribed)
    /// with that event first among those it missed, and its stream ends.
    func dropped(_ id: String, unsent: String) {
        let continuation = clients.withLock { clients -> AsyncStream<String>.Continuation? in
            guard let continuation = clients[id]?.continuation else { return nil }
            Self.goAway(id, in: &clients, missed: [unsent])
            return continuation
        }
        continuation?.finish()
    }

    /// Clients connected or away (awaiting resumption).
    var connectedClients: Int { clients.withLock { $0.count } }

    /// Ends a client's stream (its response completes); it can be resumed within the window.
    func disconnect(_ id: String) {
        let continuation = clients.withLock { $0[id]?.continuation }
        continuation?.finish()  // outside the lock: finishing calls `leave`, which takes it
    }

    /// Ends every stream for good (shutdown).
    private func closeAll() {
        let continuations = clients.withLock { clients -> [AsyncStream<String>.Continuation] in
            defer { clients.removeAll() }
            return clients.values.compactMap(\.continuation)
        }
        for continuation in continuations { continuation.finish() }
    }

    static func message(id: String, event: String, dataText: String) -> String {
        "id:\(id)\nevent:\(event)\ndata:\(dataText)\n\n"
    }

    func run() async throws {
        var last = try await BlockingWork.run { [store] in try ChangeFeed.latest(store) }
        var lastPrune = ContinuousClock.now
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    let store = self.store
                    let after = last
                    let seen = store.commits.generation
                    let changes = try await BlockingWork.run { try ChangeFeed.changes(store, after: after) }
                    if let newest = changes.last?.id { last = newest }
                    pruneAway()
                    if !changes.isEmpty && connectedClients > 0 { try await deliver(changes) }
                    if ContinuousClock.now - lastPrune > .seconds(600) {
                        lastPrune = .now
                        _ = try await BlockingWork.run { try ChangeFeed.prune(store, olderThan: .seconds(3_600)) }
                    }
                    // A commit of this process wakes it at once; another process's is seen at the next poll.
                    if changes.count < 1_000 { await store.commits.wait(after: seen, timeout: pollInterval) }
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("realtime: reading the change feed failed", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        } onGracefulShutdown: {
            // Ends every open stream, so their responses complete and the server can stop; the wake-up
            // ends the wait for the next change, so the loop sees the shutdown now.
            self.closeAll()
            self.store.commits.signal()
        }
        closeAll()
    }

    private func deliver(_ changes: [RecordChange]) async throws {
        let subscribers = clients.withLock { $0.filter { !$0.value.subscriptions.isEmpty } }
        guard !subscribers.isEmpty else { return }
        let store = self.store
        let collections = try await BlockingWork.run { try CollectionRegistry(store: store).list() }
        let byID = Dictionary(collections.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Each client's events of this round, in order, sent as one write: under load a round holds many
        // changes, and one wake-up and flush per client per round is what keeps delivery up.
        var outbox: [String: String] = [:]
        for change in changes {
            guard let collection = byID[change.collectionId] else { continue }
            // Every guest sees a change alike: what a topic (with its options) shows them is worked out
            // once per change, not once per guest (the JSON text, or nil when the rule hides it).
            var forGuests: [String: String?] = [:]
            for (clientID, client) in subscribers {
                let caller = RecordCaller(client.identity)
                // What each rule lets this client see of the change, decided once for all its topics.
                var seen: [Bool: RecordModel?] = [:]
                for topic in client.subscriptions where topic.matches(collection, recordId: change.recordId) {
                    let byList = topic.recordId == nil
                    let guestKey = client.identity == nil
                        ? "\(byList)|\(topic.raw)|" + topic.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
                        : nil
                    if let guestKey, let known = forGuests[guestKey] {
                        if let data = known { outbox[clientID, default: ""] += Self.message(id: clientID, event: topic.raw, dataText: data) }
                        continue
                    }
                    if seen[byList] == nil {
                        seen[byList] = try await visibleRecord(change, collection, caller, action: byList ? .list : .view)
                    }
                    guard let record = seen[byList] ?? nil else {
                        if let guestKey { forGuests[guestKey] = .some(nil) }
                        continue
                    }
                    let shown = await shape(record, collection, caller, topic.query)
                    let data = JSONValue.object(["action": .string(change.action.rawValue), "record": shown]).jsonText
                    if let guestKey { forGuests[guestKey] = data }
                    outbox[clientID, default: ""] += Self.message(id: clientID, event: topic.raw, dataText: data)
                }
            }
        }
        for (clientID, messages) in outbox { send(messages, to: clientID) }
    }

    /// Sends to the client's connection, or keeps it for a client that is away (up to ``maxMissed``;
    /// beyond that it cannot be resumed).
    private func send(_ message: String, to id: String) {
        let continuation = clients.withLock { clients -> AsyncStream<String>.Continuation? in
            guard var client = clients[id] else { return nil }
            if let continuation = client.continuation { return continuation }
            if var missed = client.missed {
                missed.append(message)
                client.missed = missed.count > Self.maxMissed ? nil : missed
                clients[id] = client
            }
            return nil
        }
        continuation?.yield(message)
    }

    /// `record` as a subscription with `query` options shows it to `caller` (its expand and fields);
    /// an expand path the collection does not have leaves the record unexpanded, as a list would refuse
    /// it but an event has no one to answer.
    private func shape(_ record: RecordModel, _ collection: CollectionModel, _ caller: RecordCaller, _ query: [String: String]) async -> JSONValue {
        guard query["expand"] != nil || query["fields"] != nil else { return RecordPresenter.present(record, collection, for: caller) }
        do {
            if let shaped = try await RecordShape.apply([record], collection, caller, query, store: RecordStore(store: store)).first { return shaped }
        } catch {
            logger.notice("realtime: a subscription's options could not shape an event; sent without them",
                          metadata: ["collection": "\(collection.name)", "error": "\(error)"])
        }
        return RecordPresenter.present(record, collection, for: caller)
    }

    /// The record as `caller` may see it, or nil when the rule of `action` (listing for `c/*`, viewing
    /// for `c/<id>`) hides it. The record is the change feed's copy, as this change committed it (a
    /// deleted one as it was), judged as such: an update followed at once by a delete sends both
    /// events, each with its own values. Only creates of a bulk insert carry no copy; those records
    /// are read now (a later delete has then removed one: its create is skipped, its delete is sent).
    private func visibleRecord(
        _ change: RecordChange, _ collection: CollectionModel, _ caller: RecordCaller, action: RecordAction
    ) async throws -> RecordModel? {
        let access: RecordAccess?
        switch AccessPolicy.decide(action, on: collection, for: caller) {
        case .superusersOnly: return nil
        case .unrestricted: access = nil
        case .matching(let rule): access = rule
        }
        let store = self.store
        if let committed = change.record {
            if let access {
                guard try await RecordStore(store: store).allows(committed: committed, in: collection.name, access: access) else { return nil }
            }
            guard case .object(var values) = committed else { return nil }
            func take(_ key: String) -> String { if case .string(let text)? = values.removeValue(forKey: key) { text } else { "" } }
            let (created, updated) = (take("created"), take("updated"))
            for key in ["id", "collectionId", "collectionName"] { values[key] = nil }
            return RecordModel(id: change.recordId, collectionId: collection.id, collectionName: collection.name,
                               created: created, updated: updated, values: values)
        }
        guard change.action != .delete else { return nil }
        do {
            return try await RecordStore(store: store).get(collection.name, id: change.recordId, access: access)
        } catch let error as BurgRecords.RecordError where error.code == .notFound {
            return nil  // hidden by the rule, or deleted since
        }
    }
}

/// One subscription as PocketBase reads it: `<collection>[/<id>|/*][?options=…]`, the collection by
/// name or id. `options` is the SDKs' URL-encoded JSON `{"query": {"expand": …, "fields": …},
/// "headers": {…}}`: its query shapes each event's record as the same parameters shape a response
/// (headers carry nothing Burg uses). Options that are not such JSON are ignored, as PocketBase does.
struct RealtimeTopic: Sendable {
    /// The subscription as sent, which names its events.
    var raw: String
    var collection: Substring
    /// nil: every record (`/*`, or the collection alone).
    var recordId: Substring?
    /// `options.query`, values as text (`expand`, `fields`).
    var query: [String: String] = [:]

    init(_ raw: String) {
        self.raw = raw
        let halves = raw.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let base = halves.first ?? ""
        let parts = base.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        collection = parts.first ?? ""
        let record = parts.count > 1 ? parts[1] : nil
        recordId = record == "*" ? nil : record
        if halves.count > 1 { query = Self.optionsQuery(halves[1]) }
    }

    /// `options.query` of a topic's query string (`options=<URL-encoded JSON>`), or none.
    static func optionsQuery(_ queryString: Substring) -> [String: String] {
        for pair in queryString.split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1)
            guard keyValue.count == 2, keyValue[0] == "options",
                  let text = String(keyValue[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                  case .object(let options)? = try? JSONValue.parse(text), case .object(let query)? = options["query"]
            else { continue }
            var result: [String: String] = [:]
            for (key, value) in query {
                switch value {
                case .string(let text): result[key] = text
                case .null: continue
                default: result[key] = value.jsonText
                }
            }
            return result
        }
        return [:]
    }

    func matches(_ target: CollectionModel, recordId id: String) -> Bool {
        (collection == target.name || collection == target.id) && (recordId == nil || recordId! == id)
    }
}

/// `GET /api/realtime` (the event stream) and `POST /api/realtime` (subscriptions).
struct RealtimeRoutes: Sendable {
    /// The longest subscription topic accepted (a topic carries its options as a query string).
    static let maxTopicLength = 2_500
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    /// nginx buffers a proxied response unless told not to, which would hold events back.
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!
    let broker: RealtimeBroker
    let auth: RequestAuth

    func add(to router: Router<BurgRequestContext>) {
        router.get("api/realtime") { request, _ -> Response in
            // EventSource sends the last `id:` it saw — the client id — when it reconnects by itself.
            let (id, stream) = broker.connect(resuming: request.headers[Self.lastEventID])
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-store", .connection: "keep-alive", Self.accelBuffering: "no"],
                body: ResponseBody { writer in
                    // On SIGTERM the stream ends, so this response completes and the server can stop
                    // (it waits for requests in flight).
                    try await withGracefulShutdownHandler {
                        for await message in stream {
                            do {
                                try await writer.write(ByteBuffer(string: message))
                            } catch {
                                // The connection is gone: the event is kept for a resume, not lost.
                                broker.dropped(id, unsent: message)
                                throw error
                            }
                        }
                    } onGracefulShutdown: {
                        broker.disconnect(id)
                    }
                    broker.disconnect(id)
                    try await writer.finish(nil)
                })
        }
        router.post("api/realtime") { request, context -> Response in
            let body = try await request.jsonObject(context: context)
            guard case .string(let clientID)? = body["clientId"], !clientID.isEmpty else {
                throw APIError(.badRequest, "Failed to load the submitted data.", data: ["clientId": FieldError("validation_required", "Cannot be blank.")])
            }
            var subscriptions: [String] = []
            if case .array(let items)? = body["subscriptions"] {
                for item in items {
                    guard case .string(let topic) = item, !topic.isEmpty, topic.utf8.count <= Self.maxTopicLength else {
                        throw APIError(.badRequest, "Failed to load the submitted data.",
                                       data: ["subscriptions": FieldError("validation_invalid_value", "Subscriptions are strings.")])
                    }
                    subscriptions.append(topic)
                }
            }
            let identity = try await auth.identity(request, context)
            switch broker.subscribe(clientID, subscriptions, identity: identity) {
            case .subscribed: return Response(status: .noContent)
            case .noSuchClient: throw APIError(.notFound, "Missing or invalid client id.")
            case .otherIdentity:
                throw APIError(.forbidden, "The current and the previous request authorization don't match.")
            }
        }
    }
}
