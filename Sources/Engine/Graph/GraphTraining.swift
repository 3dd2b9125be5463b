import Files

// Fine-tuning an imported network's last blocks (`train --mode finetune --unfreeze K` on an imported CNN).
// A block is what lies between two points of the graph where a single value is live (every later step reads
// through it): a residual block, or one convolution of a plain chain. The steps of the last K blocks, and
// the pooling after them, run forward image by image keeping their values, then backward image by image; the
// steps before run as in inference. What can train: the convolutions the engine's layers run (their batch norm
// was folded into them at import, so it trains as their scale and bias), activations (ReLU, ReLU6 and other
// clips, sigmoid, hard sigmoid, hard swish, leaky ReLU, tanh), element-wise add/subtract/multiply/divide with
// broadcasting (residuals, squeeze-excite), mean and sum pooling, reshapes, transposes and dense layers. Grouped
// convolutions (RegNet), windows, layer normalisation and attention have no backward pass here.

/// Why an imported network's last blocks cannot be fine-tuned.
public struct GraphTrainingError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension GraphNetwork {
    /// The first step of each block, in order.
    var blockStarts: [Int] {
        var live = Set<Int>()
        var boundaries: [Int] = []
        for (index, step) in spec.steps.enumerated() {
            for input in step.inputs where lastReader[input] == index { live.remove(input) }
            if lastReader[step.output] > index, step.op != .constant { live.insert(step.output) }
            if live.count == 1 { boundaries.append(index) }
        }
        // A block is a stretch between boundaries with something to learn in it.
        let starts = [0] + boundaries.map { $0 + 1 }
        return zip(starts, starts.dropFirst().map { $0 } + [spec.steps.count]).filter { start, end in
            (start..<end).contains { runners[$0].learns }
        }.map(\.0)
    }

    /// How many of the last blocks can train (every step from the first of them has a backward pass).
    public var trainableBlockCount: Int {
        let starts = blockStarts
        let firstUntrainable = spec.steps.indices.last { !runners[$0].canTrain } ?? -1
        return starts.filter { $0 > firstUntrainable }.count
    }

    /// Why `blocks` last blocks cannot train, or nil when they can.
    public func fineTuningProblem(_ blocks: Int) -> GraphTrainingError? {
        let available = trainableBlockCount
        guard blocks > available else { return nil }
        let starts = blockStarts
        guard !starts.isEmpty else { return GraphTrainingError(description: "it has no convolution or dense layer to train: train the head (--mode head)") }
        guard available < starts.count else {
            return GraphTrainingError(description: "it has \(starts.count) blocks (--unfreeze \(starts.count) trains them all)")
        }
        let cut = starts[max(0, starts.count - blocks)]
        let step = spec.steps.indices.last { $0 >= cut && !runners[$0].canTrain } ?? cut
        return GraphTrainingError(description: "step \(step) (\(spec.steps[step].op.name)) has no backward pass: of its \(starts.count) blocks, the last \(available) can be fine-tuned (--unfreeze \(max(available, 1)))" + (available == 0 ? "; none here: train the head (--mode head)" : ""))
    }

    /// Fine-tuning: the last `blocks` blocks (and what follows them) train at `rateScale` of the head's learning
    /// rate; check `fineTuningProblem` first.
    public func unfreezeLast(_ blocks: Int, rateScale: Float) {
        let starts = blockStarts
        // What comes before the first block (its stem) never trains: its steps need no backward pass.
        firstTrainedStep = blocks <= 0 || starts.isEmpty ? spec.steps.count : starts[max(0, starts.count - blocks)]
        for (index, runner) in runners.enumerated() {
            for parameter in runner.parameters {
                parameter.trainable = index >= firstTrainedStep && runner.learns
                parameter.learningRateScale = rateScale
            }
        }
        trainingValues = []
    }

    /// Features of a batch, keeping each image's values from the first trained step on.
    func trainingForward(_ input: Tensor) -> Tensor {
        precondition(firstTrainedStep < spec.steps.count, "an imported network trains only its unfrozen last blocks (unfreezeLast)")
        let image = spec.inputShape.reduce(1, *)
        let first = firstTrainedStep
        var kept = [[Tensor?]](repeating: [], count: input.batch)
        kept.withUnsafeMutableBufferPointer { out in
            let shared = SendableBox(out)
            Parallel.forEachRange(input.batch) { _, images in
                for n in images {
                    shared.value[n] = run(Tensor(shape: spec.inputShape, data: Array(input.data[n * image..<(n + 1) * image])), keepingFrom: first)
                }
            }
        }
        trainingValues = kept
        return Tensor(shape: [input.batch, spec.featureWidth], data: kept.flatMap { $0[spec.output]!.data })
    }

    /// Adds the trained steps' weight gradients, image by image (the engine layers keep one input each). The
    /// image gets no gradient: zeros.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(trainingValues.count == outputGradient.batch, "backward without a training forward")
        let width = spec.featureWidth
        for (n, values) in trainingValues.enumerated() {
            var gradients = [Tensor?](repeating: nil, count: spec.valueCount)
            gradients[spec.output] = Tensor(shape: values[spec.output]!.shape, data: Array(outputGradient.data[n * width..<(n + 1) * width]))
            for index in stride(from: spec.steps.count - 1, through: firstTrainedStep, by: -1) {
                let step = spec.steps[index]
                guard let gradient = gradients[step.output] else { continue }
                let inputGradients = runners[index].backward(step.inputs.map { values[$0]! }, output: values[step.output]!, gradient: gradient)
                for (input, inputGradient) in zip(step.inputs, inputGradients) where producer[input] >= firstTrainedStep {
                    guard let inputGradient else { continue }
                    if var sum = gradients[input] {
                        for i in sum.data.indices { sum.data[i] += inputGradient.data[i] }
                        gradients[input] = sum
                    } else {
                        gradients[input] = inputGradient
                    }
                }
            }
        }
        trainingValues = []
        return Tensor(zeros: [outputGradient.batch] + spec.inputShape.dropFirst())
    }
}

extension StepRunner {
    /// Whether the step has weights that fine-tuning changes (a convolution or a dense layer).
    var learns: Bool {
        switch step.op {
        case .convolution, .dense: true
        default: false
        }
    }

    /// Whether the step has a backward pass.
    var canTrain: Bool {
        switch step.op {
        case .convolution:
            return !layers.isEmpty && (layers.last as? DepthwiseConv2D)?.foldedPadding == nil
        case let .unary(function):
            switch function {
            case .relu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .leakyRelu, .tanh: return true
            default: return false
            }
        case let .binary(function, _): return function != .power
        case let .reduce(kind, _): return kind != .max
        case .reshape, .transpose, .dense, .constant: return true
        default: return false
        }
    }

    /// The gradients of the step's inputs (nil for a constant's), adding its trainable weights' gradients.
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        if !layers.isEmpty { return [layerBackward(inputs[0], output: output, gradient: gradient)] }
        return GraphGradients.inputGradients(step, inputs, output: output, gradient: gradient, weights: parameters)
    }

    /// A convolution run by engine layers: the clamp fused into it at import undone on the gradient, then its
    /// layers forward again in training mode (each keeps its own input) and backward.
    private func layerBackward(_ x: Tensor, output: Tensor, gradient: Tensor) -> Tensor {
        var gradient = gradient
        if case let .convolution(_, _, cap?) = step.op {
            for i in gradient.data.indices where !(output.data[i] > 0 && output.data[i] < cap) { gradient.data[i] = 0 }
        }
        let conv = layers.last!
        let cap = (conv as? Conv2D)?.outputCap ?? (conv as? DepthwiseConv2D)?.outputCap
        (conv as? Conv2D)?.outputCap = nil
        (conv as? DepthwiseConv2D)?.outputCap = nil
        defer {
            (conv as? Conv2D)?.outputCap = cap
            (conv as? DepthwiseConv2D)?.outputCap = cap
        }
        _ = layers.reduce(x) { $1.forward($0, training: true) }
        return layers.reversed().reduce(gradient) { $1.backward($0) }
    }
}

/// The backward passes of the graph steps `GraphKernels` runs, plain loops beside the forward ones (the tests
/// check them against finite differences).
enum GraphGradients {
    static func inputGradients(_ step: GraphStep, _ inputs: [Tensor], output: Tensor, gradient g: Tensor, weights: [Parameter]) -> [Tensor?] {
        switch step.op {
        case let .unary(function):
            let derivative = unaryDerivative(function)
            let (x, y) = (inputs[0], output)
            return [Tensor(shape: x.shape, data: g.data.indices.map { g.data[$0] * derivative(x.data[$0], y.data[$0]) })]
        case let .binary(function, constantFirst):
            let other = inputs.count > 1 ? inputs[1] : Tensor(shape: step.weights[0], data: weights[0].value)
            let (a, b) = constantFirst ? (other, inputs[0]) : (inputs[0], other)
            let (ga, gb) = binary(function, a, b, g)
            if inputs.count > 1 { return [ga, gb] }
            return [constantFirst ? gb : ga]
        case let .reduce(kind, axes):
            let x = inputs[0]
            let first = axes.min()!, last = axes.max()!
            let mid = x.shape[first...last].reduce(1, *), inner = x.shape[(last + 1)...].reduce(1, *)
            let scale: Float = kind == .mean ? 1 / Float(mid) : 1
            return [Tensor(shape: x.shape, data: x.data.indices.map { i in g.data[(i / (mid * inner)) * inner + i % inner] * scale })]
        case .reshape:
            return [Tensor(shape: inputs[0].shape, data: g.data)]
        case let .transpose(perm):
            var inverse = perm
            for (i, axis) in perm.enumerated() { inverse[axis] = i }
            return [GraphKernels.transpose(g, inverse)]
        case .dense:
            return [dense(inputs[0], g, weights)]
        case .constant:
            return []
        default:
            preconditionFailure("step \(step.op.name) has no backward pass (StepRunner.canTrain)")
        }
    }

    /// d(output)/d(input) from the input x and the output y.
    static func unaryDerivative(_ function: UnaryFunction) -> (Float, Float) -> Float {
        switch function {
        case .relu: { x, _ in x > 0 ? 1 : 0 }
        case let .clip(low, high): { x, _ in x > low && x < high ? 1 : 0 }
        case .sigmoid: { _, y in y * (1 - y) }
        case let .hardSigmoid(alpha, beta): { x, _ in alpha * x + beta > 0 && alpha * x + beta < 1 ? alpha : 0 }
        case .hardSwish: { x, _ in x < -3 ? 0 : x > 3 ? 1 : (2 * x + 3) / 6 }
        case let .leakyRelu(alpha): { x, _ in x >= 0 ? 1 : alpha }
        case .tanh: { _, y in 1 - y * y }
        default: preconditionFailure("no derivative for \(function) (StepRunner.canTrain)")
        }
    }

    /// The gradients of both operands of a broadcast `a op b`, each summed over the axes it was broadcast along.
    static func binary(_ function: BinaryFunction, _ a: Tensor, _ b: Tensor, _ g: Tensor) -> (Tensor, Tensor) {
        var (ga, gb) = (Tensor(zeros: a.shape), Tensor(zeros: b.shape))
        let rank = g.shape.count
        func strides(_ s: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            return zip(padded, RowMajor.strides(padded)).map { $0 == 1 ? 0 : $1 }
        }
        let (sa, sb) = (strides(a.shape), strides(b.shape))
        var position = 0
        RowMajor.forEachIndex(g.shape) { index in
            var (oa, ob) = (0, 0)
            for axis in index.indices { oa += index[axis] * sa[axis]; ob += index[axis] * sb[axis] }
            let (x, y, d) = (a.data[oa], b.data[ob], g.data[position])
            switch function {
            case .add: (ga.data[oa], gb.data[ob]) = (ga.data[oa] + d, gb.data[ob] + d)
            case .subtract: (ga.data[oa], gb.data[ob]) = (ga.data[oa] + d, gb.data[ob] - d)
            case .multiply: (ga.data[oa], gb.data[ob]) = (ga.data[oa] + d * y, gb.data[ob] + d * x)
            case .divide: (ga.data[oa], gb.data[ob]) = (ga.data[oa] + d / y, gb.data[ob] - d * x / (y * y))
            case .power: preconditionFailure("power has no backward pass (StepRunner.canTrain)")
            }
            position += 1
        }
        return (ga, gb)
    }

    /// x [rows, k] times w [k, n] (+ bias): the input's gradient, and the weights' added when they train.
    static func dense(_ x: Tensor, _ g: Tensor, _ weights: [Parameter]) -> Tensor {
        let (k, n) = (weights[0].shape[0], weights[0].shape[1]), rows = x.count / k
        var gx = Tensor(zeros: x.shape)
        let w = weights[0].value
        for r in 0..<rows {
            for i in 0..<k {
                var sum: Float = 0
                for j in 0..<n { sum += g.data[r * n + j] * w[i * n + j] }
                gx.data[r * k + i] = sum
            }
        }
        if weights[0].trainable {
            for r in 0..<rows { for i in 0..<k { for j in 0..<n { weights[0].gradient[i * n + j] += x.data[r * k + i] * g.data[r * n + j] } } }
        }
        if weights.count > 1, weights[1].trainable {
            for r in 0..<rows { for j in 0..<n { weights[1].gradient[j] += g.data[r * n + j] } }
        }
        return gx
    }
}
