import Files
import Foundation
import SampleImages
import StageContract
import Testing
@testable import Engine
@testable import Train

/// Training on a backbone, with a randomly initialised EfficientNet-Lite0 at 32 px standing in for the
/// installed one (the mechanics are the same; BackboneTests covers the real weights): head mode caches features
/// and reuses them, the model file is self-contained, fine-tuning trains only the last blocks.
@Suite struct BackboneTrainingTests {
    static func backbone(in folder: TemporaryFolder) throws -> BackboneReference {
        var spec = ModelSpec(classes: 4)
        spec.architecture = .efficientnetLite0
        spec.inputSize = 32
        let model = Model(spec: spec, labels: ["a", "b", "c", "d"], normalization: .efficientNetLite, seed: 3)
        let path = folder.file("backbone.safetensors")
        try ModelFile.save(model, to: path)
        return BackboneReference(name: "test-lite0", modelFile: path)
    }

    static func featureFiles(_ workspace: Workspace) -> Int {
        Array(DirectoryWalker(root: workspace.featuresFolder(backbone: "test-lite0", inputSize: 32))).count
    }

    @Test func headModeCachesFeaturesAndSavesAWholeModel() throws {
        let folder = TemporaryFolder()
        let workspace = Workspace(root: folder.file("data"))
        try SampleImages.writeTwoClassFolder(workspace.folder(of: .train), perClass: 12)
        try SampleImages.writeTwoClassFolder(workspace.folder(of: .validation), perClass: 4, seed: 2)
        var request = TrainingRequest(name: "head")
        request.backbones = [try Self.backbone(in: folder)]
        request.mode = .head
        request.spec.hiddenUnits = 16
        request.augmentViews = 2
        request.settings.epochs = 15
        request.showProgress = false
        let first = try TrainingRun(workspace: workspace, request: request).run()
        // 24 training images in 3 views, 8 validation images in 1 (the page saved as .jpg is skipped in both).
        #expect(Self.featureFiles(workspace) == 24 * 3 + 8)
        #expect(first.skippedFiles.count == 2)
        #expect((first.bestValidationAccuracy ?? 0) >= 0.75, "\(first.epochs.map(\.validationAccuracy))")
        // Again: the same features, from the cache, and the same result.
        let second = try TrainingRun(workspace: workspace, request: request).run()
        #expect(Self.featureFiles(workspace) == 24 * 3 + 8)
        #expect(second.epochs.map(\.validationAccuracy) == first.epochs.map(\.validationAccuracy))
        // The file holds the backbone too: evaluating it on images gives the head's validation accuracy.
        var evaluation = EvaluationRequest(model: "head")
        evaluation.showProgress = false
        let metrics = try EvaluationRun(workspace: workspace, request: evaluation).run().metrics
        #expect(abs(metrics.accuracy - (first.bestValidationAccuracy ?? -1)) < 1e-6)
        let (model, _) = try ModelFile.load(try workspace.modelFile("head"))
        #expect(model.spec.architecture == .efficientnetLite0 && model.spec.hiddenUnits == 16 && model.labels == ["dark", "light"])
    }

    /// The frozen layers run folded while training: the same values as those layers unfolded in training mode
    /// (compared where they end: the trainable blocks after them normalise by a batch of two, which would
    /// magnify rounding).
    @Test func frozenLayersRunFoldedWithTheSameResult() throws {
        var spec = ModelSpec(classes: 3)
        spec.architecture = .efficientnetLite0
        spec.inputSize = 32
        let model = Model(spec: spec, labels: ["a", "b", "c"], normalization: .efficientNetLite, seed: 5)
        var random = SplitMix64(seed: 8)
        for p in model.parameters where p.name.hasSuffix("running_var") { p.value = p.value.map { _ in Float(0.5 + random.nextUnit()) } }
        model.unfreezeLast(2, rateScale: 0.1)
        let input = Tensor(shape: [2, 32, 32, 3], data: (0..<(2 * 32 * 32 * 3)).map { _ in Float(random.nextGaussian()) })
        let lowest = model.frozenLayerCount
        #expect(lowest > 0 && (model.network.layers[lowest] is Residual || model.network.layers[lowest] is Sequential))
        let fast = model.frozenLayersOutput(input)
        let plain = Sequential(Array(model.network.layers[..<lowest])).forward(input, training: true)
        #expect(fast.shape == plain.shape)
        let largest = plain.data.map(abs).max()!
        #expect(zip(fast.data, plain.data).allSatisfy { abs($0 - $1) <= 1e-4 * largest }, "largest \(largest)")
        _ = model.logits(input, training: true)  // and the whole step runs
        // With only the head training (--freeze, a linear head), dropout before it still trains.
        model.freezeAllButHead()
        #expect(model.frozenLayerCount == model.bodyLayers.count && model.network.layers[model.frozenLayerCount] is Dropout)
    }

    @Test func fineTuningTrainsOnlyTheLastBlocks() throws {
        let folder = TemporaryFolder()
        let workspace = Workspace(root: folder.file("data"))
        try SampleImages.writeTwoClassFolder(workspace.folder(of: .train), perClass: 6)
        let backbone = try Self.backbone(in: folder)
        let pretrained = try ModelFile.load(backbone.modelFile).model
        var request = TrainingRequest(name: "tuned")
        request.backbones = [backbone]
        request.mode = .finetune
        request.unfreeze = 2
        request.settings.epochs = 1
        request.settings.batchSize = 4
        request.showProgress = false
        _ = try TrainingRun(workspace: workspace, request: request).run()
        let tuned = try ModelFile.load(try workspace.modelFile("tuned")).model
        let before = Dictionary(uniqueKeysWithValues: pretrained.parameters.map { ($0.name, $0.value) })
        for p in tuned.parameters where !p.name.hasPrefix("head.") && !p.name.hasPrefix("hidden.") {
            let changed = before[p.name] != p.value
            // The last two blocks (14 and 15) and the top convolution train; the frozen blocks' batch norm
            // statistics stay as they were.
            let trains = p.name.hasPrefix("blocks.14.") || p.name.hasPrefix("blocks.15.") || p.name.hasPrefix("top.")
            #expect(changed == trains, "\(p.name) changed: \(changed)")
        }
    }
}
