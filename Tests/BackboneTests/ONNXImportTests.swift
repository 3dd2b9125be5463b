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
