import Catalog
import Files
import Foundation
import LoopbackHTTP
import SampleImages
import StageContract
import Testing

/// `imgcls fetch` as a process: interrupted with SIGKILL at several points and resumed, it must end with the
/// files and catalog of an uninterrupted run.
@Suite struct FetchCommandTests {
    /// Distinct images, some missing, one HTML page; every answer a little slow so kills land mid-run.
    static func server() throws -> LoopbackHTTPServer {
        let images = (0..<60).map { SampleImages.png(SampleImages.picture(width: 24, height: 16, seed: UInt64($0))) }
        return try LoopbackHTTPServer { request in
            let name = request.path.dropFirst()
            var response: LoopbackResponse
            if name.hasPrefix("img"), let n = Int(name.dropFirst(3).prefix { $0.isNumber }), n < images.count {
                response = .ok(images[n], contentType: "image/png")
            } else if name == "page.jpg" {
                response = .ok(SampleImages.htmlPage, contentType: "image/jpeg")
            } else {
                response = .status(404)
            }
            response.behavior = .delay(seconds: 0.02)
            return response
        }
    }

    static func manifest(_ server: LoopbackHTTPServer, in folder: TemporaryFolder) throws -> String {
        var urls = (0..<60).map { "\(server.baseURL)/img\($0).png" }
        urls += (0..<10).map { "\(server.baseURL)/gone\($0).jpg" } + ["\(server.baseURL)/page.jpg", "not-a-url"]
        let path = folder.file("lists/animals/urls.txt")
        try FileIO.createDirectory((path as NSString).deletingLastPathComponent)
        try FileIO.writeAtomically(Array(urls.joined(separator: "\n").utf8), to: path)
        return path
    }

    /// The parts of the outcome that must not depend on interruptions.
    static func state(of workspace: String) throws -> (rows: [String], files: [String: String]) {
        var rows: [String] = []
        try Catalog(path: Workspace(root: workspace).catalogPath, create: false).forEachItem { item in
            rows.append([item.source, item.label.name, item.status.rawValue, item.reason?.code ?? "", item.sha256 ?? "",
                         item.path ?? "", item.format ?? ""].joined(separator: "|"))
        }
        var files: [String: String] = [:]
        for path in DirectoryWalker(root: workspace + "/raw") {
            files[String(path.dropFirst(workspace.count))] = SHA256.hex(try FileIO.read(path))
        }
        return (rows.sorted(), files)
    }

    @Test func killedRunsResumeToTheSameResult() throws {
        let server = try Self.server()
        let folder = TemporaryFolder()
        let manifest = try Self.manifest(server, in: folder)
        let common = ["fetch", manifest, "--quiet", "--concurrency", "4", "--per-host", "4", "--threads", "2"]

        let reference = folder.file("reference")
        let full = try Imgcls.run(common + ["--workspace", reference])
        #expect(full.status == 0, "\(full.stderr)")
        let expected = try Self.state(of: reference)
        #expect(expected.rows.count == 72)
        #expect(expected.files.count == 60)

        for (run, kills) in [[0.05], [0.25], [0.5], [0.1, 0.3, 0.2]].enumerated() {
            let workspace = folder.file("killed-\(run)")
            for delay in kills {
                let process = try Imgcls.start(common + ["--workspace", workspace])
                Thread.sleep(forTimeInterval: delay)
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            let finish = try Imgcls.run(common + ["--workspace", workspace])
            #expect(finish.status == 0, "\(finish.stderr)")
            let state = try Self.state(of: workspace)
            #expect(state.rows == expected.rows, "kills at \(kills)")
            #expect(state.files == expected.files, "kills at \(kills)")
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: workspace + "/tmp")) ?? []
            #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        }
    }

    @Test func standardInputDryRunAndJSONSummary() throws {
        let server = try Self.server()
        let folder = TemporaryFolder()
        let workspace = folder.file("data")
        let urls = "\(server.baseURL)/img1.png\n\(server.baseURL)/img2.png\n\(server.baseURL)/gone.jpg\n"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Imgcls.path)
        process.arguments = ["fetch", "-", "--label", "birds", "--dry-run", "--workspace", workspace]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(urls.utf8))
        input.fileHandleForWriting.closeFile()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("3 URLs read, 3 new") && text.contains("3 URLs pending"))
        #expect(server.requests.isEmpty)

        let json = try Imgcls.run(["fetch", "--json", "--workspace", workspace, folder.file("none-needed"), "--dry-run"])
        #expect(json.status != 0 && json.stderr.contains("none-needed: no such manifest file or folder"))

        let emptyList = folder.file("empty/urls.txt")
        try FileIO.createDirectory(folder.file("empty"))
        try FileIO.writeAtomically([UInt8](), to: emptyList)
        let run = try Imgcls.run(["fetch", emptyList, "--json", "--workspace", workspace])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let byStatus = summary?["byStatus"] as? [String: Int]
        #expect(byStatus == ["ok": 2, "failed": 1])
        #expect(try Catalog(path: Workspace(root: workspace).catalogPath).item(source: "\(server.baseURL)/img1.png", label: Label("birds"))?.status == .ok)
    }

    /// The contract schedulers rely on: exit 0 and a completion marker only for a completed shard, 75 for a
    /// stopped one, a quick no-op rerun, and a merge that takes only a whole set of shards.
    @Test func shardsCompleteWithAMarkerAndMergeOnlyAsAWholeSet() throws {
        let server = try Self.server()
        let folder = TemporaryFolder()
        let manifest = try Self.manifest(server, in: folder)
        func fetch(_ k: Int, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
            let result = try Imgcls.run(["fetch", manifest, "--shard", "\(k)/3", "--workspace", folder.file("shard\(k)"),
                                         "--quiet", "--concurrency", "2"] + extra)
            return (result.status, result.stdout, result.stderr)
        }
        let first = try fetch(1)
        #expect(first.status == 0, "\(first.stderr)")
        let marker = try #require(try Workspace(root: folder.file("shard1")).shardCompletion())
        #expect(marker.shard == .init(index: 1, count: 3, by: "url"))
        #expect(marker.items == (marker.byStatus["ok"] ?? 0) + (marker.byStatus["failed"] ?? 0))
        let requests = server.requests.count
        let again = try fetch(1)
        #expect(again.status == 0 && again.stdout.contains("already completed"), "\(again.stdout)")
        #expect(server.requests.count == requests)

        // SIGTERM (what scancel and time limits send): the run stops, commits, and says it did not complete.
        let process = try Imgcls.start(["fetch", manifest, "--shard", "2/3", "--workspace", folder.file("shard2"),
                                        "--quiet", "--concurrency", "1", "--rate", "10"])
        Thread.sleep(forTimeInterval: 1)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 75)
        #expect(try Workspace(root: folder.file("shard2")).shardCompletion() == nil)

        let merged = folder.file("merged")
        let refused = try Imgcls.run(["catalog", "merge", "--workspace", merged, folder.file("shard1"), folder.file("shard2")])
        #expect(refused.status != 0 && refused.stderr.contains("no completion marker"), "\(refused.stderr)")
        #expect(try fetch(2).status == 0)
        let missing = try Imgcls.run(["catalog", "merge", "--workspace", merged, folder.file("shard2"), folder.file("shard1")])
        #expect(missing.status != 0 && missing.stderr.contains("shards 3 of 3 are missing"), "\(missing.stderr)")
        #expect(try fetch(3).status == 0)
        let whole = try Imgcls.run(["catalog", "merge", "--workspace", merged] + (1...3).map { folder.file("shard\($0)") })
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(try Self.state(of: merged).rows.count == 72)
        // The merged workspace holds the whole fetch: running it there does nothing.
        let done = try Imgcls.run(["fetch", manifest, "--workspace", merged, "--quiet"])
        #expect(done.status == 0 && done.stdout.contains("already completed"), "\(done.stdout)")
    }
}
