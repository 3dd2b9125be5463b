import Files

/// A 2-D convolution: im2col, then one `sgemm` per chunk of images. Weights are [kernel, kernel, in, out],
/// which is the im2col row order, so the product needs no transposition.
public final class Conv2D: Layer {
    public let kernel, stride, inChannels, outChannels: Int
    /// Zeros around the input on every side: `kernel / 2` ("same" for odd kernels at stride 1), or 0 when a
    /// `ZeroPad` layer before it pads unevenly (TensorFlow's "SAME" at stride 2).
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// False for a network's first layer: its backward then only computes the weight gradients and returns
    /// zeros (the images need no gradient, and it is the largest of the products).
    public var computesInputGradient = true
    /// Direct loops (`DirectConvolution`) instead of im2col + sgemm where they apply and are fast; tests turn
    /// them on and off to compare the two.
    var usesDirectLoops = DirectConvolution.isFast
    /// With batch norm folded in (inference), the ReLU that followed: outputs are clamped to [0, cap].
    var outputCap: Float?
    /// The threads that share this layer's batch; nil: `Parallel.threads`. Tests set it to split a batch without
    /// changing the global count under other tests.
    var threads: Int?
    private var input: Tensor?

    /// `bias` is pointless before batch norm, which subtracts the mean.
    public init(_ name: String, in inChannels: Int, out outChannels: Int, kernel: Int, stride: Int = 1,
                padding: Int? = nil, bias: Bool = false, random: inout SplitMix64) {
        (self.kernel, self.stride, self.inChannels, self.outChannels) = (kernel, stride, inChannels, outChannels)
        self.padding = padding ?? kernel / 2
        let fanIn = kernel * kernel * inChannels
        weight = Parameter("\(name).weight", shape: [kernel, kernel, inChannels, outChannels],
                           value: heNormal(count: fanIn * outChannels, fanIn: fanIn, &random), decays: true)
        self.bias = bias ? Parameter("\(name).bias", shape: [outChannels], value: [Float](repeating: 0, count: outChannels)) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    private func geometry(_ shape: [Int]) -> WindowGeometry {
        precondition(shape.last == inChannels, "\(weight.name): expected \(inChannels) channels, got shape \(shape)")
        return WindowGeometry(shape, kernel: kernel, stride: stride, padding: padding)
    }

    /// Output pixels per im2col chunk: about 64K floats (256 KB) of columns, so the columns are still in the
    /// core's cache when OpenBLAS packs them (chunks of whole batches spent more time moving memory than
    /// multiplying).
    private var chunkRows: Int {
        max(16, (64 << 10) / max(1, kernel * kernel * inChannels))
    }

    /// Calls `body(part, pixels, columns)` for chunks of output pixels (numbered across the batch) with the
    /// chunk's im2col matrix (rows: those pixels; columns: kernel x kernel x in), the threads of `Parallel`
    /// each taking a share of the images. A 1x1, stride-1 convolution needs no copy: its input is the matrix.
    /// `byPixels`: the threads may share the output pixels of one image (so a single image uses every thread),
    /// where no thread writes another's pixels (everywhere but col2im, whose windows overlap).
    private func forEachChunk(_ x: UnsafePointer<Float>, _ g: WindowGeometry, threads: Int, byPixels: Bool = false,
                              _ body: (_ part: Int, _ pixels: Range<Int>, _ columns: UnsafeMutablePointer<Float>) -> Void) {
        let perImage = g.outHeight * g.outWidth
        let shared = byPixels && g.batch < threads
        Parallel.forEachRange(shared ? g.batch * perImage : g.batch, minimum: shared ? 64 : 1, threads: threads) { part, share in
            let pixels = shared ? share : share.lowerBound * perImage..<share.upperBound * perImage
            if kernel == 1 && stride == 1 {
                return body(part, pixels, UnsafeMutablePointer(mutating: x + pixels.lowerBound * g.channels))
            }
            let chunk = chunkRows
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: chunk * kernel * kernel * inChannels)
            defer { columns.deallocate() }
            for first in Swift.stride(from: pixels.lowerBound, to: pixels.upperBound, by: chunk) {
                let rows = first..<min(first + chunk, pixels.upperBound)
                im2col(x, g, pixels: rows, into: columns)
                body(part, rows, columns)
            }
        }
    }

    /// Direct loops need a window larger than one pixel (a 1x1 convolution is a plain product, already without
    /// im2col) and whole blocks of output channels.
    private var directForward: Bool {
        usesDirectLoops && kernel > 1 && outChannels % DirectConvolution.blockWidth == 0
    }

    /// Calls `body(part, image, padded)` for every image of the batch with a copy of it inside a zero border of
    /// kernel / 2 pixels, the threads of `Parallel` each taking a share of the images.
    private func forEachPaddedImage(_ x: UnsafePointer<Float>, _ g: WindowGeometry, threads: Int,
                                    _ body: (_ part: Int, _ image: Int, _ padded: DirectConvolution.PaddedImage) -> Void) {
        Parallel.forEachRange(g.batch, threads: threads) { part, share in
            let padded = DirectConvolution.PaddedImage(height: g.height, width: g.width, channels: g.channels, padding: g.padding)
            defer { padded.deallocate() }
            for n in share {
                padded.fill(from: x + n * g.height * g.width * g.channels)
                body(part, n, padded)
            }
        }
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = geometry(input.shape)
        precondition(!training || outputCap == nil, "\(weight.name): a folded layer is for inference only")
        if training { self.input = input }
        let pixels = g.outHeight * g.outWidth
        let depth = kernel * kernel * inChannels
        let threads = self.threads ?? Parallel.threads
        var output = Tensor(uninitialized: [g.batch, g.outHeight, g.outWidth, outChannels])
        let hasEpilogue = bias != nil || outputCap != nil
        output.data.withUnsafeMutableBufferPointer { out in
            weight.value.withUnsafeBufferPointer { w in
                input.data.withUnsafeBufferPointer { x in
                    (bias?.value).withOptionalPointer { b in
                        if directForward {
                            forEachPaddedImage(x.baseAddress!, g, threads: threads) { _, n, padded in
                                let image = out.baseAddress! + n * pixels * outChannels
                                DirectConvolution.convolve(padded, kernel: kernel, stride: stride, weights: w.baseAddress!,
                                                           outChannels: outChannels, outHeight: g.outHeight, outWidth: g.outWidth,
                                                           into: image)
                                if hasEpilogue { addBiasAndClamp(image, rows: pixels, bias: b) }
                            }
                            return
                        }
                        // The product in slices of about 64K output floats (256 KB), each one's bias and clamp
                        // applied while it is still in cache: one pass over a whole 1x1 layer's output afterwards
                        // took a third as long as its product (EfficientNet-Lite0, batch 16).
                        let slice = hasEpilogue ? max(64, (64 << 10) / outChannels) : Int.max
                        forEachChunk(x.baseAddress!, g, threads: threads, byPixels: true) { _, rows, columns in
                            for first in Swift.stride(from: 0, to: rows.count, by: slice) {
                                let count = min(slice, rows.count - first)
                                let target = out.baseAddress! + (rows.lowerBound + first) * outChannels
                                BLAS.gemm(columns + first * depth, w.baseAddress!, into: target, m: count, n: outChannels, k: depth)
                                if hasEpilogue { addBiasAndClamp(target, rows: count, bias: b) }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Inference's epilogue on `rows` output pixels: the folded batch norm's bias added and, with `outputCap`, the
    /// ReLU6 that followed, eight channels at a time.
    private func addBiasAndClamp(_ o: UnsafeMutablePointer<Float>, rows: Int, bias: UnsafePointer<Float>?) {
        let (floor, ceiling) = (Lanes(repeating: outputCap == nil ? -.infinity : 0), Lanes(repeating: outputCap ?? .infinity))
        let blocks = outChannels / 8
        for row in 0..<rows {
            let p = o + row * outChannels
            for block in 0..<blocks {
                let c = block * 8
                store(clamp(load(p + c) + (bias.map { load($0 + c) } ?? Lanes(repeating: 0)), floor, ceiling), p + c)
            }
            for c in blocks * 8..<outChannels {
                p[c] = Swift.min(Swift.max(p[c] + (bias?[c] ?? 0), floor[0]), ceiling[0])
            }
        }
    }

    /// How the input gradient is made:
    /// - none at all for the network's first layer: the images need no gradient;
    /// - pointwise: the column gradient dy * W^T is the input gradient;
    /// - flipped (stride 1, odd kernel): a convolution of dy with the weights turned 180 degrees and in/out
    ///   swapped, as small as the forward one (no column gradient as large as im2col, no col2im); the direct
    ///   loops need whole blocks of input channels for it;
    /// - col2im otherwise: the column gradient, added back onto the pixels.
    private enum InputGradientMethod { case none, pointwise, flipped, col2im }

    private func inputGradientMethod(direct: Bool) -> InputGradientMethod {
        if !computesInputGradient { return .none }
        if kernel == 1 && stride == 1 && padding == 0 { return .pointwise }
        if stride == 1 && kernel % 2 == 1 && padding == kernel / 2 && (!direct || inChannels % DirectConvolution.blockWidth == 0) { return .flipped }
        return .col2im
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("\(weight.name): backward without a training forward") }
        let g = geometry(input.shape)
        let direct = directForward
        let method = inputGradientMethod(direct: direct)
        var inputGradient = method == .col2im || method == .none ? Tensor(zeros: input.shape) : Tensor(uninitialized: input.shape)
        let flipped = method == .flipped ? flippedWeights() : []
        // Each thread sums its share's weight gradient apart; the shares are added at the end.
        let (weightCount, threads) = (weight.count, self.threads ?? Parallel.threads)
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: threads * weightCount)
        partials.initialize(repeating: 0, count: threads * weightCount)
        defer { partials.deallocate() }
        inputGradient.data.withUnsafeMutableBufferPointer { dx in
            outputGradient.data.withUnsafeBufferPointer { dy in
                weight.value.withUnsafeBufferPointer { w in
                    flipped.withUnsafeBufferPointer { flipped in
                        input.data.withUnsafeBufferPointer { x in
                            let buffers = BackwardBuffers(x: x.baseAddress!, dy: dy.baseAddress!, w: w.baseAddress!, flipped: flipped.baseAddress,
                                                          dx: dx.baseAddress!, partials: partials)
                            if direct {
                                backwardDirect(buffers, g, method, threads: threads)
                            } else {
                                backwardWithColumns(buffers, g, method, threads: threads)
                            }
                        }
                    }
                }
            }
        }
        weight.gradient.withUnsafeMutableBufferPointer { dw in
            for part in 0..<threads {
                for i in 0..<weightCount { dw[i] += partials[part * weightCount + i] }
            }
        }
        if let bias { accumulateChannelSums(outputGradient, into: bias) }
        return inputGradient
    }

    /// What a backward pass reads and writes; `partials` holds one weight gradient per thread.
    private struct BackwardBuffers {
        let x, dy, w: UnsafePointer<Float>
        let flipped: UnsafePointer<Float>?
        let dx, partials: UnsafeMutablePointer<Float>
    }

    /// im2col + sgemm, a chunk of output pixels at a time.
    private func backwardWithColumns(_ b: BackwardBuffers, _ g: WindowGeometry, _ method: InputGradientMethod, threads: Int) {
        let depth = kernel * kernel * inChannels
        let gradientGeometry = WindowGeometry([g.batch, g.outHeight, g.outWidth, outChannels], kernel: kernel, stride: 1, padding: kernel / 2)
        forEachChunk(b.x, g, threads: threads, byPixels: method != .col2im) { part, rows, columns in
            let dyChunk = b.dy + rows.lowerBound * outChannels
            BLAS.gemm(columns, transposeA: true, dyChunk, into: b.partials + part * weight.count,
                      m: depth, n: outChannels, k: rows.count, beta: 1)
            switch method {
            case .none:
                break
            case .pointwise:
                BLAS.gemm(dyChunk, b.w, transposeB: true, into: b.dx + rows.lowerBound * inChannels, m: rows.count, n: depth, k: outChannels)
            case .flipped:
                // Stride 1, same padding: output pixel p is input pixel p.
                let gradientColumns = UnsafeMutablePointer<Float>.allocate(capacity: rows.count * kernel * kernel * outChannels)
                defer { gradientColumns.deallocate() }
                im2col(b.dy, gradientGeometry, pixels: rows, into: gradientColumns)
                BLAS.gemm(gradientColumns, b.flipped!, into: b.dx + rows.lowerBound * inChannels,
                          m: rows.count, n: inChannels, k: kernel * kernel * outChannels)
            case .col2im:
                // The columns are used up: they receive their own gradient.
                BLAS.gemm(dyChunk, b.w, transposeB: true, into: columns, m: rows.count, n: depth, k: outChannels)
                col2im(columns, g, pixels: rows, into: b.dx)
            }
        }
    }

    /// The direct loops, an image at a time: the weight gradient from the padded image and its output gradient;
    /// the input gradient as the flipped convolution of the padded output gradient, or through col2im.
    private func backwardDirect(_ b: BackwardBuffers, _ g: WindowGeometry, _ method: InputGradientMethod, threads: Int) {
        let (outputPixels, depth) = (g.outHeight * g.outWidth, kernel * kernel * inChannels)
        // Per thread: the padded output gradient of one image (flipped) or its column gradient (col2im).
        let paddedGradients = method != .flipped ? [] : (0..<threads).map { _ in
            DirectConvolution.PaddedImage(height: g.outHeight, width: g.outWidth, channels: outChannels, padding: kernel / 2)
        }
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: method == .col2im ? threads * outputPixels * depth : 0)
        defer {
            for buffer in paddedGradients { buffer.deallocate() }
            columns.deallocate()
        }
        forEachPaddedImage(b.x, g, threads: threads) { part, n, padded in
            let dyImage = b.dy + n * outputPixels * outChannels
            DirectConvolution.accumulateWeightGradient(padded, kernel: kernel, stride: stride, outputGradient: dyImage,
                                                       outChannels: outChannels, outHeight: g.outHeight, outWidth: g.outWidth,
                                                       into: b.partials + part * weight.count)
            switch method {
            case .none:
                break
            case .pointwise:
                preconditionFailure("\(weight.name): a 1x1 convolution never takes the direct loops")
            case .flipped:
                paddedGradients[part].fill(from: dyImage)
                DirectConvolution.convolve(paddedGradients[part], kernel: kernel, stride: 1, weights: b.flipped!, outChannels: inChannels,
                                           outHeight: g.height, outWidth: g.width, into: b.dx + n * g.height * g.width * inChannels)
            case .col2im:
                let columns = columns + part * outputPixels * depth
                BLAS.gemm(dyImage, b.w, transposeB: true, into: columns, m: outputPixels, n: depth, k: outChannels)
                col2im(columns, g, pixels: n * outputPixels..<(n + 1) * outputPixels, into: b.dx)
            }
        }
    }

    /// The weights turned 180 degrees with in and out swapped: [ky][kx][out][in] = W[k-1-ky][k-1-kx][in][out].
    private func flippedWeights() -> [Float] {
        let (k, count) = (kernel, weight.count)
        return [Float](unsafeUninitializedCapacity: count) { flipped, initialized in
            weight.value.withUnsafeBufferPointer { w in
                for ky in 0..<k {
                    for kx in 0..<k {
                        for i in 0..<inChannels {
                            for o in 0..<outChannels {
                                flipped[((ky * k + kx) * outChannels + o) * inChannels + i] =
                                    w[(((k - 1 - ky) * k + (k - 1 - kx)) * inChannels + i) * outChannels + o]
                            }
                        }
                    }
                }
            }
            initialized = count
        }
    }
}
