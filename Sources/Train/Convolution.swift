import Files

/// Geometry of a square-kernel convolution or pooling window over NHWC input. Padding is "same" style
/// (`kernel / 2` on each side) for convolutions and none for pooling.
struct WindowGeometry {
    let batch, height, width, channels: Int
    let kernel, stride, padding: Int
    var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }

    init(_ shape: [Int], kernel: Int, stride: Int, padding: Int) {
        precondition(shape.count == 4, "expected an NHWC tensor, got shape \(shape)")
        (batch, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
        (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
        precondition(height + 2 * padding >= kernel && width + 2 * padding >= kernel,
                     "a \(kernel)x\(kernel) window does not fit a \(height)x\(width) input")
    }
}

/// A 2-D convolution: im2col, then one `sgemm` per chunk of images. Weights are [kernel, kernel, in, out],
/// which is the im2col row order, so the product needs no transposition.
public final class Conv2D: Layer {
    public let kernel, stride, inChannels, outChannels: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var input: Tensor?

    /// `bias` is pointless before batch norm, which subtracts the mean.
    public init(_ name: String, in inChannels: Int, out outChannels: Int, kernel: Int, stride: Int = 1,
                bias: Bool = false, random: inout SplitMix64) {
        (self.kernel, self.stride, self.inChannels, self.outChannels) = (kernel, stride, inChannels, outChannels)
        let fanIn = kernel * kernel * inChannels
        weight = Parameter("\(name).weight", shape: [kernel, kernel, inChannels, outChannels],
                           value: heNormal(count: fanIn * outChannels, fanIn: fanIn, &random), decays: true)
        self.bias = bias ? Parameter("\(name).bias", shape: [outChannels], value: [Float](repeating: 0, count: outChannels)) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    private func geometry(_ shape: [Int]) -> WindowGeometry {
        precondition(shape.last == inChannels, "\(weight.name): expected \(inChannels) channels, got shape \(shape)")
        return WindowGeometry(shape, kernel: kernel, stride: stride, padding: kernel / 2)
    }

    /// Images per im2col chunk: about 4 million floats (16 MB) of columns at a time.
    private func chunkSize(_ g: WindowGeometry) -> Int {
        max(1, min(g.batch, (4 << 20) / max(1, g.outHeight * g.outWidth * kernel * kernel * inChannels)))
    }

    /// Calls `body(images, columns)` for chunks of the batch with the chunk's im2col matrix (rows: output
    /// pixels; columns: kernel x kernel x in). A 1x1, stride-1 convolution needs no copy: its input is the matrix.
    private func forEachChunk(_ x: UnsafePointer<Float>, _ g: WindowGeometry,
                              _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        if kernel == 1 && stride == 1 {
            return body(0..<g.batch, UnsafeMutablePointer(mutating: x))
        }
        let chunk = chunkSize(g)
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: chunk * g.outHeight * g.outWidth * kernel * kernel * inChannels)
        defer { columns.deallocate() }
        for first in Swift.stride(from: 0, to: g.batch, by: chunk) {
            let images = first..<min(first + chunk, g.batch)
            im2col(x, g, images: images, into: columns)
            body(images, columns)
        }
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = geometry(input.shape)
        if training { self.input = input }
        let pixels = g.outHeight * g.outWidth
        let depth = kernel * kernel * inChannels
        var output = Tensor(uninitialized: [g.batch, g.outHeight, g.outWidth, outChannels])
        output.data.withUnsafeMutableBufferPointer { out in
            weight.value.withUnsafeBufferPointer { w in
                input.data.withUnsafeBufferPointer { x in
                    forEachChunk(x.baseAddress!, g) { images, columns in
                        BLAS.gemm(columns, w.baseAddress!, into: out.baseAddress! + images.lowerBound * pixels * outChannels,
                                  m: images.count * pixels, n: outChannels, k: depth)
                    }
                }
            }
            if let bias {
                bias.value.withUnsafeBufferPointer { b in
                    for row in 0..<(g.batch * pixels) {
                        for o in 0..<outChannels { out[row * outChannels + o] += b[o] }
                    }
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("\(weight.name): backward without a training forward") }
        let g = geometry(input.shape)
        let pixels = g.outHeight * g.outWidth
        let depth = kernel * kernel * inChannels
        let pointwise = kernel == 1 && stride == 1
        // A pointwise convolution's column gradient is the input gradient; otherwise col2im adds it up.
        var inputGradient = pointwise ? Tensor(uninitialized: input.shape) : Tensor(zeros: input.shape)
        inputGradient.data.withUnsafeMutableBufferPointer { dx in
            outputGradient.data.withUnsafeBufferPointer { dy in
                weight.value.withUnsafeBufferPointer { w in
                    weight.gradient.withUnsafeMutableBufferPointer { dw in
                        input.data.withUnsafeBufferPointer { x in
                            forEachChunk(x.baseAddress!, g) { images, columns in
                                let rows = images.count * pixels
                                let dyChunk = dy.baseAddress! + images.lowerBound * pixels * outChannels
                                BLAS.gemm(columns, transposeA: true, dyChunk, into: dw.baseAddress!,
                                          m: depth, n: outChannels, k: rows, beta: 1)
                                // The columns are used up: they receive their own gradient, unless they are the input.
                                let columnGradient = pointwise ? dx.baseAddress! : columns
                                BLAS.gemm(dyChunk, w.baseAddress!, transposeB: true, into: columnGradient,
                                          m: rows, n: depth, k: outChannels)
                                if !pointwise { col2im(columns, g, images: images, into: dx.baseAddress!) }
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

/// Copies each output pixel's receptive field (kernel x kernel x channels, zeros outside) into one row.
func im2col(_ x: UnsafePointer<Float>, _ g: WindowGeometry, images: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
    forEachCell(g, images: images) { column, pixel in
        if let pixel {
            (columns + column).update(from: x + pixel, count: g.channels)
        } else {
            (columns + column).update(repeating: 0, count: g.channels)
        }
    }
}

/// The adjoint of `im2col`: adds each row's values back onto the pixels they came from.
func col2im(_ columns: UnsafePointer<Float>, _ g: WindowGeometry, images: Range<Int>, into dx: UnsafeMutablePointer<Float>) {
    forEachCell(g, images: images) { column, pixel in
        guard let pixel else { return }
        let (source, target) = (columns + column, dx + pixel)
        for i in 0..<g.channels { target[i] += source[i] }
    }
}

/// The im2col layout: for each output pixel of `images` and each kernel cell, the element offset of the cell in
/// the column matrix (counted from the first of `images`) and of its input pixel (nil in the padding).
@inline(__always)
private func forEachCell(_ g: WindowGeometry, images: Range<Int>, _ body: (_ column: Int, _ pixel: Int?) -> Void) {
    let c = g.channels
    var column = 0
    for n in images {
        let image = n * g.height * g.width * c
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                for ky in 0..<g.kernel {
                    let iy = oy * g.stride + ky - g.padding
                    for kx in 0..<g.kernel {
                        let ix = ox * g.stride + kx - g.padding
                        let inside = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
                        body(column, inside ? image + (iy * g.width + ix) * c : nil)
                        column += c
                    }
                }
            }
        }
    }
}

/// A depthwise convolution: each channel with its own kernel x kernel filter (MobileNet's building block).
/// Direct loops over NHWC, the channel loop innermost and contiguous.
public final class DepthwiseConv2D: Layer {
    public let kernel, stride, channels: Int
    public let weight: Parameter
    private var input: Tensor?

    public init(_ name: String, channels: Int, kernel: Int = 3, stride: Int = 1, random: inout SplitMix64) {
        (self.kernel, self.stride, self.channels) = (kernel, stride, channels)
        weight = Parameter("\(name).weight", shape: [kernel, kernel, channels],
                           value: heNormal(count: kernel * kernel * channels, fanIn: kernel * kernel, &random), decays: true)
    }

    public var parameters: [Parameter] { [weight] }

    private func geometry(_ shape: [Int]) -> WindowGeometry {
        precondition(shape.last == channels, "\(weight.name): expected \(channels) channels, got shape \(shape)")
        return WindowGeometry(shape, kernel: kernel, stride: stride, padding: kernel / 2)
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

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = geometry(input.shape)
        if training { self.input = input }
        var output = Tensor(zeros: [g.batch, g.outHeight, g.outWidth, channels])
        let c = channels
        input.data.withUnsafeBufferPointer { x in
            weight.value.withUnsafeBufferPointer { w in
                output.data.withUnsafeMutableBufferPointer { y in
                    forEachTap(g) { i, o, t in
                        for ch in 0..<c { y[o + ch] += x[i + ch] * w[t + ch] }
                    }
                }
            }
        }
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
        return inputGradient
    }
}

/// He-normal initial weights, right for layers followed by ReLU.
func heNormal(count: Int, fanIn: Int, _ random: inout SplitMix64) -> [Float] {
    let deviation = (2.0 / Double(fanIn)).squareRoot()
    return (0..<count).map { _ in Float(random.nextGaussian() * deviation) }
}

/// Adds the sum over all but the last axis of `gradient` to `parameter.gradient` (bias gradients).
func accumulateChannelSums(_ gradient: Tensor, into parameter: Parameter) {
    let channels = parameter.count
    gradient.data.withUnsafeBufferPointer { g in
        parameter.gradient.withUnsafeMutableBufferPointer { sums in
            for row in 0..<(g.count / channels) {
                for c in 0..<channels { sums[c] += g[row * channels + c] }
            }
        }
    }
}
