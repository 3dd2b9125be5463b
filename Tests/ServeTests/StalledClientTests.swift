import Foundation
import Hummingbird
import HummingbirdTesting
import SampleImages
@testable import Serve
import Testing

extension StalledClientTests {
    /// GET /healthz on a new connection answers 200 within a second.
    static func healthy(port: Int) async throws -> Bool {
        let connection = try LoopbackConnection(port: port)
        connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for _ in 0..<50 {
            if connection.poll().text.hasPrefix("HTTP/1.1 200") { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}

/// Clients that never finish their requests cannot hold `imgcls serve`: a body declared beyond the limit gets 413 at
/// once, stalled headers and bodies are closed within the idle timeout, connections past the cap are closed at
/// once, and other clients are answered throughout. (Bounded: 215 connections, a 1.5 s timeout.)
@Suite struct StalledClientTests {
    @Test(.timeLimit(.minutes(1))) func stalledAndOversizedRequestsDoNotHoldTheServer() async throws {
        let folder = TemporaryFolder()
        try saveModel(labels: ["a", "b"], to: folder.file("model.safetensors"))
        var options = ServeOptions(modelFile: folder.file("model.safetensors"))
        (options.port, options.threads, options.idleTimeoutSeconds, options.maxConnections) = (0, 1, 1.5, 210)
        try await ImageServer(options).application().test(.live) { client in
            let port = try #require(client.port)
            let huge = try StalledClients.declaringTenGigabytes(port: port, path: "/v1/classify", contentType: "image/jpeg")
            let stalled = try StalledClients.open(200, port: port, path: "/v1/classify", contentType: "image/jpeg")
            // Past the cap of 210 (200 stalled + the huge one + the client's), new connections close at once (opened
            // now, well within the stalled ones' timeout).
            var extra = try (0..<12).map { _ in try LoopbackConnection(port: port) }
            let answer = try await StalledClients.answer(huge, within: 1)
            #expect(answer.text.hasPrefix("HTTP/1.1 413") && answer.text.contains("10737418240"), "\(answer.text)")
            #expect(answer.closed && answer.seconds < 1, "the 413 came after \(answer.seconds) s")

            // (The server accepts the connections in turn: give it a moment.)
            for _ in 0..<50 where extra.filter({ $0.poll().closed }).count < 2 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(extra.filter { $0.poll().closed }.count >= 2, "no connection past the cap was closed")
            extra = []  // closed: the rest fit under the cap, and other clients need the room
            try await Task.sleep(for: .milliseconds(100))

            // Other clients are answered while the stalled ones wait (on connections of their own: the test client's
            // would be closed as idle too).
            #expect(try await Self.healthy(port: port))

            // Within the idle timeout (and some slack), every stalled connection is closed.
            let open = try await StalledClients.stillOpen(stalled, after: 5)
            #expect(open == 0, "\(open) stalled connections still open")
            #expect(try await Self.healthy(port: port))
        }
    }
}
