import Engine
import Foundation
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
