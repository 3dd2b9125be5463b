import Files

/// An imported network (`GraphSpec`) run by the engine: image by image (the threads of `Parallel` taking a share
/// of the batch each, as `Sequential` runs inference), each step on the values before it, a value freed after
/// its last reader. Convolutions that fit the engine's own layers run in them (`Conv2D`, `DepthwiseConv2D`, with
/// their AVX2/FMA loops); every other step in `GraphKernels`. Its weights are frozen, and training takes its
/// features as a backbone's (head mode), unless its last blocks are unfrozen for fine-tuning (`GraphTraining.swift`).
public final class GraphNetwork: Layer {
    public let spec: GraphSpec
    let runners: [StepRunner]
    /// For each value, the last step that reads it (the output: past the end).
    let lastReader: [Int]
    /// For each value, the step that writes it (-1: the image).
    let producer: [Int]
    /// Fine-tuning: the first step that trains (the step count when none does).
    var firstTrainedStep: Int
    /// Fine-tuning: each image's values from the last training forward, for the backward pass.
    var trainingValues: [[Tensor?]] = []

    /// The network with `weights[step]` (in the order of each step's `weights`), or zeros for a model file to
    /// fill in by name.
    public init(_ spec: GraphSpec, weights: [[[Float]]]? = nil) {
        self.spec = spec
        var random = SplitMix64(seed: 0)  // only for the layers' initial values, which are replaced
        runners = spec.steps.enumerated().map { index, step in
            let runner = StepRunner(step, name: "graph.\(index)", random: &random)
            if let weights {
                for (parameter, values) in zip(runner.parameters, weights[index]) { parameter.value = values }
            }
            for parameter in runner.parameters { parameter.trainable = false }
            return runner
        }
        (lastReader, producer) = Self.readersAndProducers(spec)
        firstTrainedStep = spec.steps.count
    }

    /// The network with these runners (an inference copy on library kernels: `GraphNetwork.onLibrary`).
    init(_ spec: GraphSpec, runners: [StepRunner]) {
        (self.spec, self.runners) = (spec, runners)
        (lastReader, producer) = Self.readersAndProducers(spec)
        firstTrainedStep = spec.steps.count
    }

    /// For each value, the last step that reads it (the output: past the end) and the step that writes it (-1: the image).
    private static func readersAndProducers(_ spec: GraphSpec) -> (lastReader: [Int], producer: [Int]) {
        var last = [Int](repeating: -1, count: spec.valueCount)
        for (index, step) in spec.steps.enumerated() { for input in step.inputs { last[input] = index } }
        last[spec.output] = spec.steps.count
        var writer = [Int](repeating: -1, count: spec.valueCount)
        for (index, step) in spec.steps.enumerated() { writer[step.output] = index }
        return (last, writer)
    }

    public var parameters: [Parameter] { runners.flatMap(\.parameters) }

    /// Sets every step's weights (in the order of each step's `weights`).
    public func assign(_ weights: [[[Float]]]) {
        for (runner, values) in zip(runners, weights) {
            for (parameter, value) in zip(runner.parameters, values) {
                precondition(parameter.count == value.count, "\(parameter.name): \(value.count) values for \(parameter.shape)")
                parameter.value = value
            }
        }
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        if training { return trainingForward(input) }
        let image = spec.inputShape.reduce(1, *)
        precondition(input.itemSize == image, "the imported network takes \(spec.inputShape), got \(input.shape)")
        var output = Tensor(uninitialized: [input.batch, spec.featureWidth])
        output.data.withUnsafeMutableBufferPointer { out in
            let shared = SendableBox(out)
            Parallel.forEachRange(input.batch) { _, images in
                for n in images {
                    let features = run(Tensor(shape: spec.inputShape, data: Array(input.data[n * image..<(n + 1) * image])))
                    for i in 0..<spec.featureWidth { shared.value[n * spec.featureWidth + i] = features.data[i] }
                }
            }
        }
        return output
    }

    /// One image through every step.
    func run(_ image: Tensor) -> Tensor {
        run(image, keepingFrom: spec.steps.count)[spec.output]!
    }

    /// One image through every step; the values that steps from `first` on read or write are kept (for their
    /// backward pass), the others freed after their last reader.
    func run(_ image: Tensor, keepingFrom first: Int) -> [Tensor?] {
        var values = [Tensor?](repeating: nil, count: spec.valueCount)
        values[0] = image
        for index in spec.steps.indices {
            runStep(index, &values)
            for input in Set(spec.steps[index].inputs) where lastReader[input] == index && index < first { values[input] = nil }
        }
        return values
    }

    /// Step `index` on `values`: its runner, a fused convolution in its place, or nothing when an earlier fused
    /// convolution computed it.
    func runStep(_ index: Int, _ values: inout [Tensor?]) {
        let (step, runner) = (spec.steps[index], runners[index])
        if let fused = runner.fused {
            let x = values[fused.input]!
            var addend = fused.addend.map { values[$0]! }
            // When nothing after the convolution but the sum reads the addend, the output takes over its storage.
            if let value = fused.addend, fused.movesAddend { values[value] = nil }
            values[fused.output] = fused.convolution.forward(x, adding: addend.take())
        } else if !runner.absorbed {
            values[step.output] = runner.run(step.inputs.map { values[$0]! })
        }
    }
}

/// A step ready to run: an engine layer for the convolutions that fit one, else the step's kernel in
/// `GraphKernels`, with its weights.
final class StepRunner {
    let step: GraphStep
    let parameters: [Parameter]
    /// The engine layers that run a convolution (empty: `GraphKernels` runs the step).
    let layers: [Layer]
    /// On library kernels: this convolution with the steps after it fused in, which it runs instead of the step.
    var fused: FusedConvolution?
    /// On library kernels: a step computed by an earlier step's fused convolution (it runs nothing).
    var absorbed = false
    /// On library kernels: the step runs in `FastStepKernels` where they take its form.
    var usesFastKernels = false

    init(_ step: GraphStep, name: String, random: inout SplitMix64) {
        self.step = step
        if case let .convolution(window, groups, cap) = step.op, let layers = Self.engineLayers(step, window, groups, cap, name, &random) {
            self.layers = layers
            parameters = layers.flatMap(\.parameters)
        } else {
            layers = []
            parameters = step.weights.enumerated().map { index, shape in
                Parameter("\(name).w\(index)", shape: shape, value: [Float](repeating: 0, count: shape.reduce(1, *)))
            }
        }
    }

    /// For a network on library kernels: `step` on `FastStepKernels` (or `GraphKernels`) with copies of these
    /// weights, or, given `fused`, the fused convolution that runs in its place (which holds its own weights).
    init(_ step: GraphStep, copying weights: [Parameter], fused: FusedConvolution? = nil) {
        self.step = step
        layers = []
        parameters = fused?.convolution.parameters ?? weights.map { Parameter($0.name, shape: $0.shape, value: $0.value, trainable: false) }
        self.fused = fused
        usesFastKernels = true
    }

    func run(_ inputs: [Tensor]) -> Tensor {
        if !layers.isEmpty { return layers.reduce(inputs[0]) { $1.forward($0, training: false) } }
        if usesFastKernels, let output = FastStepKernels.run(step, inputs, weights: parameters.map(\.value)) { return output }
        return GraphKernels.run(step, inputs, weights: parameters.map(\.value))
    }

    /// `Conv2D` for square windows with equal strides, no dilation and one group (after a `ZeroPad` when the pads
    /// differ by side); `DepthwiseConv2D` for one group per channel (uneven pads folded in). Nil: `GraphKernels`.
    private static func engineLayers(_ step: GraphStep, _ w: Window, _ groups: Int, _ cap: Float?, _ name: String,
                                     _ random: inout SplitMix64) -> [Layer]? {
        let k = w.kernel[0], s = w.strides[0], p = w.pads
        guard w.kernel[1] == k, w.strides[1] == s, w.dilations == [1, 1] else { return nil }
        let inChannels = step.weights[0][2] * groups, outChannels = step.weights[0][3], hasBias = step.weights.count > 1
        if groups == 1 {
            let even = p.allSatisfy { $0 == p[0] }
            let conv = Conv2D(name, in: inChannels, out: outChannels, kernel: k, stride: s, padding: even ? p[0] : 0, bias: hasBias, random: &random)
            conv.outputCap = cap
            return even ? [conv] : [ZeroPad(top: p[0], left: p[1], bottom: p[2], right: p[3]), conv]
        }
        guard groups == inChannels, inChannels == outChannels, p[0] == p[1], p[2] == p[3] else { return nil }
        let conv = DepthwiseConv2D(name, channels: inChannels, kernel: k, stride: s, padding: p[0] == p[2] ? p[0] : 0,
                                   bias: hasBias, random: &random)
        if p[0] != p[2] { conv.foldedPadding = (p[0], p[2]) }
        conv.outputCap = cap
        return [conv]
    }
}
