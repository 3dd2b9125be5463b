import Files

/// A depthwise convolution: each channel with its own kernel x kernel filter (MobileNet's building block).
/// Direct loops over NHWC, the channel loop innermost and contiguous.
public final class DepthwiseConv2D: Layer {
    public let kernel, stride, channels: Int
    /// As `Conv2D.padding`: `kernel / 2` on every side, or 0 after an uneven `ZeroPad`.
    public let padding: Int
    public let weight: Parameter
    /// Present when batch norm was folded into the weights (inference).
    public let bias: Parameter?
    private var input: Tensor?

    public init(_ name: String, channels: Int, kernel: Int = 3, stride: Int = 1, padding: Int? = nil, bias: Bool = false,
                random: inout SplitMix64) {
        (self.kernel, self.stride, self.channels) = (kernel, stride, channels)
        self.padding = padding ?? kernel / 2
        weight = Parameter("\(name).weight", shape: [kernel, kernel, channels],
                           value: heNormal(count: kernel * kernel * channels, fanIn: kernel * kernel, &random), decays: true)
        self.bias = bias ? Parameter("\(name).bias", shape: [channels], value: [Float](repeating: 0, count: channels)) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    private func geometry(_ shape: [Int]) -> WindowGeometry {
        precondition(shape.last == channels, "\(weight.name): expected \(channels) channels, got shape \(shape)")
        return WindowGeometry(shape, kernel: kernel, stride: stride, padding: padding)
    }

    /// Calls `body(inputPixel, outputPixel, tap)` with element offsets for every in-bounds tap.
    private func forEachTap(_ g: WindowGeometry, _ body: (Int, Int, Int) -> Void) {
        let c = g.channels
        for n in 0..<g.batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    let out = ((n * g.outHeight + oy) * g.outWidth + ox) * c
                    for ky in 0..<kernel {
                        let iy = oy * stride + ky - g.padding
                        guard iy >= 0 && iy < g.height else { continue }
                        for kx in 0..<kernel {
                            let ix = ox * stride + kx - g.padding
                            guard ix >= 0 && ix < g.width else { continue }
                            body(((n * g.height + iy) * g.width + ix) * c, out, (ky * kernel + kx) * c)
                        }
                    }
                }
            }
        }
    }

    /// With batch norm folded in (inference), the ReLU6 that followed: outputs are clamped to [0, cap].
    var outputCap: Float?
    /// Tests compare the direct loops with the reference loop below.
    var usesDirectLoops = true

    /// Inference: the uneven zero border of the `ZeroPad` before this layer, folded in (`padding` is then 0): the
    /// direct loops read the image from a buffer with the larger border, from where the smaller one starts.
    var foldedPadding: (before: Int, after: Int)?

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(!training || (outputCap == nil && foldedPadding == nil), "\(weight.name): a folded layer is for inference only")
        precondition(input.shape.last == channels, "\(weight.name): expected \(channels) channels, got shape \(input.shape)")
        if training { self.input = input }
        guard usesDirectLoops else {
            let padded = foldedPadding.map { ZeroPad(top: $0.before, left: $0.before, bottom: $0.after, right: $0.after).forward(input, training: false) }
            return referenceForward(padded ?? input, geometry((padded ?? input).shape))
        }
        let (before, after) = foldedPadding ?? (padding, padding)
        let border = max(before, after)
        // The geometry of the padded input, as the window sees it.
        let g = WindowGeometry([input.shape[0], input.shape[1] + before + after, input.shape[2] + before + after, channels],
                               kernel: kernel, stride: stride, padding: 0)
        var output = Tensor(uninitialized: [g.batch, g.outHeight, g.outWidth, channels])
        let (height, width) = (input.shape[1], input.shape[2])
        let (c, paddedWidth) = (channels, width + 2 * border)
        let origin = ((border - before) * paddedWidth + (border - before)) * c
        let imageSize = height * width * c, outputSize = g.outHeight * g.outWidth * c
        input.data.withUnsafeBufferPointer { x in
            weight.value.withUnsafeBufferPointer { w in
                output.data.withUnsafeMutableBufferPointer { y in
                    let (source, target, weights) = (x.baseAddress!, y.baseAddress!, w.baseAddress!)
                    (self.bias?.value).withOptionalPointer { b in
                        // Images are shared among the threads; a single image, its rows.
                        let byImage = g.batch > 1
                        Parallel.forEachRange(byImage ? g.batch : 1) { _, images in
                            let padded = border > 0
                                ? DirectConvolution.PaddedImage(height: height, width: width, channels: c, padding: border) : nil
                            defer { padded?.deallocate() }
                            for n in images {
                                padded?.fill(from: source + n * imageSize)
                                let image = padded.map { UnsafePointer($0.values) + origin } ?? source + n * imageSize
                                func run(_ rows: Range<Int>) {
                                    DirectDepthwise.forward(image, width: paddedWidth, channels: c, kernel: kernel, stride: stride,
                                                            weights: weights, bias: b, cap: outputCap, outWidth: g.outWidth,
                                                            rows: rows, into: target + n * outputSize)
                                }
                                if byImage { run(0..<g.outHeight) } else {
                                    Parallel.forEachRange(g.outHeight) { _, rows in run(rows) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// The plain loop the direct loops are checked against.
    func referenceForward(_ input: Tensor, _ g: WindowGeometry) -> Tensor {
        var output = Tensor(zeros: [g.batch, g.outHeight, g.outWidth, channels])
        let c = channels
        if let bias {
            for row in 0..<(output.count / c) { output.data.replaceSubrange(row * c..<(row + 1) * c, with: bias.value) }
        }
        input.data.withUnsafeBufferPointer { x in
            weight.value.withUnsafeBufferPointer { w in
                output.data.withUnsafeMutableBufferPointer { y in
                    forEachTap(g) { i, o, t in
                        for ch in 0..<c { y[o + ch] += x[i + ch] * w[t + ch] }
                    }
                }
            }
        }
        if let cap = outputCap { for i in output.data.indices { output.data[i] = min(max(output.data[i], 0), cap) } }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("\(weight.name): backward without a training forward") }
        let g = geometry(input.shape)
        var inputGradient = Tensor(zeros: input.shape)
        let c = channels
        input.data.withUnsafeBufferPointer { x in
            outputGradient.data.withUnsafeBufferPointer { dy in
                weight.value.withUnsafeBufferPointer { w in
                    weight.gradient.withUnsafeMutableBufferPointer { dw in
                        inputGradient.data.withUnsafeMutableBufferPointer { dx in
                            forEachTap(g) { i, o, t in
                                for ch in 0..<c {
                                    dx[i + ch] += dy[o + ch] * w[t + ch]
                                    dw[t + ch] += dy[o + ch] * x[i + ch]
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bias { accumulateChannelSums(outputGradient, into: bias) }
        return inputGradient
    }
}
