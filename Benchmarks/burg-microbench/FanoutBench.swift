import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Realtime fan-out against a PocketBase-compatible server: `subscribers` SSE connections to
/// `/api/realtime`, each subscribed to `<collection>/*` as a guest, while records are created at `rate`
/// per second through the ordinary create route, each carrying the wall-clock time it was sent (`sent`,
/// milliseconds). Every event's delivery latency is its arrival time minus `sent`. The same requests,
/// in PocketBase's wire format, go to Burg and to PocketBase (Benchmarks/realtime.sh). Prints one JSON line.
struct FanoutBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Realtime delivery latency of creates to many SSE subscribers on <collection>/*.")

    @Option(help: "Host of the server.") var host = "127.0.0.1"
    @Option(help: "Port of the server.") var port: Int
    @Option(help: "Collection whose records are created (createRule and listRule open to guests, a number field `sent`).")
    var collection = "fanout"
    @Option(help: "SSE subscribers.") var subscribers = 1000
    @Option(help: "Creates per second, spread evenly over the create connections.") var rate = 500.0
    @Option(help: "Seconds of creates.") var seconds = 20.0
    @Option(help: "Connections the creates are sent on.") var createConnections = 16
    @Option(help: "Seconds to wait after the last create for events still on their way.") var drain = 5.0
    @Option(help: "Event loop threads of this client.") var threads = 1

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let collector = FanoutCollector()
        let topic = collection + "/*"
        // Subscribers: connect in batches (the server's accept backlog), then subscribe each.
        var channels: [any Channel] = []
        var clientIds: [EventLoopFuture<String>] = []
        for start in stride(from: 0, to: subscribers, by: 100) {
            var batch: [EventLoopFuture<(any Channel, EventLoopFuture<String>)>] = []
            for _ in start..<min(subscribers, start + 100) {
                batch.append(Self.subscriber(group: group, host: host, port: port, collector: collector))
            }
            for future in batch {
                let (channel, clientId) = try await future.get()
                channels.append(channel)
                clientIds.append(clientId)
            }
        }
        let ids = try await withThrowingTaskGroup(of: [String].self) { tasks in
            for part in 0..<8 {
                let mine = Array(clientIds.enumerated().filter { $0.offset % 8 == part }.map(\.element))
                tasks.addTask {
                    var ids: [String] = []
                    for future in mine { ids.append(try await future.get()) }
                    return ids
                }
            }
            return try await tasks.reduce(into: [String]()) { $0 += $1 }
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for part in 0..<8 {
                let mine = ids.enumerated().filter { $0.offset % 8 == part }.map(\.element)
                tasks.addTask { [host, port] in
                    try await PlainHTTPClient.with(group: group, host: host, port: port) { client in
                        for id in mine {
                            let body = #"{"clientId":"\#(id)","subscriptions":["\#(topic)"]}"#
                            let status = try await client.send(method: .POST, path: "/api/realtime", body: body)
                            guard status == 204 else { throw ValidationError("subscribing \(id) to \(topic) answered \(status)") }
                        }
                    }
                }
            }
            try await tasks.waitForAll()
        }
        collector.startMeasuring()

        // Creates: open loop, each connection at rate/createConnections, on its own schedule.
        let total = Int(rate * seconds)
        let started = ContinuousClock.now
        typealias Outcome = (ok: Int, failed: Int, late: Int, latency: Histogram<UInt64>)
        func histogram() -> Histogram<UInt64> { Histogram(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three) }
        let outcome = try await withThrowingTaskGroup(of: Outcome.self) { tasks in
            for connection in 0..<createConnections {
                tasks.addTask { [host, port, collection, createConnections, rate] in
                  try await PlainHTTPClient.with(group: group, host: host, port: port) { client in
                    var ok = 0, failed = 0, late = 0
                    var latency = histogram()
                    var index = connection
                    while index < total {
                        let due = started + .seconds(Double(index) / rate)
                        let now = ContinuousClock.now
                        if due > now { try await Task.sleep(until: due) } else if now - due > .milliseconds(100) { late += 1 }
                        let sent = Date().timeIntervalSince1970 * 1000
                        let body = #"{"title":"fanout \#(index)","sent":\#(String(format: "%.3f", sent))}"#
                        let begin = ContinuousClock.now
                        let status = try await client.send(method: .POST, path: "/api/collections/\(collection)/records", body: body)
                        let took = ContinuousClock.now - begin
                        _ = latency.record(UInt64(max(0, took.microseconds)))
                        if status == 200 { ok += 1 } else { failed += 1 }
                        index += createConnections
                    }
                    return (ok, failed, late, latency)
                  }
                }
            }
            return try await tasks.reduce(into: (ok: 0, failed: 0, late: 0, latency: histogram())) {
                $0.ok += $1.ok
                $0.failed += $1.failed
                $0.late += $1.late
                $0.latency.add($1.latency)
            }
        }
        let createSeconds = (ContinuousClock.now - started).seconds
        try await Task.sleep(for: .seconds(drain))
        collector.stop()
        for channel in channels { try? await channel.close() }
        try await group.shutdownGracefully()

        let result = collector.result()
        let expected = outcome.ok * subscribers
        let creates = outcome.latency
        func ms(_ value: UInt64) -> Double { (Double(value) / 1000 * 100).rounded() / 100 }
        let summary: [String: Any] = [
            "subscribers": subscribers, "topic": topic, "creates": outcome.ok, "createsFailed": outcome.failed,
            "createsLate": outcome.late, "createsPerSecond": (Double(outcome.ok) / createSeconds).rounded(),
            "createP50Ms": ms(creates.valueAtPercentile(50)), "createP99Ms": ms(creates.valueAtPercentile(99)),
            "eventsExpected": expected, "eventsDelivered": result.delivered,
            "deliveredShare": expected == 0 ? 0 : (Double(result.delivered) / Double(expected) * 10_000).rounded() / 10_000,
            "deliveryP50Ms": ms(result.latency.valueAtPercentile(50)), "deliveryP99Ms": ms(result.latency.valueAtPercentile(99)),
            "deliveryMaxMs": ms(result.latency.max), "otherEvents": result.other, "disconnected": result.disconnected,
        ]
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// One subscriber's connection: `GET /api/realtime`, whose first event (PB_CONNECT) gives the client id.
    static func subscriber(group: any EventLoopGroup, host: String, port: Int, collector: FanoutCollector)
        -> EventLoopFuture<(any Channel, EventLoopFuture<String>)>
    {
        let loop = group.next()
        let clientId = loop.makePromise(of: String.self)
        return ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(SSESubscriber(clientId: clientId, collector: collector))
                }
            }
            .connect(host: host, port: port)
            .flatMap { channel in
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/realtime")
                head.headers.add(name: "Host", value: "\(host):\(port)")
                head.headers.add(name: "Accept", value: "text/event-stream")
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                return channel.writeAndFlush(HTTPClientRequestPart.end(nil)).map { (channel, clientId.futureResult) }
            }
    }
}

/// Everything the subscribers measured, gathered when each connection closes.
final class FanoutCollector: Sendable {
    struct State {
        var measuring = false
        var stopping = false
        var delivered = 0
        var other = 0
        var disconnected = 0
        var latency = Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
    }
    private let state = Mutex(State())

    func startMeasuring() { state.withLock { $0.measuring = true } }
    /// Connections closing from now on were closed by this client, not dropped by the server.
    func stop() { state.withLock { $0.stopping = true } }
    var measuring: Bool { state.withLock { $0.measuring } }

    func add(latencies: [UInt64], other: Int) {
        state.withLock { state in
            state.delivered += latencies.count
            for value in latencies { _ = state.latency.record(value) }
            state.other += other
            if !state.stopping { state.disconnected += 1 }
        }
    }

    func result() -> State { state.withLock { $0 } }
}

/// Reads one SSE stream on its event loop: events end at a blank line; `PB_CONNECT` gives the client
/// id, every other event whose data holds `"sent":` counts as a delivery with its latency in µs.
final class SSESubscriber: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let clientId: EventLoopPromise<String>
    private let collector: FanoutCollector
    private var buffer: [UInt8] = []
    private var latencies: [UInt64] = []
    private var other = 0
    private var connected = false

    init(clientId: EventLoopPromise<String>, collector: FanoutCollector) {
        self.clientId = clientId
        self.collector = collector
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .body(let bytes) = unwrapInboundIn(data) else { return }
        let now = Date().timeIntervalSince1970 * 1000
        buffer.append(contentsOf: bytes.readableBytesView)
        var start = 0
        var index = 0
        while index + 1 < buffer.count {
            if buffer[index] == 0x0A, buffer[index + 1] == 0x0A {
                event(buffer[start..<index], arrived: now)
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        buffer.removeFirst(start)
    }

    private func event(_ bytes: ArraySlice<UInt8>, arrived: Double) {
        if !connected {
            // data:{"clientId":"…"}
            let text = String(decoding: bytes, as: UTF8.self)
            if let range = text.range(of: #""clientId":""#), let end = text[range.upperBound...].firstIndex(of: "\"") {
                connected = true
                clientId.succeed(String(text[range.upperBound..<end]))
            }
            return
        }
        let key: [UInt8] = Array(#""sent":"#.utf8)
        guard let at = Self.find(key, in: bytes) else { other += 1; return }
        var end = at + key.count
        while end < bytes.endIndex, bytes[end] != UInt8(ascii: ","), bytes[end] != UInt8(ascii: "}") { end += 1 }
        guard let sent = Double(String(decoding: bytes[(at + key.count)..<end], as: UTF8.self)) else { other += 1; return }
        guard collector.measuring else { return }
        latencies.append(UInt64(max(0, (arrived - sent) * 1000)))
    }

    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !connected { clientId.fail(ChannelError.eof) }
        collector.add(latencies: latencies, other: other)
        latencies = []
        context.fireChannelInactive()
    }
}

/// One keep-alive HTTP/1.1 connection sending JSON requests one at a time, open for the closure's run.
final class PlainHTTPClient {
    private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let host: String

    private init(outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>,
                 inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator, host: String) {
        self.outbound = outbound
        self.inbound = inbound
        self.host = host
    }

    static func with<Result: Sendable>(
        group: any EventLoopGroup, host: String, port: Int, _ body: (PlainHTTPClient) async throws -> Result
    ) async throws -> Result {
        let channel = try await ClientBootstrap(group: group).connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(PlainHTTPClient(outbound: outbound, inbound: inbound.makeAsyncIterator(), host: "\(host):\(port)"))
        }
    }

    /// The response's status; its body is read and dropped.
    func send(method: HTTPMethod, path: String, body: String) async throws -> Int {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(string: body))), .end(nil)])
        var status = 0
        while let part = try await inbound.next() {
            switch part {
            case .head(let head): status = Int(head.status.code)
            case .body: break
            case .end: return status
            }
        }
        throw ChannelError.eof
    }
}
