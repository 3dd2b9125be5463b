import Foundation
import SampleImages
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `imgcls` process: predict on a trained model's folder, then serve it and stop it with SIGTERM while a
/// request is still arriving (its body half sent): the request is answered, then the process exits 0.
@Suite struct ServeCommandTests {
    @Test(.timeLimit(.minutes(3))) func predictThenServeAndStopGracefully() throws {
        let folder = TemporaryFolder()
        let workspace = folder.file("data")
        try SampleImages.writeTwoClassFolder(workspace + "/train", perClass: 10)
        let trained = try Imgcls.run(["train", "--workspace", workspace, "--name", "m", "--input-size", "16", "--width", "4",
                                      "--blocks", "1", "--batch-size", "4", "--epochs", "2", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")

        let predicted = try Imgcls.run(["predict", "--workspace", workspace, "--model", "m", "--jsonl", workspace + "/train"])
        let lines = predicted.stdout.split(separator: "\n")
        #expect(predicted.status == 1 && lines.count == 21, "\(predicted.stderr)")  // dark/broken.jpg is refused
        #expect(lines.filter { $0.contains("\"reason\":\"not_an_image\"") }.count == 1)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Imgcls.path)
        process.arguments = ["serve", "--workspace", workspace, "--model", "m", "--port", "0"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // "serving FILE on http://127.0.0.1:PORT (Ctrl-C to stop), inference on oneDNN 2.6.3 (avx512_core)"
        var printed = Data()
        while !String(decoding: printed, as: UTF8.self).contains("Ctrl-C") {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            printed += chunk
        }
        let line = String(decoding: printed, as: UTF8.self)
        let port = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Int($0) }, "\(line)")
        #expect(line.contains("inference on "), "the line names the kernels: \(line)")

        // Ready once the model has loaded.
        var ready = false
        for _ in 0..<200 where !ready {
            ready = (try? exchange(port: port, Array("GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)))?.hasPrefix("HTTP/1.1 200") == true
            if !ready { usleep(50_000) }
        }
        #expect(ready)

        let image = SampleImages.png(SampleImages.scene(width: 30, height: 30, seed: 4))
        let head = Array("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: \(image.count)\r\nConnection: close\r\n\r\n".utf8)
        let reply = try exchange(port: port, head + image.prefix(image.count / 2), then: Array(image.dropFirst(image.count / 2))) {
            usleep(500_000)  // the server has read the head: the request is in flight
            kill(process.processIdentifier, SIGTERM)
            usleep(500_000)
        }
        #expect(reply.hasPrefix("HTTP/1.1 200") && reply.contains("\"label\""), "\(reply)")
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    /// Sends `first`, runs `between`, sends `then`, and reads the reply until the server closes the connection.
    func exchange(port: Int, _ first: [UInt8], then: [UInt8] = [], between: () -> Void = {}) throws -> String {
        let connection = try LoopbackConnection(port: port)
        connection.send(first)
        between()
        if !then.isEmpty { connection.send(then) }
        return connection.readToEnd()
    }
}

/// A small demo end to end (seconds): every stage's summary, the planted faults all found, a model that loads and
/// predicts, and the report that evaluate wrote.
@Suite struct DemoCommandTests {
    @Test(.timeLimit(.minutes(6))) func aSmallDemoRunsEveryStage() throws {
        let folder = TemporaryFolder()
        let demo = folder.file("demo")
        let run = try Imgcls.run(["demo", "--folder", demo, "--per-class", "20", "--epochs", "1", "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        for stage in ["== imgcls fetch", "== imgcls curate", "== imgcls split", "== imgcls train", "== imgcls evaluate", "== imgcls predict"] {
            #expect(run.stdout.contains(stage), "\(stage)")
        }
        #expect(run.stdout.contains("every planted fault was found (36)"), "\(run.stdout.suffix(2000))")
        #expect(run.stdout.contains("held-out/circles-40.jpg: "))
        let model = demo + "/data/models/demo/model.safetensors"
        let predicted = try Imgcls.run(["predict", "--model", model, "--jsonl", demo + "/held-out"])
        #expect(predicted.status == 0 && predicted.stdout.split(separator: "\n").count == 4, "\(predicted.stderr)")
        for file in ["metrics.json", "confusion.svg", "curves.svg", "misclassified.csv"] {
            #expect(FileManager.default.fileExists(atPath: demo + "/data/models/demo/report/" + file), "\(file)")
        }
        try checkReportPage(demo + "/data/reports")

        // The demo's pipeline file, on this demo's workspace (its server has stopped: fetch finds every URL known),
        // with a smaller network: the tests' debug build trains the demo's at ~1.5 images/s.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let pipeline = folder.file("demo.yml")
        func write(epochs: Int) throws {
            let text = try String(contentsOfFile: root + "/manifests/demo.yml", encoding: .utf8)
                .replacing("../demo-data", with: demo).replacing("epochs: 40", with: "epochs: \(epochs)\n  input_size: 16\n  width: 4\n  blocks: 1")
            try text.write(toFile: pipeline, atomically: true, encoding: .utf8)
        }
        try write(epochs: 1)
        let first = try Imgcls.run(["run", pipeline, "--quiet"])
        #expect(first.status == 0 && first.stdout.contains("== imgcls evaluate"), "\(first.stdout)\n\(first.stderr)")
        let second = try Imgcls.run(["run", pipeline, "--quiet"])
        #expect(second.status == 0 && second.stdout.components(separatedBy: "  skip ").count == 6 && !second.stdout.contains("== imgcls"), "\(second.stdout)")
        try write(epochs: 2)
        let third = try Imgcls.run(["run", pipeline, "--quiet"])
        #expect(third.status == 0 && third.stdout.contains("skip fetch") && third.stdout.contains("skip split")
                && third.stdout.contains("== imgcls train") && third.stdout.contains("== imgcls evaluate") && !third.stdout.contains("== imgcls curate"),
                "\(third.stdout)")
    }

    /// The report page is there, shows every stage, and every file it links or shows (other than the pictures
    /// inlined in it) exists.
    private func checkReportPage(_ reports: String) throws {
        let page = try String(contentsOfFile: reports + "/index.html", encoding: .utf8)
        for heading in ["<h2>Fetch and import</h2>", "<h2>Curate</h2>", "<h2>Split</h2>", "<h2>Model demo</h2>", "No leakage",
                        "Largest duplicate clusters", "label_conflict", "http_404", "Confusion matrix"] {
            #expect(page.contains(heading), "\(heading)")
        }
        let references = try Regex(#"(?:href|src)="([^"]*)""#)
        var linked = 0
        for match in page.matches(of: references) {
            let target = String(match.output[1].substring ?? "")
            guard !target.hasPrefix("data:") else { continue }
            linked += 1
            #expect(!target.contains("://") && FileManager.default.fileExists(atPath: reports + "/" + target), "the page links \(target), which is not there")
        }
        #expect(linked >= 4, "the page links the stages' own files")
    }
}

/// `imgcls run`: a pipeline file run twice does the work once; a changed train option reruns train and what
/// follows; bad keys and values are refused before anything runs, naming the key and its line.
@Suite struct RunCommandTests {
    @Test(.timeLimit(.minutes(3))) func runsOnceThenSkipsAndRerunsWhatChanged() throws {
        let folder = TemporaryFolder()
        try SampleImages.writeTwoClassFolder(folder.file("images"), perClass: 12)
        let pipeline = folder.file("pipeline.yml")
        func write(epochs: Int) throws {
            let text = "# from a folder\nworkspace: data\ncurate:\n  from: images\nsplit:\n  ratio: 0.75,0.25\n  min_class: 3\n" +
                "train:\n  name: small\n  epochs: \(epochs)\n  input_size: 16\n  width: 4\n  blocks: 1\nevaluate:\n  model: small\n"
            try text.write(toFile: pipeline, atomically: true, encoding: .utf8)
        }
        try write(epochs: 1)
        let first = try Imgcls.run(["run", pipeline, "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("run  curate: never completed") && first.stdout.contains("== imgcls evaluate"), "\(first.stdout)")
        let second = try Imgcls.run(["run", pipeline, "--quiet"])
        #expect(second.status == 0 && second.stdout.components(separatedBy: "  skip ").count == 5 && !second.stdout.contains("== imgcls"), "\(second.stdout)")
        try write(epochs: 2)
        let third = try Imgcls.run(["run", pipeline, "--quiet"])
        #expect(third.stdout.contains("skip curate") && third.stdout.contains("skip split") && third.stdout.contains("run  train")
                && third.stdout.contains("run  evaluate") && !third.stdout.contains("== imgcls curate"), "\(third.stdout)")
        let only = try Imgcls.run(["run", pipeline, "--only", "split", "--dry-run"])
        #expect(only.stdout.contains("run  split: asked for") && only.stdout.contains("skip train"), "\(only.stdout)")
        // Split alone, for real: train and evaluate worked on the old split, so the next run redoes them.
        #expect(try Imgcls.run(["run", pipeline, "--only", "split", "--quiet"]).status == 0)
        let after = try Imgcls.run(["run", pipeline, "--dry-run"])
        #expect(after.stdout.contains("skip split") && after.stdout.contains("run  train") && after.stdout.contains("run  evaluate"), "\(after.stdout)")
        // A stage given as a list runs once per item, each recorded on its own.
        try "scrape:\n  - label: a\n    pages: [http://127.0.0.1:9/a]\n  - label: b\n    pages: [http://127.0.0.1:9/b]\n"
            .write(toFile: folder.file("two.yml"), atomically: true, encoding: .utf8)
        let two = try Imgcls.run(["run", folder.file("two.yml"), "--dry-run"])
        #expect(two.status == 0 && two.stdout.contains("run  scrape 1: never completed: imgcls scrape http://127.0.0.1:9/a --label a")
                && two.stdout.contains("run  scrape 2: never completed: imgcls scrape http://127.0.0.1:9/b --label b"), "\(two.stdout)\n\(two.stderr)")
        let missing = try Imgcls.run(["run", pipeline, "--from", "fetch"])
        #expect(missing.status != 0 && missing.stderr.contains("has no fetch stage"), "\(missing.stderr)")

        for (text, message) in [("train:\n  epochs: many\n", "line 2: train.epochs: The value 'many' is invalid"),
                                ("train:\n  bogus: 1\n", "line 2: train.bogus: Unknown option '--bogus'"),
                                ("trian:\n  epochs: 1\n", "line 1: unknown key trian"),
                                ("train:\n  epochs: {a: 1}\n", "line 2: train.epochs: expected a value"),
                                ("scrape:\n  - label: a\n  - 3\n", "line 3: scrape: expected a mapping of its options")] {
            try text.write(toFile: folder.file("bad.yml"), atomically: true, encoding: .utf8)
            let bad = try Imgcls.run(["run", folder.file("bad.yml")])
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(text): \(bad.stderr)")
        }
    }
}

/// Every example in manifests/ is a pipeline `imgcls run --dry-run` accepts.
@Test func everyExamplePipelineIsAccepted() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let examples = try FileManager.default.contentsOfDirectory(atPath: root + "/manifests").filter { $0.hasSuffix(".yml") }.sorted()
    #expect(examples == ["csv-manifest.yml", "demo.yml", "folder-import.yml", "moderation.yml", "nsfw_data_scraper.yml"])
    for example in examples {
        let plan = try Imgcls.run(["run", root + "/manifests/" + example, "--dry-run"])
        #expect(plan.status == 0 && plan.stdout.contains("  run  "), "\(example): \(plan.stderr)")
    }
}
