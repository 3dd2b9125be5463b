/// The depthwise convolution's direct loops: 8 channels (one register) at a time, four output pixels of a row
/// together so each weight vector loaded serves four multiply-adds, over an image already zero-padded (or one
/// that needs no padding). Output pixels in rows, channel blocks inside, the kernel window innermost: one
/// window of all channels (a few KB) and the layer's weights stay in the first-level cache.
enum DirectDepthwise {
    /// y[oy][ox][c] = bias[c] + Σ x[oy·s + ky][ox·s + kx][c] · w[ky][kx][c], clamped to [0, cap] when `cap` is
    /// given, for output rows `rows` of one image; `x` holds the padded image, `width` pixels a row.
    static func forward(_ x: UnsafePointer<Float>, width: Int, channels c: Int, kernel k: Int, stride s: Int,
                        weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, cap: Float?,
                        outWidth: Int, rows: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        let blocks = c / 8
        let (floor, ceiling) = (Lanes(repeating: cap == nil ? -.infinity : 0), Lanes(repeating: cap ?? .infinity))
        let pixelStep = s * c
        for oy in rows {
            let windowRow = x + oy * s * width * c
            let outRow = y + oy * outWidth * c
            var ox = 0
            while ox + 4 <= outWidth {
                for b in 0..<blocks {
                    let ch = b * 8
                    let start = bias.map { load($0 + ch) } ?? Lanes(repeating: 0)
                    var (a0, a1, a2, a3) = (start, start, start, start)
                    for ky in 0..<k {
                        let row = windowRow + (ky * width + ox * s) * c + ch
                        let taps = w + ky * k * c + ch
                        for kx in 0..<k {
                            let weight = load(taps + kx * c)
                            let p = row + kx * c
                            multiplyAdd(&a0, load(p), weight)
                            multiplyAdd(&a1, load(p + pixelStep), weight)
                            multiplyAdd(&a2, load(p + 2 * pixelStep), weight)
                            multiplyAdd(&a3, load(p + 3 * pixelStep), weight)
                        }
                    }
                    let out = outRow + ox * c + ch
                    store(clamp(a0, floor, ceiling), out)
                    store(clamp(a1, floor, ceiling), out + c)
                    store(clamp(a2, floor, ceiling), out + 2 * c)
                    store(clamp(a3, floor, ceiling), out + 3 * c)
                }
                ox += 4
            }
            while ox < outWidth {
                for b in 0..<blocks {
                    let ch = b * 8
                    var acc = bias.map { load($0 + ch) } ?? Lanes(repeating: 0)
                    for ky in 0..<k {
                        let row = windowRow + (ky * width + ox * s) * c + ch
                        for kx in 0..<k { multiplyAdd(&acc, load(row + kx * c), load(w + (ky * k + kx) * c + ch)) }
                    }
                    store(clamp(acc, floor, ceiling), outRow + ox * c + ch)
                }
                ox += 1
            }
            // Channels past the last whole block, one at a time.
            if blocks * 8 < c {
                for ox in 0..<outWidth {
                    for ch in blocks * 8..<c {
                        var sum = bias?[ch] ?? 0
                        for ky in 0..<k {
                            for kx in 0..<k { sum += x[((oy * s + ky) * width + ox * s + kx) * c + ch] * w[(ky * k + kx) * c + ch] }
                        }
                        outRow[ox * c + ch] = cap.map { min(max(sum, 0), $0) } ?? sum
                    }
                }
            }
        }
    }
}
