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
/// once, and other clients are answered throughout. (Bounded: 60 connections, a 1.5 s timeout.)
@Suite struct StalledClientTests {
    @Test(.timeLimit(.minutes(1))) func stalledAndOversizedRequestsDoNotHoldTheServer() async throws {
        let folder = TemporaryFolder()
        try saveModel(labels: ["a", "b"], to: folder.file("model.safetensors"))
        var options = ServeOptions(modelFile: folder.file("model.safetensors"))
        (options.port, options.threads, options.idleTimeoutSeconds, options.maxConnections) = (0, 1, 1.5, 40)
        try await ImageServer(options).application().test(.live) { client in
            let port = try #require(client.port)
            let huge = try LoopbackConnection(port: port)
            huge.send("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 10737418240\r\n\r\n")
            // Half the stalled ones never finish their headers, half stop in their body.
            let stalled = try (0..<30).map { i in
                let connection = try LoopbackConnection(port: port)
                connection.send(i % 2 == 0 ? "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Le"
                                           : "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n12345")
                return connection
            }
            let started = Date()
            var answer = huge.poll()
            while !answer.closed && Date().timeIntervalSince(started) < 1 { try await Task.sleep(for: .milliseconds(20)); answer = huge.poll() }
            #expect(answer.text.hasPrefix("HTTP/1.1 413") && answer.text.contains("10737418240"), "\(answer.text)")
            #expect(answer.closed && Date().timeIntervalSince(started) < 1, "the 413 came after \(Date().timeIntervalSince(started)) s")

            // Other clients are answered while the stalled ones wait (on connections of their own: the test client's
            // would be closed as idle too).
            #expect(try await Self.healthy(port: port))

            // Past the cap of 40 (30 stalled + the client's), new connections close at once.
            let extra = try (0..<12).map { _ in try LoopbackConnection(port: port) }
            try await Task.sleep(for: .milliseconds(300))
            #expect(extra.filter { $0.poll().closed }.count >= 2, "no connection past the cap was closed")

            // Within the idle timeout (and some slack), every stalled connection is closed.
            for _ in 0..<100 where !stalled.allSatisfy({ $0.poll().closed }) { try await Task.sleep(for: .milliseconds(50)) }
            #expect(stalled.allSatisfy { $0.poll().closed }, "\(stalled.filter { !$0.poll().closed }.count) stalled connections still open")
            #expect(try await Self.healthy(port: port))
        }
    }
}
