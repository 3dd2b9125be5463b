import Files
import Foundation
import Imaging
import Predict
import SampleImages
import Testing
@testable import Engine

/// A model on two backbones side by side (`train --backbone a,b`): what the predictor answers from image files
/// against the simple path, each backbone on its own preparation and features, concatenated, then the head.
@Suite struct CombinedModelTests {
    /// Two small backbones that differ in everything an input can: size, mean and deviation, BGR order, a
    /// resize before the centre crop. Batch norm statistics away from the identity, so that folding matters.
    static func backbones() -> [(name: String, model: Model)] {
        var first = ModelSpec(classes: 2)
        (first.inputSize, first.width, first.blocksPerStage) = (16, 4, 1)
        var second = ModelSpec(classes: 3)
        (second.architecture, second.inputSize, second.width) = (.baseline, 24, 4)
        var caffe = Normalization(mean: [0.4, 0.5, 0.6], deviation: [0.2, 0.3, 0.4])
        (caffe.bgr, caffe.resizeBeforeCrop) = (true, 28)
        let models = [Model(spec: first, labels: ["x", "y"], seed: 1), Model(spec: second, labels: ["p", "q", "r"], normalization: caffe, seed: 2)]
        var random = SplitMix64(seed: 9)
        for p in models.flatMap(\.parameters) where p.name.contains("running_") {
            for i in 0..<p.count { p.value[i] = p.name.hasSuffix("running_var") ? 0.5 + Float(random.nextUnit()) : 0.2 * Float(random.nextGaussian()) }
        }
        return [("first", models[0]), ("second-net", models[1])]
    }

    /// One backbone's pooled features of `bytes`, on its own input.
    static func features(_ model: Model, _ bytes: [UInt8]) throws -> [Float] {
        let preparation = InputPreparation(side: model.spec.inputSize, normalization: model.normalization)
        var input = Tensor(zeros: preparation.batchShape(1))
        let image = try preparation.resizedImage(bytes)
        input.data.withUnsafeMutableBufferPointer { preparation.write(image, into: $0.baseAddress!) }
        return model.network.layers.prefix(model.bodyLayers.count).reduce(input) { $1.forward($0, training: false) }.data
    }

    @Test func aModelOnTwoBackbonesAnswersAsEachBackboneAndItsHeadDo() throws {
        let folder = TemporaryFolder()
        let backbones = Self.backbones()
        let combined = Model.onBackbones(backbones, labels: ["cat", "dog"], hiddenUnits: 8, dropout: 0.2, seed: 3)
        #expect(combined.featureWidth == backbones[0].model.featureWidth + backbones[1].model.featureWidth)
        #expect(combined.parameters.contains { $0.name.hasPrefix("second-net/") } && !combined.parameters.filter { !$0.name.hasPrefix("head") && !$0.name.hasPrefix("hidden") }.contains { $0.trainable })
        let file = folder.file("combined.safetensors")
        try ModelFile.save(combined, to: file)

        let predictor = try Predictor(modelFile: file)
        #expect(predictor.preparation.valuesPerImage == 16 * 16 * 3 + 24 * 24 * 3)
        // A JPEG large enough that each input decodes at its own scale (1/8 covers 16 pixels, 28 needs 1/4): each
        // backbone must see the pixels it sees alone, as its cached features were computed.
        let pictures = (0..<3).map { SampleImages.png(SampleImages.scene(width: 40 + 7 * $0, height: 30, seed: UInt64($0))) }
            + [try SampleImages.scene(width: 200, height: 160, seed: 9, noise: 30).jpegData(quality: 90)]
        let answers = predictor.probabilities(of: pictures.enumerated().map { ImageInput(name: "p\($0)", bytes: $1) })
        let head = Sequential(combined.headLayers)
        for (bytes, answer) in zip(pictures, answers) {
            let joined = try Self.features(backbones[0].model, bytes) + Self.features(backbones[1].model, bytes)
            let expected = softmax(head.forward(Tensor(shape: [1, joined.count], data: joined), training: false)).data
            let got = try answer.get()
            let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 1e-5, "probabilities \(got) against \(expected)")
        }
    }

    /// A model file that says it is combined but names no backbone, or one backbone twice, is refused by name.
    @Test func aCombinedModelFileWithoutItsBackbonesIsRefused() throws {
        let folder = TemporaryFolder()
        let combined = Model.onBackbones(Self.backbones(), labels: ["cat", "dog"], hiddenUnits: nil, dropout: 0, seed: 3)
        let file = folder.file("combined.safetensors")
        try ModelFile.save(combined, to: file)
        for (change, message) in [
            ({ (spec: inout ModelSpec) in spec.parts = [] }, "without its backbones"),
            ({ (spec: inout ModelSpec) in spec.parts![1].name = spec.parts![0].name }, "names a backbone twice"),
            ({ (spec: inout ModelSpec) in spec.parts![0].spec.inputSize = 1 << 20 }, "takes 1048576-pixel inputs"),
        ] {
            var saved = try SafeTensors.read(file)
            var spec = try JSONDecoder().decode(ModelSpec.self, from: Data(saved.metadata["architecture"]!.utf8))
            change(&spec)
            saved.metadata["architecture"] = try ModelFile.json(spec)
            let broken = folder.file("broken.safetensors")
            try SafeTensors.write(saved, to: broken)
            #expect {
                try ModelFile.load(broken)
            } throws: { "\($0)".contains(message) && "\($0)".contains("broken.safetensors") }
        }
    }
}
