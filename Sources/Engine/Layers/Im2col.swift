/// The im2col path of convolutions and the window geometry they share with pooling: each output pixel's
/// receptive field copied into one row of a matrix, so a convolution is one product (`BLAS.gemm`) per chunk.

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

/// Copies each output pixel's receptive field (kernel x kernel x channels, zeros outside) into one row.
func im2col(_ x: UnsafePointer<Float>, _ g: WindowGeometry, pixels: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
    forEachKernelRow(g, pixels: pixels) { column, pixel, count in
        if let pixel {
            (columns + column).update(from: x + pixel, count: count)
        } else {
            (columns + column).update(repeating: 0, count: count)
        }
    }
}

/// The adjoint of `im2col`: adds each row's values back onto the pixels they came from.
func col2im(_ columns: UnsafePointer<Float>, _ g: WindowGeometry, pixels: Range<Int>, into dx: UnsafeMutablePointer<Float>) {
    forEachKernelRow(g, pixels: pixels) { column, pixel, count in
        guard let pixel else { return }
        let (source, target) = (columns + column, dx + pixel)
        for i in 0..<count { target[i] += source[i] }
    }
}

/// The im2col layout, a run of values at a time: for each output pixel of `pixels` (numbered across the batch)
/// and each row of its kernel window, `body(column, pixel, count)` with the element offset of the run in the
/// column matrix (counted from the first of `pixels`), of its first input value (nil for a run of padding) and
/// its length. A window row inside the image is one run (its pixels are adjacent in NHWC); at the edges each
/// cell is one.
@inline(__always)
private func forEachKernelRow(_ g: WindowGeometry, pixels: Range<Int>, _ body: (_ column: Int, _ pixel: Int?, _ count: Int) -> Void) {
    let c = g.channels
    let perImage = g.outHeight * g.outWidth
    var column = 0
    for p in pixels {
        let (n, within) = p.quotientAndRemainder(dividingBy: perImage)
        let (oy, ox) = within.quotientAndRemainder(dividingBy: g.outWidth)
        let image = n * g.height * g.width * c
        let left = ox * g.stride - g.padding
        let rowInside = left >= 0 && left + g.kernel <= g.width
        for ky in 0..<g.kernel {
            let iy = oy * g.stride + ky - g.padding
            guard iy >= 0 && iy < g.height else {
                body(column, nil, g.kernel * c)
                column += g.kernel * c
                continue
            }
            if rowInside {
                body(column, image + (iy * g.width + left) * c, g.kernel * c)
                column += g.kernel * c
                continue
            }
            for kx in 0..<g.kernel {
                let ix = left + kx
                body(column, ix >= 0 && ix < g.width ? image + (iy * g.width + ix) * c : nil, c)
                column += c
            }
        }
    }
}
