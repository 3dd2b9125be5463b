import Files
import Testing
@testable import Engine

/// EfficientNet-Lite's structure and its fast inference paths against the plain ones: the depthwise direct loops
/// against the reference loop, the folded feature extractor against the unfolded network. (Its agreement with
/// PyTorch on the real weights is in BackboneTests.)
@Suite struct EfficientNetTests {
    @Test func stagesFollowTheLiteFamilysScaling() {
        #expect(EfficientNetLite.blocks(.lite0).count == 16)
        #expect(EfficientNetLite.blocks(.lite1).count == 21 && EfficientNetLite.blocks(.lite2).count == 21)
        // Stage outputs (the last block of each), checked against the checkpoints' shapes.
        func outputs(_ v: EfficientNetLite.Variant) -> [Int] {
            var seen: [Int] = []
            for block in EfficientNetLite.blocks(v) where seen.last != block.output { seen.append(block.output) }
            return seen
        }
        #expect(outputs(.lite0) == [16, 24, 40, 80, 112, 192, 320])
        #expect(outputs(.lite2) == [16, 24, 48, 88, 120, 208, 352])
        #expect(EfficientNetLite.blocks(.lite2).first == .init(kernel: 3, stride: 1, expansion: 1, input: 32, output: 16))
        #expect(ZeroPad.same(size: 224, kernel: 3, stride: 2) == (0, 1))
        #expect(ZeroPad.same(size: 56, kernel: 5, stride: 2) == (1, 2))
        #expect(ZeroPad.same(size: 15, kernel: 5, stride: 2) == (2, 2))
        #expect(ZeroPad.same(size: 7, kernel: 3, stride: 1) == (1, 1))
    }

    @Test(arguments: [(2, 9, 7, 12, 3, 1, nil as Int?), (1, 10, 10, 16, 5, 2, 0), (3, 8, 8, 8, 3, 2, 1), (1, 12, 11, 96, 5, 1, nil), (2, 7, 7, 20, 3, 1, nil)])
    func depthwiseDirectLoopsMatchTheReference(batch: Int, height: Int, width: Int, channels: Int, kernel: Int, stride: Int, padding: Int?) {
        var random = SplitMix64(seed: 3)
        let layer = DepthwiseConv2D("dw", channels: channels, kernel: kernel, stride: stride, padding: padding, bias: true, random: &random)
        layer.bias!.value = (0..<channels).map { _ in Float(random.nextGaussian()) }
        let input = Tensor(shape: [batch, height, width, channels], data: (0..<(batch * height * width * channels)).map { _ in Float(random.nextGaussian()) })
        for cap in [nil, 6 as Float?, 0.5] {
            layer.outputCap = cap
            layer.usesDirectLoops = true
            let direct = layer.forward(input, training: false)
            layer.usesDirectLoops = false
            let reference = layer.forward(input, training: false)
            #expect(direct.shape == reference.shape)
            let worst = zip(direct.data, reference.data).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-5, "channels \(channels), kernel \(kernel), stride \(stride), cap \(String(describing: cap)): off by \(worst)")
        }
    }

    /// One convolution + batch norm + ReLU6 of each kind, folded: the same values up to rounding.
    @Test func foldingOneLayer() {
        var random = SplitMix64(seed: 4)
        let norm = BatchNorm("bn", channels: 16, epsilon: 1e-3)
        norm.scale.value = (0..<16).map { _ in Float(1 + 0.5 * random.nextGaussian()) }
        norm.shift.value = (0..<16).map { _ in Float(random.nextGaussian()) }
        norm.runningMean.value = (0..<16).map { _ in Float(random.nextGaussian()) }
        norm.runningVariance.value = (0..<16).map { i in i == 3 ? 0 : Float(0.1 + random.nextUnit()) }  // 0 occurs in the weights
        let input = Tensor(shape: [2, 9, 8, 16], data: (0..<(2 * 9 * 8 * 16)).map { _ in Float(random.nextGaussian()) })
        let layers: [[Layer]] = [
            [Conv2D("c", in: 16, out: 16, kernel: 1, random: &random), norm, ReLU(cap: 6)],
            [Conv2D("c", in: 16, out: 16, kernel: 3, stride: 2, random: &random), norm, ReLU(cap: 6)],
            [DepthwiseConv2D("d", channels: 16, kernel: 5, random: &random), norm, ReLU(cap: 6)],
            [DepthwiseConv2D("d", channels: 16, kernel: 3, stride: 2, random: &random), norm],
        ]
        for stack in layers {
            let plain = Sequential(stack).forward(input, training: false)
            let folded = InferenceFolding.folded(stack)
            #expect(folded.count == 1, "\(stack.map { type(of: $0) })")
            let fast = Sequential(folded).forward(input, training: false)
            let worst = zip(plain.data, fast.data).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4, "\(stack.map { type(of: $0) }): off by \(worst)")
        }
    }

    /// A `ZeroPad` merged into the depthwise convolution after it (the stride-2 blocks at inference): the same
    /// values as the two layers apart.
    @Test(arguments: [(0, 1, 3), (1, 2, 5), (2, 2, 5)])
    func unevenPaddingFoldedIntoTheDepthwiseConvolution(before: Int, after: Int, kernel: Int) {
        var random = SplitMix64(seed: 6)
        let pad = ZeroPad(top: before, left: before, bottom: after, right: after)
        let conv = DepthwiseConv2D("d", channels: 24, kernel: kernel, stride: 2, padding: 0, bias: true, random: &random)
        let input = Tensor(shape: [2, 14, 15, 24], data: (0..<(2 * 14 * 15 * 24)).map { _ in Float(random.nextGaussian()) })
        let plain = conv.forward(pad.forward(input, training: false), training: false)
        let merged = InferenceFolding.folded([pad, conv])
        #expect(merged.count == 1)
        let fast = Sequential(merged).forward(input, training: false)
        #expect(conv.foldedPadding == nil, "the original layer was changed")
        #expect(fast.shape == plain.shape)
        #expect(zip(fast.data, plain.data).allSatisfy { abs($0 - $1) <= 1e-5 })
    }

    /// Batch norm with statistics away from the identity, folded into the convolutions (and ReLU6 into their output):
    /// the same pooled features as the unfolded network in inference mode.
    @Test func foldedFeaturesMatchTheUnfoldedNetwork() {
        var spec = ModelSpec(classes: 3)
        spec.architecture = .efficientnetLite0
        spec.inputSize = 64  // the structure is the same at any size; 224 is what the weights were trained at
        let model = Model(spec: spec, labels: ["a", "b", "c"], normalization: .efficientNetLite, seed: 2)
        var random = SplitMix64(seed: 9)
        for p in model.parameters where p.name.contains(".bn.") {
            for i in 0..<p.count {
                let v = Float(random.nextGaussian())
                p.value[i] = p.name.hasSuffix("running_var") ? 0.5 + 0.5 * v * v : p.name.hasSuffix("weight") ? 1 + 0.1 * v : 0.1 * v
            }
        }
        let input = Tensor(shape: [2, 64, 64, 3], data: (0..<(2 * 64 * 64 * 3)).map { _ in Float(random.nextGaussian()) })
        let unfolded = Sequential(Array(model.network.layers.dropLast(2))).forward(input, training: false)
        let folded = model.featureExtractor().forward(input, training: false)
        #expect(folded.shape == [2, EfficientNetLite.featureWidth])
        let largest = unfolded.data.map(abs).max()!
        let worst = zip(folded.data, unfolded.data).map { abs($0 - $1) }.max()!
        #expect(largest > 0.1 && worst <= 1e-4 * largest, "off by \(worst) of \(largest)")
    }

    /// Inference on a batch runs image by image, the threads taking shares of the images: the same features as
    /// each image through the network alone (layer by layer).
    @Test func batchInferenceMatchesEachImageAlone() {
        var spec = ModelSpec(classes: 3)
        spec.architecture = .efficientnetLite0
        spec.inputSize = 32
        let extractor = Model(spec: spec, labels: ["a", "b", "c"], normalization: .efficientNetLite, seed: 4).featureExtractor()
        var random = SplitMix64(seed: 3)
        let images = 3, size = 32 * 32 * 3
        let input = Tensor(shape: [images, 32, 32, 3], data: (0..<(images * size)).map { _ in Float(random.nextGaussian()) })
        let saved = Parallel.threads
        Parallel.threads = 2
        defer { Parallel.threads = saved }
        let batch = extractor.forward(input, training: false)
        #expect(batch.shape == [images, EfficientNetLite.featureWidth])
        for n in 0..<images {
            let alone = extractor.forward(Tensor(shape: [1, 32, 32, 3], data: Array(input.data[n * size..<(n + 1) * size])), training: false)
            // Not bit-equal: a lone image's layers split their pixels between the threads, which changes the
            // order of the products' sums.
            let share = batch.data[n * alone.count..<(n + 1) * alone.count]
            let worst = zip(share, alone.data).map { abs($0 - $1) }.max()!, largest = alone.data.map(abs).max()!
            #expect(largest > 0.1 && worst <= 1e-5 * largest, "image \(n): off by \(worst) of \(largest)")
        }
    }
}
