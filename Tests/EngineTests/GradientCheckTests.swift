import Files
import SampleImages
import Testing
@testable import Engine

/// Every layer's backward against central differences of `loss = sum(forward(x) * r)` for a random `r`:
/// the gradient with respect to the input and to every trainable parameter.
struct GradientCheck {
    var random = SplitMix64(seed: 7)

    mutating func tensor(_ shape: [Int], scale: Double = 1) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(random.nextGaussian() * scale) })
    }

    /// Largest relative difference between the analytic and the numerical gradients, over input and parameters.
    mutating func worstError(_ layer: Layer, input: Tensor, training: Bool = true,
                             beforeEachForward: () -> Void = {}) -> Float {
        beforeEachForward()
        let output = layer.forward(input, training: training)
        let weights = tensor(output.shape)
        for p in layer.parameters { p.zeroGradient() }
        let inputGradient = layer.backward(weights)
        func loss() -> Double {
            beforeEachForward()
            let y = layer.forward(input, training: training)
            return zip(y.data, weights.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        var worst: Float = 0
        let h: Float = 1e-2
        var x = input
        for i in 0..<x.count {
            let numeric = CentralDifference.derivative(at: x.data[i], h: h, set: { x.data[i] = $0 }) {
                lossAt(layer, x, weights, training, beforeEachForward)
            }
            worst = max(worst, CentralDifference.relativeError(inputGradient.data[i], numeric))
        }
        for p in layer.parameters where p.trainable {
            for i in 0..<p.count {
                let numeric = CentralDifference.derivative(at: p.value[i], h: h, set: { p.value[i] = $0 }, loss: loss)
                worst = max(worst, CentralDifference.relativeError(p.gradient[i], numeric))
            }
        }
        return worst
    }

    private func lossAt(_ layer: Layer, _ x: Tensor, _ weights: Tensor, _ training: Bool, _ before: () -> Void) -> Double {
        before()
        let y = layer.forward(x, training: training)
        return zip(y.data, weights.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
}

@Suite struct GradientCheckTests {
    @Test(arguments: [(1, 1), (3, 1), (3, 2), (1, 2), (5, 1)])
    func conv2D(kernel: Int, stride: Int) {
        var check = GradientCheck()
        let layer = Conv2D("conv", in: 3, out: 4, kernel: kernel, stride: stride, bias: true, random: &check.random)
        let input = check.tensor([2, 6, 5, 3])
        #expect(check.worstError(layer, input: input) < 2e-2)
    }

    @Test(arguments: [1, 2])
    func conv2DInManyChunksMatchesImageByImage(stride: Int) {
        // Chunks of about 113 output pixels cut images anywhere: forward and backward of the batch must equal
        // the images' own forward and backward (input gradients) and their sum (weight gradients).
        var check = GradientCheck()
        let layer = Conv2D("conv", in: 64, out: 8, kernel: 3, stride: stride, random: &check.random)
        let (n, side, imageSize) = (3, 12, 12 * 12 * 64)
        let input = check.tensor([n, side, side, 64])
        let output = layer.forward(input, training: true)
        let outputGradient = check.tensor(output.shape)
        layer.weight.zeroGradient()
        let inputGradient = layer.backward(outputGradient)
        let batchWeightGradient = layer.weight.gradient
        layer.weight.zeroGradient()
        let outputSize = output.count / n
        for i in 0..<n {
            let image = Tensor(shape: [1, side, side, 64], data: Array(input.data[(i * imageSize)..<((i + 1) * imageSize)]))
            let own = layer.forward(image, training: true)
            let ownOutput = Array(output.data[(i * outputSize)..<((i + 1) * outputSize)])
            #expect(zip(own.data, ownOutput).allSatisfy { abs($0 - $1) < 1e-4 })
            let gradient = Tensor(shape: own.shape, data: Array(outputGradient.data[(i * outputSize)..<((i + 1) * outputSize)]))
            let ownInputGradient = layer.backward(gradient)
            let batchPart = Array(inputGradient.data[(i * imageSize)..<((i + 1) * imageSize)])
            #expect(zip(ownInputGradient.data, batchPart).allSatisfy { abs($0 - $1) < 1e-3 })
        }
        #expect(zip(layer.weight.gradient, batchWeightGradient).allSatisfy { abs($0 - $1) < 1e-2 * max(1, abs($1)) })
    }

    @Test(arguments: [(3, 1, 16), (3, 2, 16), (5, 1, 3), (3, 1, 5)])
    func conv2DDirectLoops(kernel: Int, stride: Int, inChannels: Int) {
        // The direct loops (whatever this build's CPU target): 16 output channels, input channels that do and
        // do not allow a direct input gradient, widths that leave pixel tails, weight rows that cross taps.
        var check = GradientCheck()
        let layer = Conv2D("conv", in: inChannels, out: 16, kernel: kernel, stride: stride, random: &check.random)
        layer.usesDirectLoops = true
        #expect(check.worstError(layer, input: check.tensor([2, 5, 7, inChannels])) < 2e-2)
    }

    @Test(arguments: [(3, 1, 16, 32), (3, 2, 32, 16), (3, 1, 3, 16), (5, 1, 16, 16), (3, 1, 24, 48), (3, 1, 8, 20),
                      (3, 1, 64, 16), (3, 2, 72, 32), (3, 1, 16, 80)])
    func conv2DDirectLoopsMatchIm2col(kernel: Int, stride: Int, inChannels: Int, outChannels: Int) {
        // Forward, input and weight gradients of a batch split between two threads, both ways. 20 output
        // channels do not qualify for the direct loops (they must fall back). Long windows make the forward
        // pass take the weights in slices: 64 and 72 input channels, and 80 output channels for the flipped
        // input gradient (72 and 80: a slice ends inside a kernel row). At stride 1 the 21 x 13 output takes
        // the weight gradient in three bands of rows.
        var check = GradientCheck()
        let layer = Conv2D("conv", in: inChannels, out: outChannels, kernel: kernel, stride: stride, random: &check.random)
        layer.threads = 2
        let input = check.tensor([3, 21, 13, inChannels])
        func run(direct: Bool) -> (Tensor, Tensor, [Float]) {
            layer.usesDirectLoops = direct
            layer.weight.zeroGradient()
            let output = layer.forward(input, training: true)
            var gradients = GradientCheck(random: SplitMix64(seed: 3))
            let inputGradient = layer.backward(gradients.tensor(output.shape))
            return (output, inputGradient, layer.weight.gradient)
        }
        let (direct, viaColumns) = (run(direct: true), run(direct: false))
        // The largest difference, relative to values of at least 1 (a short message when it fails).
        func worst(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0 }
        #expect(direct.0.shape == viaColumns.0.shape)
        #expect(worst(direct.0.data, viaColumns.0.data) <= 1e-4)
        #expect(worst(direct.1.data, viaColumns.1.data) <= 1e-4)
        #expect(worst(direct.2, viaColumns.2) <= 1e-4)
    }

    @Test(arguments: [1, 2])
    func depthwiseConv2D(stride: Int) {
        var check = GradientCheck()
        let layer = DepthwiseConv2D("dw", channels: 3, kernel: 3, stride: stride, random: &check.random)
        #expect(check.worstError(layer, input: check.tensor([2, 5, 6, 3])) < 2e-2)
    }

    /// The uneven padding of TensorFlow's "SAME" at stride 2: a `ZeroPad` then an unpadded depthwise
    /// convolution with a bias, as EfficientNet-Lite's stride-2 blocks are built.
    @Test func zeroPadThenUnpaddedDepthwiseWithBias() {
        var check = GradientCheck()
        let layer = Sequential([ZeroPad(top: 1, left: 1, bottom: 2, right: 2),
                                DepthwiseConv2D("dw", channels: 3, kernel: 5, stride: 2, padding: 0, bias: true, random: &check.random)])
        #expect(check.worstError(layer, input: check.tensor([2, 6, 5, 3])) < 2e-2)
    }

    @Test func batchNormTraining() {
        var check = GradientCheck()
        let layer = BatchNorm("bn", channels: 3)
        layer.scale.value = [0.5, 1.5, -1]
        layer.shift.value = [0.1, -0.2, 0.3]
        #expect(check.worstError(layer, input: check.tensor([4, 3, 2, 3], scale: 2)) < 2e-2)
    }

    @Test func batchNormWithVectorisedSums() {
        // Channel counts that are a multiple of eight take the vectorised path for the sums.
        var check = GradientCheck()
        let layer = BatchNorm("bn", channels: 16)
        layer.scale.value = (0..<16).map { Float($0) / 8 - 1 }
        #expect(check.worstError(layer, input: check.tensor([3, 2, 3, 16], scale: 2)) < 2e-2)
    }

    @Test func batchNormWithReLU() {
        // The fused ReLU against the two layers apart, forward and backward.
        var check = GradientCheck()
        let fused = BatchNorm("bn", channels: 3, relu: true), plain = BatchNorm("bn", channels: 3)
        for layer in [fused, plain] {
            layer.scale.value = [0.5, 1.5, -1]
            layer.shift.value = [0.1, -0.2, 0.3]
        }
        let separate = Sequential([plain, ReLU()])
        let input = check.tensor([4, 3, 2, 3], scale: 2)
        let (a, b) = (fused.forward(input, training: true), separate.forward(input, training: true))
        #expect(zip(a.data, b.data).allSatisfy { abs($0 - $1) < 1e-6 })
        let gradient = check.tensor(a.shape)
        let (da, db) = (fused.backward(gradient), separate.backward(gradient))
        #expect(zip(da.data, db.data).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(fused.scale.gradient, plain.scale.gradient).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(check.worstError(fused, input: input) < 2e-2)
    }

    @Test func batchNormEvaluationAndFrozen() {
        var check = GradientCheck()
        let layer = BatchNorm("bn", channels: 3)
        layer.runningMean.value = [0.2, -0.1, 0]
        layer.runningVariance.value = [0.5, 2, 1]
        layer.scale.value = [0.5, 1.5, -1]
        layer.scale.trainable = false
        #expect(check.worstError(layer, input: check.tensor([2, 2, 2, 3])) < 2e-2)
    }

    @Test func batchNormTrainingUpdatesRunningStatistics() {
        let layer = BatchNorm("bn", channels: 1, momentum: 0.5)
        _ = layer.forward(Tensor(shape: [4, 1], data: [1, 2, 3, 4]), training: true)
        #expect(abs(layer.runningMean.value[0] - 1.25) < 1e-6)              // 0.5 * 0 + 0.5 * 2.5
        #expect(abs(layer.runningVariance.value[0] - (0.5 + 0.5 * 5 / 3)) < 1e-5)  // unbiased variance 5/3
        let evaluated = layer.forward(Tensor(shape: [1, 1], data: [1.25]), training: false)
        #expect(abs(evaluated.data[0]) < 1e-6)
    }

    @Test func reluAndReLU6() {
        var check = GradientCheck()
        // Values away from the kinks at 0 and 6, where the numerical gradient is undefined.
        var input = check.tensor([2, 3, 3, 2], scale: 4)
        input.data = input.data.map { abs($0) < 0.1 || abs($0 - 6) < 0.1 ? $0 + 0.3 : $0 }
        #expect(check.worstError(ReLU(), input: input) < 1e-2)
        #expect(check.worstError(ReLU(cap: 6), input: input) < 1e-2)
    }

    @Test func pooling() {
        var check = GradientCheck()
        #expect(check.worstError(MaxPool(kernel: 2), input: check.tensor([2, 4, 6, 3])) < 1e-2)
        #expect(check.worstError(MaxPool(kernel: 3, stride: 2), input: check.tensor([1, 7, 5, 2])) < 1e-2)
        #expect(check.worstError(AveragePool(kernel: 2), input: check.tensor([2, 4, 4, 3])) < 1e-2)
        #expect(check.worstError(GlobalAveragePool(), input: check.tensor([2, 3, 4, 5])) < 1e-2)
    }

    @Test func denseAndFlatten() {
        var check = GradientCheck()
        let dense = Dense("fc", in: 12, out: 5, random: &check.random)
        #expect(check.worstError(Sequential([Flatten(), dense]), input: check.tensor([3, 2, 2, 3])) < 2e-2)
    }

    @Test func dropoutWithAFixedMask() {
        var check = GradientCheck()
        let layer = Dropout(rate: 0.4, seed: 1)
        let error = check.worstError(layer, input: check.tensor([4, 10])) { layer.random = SplitMix64(seed: 1) }
        #expect(error < 1e-2)
        let output = layer.forward(Tensor(shape: [1, 1000], data: [Float](repeating: 1, count: 1000)), training: true)
        let dropped = output.data.filter { $0 == 0 }.count
        #expect(dropped > 330 && dropped < 470)
        #expect(layer.forward(Tensor(shape: [1, 3], data: [1, 2, 3]), training: false).data == [1, 2, 3])
    }

    @Test func residualBlockWithProjection() {
        var check = GradientCheck()
        let block = Residual(
            body: Sequential([Conv2D("a", in: 2, out: 3, kernel: 3, stride: 2, random: &check.random), BatchNorm("b", channels: 3),
                              ReLU(), Conv2D("c", in: 3, out: 3, kernel: 3, random: &check.random)]),
            shortcut: Sequential([Conv2D("s", in: 2, out: 3, kernel: 1, stride: 2, random: &check.random)]))
        #expect(check.worstError(block, input: check.tensor([2, 4, 4, 2])) < 3e-2)
        let identity = Residual(body: Sequential([Conv2D("i", in: 2, out: 2, kernel: 3, random: &check.random)]))
        #expect(check.worstError(identity, input: check.tensor([1, 3, 3, 2])) < 2e-2)
        let rectified = Residual(body: Sequential([Conv2D("r", in: 2, out: 2, kernel: 3, random: &check.random)]), relu: true)
        #expect(check.worstError(rectified, input: check.tensor([2, 3, 3, 2])) < 2e-2)
    }

    @Test(arguments: [Float(0), 0.1])
    func softmaxCrossEntropy(smoothing: Float) {
        var check = GradientCheck()
        let logits = check.tensor([3, 4], scale: 2)
        let labels = [0, 3, 1]
        let loss = SoftmaxCrossEntropy(smoothing: smoothing, classWeights: [1, 2, 0.5, 1])
        let analytic = loss.evaluate(logits: logits, labels: labels).gradient
        for i in 0..<logits.count {
            var up = logits, down = logits
            up.data[i] += 1e-2
            down.data[i] -= 1e-2
            let numeric = (loss.evaluate(logits: up, labels: labels).loss - loss.evaluate(logits: down, labels: labels).loss) / 2e-2
            #expect(abs(numeric - analytic.data[i]) < 2e-3)
        }
        let probabilities = loss.evaluate(logits: logits, labels: labels).probabilities
        for row in 0..<3 { #expect(abs(probabilities.data[row * 4..<row * 4 + 4].reduce(0, +) - 1) < 1e-5) }
    }
}

/// The backward passes of an imported network's steps that the reduced CNN families do not reach (BackboneTests
/// checks those on real networks): a hand-made graph of two dense layers around tanh, subtract (a constant on
/// either side), leaky ReLU, divide, multiply of two values, transpose and reshape, then clip, sigmoid and hard
/// sigmoid; both dense layers' weight gradients against central differences.
@Suite struct GraphGradientTests {
    @Test func everyStepsBackwardMatchesFiniteDifferences() {
        var check = GradientCheck()
        let image = [1, 4, 4, 3]
        let steps = [
            GraphStep(.reshape, inputs: [0], output: 1, shape: [1, 48]),
            GraphStep(.dense, inputs: [1], output: 2, shape: [1, 48], weights: [[48, 48], [48]]),
            GraphStep(.reshape, inputs: [2], output: 3, shape: image),
            GraphStep(.unary(.tanh), inputs: [3], output: 4, shape: image),
            GraphStep(.binary(.subtract, constantFirst: false), inputs: [4], output: 5, shape: image, weights: [[3]]),
            GraphStep(.unary(.leakyRelu(alpha: 0.1)), inputs: [5], output: 6, shape: image),
            GraphStep(.binary(.divide, constantFirst: false), inputs: [6], output: 7, shape: image, weights: [[1, 1, 1, 3]]),
            GraphStep(.binary(.multiply, constantFirst: false), inputs: [7, 4], output: 8, shape: image),
            GraphStep(.binary(.subtract, constantFirst: true), inputs: [8], output: 9, shape: image, weights: [[3]]),
            GraphStep(.transpose(perm: [0, 3, 1, 2]), inputs: [9], output: 10, shape: [1, 3, 4, 4]),
            GraphStep(.reshape, inputs: [10], output: 11, shape: [1, 48]),
            GraphStep(.dense, inputs: [11], output: 12, shape: [1, 5], weights: [[48, 5], [5]]),
            GraphStep(.unary(.clip(low: -0.5, high: 0.7)), inputs: [12], output: 13, shape: [1, 5]),
            GraphStep(.unary(.sigmoid), inputs: [13], output: 14, shape: [1, 5]),
            GraphStep(.unary(.hardSigmoid(alpha: 0.8, beta: 0.1)), inputs: [14], output: 15, shape: [1, 5]),
        ]
        let spec = GraphSpec(inputShape: image, steps: steps, output: 15, featureWidth: 5)
        #expect(spec.problem == nil)
        let weights = steps.map { step in
            step.weights.map { shape in check.tensor(shape, scale: 0.3).data.map { shape == [1, 1, 1, 3] ? abs($0) + 0.5 : $0 } }
        }
        let graph = GraphNetwork(spec, weights: weights)
        #expect(graph.fineTuningProblem(2) == nil)
        graph.unfreezeLast(2, rateScale: 1)
        let trained = graph.parameters.filter(\.trainable)
        #expect(trained.map(\.count) == [48 * 48, 48, 48 * 5, 5], "only the dense layers learn")
        let input = check.tensor(image), r = check.tensor([1, 5])
        _ = graph.forward(input, training: true)
        _ = graph.backward(r)
        func loss() -> Double { zip(graph.forward(input, training: false).data, r.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
        var worst: Float = 0
        for p in trained {
            for i in stride(from: 0, to: p.count, by: max(1, p.count / 40)) {
                let numeric = CentralDifference.derivative(at: p.value[i], h: 1e-3, set: { p.value[i] = $0 }, loss: loss)
                worst = max(worst, CentralDifference.relativeError(p.gradient[i], numeric))
            }
        }
        #expect(worst < 1e-2, "largest relative error \(worst)")
    }
}
