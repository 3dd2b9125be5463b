import Engine
import Files
import Foundation
import SampleImages
import Testing
@testable import Backbone

/// Each network family that ONNX import supports, at reduced width (Fixtures/onnx, made by
/// `scripts/onnx-reference.sh fixtures` from torchvision and timm with seeded weights), run by imgcls on the
/// same two photographs as ONNX Runtime: the logits agree within 1e-4 of the largest.
@Suite struct ONNXImportTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/onnx").path

    struct Fixture: Decodable {
        let family: String
        let input_shape: [Int]
        let output_shape: [Int]
        let max_abs_output: Float
    }

    static func floats(_ path: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static let families = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "regnety",
                           "convnext_tiny", "convnext_tiny_opset13", "vit_b_16", "deit_small"]

    @Test(arguments: families)
    func agreesWithONNXRuntime(_ family: String) throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: "\(Self.folder)/\(family).json")))
        let model = try ONNXImport.model("\(Self.folder)/\(family).onnx", normalization: Normalization())
        let input = Tensor(shape: fixture.input_shape, data: try Self.floats("\(Self.folder)/\(family).input.f32")).transposed([0, 2, 3, 1])
        let expected = try Self.floats("\(Self.folder)/\(family).output.f32")
        let logits = model.inferenceNetwork().forward(input, training: false)
        #expect(logits.shape == fixture.output_shape)
        let worst = zip(logits.data, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * fixture.max_abs_output, "\(family): largest difference \(worst), largest logit \(fixture.max_abs_output)")
    }

    /// The library kernels (oneDNN, with activations and residual sums fused into the convolutions) against the
    /// engine's own loops on the same photographs.
    @Test(arguments: families)
    func libraryKernelsGiveTheReferenceLogits(_ family: String) throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: "\(Self.folder)/\(family).json")))
        let model = try ONNXImport.model("\(Self.folder)/\(family).onnx", normalization: Normalization())
        let input = Tensor(shape: fixture.input_shape, data: try Self.floats("\(Self.folder)/\(family).input.f32")).transposed([0, 2, 3, 1])
        let reference = model.inferenceNetwork(kernels: .reference).forward(input, training: false)
        let library = model.inferenceNetwork(kernels: .library).forward(input, training: false)
        let largest = reference.data.map(abs).max()!
        let worst = zip(library.data, reference.data).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * largest, "\(family): off by \(worst), largest logit \(largest)")
    }
}

/// `--features NAME`: the features taken from another value than what the classifier reads, pooled to a vector.
/// Checked where the answer is known: a ResNet's last feature map averaged over its positions, and a DeiT's
/// normalised tokens' first, are exactly what their classifiers read (the default features).
@Suite struct ONNXFeaturesTests {
    static func features(_ model: Model, _ family: String) throws -> [Float] {
        let fixture = try JSONDecoder().decode(ONNXImportTests.Fixture.self,
                                               from: Data(contentsOf: URL(fileURLWithPath: "\(ONNXImportTests.folder)/\(family).json")))
        let input = Tensor(shape: fixture.input_shape, data: try ONNXImportTests.floats("\(ONNXImportTests.folder)/\(family).input.f32"))
            .transposed([0, 2, 3, 1])
        return model.featureExtractor().forward(input, training: false).data
    }

    @Test(arguments: [("resnet18", "/layer4/layer4.1/relu_1/Relu"), ("resnet18", "/layer4/layer4.1/relu_1/Relu_output_0"),
                      ("resnet18", "/avgpool/GlobalAveragePool_output_0"), ("deit_small", "/norm/LayerNormalization")])
    func pooledFeaturesOfAnEarlierValueEqualWhatTheClassifierReads(_ family: String, _ name: String) throws {
        let path = "\(ONNXImportTests.folder)/\(family).onnx"
        let whole = try ONNXImport.model(path, normalization: Normalization())
        let cut = try ONNXImport.model(path, normalization: Normalization(), features: name)
        // The classifier reads another value: it is not kept, and the backbone answers nothing of its own.
        #expect(cut.labels.isEmpty && cut.featureWidth == whole.featureWidth)
        let (expected, got) = (try Self.features(whole, family), try Self.features(cut, family))
        #expect(got.count == expected.count)
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
        let largest = expected.map(abs).max() ?? 0
        #expect(worst <= 1e-5 * max(largest, 1), "\(family) \(name): largest difference \(worst), largest feature \(largest)")
    }

    /// A network without a classifier (DINOv2 ViT-S as timm exports it with num_classes=0, reduced, its layer
    /// scales randomised): refused without --features, and with its output as the features, those agree with
    /// ONNX Runtime's output within 1e-4 of the largest.
    @Test func aNetworkWithoutAClassifierGivesItsOutputAsFeatures() throws {
        let path = "\(ONNXImportTests.folder)/dinov2_small.onnx"
        #expect {
            try ONNXImport.model(path, normalization: Normalization())
        } throws: { "\($0)".contains("does not end in a classifier") && "\($0)".contains("give --features VALUE") }
        let model = try ONNXImport.model(path, normalization: Normalization(), features: "output")
        #expect(model.labels.isEmpty && model.featureWidth == 24)
        let expected = try ONNXImportTests.floats("\(ONNXImportTests.folder)/dinov2_small.output.f32")
        let got = try Self.features(model, "dinov2_small")
        #expect(got.count == expected.count)
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
        let largest = expected.map(abs).max() ?? 0
        #expect(worst <= 1e-4 * largest, "largest difference \(worst), largest feature \(largest)")
    }

    @Test func theClassifiersOwnInputKeepsTheClassifierAndAnUnknownNameIsRefused() throws {
        let path = "\(ONNXImportTests.folder)/resnet18.onnx"
        let kept = try ONNXImport.model(path, normalization: Normalization(), features: "/Flatten_output_0")
        #expect(kept.labels.count == 10)
        #expect {
            try ONNXImport.model(path, normalization: Normalization(), features: "/no/such/value")
        } throws: { "\($0)".contains("--features /no/such/value: no value or node of that name") && "\($0)".contains("/fc/Gemm") }
        #expect {
            try ONNXImport.model(path, labels: ["a"], normalization: Normalization(), features: "/avgpool/GlobalAveragePool_output_0")
        } throws: { "\($0)".contains("--labels goes with the network's own classifier") }
    }
}

/// Fine-tuning imported CNNs: the backward pass of their last blocks against central differences of
/// `loss = sum(features * r)` on a real photo, for each family whose blocks can train; and which can.
@Suite struct ONNXFineTuningTests {
    @Test(arguments: [("resnet18", 3), ("resnet50", 2), ("mobilenet_v2", 3), ("mobilenet_v3_large", 2), ("efficientnet_b0", 2)])
    func lastBlocksGradientsMatchFiniteDifferences(_ family: String, _ blocks: Int) throws {
        let model = try ONNXImport.model("\(ONNXImportTests.folder)/\(family).onnx", normalization: Normalization())
        let graph = try #require(model.graphNetwork)
        #expect(graph.fineTuningProblem(blocks) == nil, "\(family): \(graph.fineTuningProblem(blocks)!)")
        graph.unfreezeLast(blocks, rateScale: 0.1)
        let photos = try ONNXImportTests.floats("\(ONNXImportTests.folder)/\(family).input.f32")
        let input = Tensor(shape: [1, 3, 64, 64], data: Array(photos.prefix(3 * 64 * 64))).transposed([0, 2, 3, 1])
        var random = SplitMix64(seed: 5)
        let r = (0..<graph.spec.featureWidth).map { _ in Float(random.nextGaussian()) }
        let trained = graph.parameters.filter(\.trainable)
        #expect(!trained.isEmpty && trained.count < graph.parameters.count)
        for p in trained { p.zeroGradient() }
        let features = graph.forward(input, training: true)
        #expect(features.data == graph.forward(input, training: false).data, "the training forward computes what inference does")
        _ = graph.backward(Tensor(shape: [1, r.count], data: r))
        func loss() -> Double {
            zip(graph.forward(input, training: false).data, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        // A few entries of every trained tensor.
        var errors: [Float] = []
        let h: Float = 2e-3  // at 1e-2, 3 of 48 ResNet-50 entries straddled a ReLU kink (errors up to 0.19); at 3e-3 and 1e-3 none
        for p in trained {
            for _ in 0..<3 {
                let i = random.next(below: p.count)
                let numeric = CentralDifference.derivative(at: p.value[i], h: h, set: { p.value[i] = $0 }, loss: loss)
                errors.append(CentralDifference.relativeError(p.gradient[i], numeric))
            }
        }
        let sorted = errors.sorted()
        // Central differences across a ReLU's kink are off; the rest agree.
        #expect(sorted[sorted.count * 95 / 100] < 2e-2, "\(family): errors \(sorted.suffix(8)) of \(sorted.count)")
        #expect(sorted[sorted.count / 2] < 2e-3, "\(family): median error \(sorted[sorted.count / 2])")
    }

    @Test func familiesWhoseBlocksHaveNoBackwardPassSayHowFarFineTuningReaches() throws {
        for family in ["regnety", "convnext_tiny", "vit_b_16"] {
            let graph = try #require(try ONNXImport.model("\(ONNXImportTests.folder)/\(family).onnx", normalization: Normalization()).graphNetwork)
            let problem = try #require(graph.fineTuningProblem(1), "\(family) fine-tunes")
            #expect("\(problem)".contains("has no backward pass") && "\(problem)".contains("--mode head"), "\(family): \(problem)")
        }
        let mobilenet = try #require(try ONNXImport.model("\(ONNXImportTests.folder)/mobilenet_v2.onnx", normalization: Normalization()).graphNetwork)
        let tooMany = try #require(mobilenet.fineTuningProblem(1000))
        #expect("\(tooMany)".contains("blocks (--unfreeze \(mobilenet.trainableBlockCount) trains them all)"), "\(tooMany)")
    }
}
