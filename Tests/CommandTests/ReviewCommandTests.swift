import Foundation
import SampleImages
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `imgcls review` process, killed with SIGKILL while decisions arrive: every decision it acknowledged is in
/// the catalog with its journal row, the one in flight is in both or in neither, and the catalog is intact.
@Suite struct ReviewCommandTests {
    @Test(.timeLimit(.minutes(3))) func decisionsSurviveASigkillMidRequest() throws {
        let folder = TemporaryFolder()
        let workspace = folder.file("data")
        try SampleImages.writeTwoClassFolder(folder.file("pictures"), perClass: 12)
        let curated = try Imgcls.run(["curate", "--from", folder.file("pictures"), "--workspace", workspace, "--quiet"])
        #expect(curated.status == 0, "\(curated.stderr)")
        #expect(curated.stdout.contains("imgcls review --workspace \(workspace)"), "curate ends with the review hint: \(curated.stdout)")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Imgcls.path)
        process.arguments = ["review", "--workspace", workspace, "--port", "0"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // "reviewing DIR on http://127.0.0.1:PORT/ (Ctrl-C to stop)"
        var printed = ""
        while !printed.contains("Ctrl-C") {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            printed += String(decoding: chunk, as: UTF8.self)
        }
        let address = try #require(printed.range(of: "127.0.0.1:"), "\(printed)")
        let port = try #require(Int(printed[address.upperBound...].prefix { $0.isNumber }), "\(printed)")

        let page = try get(port, "/")
        let token = try #require(page.range(of: #"name="review-token" content=""#).map { String(page[$0.upperBound...].prefix(64)) })
        let grid = try json(try get(port, "/api/items?status=ok&per_page=200"))
        var revisions: [Int: Int] = [:]
        for item in try #require(grid["items"] as? [[String: Any]]) { revisions[item["id"] as! Int] = item["revision"] as? Int }
        let ids = revisions.keys.sorted()
        #expect(ids.count >= 20)

        // Decisions one after another, each waiting for its answer, while another thread kills the process with
        // SIGKILL 0.3 s in: the server spends its time in requests, so the kill lands in one (read, being decided,
        // or answered but not yet received here).
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { kill(pid, SIGKILL) }
        var acknowledged = 0
        for round in 0..<5000 {
            let id = ids[round % ids.count]
            let action = (round / ids.count) % 2 == 0 ? "exclude" : "keep"
            guard let reply = try? post(port, token: token, #"{"action": "\#(action)", "note": "round \#(round)", "items": [{"id": \#(id), "revision": \#(revisions[id]!)}]}"#),
                  reply.hasPrefix("HTTP/1.1 200"), let body = try? json(reply), let items = body["items"] as? [[String: Any]],
                  let revision = items.first?["revision"] as? Int else { break }
            revisions[id] = revision
            acknowledged += 1
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && acknowledged > 5, "\(acknowledged) decisions before the kill")

        let catalog = workspace + "/catalog.sqlite"
        #expect(try sqlite(catalog, "PRAGMA integrity_check") == "ok")
        let journaled = try #require(Int(try sqlite(catalog, "SELECT count(*) FROM decisions")))
        #expect(journaled == acknowledged || journaled == acknowledged + 1, "\(journaled) journal rows for \(acknowledged) acknowledged decisions")
        // Every item a decision touched is exactly as its last decision left it: the change and its row went together.
        let mismatched = try sqlite(catalog, """
            SELECT count(*) FROM items i WHERE EXISTS (SELECT 1 FROM decisions WHERE item = i.id) AND (i.revision, i.status, i.label) !=
            (SELECT new_revision, new_status, new_label FROM decisions d WHERE d.item = i.id ORDER BY batch DESC LIMIT 1)
            """)
        #expect(mismatched == "0")
        // Exclusions in the catalog are exactly those the journal's last word on each item says.
        let excluded = try sqlite(catalog, "SELECT count(*) FROM items WHERE manual_status = 'excluded'")
        let journaledExcluded = try sqlite(catalog, """
            SELECT count(*) FROM (SELECT item, (SELECT action FROM decisions d2 WHERE d2.item = d.item ORDER BY batch DESC LIMIT 1) AS last
            FROM decisions d GROUP BY item) WHERE last = 'exclude'
            """)
        #expect(excluded == journaledExcluded, "\(excluded) excluded by hand, \(journaledExcluded) by the journal")
    }

    func get(_ port: Int, _ path: String) throws -> String {
        let connection = try LoopbackConnection(port: port)
        connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return connection.readToEnd()
    }

    func post(_ port: Int, token: String, _ body: String) throws -> String {
        let connection = try LoopbackConnection(port: port)
        connection.send("POST /api/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Review-Token: \(token)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        return connection.readToEnd()
    }

    func json(_ reply: String) throws -> [String: Any] {
        let body = reply.range(of: "\r\n\r\n").map { String(reply[$0.upperBound...]) } ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    /// One value from the sqlite3 tool (the catalog as any SQLite reader sees it).
    func sqlite(_ file: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [file, sql]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
