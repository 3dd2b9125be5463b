import Files
import Foundation
import Imaging
import SampleImages
import StageContract
import Testing
@testable import Engine
@testable import Train

@Suite struct TrainingTests {
    @Test func aTinyNetworkOverfitsATinySet() {
        var spec = ModelSpec(classes: 4)
        (spec.inputSize, spec.width, spec.blocksPerStage, spec.dropout) = (8, 4, 1, 0)
        let model = Model(spec: spec, labels: ["a", "b", "c", "d"], seed: 3)
        var random = SplitMix64(seed: 9)
        let input = Tensor(shape: [8, 8, 8, 3], data: (0..<(8 * 8 * 8 * 3)).map { _ in Float(random.nextGaussian()) })
        let labels = [0, 1, 2, 3, 3, 2, 1, 0]
        let optimizer = Optimizer(OptimizerSettings())
        let loss = SoftmaxCrossEntropy()
        var last: Float = 10
        for _ in 0..<150 {
            let result = loss.evaluate(logits: model.logits(input, training: true), labels: labels)
            model.backward(result.gradient)
            optimizer.update(model.parameters, rate: 0.01)
            last = result.loss
        }
        #expect(last < 0.05)
        let probabilities = softmax(model.logits(input, training: false))
        #expect(Evaluator.correctCount(probabilities, labels) == 8)
    }

    @Test(arguments: OptimizerKind.allCases)
    func everyOptimizerMinimisesAQuadratic(kind: OptimizerKind) {
        var settings = OptimizerSettings()
        settings.kind = kind
        settings.weightDecay = 0
        let optimizer = Optimizer(settings)
        let p = Parameter("p", shape: [3], value: [3, -2, 1])
        for _ in 0..<500 {
            p.gradient = p.value.map { 2 * $0 }  // d/dx of x^2
            optimizer.update([p], rate: kind == .sgd ? 0.02 : 0.05)
        }
        #expect(p.value.allSatisfy { abs($0) < 0.05 }, "\(kind): \(p.value)")
        let frozen = Parameter("f", shape: [1], value: [1], trainable: false)
        frozen.gradient = [5]
        optimizer.update([frozen], rate: 0.1)
        #expect(frozen.value == [1])
    }

    @Test func adamStateRoundTripsThroughTheCheckpointForm() {
        let a = Optimizer(OptimizerSettings()), b = Optimizer(OptimizerSettings())
        let pa = Parameter("w", shape: [2], value: [1, 2], decays: true), pb = Parameter("w", shape: [2], value: [1, 2], decays: true)
        for step in 0..<5 {
            pa.gradient = [0.5, -Float(step)]
            a.update([pa], rate: 0.1)
        }
        b.restore(a.savedState)
        pb.value = pa.value
        pa.gradient = [1, 1]
        pb.gradient = [1, 1]
        a.update([pa], rate: 0.1)
        b.update([pb], rate: 0.1)
        #expect(pa.value == pb.value)
    }

    @Test func learningRateSchedules() {
        var cosine = LearningRateSchedule(base: 1, shape: .cosine, warmupEpochs: 1)
        #expect(cosine.rate(atEpoch: 0.5, of: 11) < 0.6)
        #expect(abs(cosine.rate(atEpoch: 1, of: 11) - 1) < 1e-6)
        #expect(abs(cosine.rate(atEpoch: 6, of: 11) - 0.5) < 1e-6)
        #expect(cosine.rate(atEpoch: 11, of: 11) < 1e-6)
        cosine.shape = .step
        cosine.warmupEpochs = 0
        cosine.stepEpochs = 3
        #expect(cosine.rate(atEpoch: 2.9, of: 10) == 1)
        #expect(abs(cosine.rate(atEpoch: 3, of: 10) - 0.1) < 1e-7)
        #expect(LearningRateSchedule(base: 0.2, shape: .constant).rate(atEpoch: 7, of: 10) == 0.2)
    }

    @Test func modelFilesRoundTripAndAreSafetensors() throws {
        let folder = TemporaryFolder()
        var spec = ModelSpec(classes: 3)
        (spec.inputSize, spec.width, spec.blocksPerStage) = (16, 4, 1)
        let model = Model(spec: spec, labels: ["cat", "dog", "fox"], seed: 5)
        let path = folder.file("model.safetensors")
        try ModelFile.save(model, to: path, extra: ["metrics": "{\"accuracy\":0.5}"])
        let (loaded, file) = try ModelFile.load(path)
        #expect(loaded.labels == ["cat", "dog", "fox"])
        #expect(loaded.spec == spec)
        #expect(file.metadata["metrics"] == "{\"accuracy\":0.5}")
        var random = SplitMix64(seed: 1)
        let input = Tensor(shape: [2, 16, 16, 3], data: (0..<(2 * 16 * 16 * 3)).map { _ in Float(random.nextGaussian()) })
        // Equal up to rounding: another test may change the thread count, and with it how products are split.
        let (a, b) = (loaded.logits(input, training: false), model.logits(input, training: false))
        #expect(zip(a.data, b.data).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        #expect(zip(loaded.parameters, model.parameters).allSatisfy { $0.value == $1.value && $0.name == $1.name })

        // The layout the safetensors package expects: u64 header size, JSON header, contiguous data.
        let bytes = try FileIO.read(path)
        let headerSize = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        #expect((8 + headerSize) % 8 == 0)
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerSize)])) as? [String: Any])
        let ranges = header.filter { $0.key != "__metadata__" }.compactMap { ($0.value as? [String: Any])?["data_offsets"] as? [Int] }
            .sorted { $0[0] < $1[0] }
        #expect(ranges.first?[0] == 0)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0[1] == $1[0] })
        #expect(8 + headerSize + (ranges.last?[1] ?? 0) == bytes.count)
        #expect((header["stem.conv.weight"] as? [String: Any])?["dtype"] as? String == "F32")
    }

    @Test func halfPrecisionTensorsAreRead() throws {
        // F16 [1, -2] and BF16 [1, 0.5], written by hand as the safetensors package lays them out.
        let header = #"{"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#
        var bytes = [UInt8]()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += Array(header.utf8) + [0x00, 0x3C, 0x00, 0xC0] + [0x80, 0x3F, 0x00, 0x3F]
        let file = try SafeTensors.decode(bytes, path: "half.safetensors")
        #expect(file.tensors["h"]?.data == [1, -2])
        #expect(file.tensors["b"]?.data == [1, 0.5])
    }

    @Test func brokenModelFilesSayWhy() throws {
        let folder = TemporaryFolder()
        var spec = ModelSpec(classes: 2)
        (spec.inputSize, spec.width, spec.blocksPerStage) = (16, 4, 1)
        let path = folder.file("model.safetensors")
        try ModelFile.save(Model(spec: spec, labels: ["a", "b"], seed: 1), to: path)
        let bytes = try FileIO.read(path)
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "too short"),
            ("truncated", Array(bytes.prefix(bytes.count / 2)), "or the file size"),
            ("header", Array(bytes.prefix(200)), "runs past the end"),
            ("text", Array("hello, this is not a model at all".utf8), "runs past the end"),
            ("plain", try SafeTensors.encode(SafeTensors.File(tensors: ["x": Tensor(zeros: [2])])), "not an imgcls model"),
        ]
        for (name, content, reason) in cases {
            let broken = folder.file(name + ".safetensors")
            try FileIO.writeAtomically(content, to: broken)
            do {
                _ = try ModelFile.load(broken)
                Issue.record("\(name) loaded")
            } catch {
                #expect("\(error)".hasPrefix(broken + ": "), "\(error)")
                #expect("\(error)".contains(reason), "\(name): \(error)")
            }
        }
    }

    @Test func augmentationIsSeededAndFlipsMirror() {
        let image = SampleImages.picture(width: 6, height: 6, seed: 2)
        var flip = Augmentation()
        flip.horizontalFlip = true
        var outputs: [[Float]] = []
        for seed in [1, 1] + Array(2...20) as [UInt64] {
            var out = [Float](repeating: 0, count: 6 * 6 * 3)
            var random = SplitMix64(seed: seed)
            out.withUnsafeMutableBufferPointer { flip.apply(image, normalization: Normalization(), random: &random, into: $0.baseAddress!) }
            outputs.append(out)
        }
        #expect(outputs[0] == outputs[1])
        let identity: [Float] = image.pixels.map { Float($0) / 255 * 2 - 1 }
        var mirrored: [Float] = []
        for y in 0..<6 {
            for x in (0..<6).reversed() {
                for ch in 0..<3 { mirrored.append(identity[(y * 6 + x) * 3 + ch]) }
            }
        }
        let close = { (a: [Float], b: [Float]) in zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 } }
        #expect(outputs.allSatisfy { close($0, identity) || close($0, mirrored) })
        #expect(outputs.contains { close($0, mirrored) } && outputs.contains { close($0, identity) })
    }

    /// The quarter-turned view (semantic duplicates search it) is the picture turned 90°, pixel for pixel, checked
    /// against the simple turn of `Transformation.rotate90`; and the settings without it encode as before, so
    /// cached augmented features keep their key.
    @Test func quarterTurnedViewIsThePictureTurned() throws {
        let image = SampleImages.picture(width: 7, height: 7, seed: 3)
        var random = SplitMix64(seed: 1)
        var turned = [Float](repeating: 0, count: 7 * 7 * 3)
        turned.withUnsafeMutableBufferPointer { Augmentation.quarterTurned.apply(image, normalization: Normalization(), random: &random, into: $0.baseAddress!) }
        let reference = Transformation.rotate90.apply(to: image), back = Transformation.rotate90.apply(to: Transformation.rotate90.apply(to: reference))
        let plain = { (picture: RGBImage) in picture.pixels.map { Float($0) / 255 * 2 - 1 } }
        let close = { (a: [Float], b: [Float]) in zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 } }
        // Either way round serves (a copy turned either way meets it); this one turns the other way.
        #expect(close(turned, plain(back)) || close(turned, plain(reference)))
        #expect(!close(turned, plain(image)))
        #expect(!(try ModelFile.json(Augmentation.standard)).contains("quarterTurn"))
    }

    @Test func trainsOnFoldersSkipsBrokenFilesAndResumes() throws {
        let folder = TemporaryFolder()
        try SampleImages.writeTwoClassFolder(folder.file("data/train"), perClass: 24)
        try SampleImages.writeTwoClassFolder(folder.file("data/validation"), perClass: 8, seed: 2)
        var request = TrainingRequest(name: "two")
        (request.spec.inputSize, request.spec.width, request.spec.blocksPerStage) = (16, 4, 1)
        request.settings.epochs = 2
        request.settings.batchSize = 8
        request.settings.augmentation.horizontalFlip = true
        request.learningRate = 0.01
        request.showProgress = false
        let first = try TrainingRun(workspace: Workspace(root: folder.file("data")), request: request).run()
        #expect(first.epochs.count == 2)
        #expect(first.skippedFiles.count == 2)  // train/dark/broken.jpg and validation/dark/broken.jpg
        #expect(first.skippedFiles.keys.allSatisfy { $0.hasSuffix("/dark/broken.jpg") })

        // Resuming with more epochs continues after epoch 2 with the saved settings.
        request.resume = true
        request.resumedEpochs = 6
        let resumed = try TrainingRun(workspace: Workspace(root: folder.file("data")), request: request).run()
        #expect(resumed.epochs.map(\.epoch) == [1, 2, 3, 4, 5, 6])
        #expect(Array(resumed.epochs.prefix(2)) == first.epochs)
        #expect((resumed.bestValidationAccuracy ?? 0) >= 0.9)
        request.resumedEpochs = 3  // fewer than done: nothing to do, and no crash
        #expect(try TrainingRun(workspace: Workspace(root: folder.file("data")), request: request).run().epochs.count == 6)

        // Retraining on a changed label set gets a new head.
        try SampleImages.writeTwoClassFolder(folder.file("more/train"), perClass: 6, seed: 3)
        try FileManager.default.moveItem(atPath: folder.file("more/train/light"), toPath: folder.file("more/train/bright"))
        var retrain = TrainingRequest(name: "retrained")
        retrain.trainFolder = folder.file("more/train")
        retrain.validationFolder = folder.file("more/train")
        retrain.from = "two"
        retrain.settings.epochs = 1
        retrain.settings.freeze = true
        retrain.showProgress = false
        let retrained = try TrainingRun(workspace: Workspace(root: folder.file("data")), request: retrain).run()
        #expect(retrained.labels == ["bright", "dark"])
        let (model, _) = try ModelFile.load(retrained.model)
        let (original, _) = try ModelFile.load(first.model)
        #expect(model.parameters.first { $0.name == "stem.conv.weight" }?.value == original.parameters.first { $0.name == "stem.conv.weight" }?.value)
    }
}

@Suite struct ReproducibilityTests {
    @Test func theSameSeedGivesTheSameRun() throws {
        let folder = TemporaryFolder()
        try SampleImages.writeTwoClassFolder(folder.file("data/train"), perClass: 12)
        var histories: [[Float]] = []
        for name in ["a", "b"] {
            var request = TrainingRequest(name: name)
            (request.spec.inputSize, request.spec.width, request.spec.blocksPerStage) = (16, 4, 1)
            request.settings.epochs = 2
            request.settings.batchSize = 4
            request.settings.augmentation = .standard
            request.showProgress = false
            let summary = try TrainingRun(workspace: Workspace(root: folder.file("data")), request: request).run()
            histories.append(summary.epochs.flatMap { [$0.trainLoss, $0.trainAccuracy] })
        }
        #expect(histories[0] == histories[1])
        let workspace = Workspace(root: folder.file("data"))
        let a = try ModelFile.load(try workspace.modelFile("a")).model
        let b = try ModelFile.load(try workspace.modelFile("b")).model
        #expect(zip(a.parameters, b.parameters).allSatisfy { $0.value == $1.value })
    }
}

/// The confusion matrix's column names are turned 45°: the picture is wide enough for the longest in the last
/// column (it once cut "transportation" to "transportatio").
@Test func confusionMatrixLeavesRoomForTheLastColumnsName() throws {
    let labels = ["cat", "dog", "transportation"]
    let svg = ReportCharts.confusionMatrix([[3, 0, 0], [0, 2, 1], [0, 0, 4]], labels: labels)
    let width = try #require(svg.firstMatch(of: /width="(\d+)"/).flatMap { Int($0.1) })
    // The last name starts at its column's centre and runs about 5 px a character to the right.
    let lastX = try #require(svg.matches(of: /<text x="(\d+)" y="\d+" font-size="11" font-family="sans-serif" transform="rotate/).last.flatMap { Int($0.1) })
    #expect(width >= lastX + 5 * "transportation".count, "width \(width), last name at \(lastX)")
}
