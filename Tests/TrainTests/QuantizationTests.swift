import Testing
@testable import Train

/// The rule `imgcls quantize` writes by: an int8 model that loses more validation accuracy than allowed is refused,
/// with the figures; one within the allowance, or better than the float model, is written.
@Suite struct QuantizationTests {
    static func summary(float: Float, int8: Float) -> QuantizationSummary {
        QuantizationSummary(floatAccuracy: float, int8Accuracy: int8, agreement: 0.97, validationImages: 200, calibrationImages: 300,
                            convolutions: 49, int8Convolutions: 33, kernels: "oneDNN", modelFile: nil)
    }

    @Test func aModelLosingMoreThanTheAllowanceIsRefused() throws {
        let refusal = try #require(Self.summary(float: 0.9, int8: 0.88).refusal(maxAccuracyDrop: 1))
        #expect(refusal.contains("loses 2.0 accuracy points") && refusal.contains("float 90.0%, int8 88.0%")
                && refusal.contains("--max-accuracy-drop 1.0"), "\(refusal)")
        #expect(Self.summary(float: 0.9, int8: 0.895).refusal(maxAccuracyDrop: 1) == nil)
        #expect(Self.summary(float: 0.9, int8: 0.89).refusal(maxAccuracyDrop: 1) == nil)  // exactly the allowance
        #expect(Self.summary(float: 0.9, int8: 0.905).refusal(maxAccuracyDrop: 0) == nil)
        #expect(Self.summary(float: 0.9, int8: 0.895).refusal(maxAccuracyDrop: 0) != nil)
    }
}
