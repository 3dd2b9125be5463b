import Foundation
import SampleImages
import StageContract
import Testing

@Suite struct TrainCommandTests {
    @Test func backboneOptionsThatDoNotGoTogetherAreRefused() throws {
        let folder = TemporaryFolder()
        let workspace = folder.file("data")
        for (arguments, message) in [
            (["--mode", "head"], "needs --backbone"),
            (["--backbone", "efficientnet-lite0", "--mode", "scratch"], "--mode head or finetune"),
            (["--backbone", "efficientnet-lite0", "--from", "m"], "--from goes with --mode finetune"),
            (["--backbone", "efficientnet-lite0", "--resume"], "needs no --resume"),
            (["--backbone", "efficientnet-lite0", "--augment-views", "99"], "--augment-views"),
        ] {
            let run = try Imgcls.run(["train", "--workspace", workspace] + arguments)
            #expect(run.status == 64 && run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
        // A backbone that is not installed says how to install it (a fresh cache folder has none).
        let missing = try Imgcls.run(["train", "--workspace", workspace, "--backbone", "efficientnet-lite1"],
                                     environment: ["XDG_CACHE_HOME": folder.file("cache")])
        #expect(missing.status == 1 && missing.stderr.contains("imgcls backbone install efficientnet-lite1"), "\(missing.stderr)")
    }

    /// Two classes of 96x80 pictures, 6 each: plain scenes and busy (noisy) ones.
    static func writePlainAndBusyPictures(_ folder: String) throws {
        for (label, seed) in [("plain", UInt64(1)), ("busy", 2)] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(label)", withIntermediateDirectories: true)
            for i in 0..<6 {
                let picture = SampleImages.scene(width: 96, height: 80, seed: seed * 100 + UInt64(i), noise: label == "busy" ? 60 : 2)
                try Data(SampleImages.png(picture)).write(to: URL(fileURLWithPath: "\(folder)/\(label)/\(i).png"))
            }
        }
    }

    /// Where `make weights` puts EfficientNet-Lite0 on this machine, when it has.
    static let installedLite0: String? = {
        let env = ProcessInfo.processInfo.environment
        let cache = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache"
        let file = cache + "/imgcls/backbones/efficientnet-lite0.safetensors"
        return FileManager.default.fileExists(atPath: file) ? file : nil
    }()

    /// Not told how to start, `train` goes on a backbone for pictures of 64 px and more and from scratch below,
    /// and says which and why.
    @Test func withoutBeingToldTrainStartsFromScratchOnSmallPictures() throws {
        let folder = TemporaryFolder()
        let workspace = folder.file("data")
        try SampleImages.writeTwoClassFolder(workspace + "/train", perClass: 6)
        let run = try Imgcls.run(["train", "--workspace", workspace, "--epochs", "1", "--json"])
        #expect(run.status == 0 && run.stderr.contains("training from scratch: the pictures are small (median shorter side 16 px, under 64)"),
                "\(run.stderr)")
        let refused = try Imgcls.run(["train", "--workspace", workspace, "--from-scratch", "--backbone", "efficientnet-lite0"])
        #expect(refused.status == 64 && refused.stderr.contains("--from-scratch and --backbone ask for different starts"))
    }

    @Test(.enabled(if: installedLite0 != nil, "EfficientNet-Lite0 is not installed: run `make weights`"))
    func withoutBeingToldTrainStartsOnTheInstalledBackboneForLargerPictures() throws {
        let folder = TemporaryFolder()
        let workspace = folder.file("data")
        try Self.writePlainAndBusyPictures(workspace + "/train")
        // A cache holding Lite0 only, so the choice is known.
        let cache = folder.file("cache")
        try FileManager.default.createDirectory(atPath: cache + "/imgcls/backbones", withIntermediateDirectories: true)
        let target = cache + "/imgcls/backbones/efficientnet-lite0.safetensors"
        if (try? FileManager.default.linkItem(atPath: Self.installedLite0!, toPath: target)) == nil {
            try FileManager.default.copyItem(atPath: Self.installedLite0!, toPath: target)
        }
        let run = try Imgcls.run(["train", "--workspace", workspace, "--epochs", "2", "--json"], environment: ["XDG_CACHE_HOME": cache])
        #expect(run.status == 0 && run.stderr.contains("training on efficientnet-lite0's features: the pictures are large enough for a pretrained backbone (median shorter side 80 px)"),
                "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: workspace + "/features/efficientnet-lite0"), "no features were cached")
    }

    /// BackboneTests' reduced ONNX networks (Fixtures/onnx).
    static let onnxFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BackboneTests/Fixtures/onnx").path + "/"

    /// An ONNX network (the reduced MobileNetV2 of BackboneTests' fixtures, 64 px) imported as a backbone: listed,
    /// its own classifier answers, a head trains on its features, and the trained model predicts on its own.
    @Test func anImportedONNXNetworkTrainsAHeadAndPredicts() throws {
        let folder = TemporaryFolder()
        let environment = ["XDG_CACHE_HOME": folder.file("cache")]
        let onnx = Self.onnxFixtures + "mobilenet_v2.onnx"
        let imported = try Imgcls.run(["backbone", "import", onnx, "--name", "tiny-mobilenet"], environment: environment)
        #expect(imported.status == 0 && imported.stdout.contains("tiny-mobilenet: installed from"), "\(imported.stderr)")
        let again = try Imgcls.run(["backbone", "import", onnx, "--name", "tiny-mobilenet"], environment: environment)
        #expect(again.status == 1 && again.stderr.contains("--replace"), "\(again.stderr)")
        let list = try Imgcls.run(["backbone", "list"], environment: environment)
        #expect(list.stdout.contains("tiny-mobilenet") && list.stdout.contains("imported (ONNX)"), "\(list.stdout)")

        let workspace = folder.file("data")
        try Self.writePlainAndBusyPictures(workspace + "/train")
        let picture = "\(workspace)/train/busy/0.png"
        let classified = try Imgcls.run(["classify", "--backbone", "tiny-mobilenet", "--top", "3", picture], environment: environment)
        #expect(classified.status == 0 && classified.stdout.contains("class"), "\(classified.stdout)\n\(classified.stderr)")
        // The engine's own loops (IMGCLS_KERNELS=reference) give the same answer as oneDNN's, and the listing says which run.
        var reference = environment
        reference["IMGCLS_KERNELS"] = "reference"
        let onReference = try Imgcls.run(["classify", "--backbone", "tiny-mobilenet", "--top", "3", picture], environment: reference)
        #expect(onReference.stdout == classified.stdout, "\(onReference.stdout)\n\(classified.stdout)")
        let verbose = try Imgcls.run(["backbone", "list", "--verbose"], environment: environment)
        #expect(verbose.stdout.contains("inference kernels: oneDNN"), "\(verbose.stdout)")
        let verboseReference = try Imgcls.run(["backbone", "list", "--verbose"], environment: reference)
        #expect(verboseReference.stdout.contains("inference kernels: the engine's own loops (IMGCLS_KERNELS=reference)"), "\(verboseReference.stdout)")
        let trained = try Imgcls.run(["train", "--workspace", workspace, "--name", "m", "--backbone", "tiny-mobilenet", "--epochs", "3", "--json"],
                                     environment: environment)
        #expect(trained.status == 0, "\(trained.stderr)")
        // Fine-tuning its last blocks from the head model; asked for more blocks than can train, it says how many can.
        let finetune = try Imgcls.run(["train", "--workspace", workspace, "--name", "f", "--backbone", "tiny-mobilenet", "--mode", "finetune",
                                       "--from", "m", "--unfreeze", "2", "--epochs", "2", "--json"], environment: environment)
        #expect(finetune.status == 0, "\(finetune.stderr)")
        let tuned = try Imgcls.run(["evaluate", "--workspace", workspace, "--model", "f", "--split", "train", "--json"])
        #expect(tuned.status == 0, "\(tuned.stderr)")
        let tooDeep = try Imgcls.run(["train", "--workspace", workspace, "--name", "g", "--backbone", "tiny-mobilenet", "--mode", "finetune",
                                      "--unfreeze", "500"], environment: environment)
        #expect(tooDeep.status == 1 && tooDeep.stderr.contains("trains them all"), "\(tooDeep.stderr)")
        // The model file holds the imported network: prediction needs no backbone installed.
        let predicted = try Imgcls.run(["predict", "--model", Workspace(root: workspace).modelFolder("m") + "/model.safetensors", picture])
        #expect(predicted.status == 0 && (predicted.stdout.contains("busy") || predicted.stdout.contains("plain")), "\(predicted.stdout)\n\(predicted.stderr)")
    }

    /// A network without a classifier (a reduced DINOv2) imported with `--features`: a backbone that gives features
    /// to train on and refuses to answer by itself.
    @Test func aNetworkImportedForItsFeaturesTrainsAHeadButAnswersNothingItself() throws {
        let folder = TemporaryFolder()
        let environment = ["XDG_CACHE_HOME": folder.file("cache")]
        let onnx = Self.onnxFixtures + "dinov2_small.onnx"
        let refused = try Imgcls.run(["backbone", "import", onnx, "--name", "tiny-dino"], environment: environment)
        #expect(refused.status == 1 && refused.stderr.contains("give --features VALUE"), "\(refused.stderr)")
        let imported = try Imgcls.run(["backbone", "import", onnx, "--name", "tiny-dino", "--features", "output"], environment: environment)
        #expect(imported.status == 0, "\(imported.stderr)")
        let workspace = folder.file("data")
        try Self.writePlainAndBusyPictures(workspace + "/train")
        let picture = "\(workspace)/train/busy/0.png"
        let classified = try Imgcls.run(["classify", "--backbone", "tiny-dino", picture], environment: environment)
        #expect(classified.status == 1 && classified.stderr.contains("keeps no classifier of its own"), "\(classified.stderr)")
        let predicted = try Imgcls.run(["predict", "--model", folder.file("cache/imgcls/backbones/tiny-dino.safetensors"), picture])
        #expect(predicted.status != 0 && predicted.stderr.contains("gives features, not answers"), "\(predicted.stderr)")
        let trained = try Imgcls.run(["train", "--workspace", workspace, "--name", "m", "--backbone", "tiny-dino", "--epochs", "2"],
                                     environment: environment)
        #expect(trained.status == 0, "\(trained.stderr)")
        let answered = try Imgcls.run(["predict", "--workspace", workspace, "--model", "m", picture])
        #expect(answered.status == 0 && (answered.stdout.contains("busy") || answered.stdout.contains("plain")), "\(answered.stderr)")
    }

    /// Two imported networks side by side (`--backbone a,b`), each with its own preprocessing: the head trains on
    /// their features concatenated; the model file holds both networks, and evaluating it from the image files
    /// gives the validation accuracy training measured on the cached features (the same features both ways).
    @Test func aHeadTrainsOnTwoBackbonesSideBySide() throws {
        let folder = TemporaryFolder()
        let environment = ["XDG_CACHE_HOME": folder.file("cache")]
        for (file, name, options) in [("mobilenet_v2", "tiny-mobilenet", [String]()),
                                      ("resnet18", "tiny-resnet", ["--resize", "72", "--bgr", "--range", "255", "--mean", "104,117,123", "--std", "60,60,60"])] {
            let imported = try Imgcls.run(["backbone", "import", Self.onnxFixtures + file + ".onnx", "--name", name] + options, environment: environment)
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        let workspace = folder.file("data")
        try Self.writePlainAndBusyPictures(workspace + "/train")
        try Self.writePlainAndBusyPictures(workspace + "/validation")
        let both = "tiny-mobilenet,tiny-resnet"
        let trained = try Imgcls.run(["train", "--workspace", workspace, "--name", "m", "--backbone", both, "--epochs", "4", "--json"],
                                     environment: environment)
        #expect(trained.status == 0, "\(trained.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as? [String: Any])
        let measured = try #require(summary["bestValidationAccuracy"] as? Double)
        for name in ["tiny-mobilenet", "tiny-resnet"] {
            #expect(FileManager.default.fileExists(atPath: workspace + "/features/" + name), "no features cached for \(name)")
        }
        // Without the cache or the installed backbones: the model file alone.
        try FileManager.default.removeItem(atPath: workspace + "/features")
        let evaluated = try Imgcls.run(["evaluate", "--workspace", workspace, "--model", "m", "--json"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let metrics = try #require(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        #expect(abs(try #require(metrics["accuracy"] as? Double) - measured) < 1e-6, "evaluate: \(metrics["accuracy"] ?? "none"), training: \(measured)")

        let one = try Imgcls.run(["train", "--workspace", workspace, "--name", "one", "--backbone", "tiny-mobilenet", "--epochs", "1"],
                                 environment: environment)
        #expect(one.status == 0, "\(one.stderr)")
        for (arguments, message) in [
            (["--backbone", "tiny-resnet", "--mode", "finetune", "--from", "one"], "not one on tiny-resnet's network"),
            (["--backbone", both, "--mode", "finetune"], "--mode head"),
            (["--backbone", "tiny-mobilenet,tiny-mobilenet"], "names a backbone twice"),
            (["--backbone", "tiny-mobilenet,"], "an empty name"),
        ] {
            let refused = try Imgcls.run(["train", "--workspace", workspace, "--name", "r"] + arguments, environment: environment)
            #expect(refused.status != 0 && refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
    }

    @Test func ctrlCStopsTrainingAfterTheEpochInProgress() throws {
        let folder = TemporaryFolder()
        let workspace = folder.file("data")
        try SampleImages.writeTwoClassFolder(workspace + "/train", perClass: 20)
        let checkpoint = Workspace(root: workspace).modelFolder("m") + "/" + Workspace.checkpointFileName
        let process = try Imgcls.start(["train", "--workspace", workspace, "--name", "m", "--input-size", "16", "--width", "4",
                                        "--blocks", "1", "--batch-size", "4", "--epochs", "500", "--quiet"])
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "Ctrl-C did not end the run cleanly")
        // The run stopped long before its 500 epochs, with the model and a checkpoint to resume from.
        let resumed = try Imgcls.run(["train", "--workspace", workspace, "--name", "m", "--resume", "--epochs", "1", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any])
        let done = try #require(summary["epochs"] as? [[String: Any]]).count
        #expect(done >= 1 && done < 500, "\(done) epochs")
    }

    @Test func aKilledTrainingRunResumesFromItsLastCheckpoint() throws {
        let folder = TemporaryFolder()
        let workspace = folder.file("data")
        try SampleImages.writeTwoClassFolder(workspace + "/train", perClass: 40)
        try SampleImages.writeTwoClassFolder(workspace + "/validation", perClass: 10, seed: 2)
        let arguments = ["train", "--workspace", workspace, "--name", "m", "--input-size", "16", "--width", "4",
                         "--blocks", "1", "--batch-size", "4", "--epochs", "40", "--lr", "0.01", "--quiet"]
        let checkpoint = Workspace(root: workspace).modelFolder("m") + "/" + Workspace.checkpointFileName
        let process = try Imgcls.start(arguments)
        // Kill it once it has written a checkpoint and is in the middle of a later epoch.
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { usleep(20_000) }
        usleep(150_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run ended before it could be killed")

        let resumed = try Imgcls.run(["train", "--workspace", workspace, "--name", "m", "--resume", "--epochs", "42", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any])
        let epochs = try #require(summary["epochs"] as? [[String: Any]])
        #expect(epochs.map { $0["epoch"] as? Int } == (1...42).map { $0 })
        #expect(resumed.stderr.contains("resuming after epoch"))
        #expect((summary["bestValidationAccuracy"] as? Double ?? 0) >= 0.9)

        // Evaluate: the metrics document with accuracy at its top level, and the report folder.
        let evaluated = try Imgcls.run(["evaluate", "--workspace", workspace, "--model", "m", "--fallback", "dark", "--json"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let metrics = try #require(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        #expect((metrics["accuracy"] as? Double ?? 0) >= 0.9)
        #expect(metrics["images"] as? Int == 20)
        #expect((metrics["confusionMatrix"] as? [[Int]])?.joined().reduce(0, +) == 20)
        #expect((metrics["skippedFiles"] as? [String: String])?.count == 1)
        for file in ["metrics.json", "confusion.svg", "curves.svg", "misclassified.csv"] {
            #expect(FileManager.default.fileExists(atPath: Workspace.reportFolder(forModelFile: Workspace(root: workspace).modelFolder("m") + "/" + Workspace.modelFileName) + "/" + file), "\(file)")
        }
        let text = try Imgcls.run(["evaluate", "--workspace", workspace, "--model", "m"])
        #expect(text.stdout.contains("confusion matrix"))
        let unknown = try Imgcls.run(["evaluate", "--workspace", workspace, "--model", "nothing"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no model named nothing") && !unknown.stderr.contains("Usage"))
        // A reference with a slash is a path: it is read as a model file, and the message says what was tried.
        let notAModel = try Imgcls.run(["evaluate", "--workspace", workspace, "--model", "/etc/passwd"])
        #expect(notAModel.status == 1 && notAModel.stderr.contains("/etc/passwd") && !notAModel.stderr.contains("models//"))
        let noFile = try Imgcls.run(["evaluate", "--workspace", workspace, "--model", "elsewhere/m"])
        #expect(noFile.status == 1 && noFile.stderr.contains("elsewhere/m: no model file there"))

        let missing = try Imgcls.run(["train", "--workspace", workspace, "--name", "other", "--resume"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no checkpoint to resume from"))
    }
}
