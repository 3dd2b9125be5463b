import Files
import SampleImages
import Foundation
import Testing
@testable import Engine

/// The library kernels (oneDNN, `InferenceKernels.library`) against the engine's own loops (llm.c's way): each
/// convolution shape and post-op against the plain loops, and whole networks built from scratch on two real
/// photographs against their reference inference network, within 1e-4 of the largest logit.
@Suite struct LibraryKernelTests {
    static func random(_ count: Int, _ random: inout SplitMix64, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in scale * Float(random.nextGaussian()) }
    }

    /// (in channels, out channels, groups, kernel, stride, pads [top, left, bottom, right], dilation, post-ops).
    static let shapes: [(Int, Int, Int, Int, Int, [Int], Int, [PostOp])] = [
        (3, 32, 1, 3, 2, [0, 0, 1, 1], 1, [.clamp(low: 0, high: 6)]),           // Lite's stem, TensorFlow's uneven SAME
        (16, 96, 1, 1, 1, [0, 0, 0, 0], 1, [.clamp(low: 0, high: .infinity)]),  // 1x1 expansion, ReLU
        (24, 24, 24, 5, 2, [1, 1, 2, 2], 1, [.clamp(low: 0, high: 6)]),         // depthwise, uneven pads
        (40, 40, 40, 3, 1, [1, 1, 1, 1], 1, [.hardSwish]),                      // MobileNetV3's depthwise
        (32, 16, 1, 1, 1, [0, 0, 0, 0], 1, [.addition]),                        // project + residual
        (16, 16, 1, 3, 1, [1, 1, 1, 1], 1, [.addition, .clamp(low: 0, high: .infinity)]),  // ResNet's block end
        (24, 48, 3, 3, 2, [1, 1, 1, 1], 1, [.sigmoid]),                         // grouped (RegNet)
        (8, 12, 1, 3, 1, [2, 2, 2, 2], 2, []),                                  // dilated, no post-op
        (7, 5, 1, 7, 2, [3, 3, 3, 3], 1, [.clamp(low: -1, high: 1)]),           // odd channel counts
    ]

    @Test(arguments: shapes.indices)
    func aConvolutionAndItsPostOpsEqualThePlainLoops(_ index: Int) {
        let (input, output, groups, kernel, stride, pads, dilation, postOps) = Self.shapes[index]
        var random = SplitMix64(seed: UInt64(index) + 1)
        let window = Window(kernel: [kernel, kernel], strides: [stride, stride], dilations: [dilation, dilation], pads: pads)
        let conv = LibraryConvolution("conv\(index)", window: window, groups: groups, inChannels: input, outChannels: output,
                                      weights: Self.random(kernel * kernel * input / groups * output, &random, scale: 0.3),
                                      bias: index % 2 == 0 ? Self.random(output, &random) : nil, postOps: postOps)
        for batch in [1, 3] {
            let x = Tensor(shape: [batch, 13, 11, input], data: Self.random(batch * 13 * 11 * input, &random))
            let addend = conv.adds ? Tensor(shape: conv.outputShape(x.shape), data: Self.random(conv.outputShape(x.shape).reduce(1, *), &random)) : nil
            let fast = conv.forward(x, adding: addend)
            let reference = conv.referenceForward(x, adding: addend)
            #expect(fast.shape == reference.shape)
            let largest = reference.data.map(abs).max()!
            let worst = zip(fast.data, reference.data).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5 * max(1, largest), "shape \(index), batch \(batch): off by \(worst) (largest \(largest))")
            #expect(!conv.implementations.isEmpty, "oneDNN ran no primitive")
        }
    }

    /// The int8 form of each shape (input quantized with the scale its range gives, weights per output channel)
    /// against the plain loops on the values the 8-bit codes stand for, and against the float convolution
    /// within the quantization's own error.
    @Test(arguments: shapes.indices)
    func anInt8ConvolutionEqualsThePlainLoopsOnItsCodes(_ index: Int) {
        let (input, output, groups, kernel, stride, pads, dilation, postOps) = Self.shapes[index]
        var random = SplitMix64(seed: UInt64(index) + 100)
        let window = Window(kernel: [kernel, kernel], strides: [stride, stride], dilations: [dilation, dilation], pads: pads)
        let weights = Self.random(kernel * kernel * input / groups * output, &random, scale: 0.3)
        let bias = Self.random(output, &random)
        // Unsigned input (after a ReLU) for odd shapes, signed for even ones.
        let x = Tensor(shape: [2, 13, 11, input], data: Self.random(2 * 13 * 11 * input, &random).map { index % 2 == 1 ? abs($0) : $0 })
        let range = InputRange()
        range.record(x.data)
        let quantization = InputQuantization(range: range.bounds)
        #expect(quantization.unsigned == (index % 2 == 1))
        func layer(_ q: InputQuantization?, _ ops: [PostOp] = postOps) -> LibraryConvolution {
            LibraryConvolution("conv\(index)", window: window, groups: groups, inChannels: input, outChannels: output,
                               weights: weights, bias: bias, postOps: ops, quantization: q)
        }
        let int8 = layer(quantization), float = layer(nil)
        // The error is the quantization's, relative to the sums before any clamp.
        let sums = layer(nil, []).referenceForward(x, adding: nil).data.map(abs).max()!
        let addend = int8.adds ? Tensor(shape: int8.outputShape(x.shape), data: Self.random(int8.outputShape(x.shape).reduce(1, *), &random)) : nil
        let fast = int8.forward(x, adding: addend)
        let onCodes = int8.referenceForward(x, adding: addend)
        let exact = float.referenceForward(x, adding: addend)
        let largest = exact.data.map(abs).max()!
        let worst = zip(fast.data, onCodes.data).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * max(1, largest), "shape \(index): off by \(worst) from the plain loops on the codes (largest \(largest))")
        let error = zip(fast.data, exact.data).map { abs($0 - $1) }.max()!
        #expect(error <= 0.05 * max(1, sums), "shape \(index): off by \(error) from the float convolution (largest sum \(sums))")
        #expect(int8.implementations.allSatisfy { !$0.isEmpty })
    }

    /// Fusion in an imported graph keeps every value a later step reads: here the sum's other operand (value 1) is
    /// also read after the fused convolution runs, so its storage must not be handed to the sum; and the input of
    /// the last convolution is its own addend.
    @Test func aFusedSumLeavesItsOperandToLaterReaders() {
        let shape = [1, 5, 4, 3]
        let one = Window(kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0])
        let conv = GraphOp.convolution(one, groups: 1, cap: nil)
        let spec = GraphSpec(inputShape: shape, steps: [
            GraphStep(conv, inputs: [0], output: 1, shape: shape, weights: [[1, 1, 3, 3]]),
            GraphStep(conv, inputs: [0], output: 2, shape: shape, weights: [[1, 1, 3, 3]]),
            GraphStep(.unary(.relu), inputs: [1], output: 3, shape: shape),
            GraphStep(.binary(.add, constantFirst: false), inputs: [2, 1], output: 4, shape: shape),
            GraphStep(.binary(.add, constantFirst: false), inputs: [4, 3], output: 5, shape: shape),
            GraphStep(conv, inputs: [5], output: 6, shape: shape, weights: [[1, 1, 3, 3]]),
            GraphStep(.binary(.add, constantFirst: false), inputs: [6, 5], output: 7, shape: shape),
            GraphStep(.reduce(.mean, axes: [1, 2]), inputs: [7], output: 8, shape: [1, 1, 1, 3]),
        ], output: 8, featureWidth: 3)
        #expect(spec.problem == nil)
        var random = SplitMix64(seed: 4)
        let weights = spec.steps.map { step in step.weights.map { Self.random($0.reduce(1, *), &random) } }
        let reference = GraphNetwork(spec, weights: weights)
        let library = reference.onLibrary()
        #expect(library.runners.filter { $0.fused?.addend != nil }.count == 2)
        let x = Tensor(shape: [2, 5, 4, 3], data: Self.random(2 * 60, &random))
        let (expected, got) = (reference.forward(x, training: false), library.forward(x, training: false))
        #expect(zip(expected.data, got.data).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(expected.data) vs \(got.data)")
    }

    /// Each form `FastStepKernels` takes, against `GraphKernels`' plain loops; forms it declines return nil.
    @Test func theFastStepLoopsEqualThePlainOnes() throws {
        var random = SplitMix64(seed: 9)
        let x = Tensor(shape: [1, 9, 7, 6], data: Self.random(9 * 7 * 6, &random, scale: 4))
        let same = Tensor(shape: x.shape, data: Self.random(x.count, &random))
        let channel = Tensor(shape: [1, 1, 1, 6], data: Self.random(6, &random))
        let steps: [(GraphStep, [Tensor], [[Float]])] = [
            (GraphStep(.unary(.hardSwish), inputs: [0], output: 1, shape: x.shape), [x], []),
            (GraphStep(.unary(.hardSigmoid(alpha: 0.2, beta: 0.5)), inputs: [0], output: 1, shape: x.shape), [x], []),
            (GraphStep(.unary(.sigmoid), inputs: [0], output: 1, shape: x.shape), [x], []),
            (GraphStep(.unary(.clip(low: -1, high: 2)), inputs: [0], output: 1, shape: x.shape), [x], []),
            (GraphStep(.binary(.multiply, constantFirst: false), inputs: [0, 1], output: 2, shape: x.shape), [x, channel], []),
            (GraphStep(.binary(.subtract, constantFirst: false), inputs: [0, 1], output: 2, shape: x.shape), [channel, x], []),
            (GraphStep(.binary(.add, constantFirst: false), inputs: [0, 1], output: 2, shape: x.shape), [x, same], []),
            (GraphStep(.binary(.divide, constantFirst: true), inputs: [0], output: 1, shape: x.shape, weights: [[1]]), [x], [[3]]),
            (GraphStep(.reduce(.mean, axes: [1, 2]), inputs: [0], output: 1, shape: [1, 1, 1, 6]), [x], []),
            (GraphStep(.reduce(.sum, axes: [2]), inputs: [0], output: 1, shape: [1, 9, 1, 6]), [x], []),
            (GraphStep(.maxPool(Window(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])), inputs: [0], output: 1, shape: [1, 5, 4, 6]), [x], []),
        ]
        for (step, inputs, weights) in steps {
            let fast = try #require(FastStepKernels.run(step, inputs, weights: weights), "\(step.op) was declined")
            let plain = GraphKernels.run(step, inputs, weights: weights)
            #expect(fast.shape == plain.shape)
            let worst = zip(fast.data, plain.data).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5 * max(1, plain.data.map(abs).max()!), "\(step.op): off by \(worst)")
        }
        // A broadcast of two partial shapes, and a max over positions, stay with the plain loops.
        let row = Tensor(shape: [1, 1, 7, 1], data: Self.random(7, &random))
        #expect(FastStepKernels.run(GraphStep(.binary(.add, constantFirst: false), inputs: [0, 1], output: 2, shape: x.shape), [x, row], weights: []) == nil)
        #expect(FastStepKernels.run(GraphStep(.reduce(.max, axes: [1, 2]), inputs: [0], output: 1, shape: [1, 1, 1, 6]), [x], weights: []) == nil)
    }

    /// The two photographs (chelsea.png, coffee.png) at 64x64, normalised, as the ONNX fixtures hold them.
    static func photos(side: Int) throws -> Tensor {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../BackboneTests/Fixtures/onnx/resnet18.input.f32").standardized.path
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let nchw = Tensor(shape: [2, 3, 64, 64], data: data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
        let photos = nchw.transposed([0, 2, 3, 1])
        guard side != 64 else { return photos }
        // Nearest-neighbour to the network's side (EfficientNet-Lite's 224).
        var values: [Float] = []
        for n in 0..<2 { for y in 0..<side { for x in 0..<side {
            let offset = ((n * 64 + y * 64 / side) * 64 + x * 64 / side) * 3
            values += photos.data[offset..<offset + 3]
        } } }
        return Tensor(shape: [2, side, side, 3], data: values)
    }

    /// Batch norm statistics and scales away from their initial 0 and 1, so that folding them matters.
    static func perturbNormalization(_ layer: Layer, _ random: inout SplitMix64) {
        switch layer {
        case let sequence as Sequential: for inner in sequence.layers { perturbNormalization(inner, &random) }
        case let residual as Residual:
            perturbNormalization(residual.body, &random)
            if let shortcut = residual.shortcut { perturbNormalization(shortcut, &random) }
        case let norm as BatchNorm:
            for parameter in [norm.scale, norm.runningVariance] { parameter.value = parameter.value.map { _ in 0.5 + Float(random.nextUnit()) } }
            for parameter in [norm.shift, norm.runningMean] { parameter.value = parameter.value.map { _ in 0.3 * Float(random.nextGaussian()) } }
        default: break
        }
    }

    /// A 5-class network of `architecture` with seeded weights and perturbed batch norm, and the photos at its size.
    static func modelOnPhotos(_ architecture: ModelSpec.Architecture) throws -> (Model, Tensor) {
        var spec = ModelSpec(classes: 5)
        spec.architecture = architecture
        if architecture == .efficientnetLite0 { spec.inputSize = 224 }
        let model = Model(spec: spec, labels: (0..<5).map { "c\($0)" }, seed: 7)
        var random = SplitMix64(seed: 11)
        perturbNormalization(model.network, &random)
        return (model, try photos(side: spec.inputSize))
    }

    @Test(arguments: [ModelSpec.Architecture.resnet, .baseline, .efficientnetLite0])
    func aNetworkFromScratchGivesTheReferenceLogits(_ architecture: ModelSpec.Architecture) throws {
        let (model, input) = try Self.modelOnPhotos(architecture)
        let fast = model.inferenceNetwork(kernels: .library)
        let reference = model.inferenceNetwork(kernels: .reference).forward(input, training: false)
        let largest = reference.data.map(abs).max()!
        let saved = Kernels.threads
        defer { Kernels.threads = saved }
        for threads in [1, 2] {
            Kernels.threads = threads
            let logits = fast.forward(input, training: false)
            let worst = zip(logits.data, reference.data).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4 * largest, "\(architecture), \(threads) threads: off by \(worst), largest logit \(largest)")
        }
        #expect(Self.libraryConvolutions(fast) > 0)
    }

    /// A network from scratch in int8, calibrated on the photos: within a few percent of its float logits, the same
    /// class for each photo, and its input scales kept by the model file (a damaged scale is refused). (Random
    /// weights through EfficientNet-Lite's sixteen blocks amplify rounding far more than trained ones do: the
    /// installed backbones are checked in BackboneTests.)
    @Test(arguments: [ModelSpec.Architecture.resnet, .baseline])
    func anInt8NetworkStaysCloseToItsFloatForm(_ architecture: ModelSpec.Architecture) throws {
        let (model, input) = try Self.modelOnPhotos(architecture)
        let float = model.inferenceNetwork(kernels: .library).forward(input, training: false)
        let scales = try #require(Int8Calibration.scales(model, batches: [input]))
        #expect(!scales.isEmpty)
        model.int8 = scales
        let network = model.inferenceNetwork(kernels: .library)
        #expect(InferenceKernels.libraryConvolutions(in: network).contains { $0.quantization != nil })
        let int8 = network.forward(input, training: false)
        let largest = float.data.map(abs).max()!
        let worst = zip(int8.data, float.data).map { abs($0 - $1) }.max()!
        #expect(worst <= 0.05 * largest, "\(architecture): int8 off by \(worst), largest logit \(largest)")
        for n in 0..<2 {
            #expect(mostProbable(int8.data[n * 5..<(n + 1) * 5]) == mostProbable(float.data[n * 5..<(n + 1) * 5]))
        }

        let folder = TemporaryFolder()
        try ModelFile.save(model, to: folder.file("int8.safetensors"))
        #expect(try ModelFile.load(folder.file("int8.safetensors")).model.int8 == scales)
        var damaged = try SafeTensors.read(folder.file("int8.safetensors"))
        damaged.metadata["int8"] = #"{"stem.conv":{"scale":-1,"unsigned":true}}"#
        try SafeTensors.write(damaged, to: folder.file("damaged.safetensors"))
        #expect(throws: ModelFileError.self) { try ModelFile.load(folder.file("damaged.safetensors")) }
    }

    /// How many library convolutions a network holds (the library path must be the one tested).
    static func libraryConvolutions(_ layer: Layer) -> Int {
        InferenceKernels.libraryConvolutions(in: layer).count
    }

    @Test func theReferenceKernelsAreTheEnginesOwnLayers() {
        let model = Model(spec: ModelSpec(classes: 3), labels: ["a", "b", "c"], seed: 1)
        #expect(Self.libraryConvolutions(model.inferenceNetwork(kernels: .reference)) == 0)
        #expect(InferenceKernels.description.contains("oneDNN") || InferenceKernels.current == .reference)
    }
}
