/// An imported network as the engine runs it: steps over numbered values, every shape physical and fixed
/// (batch 1: `GraphNetwork` runs the steps image by image), every layout decided at import (convolutions see
/// NHWC; transposes that only relabel axes cost nothing and are gone). Stored in the model file's architecture
/// entry; the weights are the model file's tensors `graph.<step>.<name>`.
public struct GraphSpec: Codable, Sendable, Equatable {
    /// Value 0 is the image, [1, height, width, 3].
    public var inputShape: [Int]
    public var steps: [GraphStep]
    /// The value the features are: the classifier's input, [1, featureWidth] in memory order.
    public var output: Int
    public var featureWidth: Int

    public init(inputShape: [Int], steps: [GraphStep], output: Int, featureWidth: Int) {
        (self.inputShape, self.steps, self.output, self.featureWidth) = (inputShape, steps, output, featureWidth)
    }

    /// How many values the steps write (value 0, the image, included).
    public var valueCount: Int { (steps.map(\.output).max() ?? 0) + 1 }
}

/// One step: `op` over the values `inputs`, written to value `output` of shape `shape`. `weights` are the shapes
/// of the step's weight tensors, in the order the op reads them.
public struct GraphStep: Codable, Sendable, Equatable {
    public var op: GraphOp
    public var inputs: [Int]
    public var output: Int
    public var shape: [Int]
    public var weights: [[Int]]

    public init(_ op: GraphOp, inputs: [Int], output: Int, shape: [Int], weights: [[Int]] = []) {
        (self.op, self.inputs, self.output, self.shape, self.weights) = (op, inputs, output, shape, weights)
    }
}

/// A window over NHWC images: kernel, strides and dilations as (height, width), pads as [top, left, bottom, right].
public struct Window: Codable, Sendable, Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    public var pads: [Int]

    public init(kernel: [Int], strides: [Int], dilations: [Int] = [1, 1], pads: [Int]) {
        (self.kernel, self.strides, self.dilations, self.pads) = (kernel, strides, dilations, pads)
    }
}

public enum UnaryFunction: Codable, Sendable, Equatable {
    case relu, sigmoid, hardSwish, tanh, erf, sqrt, exp, negate, reciprocal, absolute
    /// Values clamped to [low, high] (ReLU6 is 0...6).
    case clip(low: Float, high: Float)
    case hardSigmoid(alpha: Float, beta: Float)
    case leakyRelu(alpha: Float)
    /// GELU, exact (with erf) or the tanh approximation.
    case gelu(tanh: Bool)
}

public enum BinaryFunction: String, Codable, Sendable, Equatable {
    case add, subtract, multiply, divide, power
}

public enum GraphOp: Codable, Sendable, Equatable {
    /// Input [1, H, W, C]; weights [kh, kw, C / groups, M] and optionally a bias [M]; `cap` clamps the output to
    /// [0, cap] (a ReLU or ReLU6 folded in).
    case convolution(Window, groups: Int, cap: Float?)
    /// Padding never wins a max (ONNX's MaxPool pads with -infinity).
    case maxPool(Window)
    /// `countsPadding`: padded positions count in the average's divisor (ONNX's count_include_pad).
    case averagePool(Window, countsPadding: Bool)
    case unary(UnaryFunction)
    /// Two inputs of shapes that broadcast, or one input and a constant weight (`constantFirst`: the constant is the
    /// left operand).
    case binary(BinaryFunction, constantFirst: Bool)
    /// The mean, sum or max over the physical axes `axes` (contiguous); `shape` says whether they are kept as 1s.
    case reduce(ReduceKind, axes: [Int])
    /// Over the physical axes from `axis` to the last when `trailing`, else along `axis` alone.
    case softmax(axis: Int, trailing: Bool)
    /// Normalised over the trailing values of `size`; weights: scale and bias of [size].
    case layerNormalization(size: Int, epsilon: Float)
    /// [rows, K] x weights [K, N] (+ bias [N]).
    case dense
    /// Two values: [..., M, K] x [..., K, N], leading axes broadcast.
    case matMul
    /// The same values with the step's shape.
    case reshape
    /// A real copy with axes reordered: output axis i is input axis perm[i].
    case transpose(perm: [Int])
    case concat(axis: Int)
    /// Per axis (start, count, step).
    case slice(starts: [Int], counts: [Int], steps: [Int])
    /// Entries `indices` along `axis` (the step's shape says whether the axis stays).
    case gather(axis: Int, indices: [Int])
    /// Per axis (before, after), filled with `value`.
    case pad(before: [Int], after: [Int], value: Float)
    /// A weight as a value (a class token, a position embedding read by a concat).
    case constant
}

extension GraphOp {
    /// The op's name in messages ("convolution", "layerNormalization").
    public var name: String { String(describing: self).prefix { $0 != "(" }.description }
}

public enum ReduceKind: String, Codable, Sendable, Equatable {
    case mean, sum, max
}

extension GraphSpec {
    /// Why the steps cannot run as written, or nil: each reads only values written before it, with the inputs
    /// and weights its op needs, and no value is larger than a network's. (A model file is checked before its graph
    /// is built, so a damaged or crafted one is refused, not run.)
    public var problem: String? {
        var written: [Int: [Int]] = [0: inputShape]
        guard inputShape.count == 4, inputShape[0] == 1, inputShape[3] == 3 else { return "input shape \(inputShape) is not [1, H, W, 3]" }
        for (index, step) in steps.enumerated() {
            let what = "step \(index)"
            guard step.shape.count <= 8, step.shape.allSatisfy({ $0 >= 0 && $0 <= 1 << 24 }),
                  step.shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }) <= 1 << 28 else {
                return "\(what) has shape \(step.shape)"
            }
            guard step.output > 0, written[step.output] == nil else { return "\(what) writes value \(step.output) again" }
            let inputs = step.inputs.compactMap { written[$0] }
            guard inputs.count == step.inputs.count else { return "\(what) reads a value not yet written" }
            if let problem = step.problem(inputs) { return "\(what): \(problem)" }
            written[step.output] = step.shape
        }
        guard let features = written[output], features.reduce(1, *) == featureWidth else { return "the features are not [1, \(featureWidth)]" }
        return nil
    }
}

extension GraphStep {
    /// What is wrong with this step given its inputs' shapes, or nil.
    func problem(_ inputs: [[Int]]) -> String? {
        let count = shape.reduce(1, *)
        let first = inputs.first ?? []
        switch op {
        case let .convolution(w, groups, _):
            let bad = "a convolution that does not fit its input \(first)"
            guard inputs.count == 1, first.count == 4, shape.count == 4, (1...2).contains(weights.count), weights[0].count == 4 else { return bad }
            guard w.kernel.count == 2, w.strides.count == 2, w.dilations.count == 2, w.pads.count == 4, groups >= 1 else { return bad }
            let filter = weights[0]
            guard filter[0] == w.kernel[0], filter[1] == w.kernel[1], filter[2] * groups == first[3], filter[3] == shape[3] else { return bad }
            guard shape[3] % groups == 0, weights.count == 1 || weights[1] == [shape[3]] else { return bad }
            guard (w.kernel + w.strides + w.dilations).allSatisfy({ $0 >= 1 }), w.pads.allSatisfy({ $0 >= 0 }) else { return bad }
            for axis in 0..<2 {
                let reach: Int = (shape[axis + 1] - 1) * w.strides[axis] + (w.kernel[axis] - 1) * w.dilations[axis]
                guard reach < first[axis + 1] + w.pads[axis] + w.pads[axis + 2] else { return bad }
            }
        case let .maxPool(w), let .averagePool(w, _):
            guard inputs.count == 1, first.count == 4, shape.count == 4, shape[3] == first[3], weights.isEmpty, w.kernel.count == 2,
                  w.strides.count == 2, w.dilations.count == 2, w.pads.count == 4, (w.kernel + w.strides + w.dilations).allSatisfy({ $0 >= 1 })
            else { return "a pooling that does not fit its input \(first)" }
        case .unary:
            guard inputs.count == 1, first == shape else { return "an element-wise step that changes the shape" }
        case .binary:
            let other = inputs.count == 2 ? inputs[1] : weights.first ?? []
            guard inputs.count + weights.count == 2, first.count <= shape.count, other.count <= shape.count,
                  [first, other].allSatisfy({ s in zip(s.reversed(), shape.reversed()).allSatisfy { $0 == $1 || $0 == 1 } }) else {
                return "shapes \(first) and \(other) do not broadcast to \(shape)"
            }
        case let .reduce(_, axes):
            guard inputs.count == 1, let low = axes.min(), let high = axes.max(), low >= 0, high < first.count,
                  axes.count == high - low + 1, count * first[low...high].reduce(1, *) == first.reduce(1, *) else { return "reduced axes \(axes) of \(first)" }
        case let .softmax(axis, _):
            guard inputs.count == 1, first == shape, axis >= 0, axis < max(1, shape.count) else { return "softmax axis \(axis) of \(shape)" }
        case let .layerNormalization(size, _):
            guard inputs.count == 1, first == shape, size > 0, count % size == 0, weights == [[size], [size]] else { return "layer normalisation of \(size)" }
        case .dense:
            guard inputs.count == 1, (1...2).contains(weights.count), weights[0].count == 2, weights[0][0] > 0,
                  first.reduce(1, *) % weights[0][0] == 0, count == first.reduce(1, *) / weights[0][0] * weights[0][1],
                  weights.count == 1 || weights[1] == [weights[0][1]] else { return "a dense step of \(weights) on \(first)" }
        case .matMul:
            guard inputs.count == 2, first.count >= 2, inputs[1].count >= 2, shape.count >= 2, first.last == inputs[1][inputs[1].count - 2],
                  shape.last == inputs[1].last, shape[shape.count - 2] == first[first.count - 2],
                  count == shape.dropLast(2).reduce(1, *) * first[first.count - 2] * inputs[1].last! else { return "a product of \(first) and \(inputs[1])" }
        case .reshape:
            guard inputs.count == 1, first.reduce(1, *) == count else { return "a reshape of \(first) to \(shape)" }
        case let .transpose(perm):
            guard inputs.count == 1, perm.sorted() == Array(first.indices), perm.map({ first[$0] }) == shape else { return "a transpose of \(first) by \(perm)" }
        case let .concat(axis):
            guard !inputs.isEmpty, inputs.allSatisfy({ $0.count == shape.count }), axis >= 0, axis < shape.count,
                  inputs.reduce(0, { $0 + $1[axis] }) == shape[axis],
                  inputs.allSatisfy({ s in s.indices.allSatisfy { $0 == axis || s[$0] == shape[$0] } }) else { return "a concat of \(inputs)" }
        case let .slice(starts, counts, steps):
            guard inputs.count == 1, starts.count == first.count, counts == shape, steps.count == first.count,
                  first.indices.allSatisfy({ a in counts[a] == 0 || (starts[a] >= 0 && starts[a] < first[a] && steps[a] != 0
                      && starts[a] + (counts[a] - 1) * steps[a] >= 0 && starts[a] + (counts[a] - 1) * steps[a] < first[a]) })
            else { return "a slice out of \(first)" }
        case let .gather(axis, indices):
            guard inputs.count == 1, axis >= 0, axis < first.count, indices.allSatisfy({ $0 >= 0 && $0 < first[axis] }),
                  count == first.reduce(1, *) / max(1, first[axis]) * indices.count else { return "a gather out of \(first)" }
        case let .pad(before, after, _):
            guard inputs.count == 1, before.count == first.count, after.count == first.count,
                  first.indices.allSatisfy({ before[$0] >= 0 && after[$0] >= 0 && first[$0] + before[$0] + after[$0] == shape[$0] }) else { return "a pad of \(first)" }
        case .constant:
            guard inputs.isEmpty, weights == [shape] else { return "a constant of \(weights)" }
        }
        return nil
    }
}
