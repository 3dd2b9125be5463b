import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Review
import SampleImages
import Testing

/// Clients that never finish their requests cannot hold `imgcls review` (the same guard as `serve`'s): a few hundred
/// connections that send headers and a few body bytes then stop are closed within the idle timeout, a body declared
/// at 10 GB gets 413 at once, and other clients are answered in milliseconds throughout. Bounded: 200 stalled
/// connections, a 2 s timeout, one minute at most.
@Suite struct ReviewStalledClientTests {
    /// GET /api/journal on a new connection: the time to its 200, or nil after a second.
    static func answerTime(port: Int) async throws -> Double? {
        let connection = try LoopbackConnection(port: port)
        let started = Date()
        connection.send("GET /api/journal HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for _ in 0..<200 {
            if connection.poll().text.hasPrefix("HTTP/1.1 200") { return Date().timeIntervalSince(started) }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    @Test(.timeLimit(.minutes(1))) func stalledAndOversizedRequestsDoNotHoldTheServer() async throws {
        let fixture = try ReviewFixture()
        var options = ReviewOptions(workspace: fixture.workspace)
        (options.port, options.idleTimeoutSeconds, options.maxConnections) = (0, 2, 400)
        let server = try ReviewServer(options)
        try await server.application().test(.live) { client in
            let port = try #require(client.port)
            let huge = try StalledClients.declaringTenGigabytes(port: port, path: "/api/decisions", contentType: "application/json")
            let stalled = try StalledClients.open(200, port: port, path: "/api/decisions", contentType: "application/json")
            let answer = try await StalledClients.answer(huge, within: 1)
            #expect(answer.text.hasPrefix("HTTP/1.1 413") && answer.text.contains("10737418240"), "\(answer.text)")
            #expect(answer.closed && answer.seconds < 1, "the 413 came after \(answer.seconds) s")

            // Answered while the stalled connections wait, and after they are closed.
            var times: [Double] = []
            for _ in 0..<5 { times.append(try #require(try await Self.answerTime(port: port), "no answer within a second")) }
            let open = try await StalledClients.stillOpen(stalled, after: 5)
            #expect(open == 0, "\(open) stalled connections still open")
            times.append(try #require(try await Self.answerTime(port: port)))
            #expect(times.max()! < 0.5, "answers took \(times) s")

            // A page of another site pointed at 127.0.0.1 (DNS rebinding) sends its own name: refused, even one that
            // starts like a loopback address.
            for name in ["evil.example", "127.evil.example"] {
                let rebound = try LoopbackConnection(port: port)
                rebound.send("GET / HTTP/1.1\r\nHost: \(name):\(port)\r\n\r\n")
                var text = ""
                for _ in 0..<100 where !text.contains("\r\n\r\n") { try await Task.sleep(for: .milliseconds(10)); text += rebound.poll().text }
                #expect(text.hasPrefix("HTTP/1.1 421") && !text.contains(server.token), "\(name): \(text.prefix(40))")
            }
        }
    }
}
