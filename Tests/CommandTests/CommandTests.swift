import Catalog
import Foundation
import SampleImages
import StageContract
import Testing

/// The `imgcls` executable, run as a user runs it. `swift build` puts it next to the test bundle.
struct Imgcls {
    static let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("imgcls").path

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Starts a run in the background, its output discarded (for tests that kill it).
    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "\(path) is missing: run `swift build` before `swift test`"])
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end before waiting, so a large output cannot fill a pipe and stall.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}

@Suite struct CommandTests {
    @Test func helpListsThePipelineStages() throws {
        let help = try Imgcls.run(["--help"])
        #expect(help.status == 0)
        // The subcommands the help lists are exactly the ones this build has, and each one answers --help.
        let listed = help.stdout.components(separatedBy: "SUBCOMMANDS:").last!.split(separator: "\n")
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") && !$0.hasPrefix("  See ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        let stages = ["fetch", "scrape", "import", "curate", "relabel", "review", "split", "train", "evaluate", "quantize", "predict", "serve", "classify", "run", "demo", "backbone", "inspect",
                      "status", "catalog", "export", "hash"]
        #expect(listed == stages, "\(listed)")
        for stage in listed {
            let stageHelp = try Imgcls.run([stage, "--help"])
            #expect(stageHelp.status == 0 && stageHelp.stdout.contains("USAGE: imgcls \(stage)"), "\(stage)")
        }
    }

    @Test func curateFromAFolderImportsItFirst() throws {
        // `curate --from DIR` does what `import DIR` then `curate` do: one copied file is a duplicate, the page
        // saved as .jpg is rejected at import, and running it again imports nothing new.
        let folder = TemporaryFolder()
        let images = folder.file("images"), workspace = folder.file("data")
        try SampleImages.writeTwoClassFolder(images, perClass: 6)
        try FileManager.default.copyItem(atPath: images + "/light/0.png", toPath: images + "/light/copy.png")
        let first = try Imgcls.run(["curate", "--workspace", workspace, "--from", images, "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("14 files: 14 added, 0 already in the catalog; rejected: not_an_image 1"), "\(first.stdout)")
        let again = try Imgcls.run(["curate", "--workspace", workspace, "--from", images, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        let reasons = try #require(summary["byReason"] as? [String: Int])
        #expect(reasons == ["duplicate": 1], "\(reasons)")
        #expect(summary["kept"] as? Int == 12)
        let both = try Imgcls.run(["curate", "--workspace", workspace, "--from", images, "--reset"])
        #expect(both.status != 0 && both.stderr.contains("do not go together"))
    }

    @Test func aWorkspaceInsideTheImportedFolderIsNotImported() throws {
        // The workspace's own catalog, -wal and -shm files would otherwise come back as not_an_image items.
        let folder = TemporaryFolder()
        let images = folder.file("images")
        try SampleImages.writeTwoClassFolder(images, perClass: 3)
        let workspace = images + "/ws"
        for _ in 0..<2 {
            let run = try Imgcls.run(["curate", "--workspace", workspace, "--from", images, "--json"])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let sources = try Catalog(path: Workspace(root: workspace).catalogPath, create: false).summary()
        #expect(sources.byReason == ["not_an_image": 1], "\(sources.byReason)")  // the sample page only
        #expect(sources.total == 7, "\(sources.total) items")
    }

    @Test func aMissingCatalogIsAnErrorNotAUsageMistake() throws {
        let folder = TemporaryFolder()
        for stage in [["curate"], ["split"], ["curate", "--reset"]] {
            let run = try Imgcls.run(stage + ["--workspace", folder.file("empty")])
            #expect(run.status == 1, "\(stage): exit \(run.status)")
            #expect(run.stderr.contains("no catalog yet") && run.stderr.contains("imgcls import"), "\(stage): \(run.stderr)")
            #expect(!run.stderr.contains("Usage"), "\(stage) printed the usage text")
        }
    }

    @Test func inspectClassifiesTheSampleSetAsJSON() throws {
        let folder = TemporaryFolder()
        let samples = try SampleImages.writeSampleSet(to: folder.path)
        let result = try Imgcls.run(["inspect", "--json", folder.path])
        #expect(result.status == 1)  // some samples are broken on purpose
        #expect(!result.stderr.contains("libpng") && !result.stderr.contains("JPEG"), "library noise: \(result.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let files = try #require(document?["files"] as? [[String: Any]])
        #expect(files.count == samples.count)
        for sample in samples {
            let entry = try #require(files.first { ($0["path"] as? String)?.hasSuffix("/" + sample.name) == true })
            #expect(entry["reason"] as? String == sample.expected?.rawValue, "\(sample.name)")
        }
        let summary = try #require(document?["summary"] as? [String: Any])
        #expect(summary["total"] as? Int == samples.count)
        #expect(summary["rejected"] as? Int == samples.filter { $0.expected != nil }.count)
    }

    @Test func inspectExitsZeroForValidFilesAndNamesBadOnes() throws {
        let folder = TemporaryFolder()
        _ = try SampleImages.writeSampleSet(to: folder.path)
        let valid = try Imgcls.run(["inspect", folder.file("photo.jpg"), folder.file("rotated-exif6.jpg")])
        #expect(valid.status == 0)
        #expect(valid.stdout.contains("240x320"))  // orientation 6: shown portrait
        let broken = try Imgcls.run(["inspect", folder.file("half.jpg")])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("truncated") && broken.stdout.contains("half.jpg"))
        let missing = try Imgcls.run(["inspect", folder.file("nothing.jpg")])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("nothing.jpg: no such file or folder"))
    }

    @Test func statusDescribesAnEmptyAndAFilledWorkspace() throws {
        let folder = TemporaryFolder()
        let empty = try Imgcls.run(["status", "--workspace", folder.file("data")])
        #expect(empty.status == 0)
        #expect(empty.stdout.contains("no catalog yet"))

        let catalog = try Workspace(root: folder.file("data")).openCatalog()
        var ok = CatalogItem(source: "https://a.example/1.jpg", sourceKind: .url, label: try Label("cat"))
        ok.status = .ok
        ok.bytes = 2_000_000
        var failed = CatalogItem(source: "https://a.example/2.jpg", sourceKind: .url, label: try Label("dog"))
        failed.status = .failed
        failed.reason = .http(status: 404)
        try catalog.upsert(ok)
        try catalog.upsert(failed)

        let text = try Imgcls.run(["status", "--workspace", folder.file("data")])
        #expect(text.status == 0)
        #expect(text.stdout.contains("http_404") && text.stdout.contains("cat") && text.stdout.contains("2.0 MB"))
        let json = try Imgcls.run(["status", "--json", "--workspace", folder.file("data")])
        let summary = try JSONDecoder().decode(CatalogSummary.self, from: Data(json.stdout.utf8))
        #expect(summary.total == 2 && summary.byReason == ["http_404": 1])
    }
}
