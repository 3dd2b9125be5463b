/// Direct convolution loops over NHWC images, 16 output channels (two 8-lane vectors) at a time: no im2col
/// matrix and no OpenBLAS packing of it, which took a third of a training step at the channel counts of a small
/// CPU network. Each image is first copied into a zero-bordered buffer, so the loops need no bounds checks.
///
/// One kind of multiply-accumulate block (rows x 16 sums in registers) serves the forward pass (rows: output
/// pixels; sum over the kernel window and input channels), the input gradient of a stride-1 convolution (the
/// forward pass over the output gradient with the weights turned 180 degrees) and the weight gradient (rows:
/// weight rows; sum over output pixels).
enum DirectConvolution {
    #if IMGCLS_FMA
    /// Package.swift builds this module for AVX2 and FMA when the building machine has them; only then do these
    /// loops beat im2col + sgemm. Without, they compute the same values more slowly (tests still run them).
    static let isFast = true
    #else
    static let isFast = false
    #endif

    /// Output channels per block: a convolution qualifies when its output channels are a multiple of it.
    static let blockWidth = 16

    /// A zeroed buffer for one image with a border of `padding` pixels on every side.
    struct PaddedImage {
        let height, width, channels, padding: Int
        let values: UnsafeMutablePointer<Float>

        init(height: Int, width: Int, channels: Int, padding: Int) {
            (self.height, self.width, self.channels, self.padding) = (height, width, channels, padding)
            let count = (height + 2 * padding) * (width + 2 * padding) * channels
            values = .allocate(capacity: count)
            values.initialize(repeating: 0, count: count)
        }

        var paddedWidth: Int { width + 2 * padding }

        /// Copies an image into the interior (the border stays zero from the start).
        func fill(from image: UnsafePointer<Float>) {
            let row = width * channels
            for y in 0..<height {
                (values + ((y + padding) * paddedWidth + padding) * channels).update(from: image + y * row, count: row)
            }
        }

        func deallocate() { values.deallocate() }
    }

    /// y[oy][ox][o] = Σ x[oy·s + ky][ox·s + kx][ci] · w[ky][kx][ci][o] over one padded image (padding = k / 2),
    /// writing every output value.
    static func convolve(_ x: PaddedImage, kernel k: Int, stride s: Int, weights w: UnsafePointer<Float>,
                         outChannels: Int, outHeight: Int, outWidth: Int, into y: UnsafeMutablePointer<Float>) {
        let c = x.channels
        let (tapsPerRow, rowStep) = (k * c, x.paddedWidth * c)
        let (pixels, steps) = (outHeight * outWidth, k * k * c)
        // Where output pixel p's window starts. Blocks run over the image's pixels in order, across output rows,
        // so only the image's last pixels are left to the one-row block.
        func window(_ p: Int) -> UnsafePointer<Float> {
            let (oy, ox) = p.quotientAndRemainder(dividingBy: outWidth)
            return UnsafePointer(x.values) + (oy * s * x.paddedWidth + ox * s) * c
        }
        // Passes over the image, each with a slice of the block's weights: all of them when they are small (the
        // sums stay in registers for the whole window); else 192 steps (12 KB) at a time, which stay in the
        // first-level cache while every pixel uses them, the sums going through memory between passes.
        let stepsPerPass = steps <= 512 ? steps : 192
        // Steps first..<last of the window as runs within one kernel row: `body(offset, weights, count)` with the
        // run's offset from the window's start and from the weights' start.
        func forEachWindowRun(_ first: Int, _ last: Int, _ body: (_ offset: Int, _ weights: Int, _ count: Int) -> Void) {
            var t = first
            while t < last {
                let (ky, within) = t.quotientAndRemainder(dividingBy: tapsPerRow)
                let count = min(tapsPerRow - within, last - t)
                body(ky * rowStep + within, t * outChannels, count)
                t += count
            }
        }
        for o in Swift.stride(from: 0, to: outChannels, by: blockWidth) {
            for first in Swift.stride(from: 0, to: steps, by: stepsPerPass) {
                let last = min(first + stepsPerPass, steps)
                var p = 0
                while p + 4 <= pixels {
                    let out = y + p * outChannels + o
                    var block = first == 0 ? Block4x16() : Block4x16(loading: out, rowStride: outChannels)
                    let (a0, a1, a2, a3) = (window(p), window(p + 1), window(p + 2), window(p + 3))
                    forEachWindowRun(first, last) { offset, weights, count in
                        block.accumulate(a0 + offset, a1 + offset, a2 + offset, a3 + offset, aStep: 1,
                                         w + weights + o, bStep: outChannels, steps: count)
                    }
                    block.store(out, rowStride: outChannels)
                    p += 4
                }
                while p < pixels {
                    let out = y + p * outChannels + o
                    var block = first == 0 ? Block1x16() : Block1x16(loading: out)
                    let a = window(p)
                    forEachWindowRun(first, last) { offset, weights, count in
                        block.accumulate(a + offset, aStep: 1, w + weights + o, bStep: outChannels, steps: count)
                    }
                    block.store(out)
                    p += 1
                }
            }
        }
    }

    /// dw[ky][kx][ci][o] += Σ over output pixels of x[oy·s + ky][ox·s + kx][ci] · dy[oy][ox][o], for one padded
    /// image and its output gradient.
    static func accumulateWeightGradient(_ x: PaddedImage, kernel k: Int, stride s: Int,
                                         outputGradient dy: UnsafePointer<Float>, outChannels: Int,
                                         outHeight: Int, outWidth: Int, into dw: UnsafeMutablePointer<Float>) {
        let c = x.channels
        let rows = k * k * c
        // Weight row r is tap (ky, kx), channel ci: its value for output pixel (0, 0) sits at this offset.
        func offset(_ r: Int) -> Int {
            let (tap, ci) = r.quotientAndRemainder(dividingBy: c)
            let (ky, kx) = tap.quotientAndRemainder(dividingBy: k)
            return (ky * x.paddedWidth + kx) * c + ci
        }
        let pixelStep = s * c
        // Bands of output rows whose gradient for one block of output channels (about 8 KB) stays in the
        // core's first-level cache while every block of weight rows passes over it; the sums go back to
        // memory between bands.
        let band = max(1, 128 / outWidth)
        for first in Swift.stride(from: 0, to: outHeight, by: band) {
            let bandRows = first..<min(first + band, outHeight)
            for o in Swift.stride(from: 0, to: outChannels, by: blockWidth) {
                var r = 0
                while r + 6 <= rows {
                    let target = dw + r * outChannels + o
                    var block = Block6x16(loading: target, rowStride: outChannels)
                    let (o0, o1, o2, o3, o4, o5) = (offset(r), offset(r + 1), offset(r + 2), offset(r + 3), offset(r + 4), offset(r + 5))
                    for oy in bandRows {
                        let top = UnsafePointer(x.values) + oy * s * x.paddedWidth * c
                        block.accumulate((top + o0, top + o1, top + o2, top + o3, top + o4, top + o5), aStep: pixelStep,
                                         dy + oy * outWidth * outChannels + o, bStep: outChannels, steps: outWidth)
                    }
                    block.store(target, rowStride: outChannels)
                    r += 6
                }
                while r < rows {
                    let target = dw + r * outChannels + o
                    var block = Block1x16(loading: target)
                    let o0 = offset(r)
                    for oy in bandRows {
                        block.accumulate(x.values + oy * s * x.paddedWidth * c + o0, aStep: pixelStep,
                                         dy + oy * outWidth * outChannels + o, bStep: outChannels, steps: outWidth)
                    }
                    block.store(target)
                    r += 1
                }
            }
        }
    }
}


/// Six rows of 16 sums, kept in registers: row i += Σ_t a_i[t · aStep] · b[t · bStep ..< +16]. Each step, eight
/// loads feed twelve 8-lane multiply-adds into independent sums: enough of them in flight to hide their
/// latency, and few enough to leave registers for the operands.
private struct Block6x16 {
    var r0a = Lanes(), r0b = Lanes(), r1a = Lanes(), r1b = Lanes(), r2a = Lanes(), r2b = Lanes()
    var r3a = Lanes(), r3b = Lanes(), r4a = Lanes(), r4b = Lanes(), r5a = Lanes(), r5b = Lanes()

    init() {}

    @inline(__always) init(loading p: UnsafePointer<Float>, rowStride: Int) {
        (r0a, r0b) = (load(p), load(p + 8))
        (r1a, r1b) = (load(p + rowStride), load(p + rowStride + 8))
        (r2a, r2b) = (load(p + 2 * rowStride), load(p + 2 * rowStride + 8))
        (r3a, r3b) = (load(p + 3 * rowStride), load(p + 3 * rowStride + 8))
        (r4a, r4b) = (load(p + 4 * rowStride), load(p + 4 * rowStride + 8))
        (r5a, r5b) = (load(p + 5 * rowStride), load(p + 5 * rowStride + 8))
    }

    /// `a` holds the six rows' start pointers.
    @inline(__always) mutating func accumulate(_ a: RowPointers, aStep: Int, _ b: UnsafePointer<Float>, bStep: Int, steps: Int) {
        var (a0, a1, a2, a3, a4, a5, b) = (a.0, a.1, a.2, a.3, a.4, a.5, b)
        for _ in 0..<steps {
            let (u, v) = (load(b), load(b + 8))
            let x0 = Lanes(repeating: a0.pointee), x1 = Lanes(repeating: a1.pointee)
            multiplyAdd(&r0a, x0, u); multiplyAdd(&r0b, x0, v)
            multiplyAdd(&r1a, x1, u); multiplyAdd(&r1b, x1, v)
            let x2 = Lanes(repeating: a2.pointee), x3 = Lanes(repeating: a3.pointee)
            multiplyAdd(&r2a, x2, u); multiplyAdd(&r2b, x2, v)
            multiplyAdd(&r3a, x3, u); multiplyAdd(&r3b, x3, v)
            let x4 = Lanes(repeating: a4.pointee), x5 = Lanes(repeating: a5.pointee)
            multiplyAdd(&r4a, x4, u); multiplyAdd(&r4b, x4, v)
            multiplyAdd(&r5a, x5, u); multiplyAdd(&r5b, x5, v)
            a0 += aStep; a1 += aStep; a2 += aStep; a3 += aStep; a4 += aStep; a5 += aStep; b += bStep
        }
    }

    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, rowStride: Int) {
        Engine.store(r0a, p); Engine.store(r0b, p + 8)
        Engine.store(r1a, p + rowStride); Engine.store(r1b, p + rowStride + 8)
        Engine.store(r2a, p + 2 * rowStride); Engine.store(r2b, p + 2 * rowStride + 8)
        Engine.store(r3a, p + 3 * rowStride); Engine.store(r3b, p + 3 * rowStride + 8)
        Engine.store(r4a, p + 4 * rowStride); Engine.store(r4b, p + 4 * rowStride + 8)
        Engine.store(r5a, p + 5 * rowStride); Engine.store(r5b, p + 5 * rowStride + 8)
    }
}

private typealias RowPointers = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                                 UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)

/// Four rows of 16 sums, kept in registers: row i += Σ_t a_i[t · aStep] · b[t · bStep ..< +16]. Each step, six
/// loads feed eight 8-lane multiply-adds. (Six rows measured no faster in the forward
/// loop, where the compiler kept them in registers only when they started from memory.)
private struct Block4x16 {
    var r0a = Lanes(), r0b = Lanes(), r1a = Lanes(), r1b = Lanes()
    var r2a = Lanes(), r2b = Lanes(), r3a = Lanes(), r3b = Lanes()

    init() {}

    @inline(__always) init(loading p: UnsafePointer<Float>, rowStride: Int) {
        (r0a, r0b) = (load(p), load(p + 8))
        (r1a, r1b) = (load(p + rowStride), load(p + rowStride + 8))
        (r2a, r2b) = (load(p + 2 * rowStride), load(p + 2 * rowStride + 8))
        (r3a, r3b) = (load(p + 3 * rowStride), load(p + 3 * rowStride + 8))
    }

    @inline(__always) mutating func accumulate(_ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>,
                                               _ a2: UnsafePointer<Float>, _ a3: UnsafePointer<Float>, aStep: Int,
                                               _ b: UnsafePointer<Float>, bStep: Int, steps: Int) {
        var (a0, a1, a2, a3, b) = (a0, a1, a2, a3, b)
        for _ in 0..<steps {
            let (u, v) = (load(b), load(b + 8))
            let x0 = Lanes(repeating: a0.pointee), x1 = Lanes(repeating: a1.pointee)
            multiplyAdd(&r0a, x0, u); multiplyAdd(&r0b, x0, v)
            multiplyAdd(&r1a, x1, u); multiplyAdd(&r1b, x1, v)
            let x2 = Lanes(repeating: a2.pointee), x3 = Lanes(repeating: a3.pointee)
            multiplyAdd(&r2a, x2, u); multiplyAdd(&r2b, x2, v)
            multiplyAdd(&r3a, x3, u); multiplyAdd(&r3b, x3, v)
            a0 += aStep; a1 += aStep; a2 += aStep; a3 += aStep; b += bStep
        }
    }

    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, rowStride: Int) {
        Engine.store(r0a, p); Engine.store(r0b, p + 8)
        Engine.store(r1a, p + rowStride); Engine.store(r1b, p + rowStride + 8)
        Engine.store(r2a, p + 2 * rowStride); Engine.store(r2b, p + 2 * rowStride + 8)
        Engine.store(r3a, p + 3 * rowStride); Engine.store(r3b, p + 3 * rowStride + 8)
    }
}

/// One row of 16 sums: the tails that the larger blocks leave.
private struct Block1x16 {
    var a = Lanes(), b = Lanes()

    init() {}

    @inline(__always) init(loading p: UnsafePointer<Float>) { (a, b) = (load(p), load(p + 8)) }

    @inline(__always) mutating func accumulate(_ a0: UnsafePointer<Float>, aStep: Int, _ b0: UnsafePointer<Float>,
                                               bStep: Int, steps: Int) {
        var (x, w) = (a0, b0)
        for _ in 0..<steps {
            let value = Lanes(repeating: x.pointee)
            multiplyAdd(&a, value, load(w)); multiplyAdd(&b, value, load(w + 8))
            x += aStep; w += bStep
        }
    }

    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { Engine.store(a, p); Engine.store(b, p + 8) }
}
