import Files

/// EfficientNet-Lite (Tan and Le's EfficientNet without squeeze-excite and with ReLU6, as TensorFlow's
/// `efficientnet_lite_builder.py` defines it): a 3x3 stride-2 stem to 32 channels, seven stages of MBConv
/// blocks, a 1x1 convolution to 1280 and global average pooling; `Model` adds dropout and the classifier. Lite1
/// and Lite2 scale the stages' widths and depths; the stem, the head and the first and last stages' repeats stay
/// fixed, as the Lite family defines. Batch norm has epsilon 1e-3 (running variances of 0 occur in the weights).
/// TensorFlow's "SAME" padding is computed for the model's input size: uneven (`ZeroPad`) where a stride-2
/// window does not fit evenly.
public enum EfficientNetLite {
    public enum Variant: String, Codable, CaseIterable, Sendable {
        case lite0, lite1, lite2

        /// (width multiplier, depth multiplier, input side, dropout before the classifier).
        var coefficients: (width: Double, depth: Double, resolution: Int, dropout: Float) {
            switch self {
            case .lite0: (1.0, 1.0, 224, 0.2)
            case .lite1: (1.0, 1.1, 240, 0.2)
            case .lite2: (1.1, 1.2, 260, 0.3)
            }
        }

        public var inputSize: Int { coefficients.resolution }
        public var dropout: Float { coefficients.dropout }
    }

    /// The features the network hands the classifier.
    public static let featureWidth = 1280

    /// One MBConv block: an optional 1x1 expansion, a depthwise convolution, a 1x1 projection.
    struct Block: Equatable {
        let kernel, stride, expansion, input, output: Int
        var skips: Bool { stride == 1 && input == output }
    }

    /// `r1_k3_s11_e1_i32_o16`, …: repeats, kernel, stride, expansion, input and output channels per stage.
    private static let stages: [(repeats: Int, kernel: Int, stride: Int, expansion: Int, input: Int, output: Int)] = [
        (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
        (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
    ]

    /// Channels scaled by the width multiplier, to a multiple of 8, never more than 10% below.
    static func scaledChannels(_ channels: Int, _ multiplier: Double) -> Int {
        guard multiplier != 1 else { return channels }
        let scaled = Double(channels) * multiplier
        var rounded = max(8, Int(scaled + 4) / 8 * 8)
        if Double(rounded) < 0.9 * scaled { rounded += 8 }
        return rounded
    }

    static func blocks(_ variant: Variant) -> [Block] {
        let (width, depth, _, _) = variant.coefficients
        var blocks: [Block] = []
        for (index, stage) in stages.enumerated() {
            let fixed = index == 0 || index == stages.count - 1
            let repeats = fixed ? stage.repeats : Int((depth * Double(stage.repeats)).rounded(.up))
            let input = index == 0 ? 32 : scaledChannels(stage.input, width)
            let output = scaledChannels(stage.output, width)
            for r in 0..<repeats {
                blocks.append(Block(kernel: stage.kernel, stride: r == 0 ? stage.stride : 1, expansion: stage.expansion,
                                    input: r == 0 ? input : output, output: output))
            }
        }
        return blocks
    }

    /// The network up to the pooled features, with fresh weights (a converted checkpoint fills them in). Names:
    /// `stem.conv`, `stem.bn`, `blocks.<i>.{expand,depthwise,project}.{conv,bn}`, `top.conv`, `top.bn`.
    static func features(_ variant: Variant, _ random: inout SplitMix64) -> Sequential {
        var side = variant.inputSize
        var layers: [Layer] = convolution("stem", 3, 32, kernel: 3, stride: 2, side: &side, &random) + activation("stem", 32)
        for (i, block) in blocks(variant).enumerated() {
            let name = "blocks.\(i)"
            let expanded = block.input * block.expansion
            var body: [Layer] = []
            if block.expansion != 1 {
                body += [Conv2D("\(name).expand.conv", in: block.input, out: expanded, kernel: 1, random: &random)]
                body += activation("\(name).expand", expanded)
            }
            body += depthwise("\(name).depthwise", expanded, kernel: block.kernel, stride: block.stride, side: &side, &random)
            body += activation("\(name).depthwise", expanded)
            body += [Conv2D("\(name).project.conv", in: expanded, out: block.output, kernel: 1, random: &random),
                     batchNorm("\(name).project", block.output)]
            layers.append(block.skips ? Residual(body: Sequential(body)) : Sequential(body))
        }
        let last = blocks(variant).last!.output
        layers += [Conv2D("top.conv", in: last, out: featureWidth, kernel: 1, random: &random)] + activation("top", featureWidth)
        return Sequential(layers + [GlobalAveragePool()])
    }

    private static func batchNorm(_ name: String, _ channels: Int) -> BatchNorm {
        // PyTorch momentum 0.01 (TensorFlow's 0.99): the running statistics move slowly while fine-tuning.
        BatchNorm("\(name).bn", channels: channels, momentum: 0.99, epsilon: 1e-3)
    }

    private static func activation(_ name: String, _ channels: Int) -> [Layer] {
        [batchNorm(name, channels), ReLU(cap: 6)]
    }

    /// A convolution with TensorFlow's "SAME" padding for a `side` x `side` input (updated to the output side).
    private static func convolution(_ name: String, _ input: Int, _ output: Int, kernel: Int, stride: Int, side: inout Int,
                                    _ random: inout SplitMix64) -> [Layer] {
        let (pad, even) = samePadding(side: side, kernel: kernel, stride: stride)
        side = (side + stride - 1) / stride
        return pad + [Conv2D("\(name).conv", in: input, out: output, kernel: kernel, stride: stride,
                             padding: even ? nil : 0, random: &random)]
    }

    private static func depthwise(_ name: String, _ channels: Int, kernel: Int, stride: Int, side: inout Int,
                                  _ random: inout SplitMix64) -> [Layer] {
        let (pad, even) = samePadding(side: side, kernel: kernel, stride: stride)
        side = (side + stride - 1) / stride
        return pad + [DepthwiseConv2D("\(name).conv", channels: channels, kernel: kernel, stride: stride,
                                      padding: even ? nil : 0, random: &random)]
    }

    /// A `ZeroPad` when "SAME" pads unevenly (or otherwise than kernel / 2); `even`: the layer pads itself.
    private static func samePadding(side: Int, kernel: Int, stride: Int) -> (layers: [Layer], even: Bool) {
        let (before, after) = ZeroPad.same(size: side, kernel: kernel, stride: stride)
        if before == after && before == kernel / 2 { return ([], true) }
        return ([ZeroPad(top: before, left: before, bottom: after, right: after)], false)
    }
}
