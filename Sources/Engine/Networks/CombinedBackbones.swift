import Files

/// Several backbones side by side (`train --backbone efficientnet-lite0,open-nsfw`): open_nsfw knows nudity and not
/// flags or weapons, an ImageNet network the reverse, so a head on both features sees both. Each backbone takes
/// its own input (its size and preprocessing: `InputPreparation` lays them end to end in each image's row), and
/// their pooled features are concatenated in order. Inference only: the backbones stay frozen, and the head
/// trains on each backbone's cached features, concatenated the same way.
public final class CombinedBackbones: Layer {
    /// One backbone: the name its weights and feature cache go by, its network (as its own model file has it)
    /// and its preprocessing.
    public struct Part: Codable, Sendable, Equatable {
        public var name: String
        public var spec: ModelSpec
        public var normalization: Normalization

        public init(name: String, spec: ModelSpec, normalization: Normalization) {
            (self.name, self.spec, self.normalization) = (name, spec, normalization)
        }
    }

    public let parts: [Part]
    /// Each backbone's layers up to its features, weights named `<part name>/<the backbone's own name>`.
    public let bodies: [Sequential]
    public let widths: [Int]

    init(_ parts: [Part], _ random: inout SplitMix64) {
        var (bodies, widths) = ([Sequential](), [Int]())
        for part in parts {
            let (layers, width) = Model.body(part.spec, &random)
            let body = Sequential(layers)
            for parameter in body.parameters {
                parameter.name = part.name + "/" + parameter.name
                parameter.trainable = false
            }
            bodies.append(body)
            widths.append(width)
        }
        (self.parts, self.bodies, self.widths) = (parts, bodies, widths)
    }

    private init(parts: [Part], bodies: [Sequential], widths: [Int]) {
        (self.parts, self.bodies, self.widths) = (parts, bodies, widths)
    }

    public var featureWidth: Int { widths.reduce(0, +) }

    /// The same backbones with each body's layers transformed (batch norm folded, kernels chosen), for inference.
    func mappingBodies(_ transform: ([Layer]) -> [Layer]) -> CombinedBackbones {
        CombinedBackbones(parts: parts, bodies: bodies.map { Sequential(transform($0.layers)) }, widths: widths)
    }

    /// `input` is [n, values] (each image's inputs end to end); the answer [n, featureWidth].
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let n = input.batch, row = input.itemSize
        var output = Tensor(zeros: [n, featureWidth])
        var (inputOffset, featureOffset) = (0, 0)
        for (part, (body, width)) in zip(parts, zip(bodies, widths)) {
            let side = part.spec.inputSize, values = side * side * 3
            var slice = Tensor(uninitialized: [n, side, side, 3])
            for i in 0..<n {
                slice.data.replaceSubrange(i * values..<(i + 1) * values, with: input.data[i * row + inputOffset..<i * row + inputOffset + values])
            }
            let features = body.forward(slice, training: false)
            for i in 0..<n {
                output.data.replaceSubrange(i * featureWidth + featureOffset..<i * featureWidth + featureOffset + width,
                                            with: features.data[i * width..<(i + 1) * width])
            }
            inputOffset += values
            featureOffset += width
        }
        precondition(inputOffset == row, "a combined model's input row has \(row) values; its backbones take \(inputOffset)")
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        preconditionFailure("the backbones of a combined model are frozen: its head trains on their cached features")
    }

    public var parameters: [Parameter] { bodies.flatMap(\.parameters) }
}
