import Catalog
import Files
import Foundation
import LoopbackHTTP
import SampleImages
import StageContract
import Testing

/// A host with a few URLs that never answer: they must fail as timeouts on their own, without taking the
/// host's healthy URLs with them, whether the run is interrupted or not.
@Suite struct StalledHostTests {
    static let good = 600, stalled = 10

    static func server() throws -> LoopbackHTTPServer {
        let image = SampleImages.png(SampleImages.picture(width: 16, height: 12, seed: 3))
        return try LoopbackHTTPServer { request in
            let name = request.path.dropFirst()
            if name.hasPrefix("stall") { return LoopbackResponse(status: 200, body: image, behavior: .delay(seconds: 30)) }
            if name.hasPrefix("gone") { return .status(404) }
            // Distinct bytes per URL: a comment chunk would do, but the query is enough for the catalog.
            var response = LoopbackResponse.ok(image, contentType: "image/png")
            response.behavior = .delay(seconds: 0.01)
            return response
        }
    }

    @Test(.timeLimit(.minutes(3))) func stalledURLsFailAloneAndResumedRunsEndTheSame() throws {
        let server = try Self.server()
        let folder = TemporaryFolder()
        var urls = (0..<Self.good).map { "\(server.baseURL)/img\($0).png" }
        for i in 0..<Self.stalled { urls.insert("\(server.baseURL)/stall\(i).png", at: i * 37) }
        urls += (0..<5).map { "\(server.baseURL)/gone\($0).png" }
        let manifest = folder.file("lists/things/urls.txt")
        try FileIO.createDirectory(folder.file("lists/things"))
        try FileIO.writeAtomically(Array(urls.joined(separator: "\n").utf8), to: manifest)
        let common = ["fetch", manifest, "--quiet", "--timeout", "3", "--stall-timeout", "3", "--retries", "0",
                      "--per-host", "8", "--concurrency", "16"]
        func outcomes(_ workspace: String) throws -> [String: [String]] {
            var byOutcome: [String: [String]] = [:]
            try Catalog(path: Workspace(root: workspace).catalogPath, create: false).forEachItem { item in
                byOutcome[item.status.rawValue + " " + (item.reason?.code ?? ""), default: []].append(item.source)
            }
            return byOutcome.mapValues { $0.sorted() }
        }

        let reference = try Imgcls.run(common + ["--workspace", folder.file("reference")])
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try outcomes(folder.file("reference"))
        #expect(expected["ok "]?.count == Self.good)
        #expect(expected["failed timeout"]?.count == Self.stalled)
        #expect(expected["failed http_404"]?.count == 5)

        // Killed twice while the stalled URLs are in flight, then resumed: the stalled ones start together on
        // each resume, and the healthy URLs behind them must still be fetched, not time out in the queue.
        let workspace = folder.file("killed")
        for delay in [1.0, 1.5] {
            let process = try Imgcls.start(common + ["--workspace", workspace])
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let started = Date()
        let finish = try Imgcls.run(common + ["--workspace", workspace])
        #expect(finish.status == 0, "\(finish.stderr)")
        #expect(try outcomes(workspace) == expected)
        print("stalled-host resume: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}
