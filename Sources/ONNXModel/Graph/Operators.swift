/// The operators of the default ONNX domain that imgcls runs (with the image-network families it imports: ResNet,
/// MobileNetV2/V3, EfficientNet, RegNet, ConvNeXt, ViT/DeiT, open_nsfw), and the reason any other is refused.
enum Operators {
    /// Operators that compute on the image, which the engine runs.
    static let computing: Set<String> = [
        "Conv", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "Tanh", "Erf", "Sqrt", "Exp", "Neg",
        "Reciprocal", "Abs", "Gelu",
        "Add", "Sub", "Mul", "Div", "Pow",
        "Gemm", "MatMul", "Softmax", "LayerNormalization", "ReduceMean", "ReduceSum", "ReduceMax",
        "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Slice", "Gather", "Pad", "Split",
        "Expand", "Identity", "Cast", "Dropout",
    ]

    /// Operators that only ever compute on constants in these networks (shape arithmetic), folded at import;
    /// refused when they would have to run on the image.
    static let foldedOnly: Set<String> = [
        "Constant", "Shape", "ConstantOfShape", "Range", "Equal", "Where", "Floor", "Ceil", "Min", "Max", "Mod",
    ]

    static let controlFlow: Set<String> = ["If", "Loop", "Scan", "SequenceMap"]

    /// Nil when the operator is known; else why it is refused.
    static func refusal(_ op: String, domain: String) -> String? {
        if !(domain.isEmpty || domain == "ai.onnx") {
            return "operator \(domain).\(op) is from a custom domain: only the default ONNX operators are supported"
        }
        if controlFlow.contains(op) {
            return "control flow (\(op)) is not supported: export the network with its branches resolved"
        }
        if computing.contains(op) || foldedOnly.contains(op) { return nil }
        return "unknown operator \(op): imgcls runs the operators of image classification networks (see the README's list)"
    }
}
