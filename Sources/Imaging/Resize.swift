extension RGBImage {
    /// Resizes each axis on its own: area averaging when shrinking (every source pixel counts, so no
    /// aliasing), bilinear when enlarging.
    public func resized(width newWidth: Int, height newHeight: Int) -> RGBImage {
        precondition(newWidth > 0 && newHeight > 0, "resize to an empty image")
        if newWidth == width && newHeight == height { return self }
        // Past a 64:1 shrink an output averages thousands of pixels and each 16-bit weight gets too coarse:
        // go through an intermediate size (area averaging composes, so the result is the same up to rounding).
        if width > newWidth * 64 || height > newHeight * 64 {
            return resized(width: min(width, newWidth * 16), height: min(height, newHeight * 16))
                .resized(width: newWidth, height: newHeight)
        }
        let horizontal = FixedPointWeights(ResampleWeights(from: width, to: newWidth), sourceCount: width)
        let vertical = FixedPointWeights(ResampleWeights(from: height, to: newHeight), sourceCount: height)
        // Two 8-bit passes (as PIL does); run first the one that leaves the second less to do. A tap of the
        // vertical pass costs about a quarter of a horizontal one (whole rows at a time, vectorised).
        let rowsFirst = 4 * height * newWidth * horizontal.taps + newHeight * newWidth * vertical.taps
        let columnsFirst = newHeight * width * vertical.taps + 4 * newHeight * newWidth * horizontal.taps
        var pixels = self.pixels
        var w = width, h = height
        for pass in rowsFirst <= columnsFirst ? [0, 1] : [1, 0] {
            if pass == 0 && w != newWidth {
                pixels = Resampler.rows(pixels, width: w, height: h, to: newWidth, horizontal)
                w = newWidth
            } else if pass == 1 && h != newHeight {
                pixels = Resampler.columns(pixels, width: w, height: h, to: newHeight, vertical)
                h = newHeight
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: pixels)
    }

    /// Scales so the longer side is at most `maxSide`, keeping the aspect ratio; never enlarges.
    public func fitting(maxSide: Int) -> RGBImage {
        let longest = max(width, height)
        guard longest > maxSide else { return self }
        let scale = Double(maxSide) / Double(longest)
        return resized(width: max(1, Int((Double(width) * scale).rounded())),
                       height: max(1, Int((Double(height) * scale).rounded())))
    }
}

/// `ResampleWeights` in 16-bit fixed point (each output's weights sum to exactly 1 << 16), padded with zero
/// weights to the same number of taps for every output, so the inner loops have a fixed trip count and no
/// unpredictable branches. `starts` are moved left where needed so every tap stays inside the source.
struct FixedPointWeights {
    static let shift = 16
    let taps: Int
    let starts: [Int]
    let weights: [Int32]    // outputs × taps

    init(_ w: ResampleWeights, sourceCount: Int) {
        let outputs = w.starts.count - 1
        var widest = 1
        for i in 0..<outputs { widest = max(widest, w.starts[i + 1] - w.starts[i]) }
        let taps = min(sourceCount, widest)
        var starts = [Int](repeating: 0, count: outputs)
        var weights = [Int32](repeating: 0, count: outputs * taps)
        var remainders = [Double](repeating: 0, count: taps)  // reused for every output
        let unit = Double(1 << Self.shift)
        for i in 0..<outputs {
            let range = w.range(i)
            let start = min(w.sources[range.lowerBound], sourceCount - taps)
            starts[i] = start
            let base = i * taps
            // Largest-remainder rounding: round down, then give the units still missing to the taps that lost
            // the most, so the weights sum to exactly 1 and none is off by more than one unit.
            var total: Int32 = 0
            for k in 0..<taps { remainders[k] = -1 }
            for k in range {
                let exact = Double(w.weights[k]) * unit, floor = exact.rounded(.down)
                let slot = w.sources[k] - start
                weights[base + slot] = Int32(floor)
                remainders[slot] = exact - floor
                total += Int32(floor)
            }
            var missing = Int(Int32(1 << Self.shift) - total)
            while missing > 0 {
                var best = 0
                for k in 1..<max(1, taps) where remainders[k] > remainders[best] { best = k }
                weights[base + best] += 1
                remainders[best] = -1
                missing -= 1
            }
        }
        self.taps = taps
        self.starts = starts
        self.weights = weights
    }
}

/// The two passes of `resized`, over interleaved RGB. Sources of one output are consecutive, which is
/// what `ResampleWeights` produces.
enum Resampler {
    static func rows(_ source: [UInt8], width: Int, height: Int, to newWidth: Int, _ w: FixedPointWeights) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: height * newWidth * 3) { out, count in
            source.withUnsafeBufferPointer { src in
                w.weights.withUnsafeBufferPointer { weights in
                    w.starts.withUnsafeBufferPointer { starts in
                        for y in 0..<height {
                            let srcRow = src.baseAddress! + y * width * 3
                            let dstRow = out.baseAddress! + y * newWidth * 3
                            // The common tap counts get a loop the compiler unrolls completely.
                            switch w.taps {
                            case 2: row(srcRow, dstRow, newWidth, starts, weights, taps: 2)
                            case 3: row(srcRow, dstRow, newWidth, starts, weights, taps: 3)
                            case 4: row(srcRow, dstRow, newWidth, starts, weights, taps: 4)
                            default: row(srcRow, dstRow, newWidth, starts, weights, taps: w.taps)
                            }
                        }
                    }
                }
            }
            count = height * newWidth * 3
        }
    }

    @inline(__always)
    private static func row(_ srcRow: UnsafePointer<UInt8>, _ dstRow: UnsafeMutablePointer<UInt8>, _ newWidth: Int,
                            _ starts: UnsafeBufferPointer<Int>, _ weights: UnsafeBufferPointer<Int32>, taps: Int) {
        let round = Int32(1 << (FixedPointWeights.shift - 1))
        var dst = dstRow
        var tap = weights.baseAddress!
        for x in 0..<newWidth {
            var r = round, g = round, b = round
            var p = srcRow + starts[x] * 3
            // Wrapping arithmetic: it cannot overflow here, and checked arithmetic would keep the compiler
            // from optimising.
            for _ in 0..<taps {
                let weight = tap.pointee
                r &+= weight &* Int32(p[0])
                g &+= weight &* Int32(p[1])
                b &+= weight &* Int32(p[2])
                p += 3
                tap += 1
            }
            dst[0] = clampedByte(r)
            dst[1] = clampedByte(g)
            dst[2] = clampedByte(b)
            dst += 3
        }
    }

    static func columns(_ source: [UInt8], width: Int, height: Int, to newHeight: Int, _ w: FixedPointWeights) -> [UInt8] {
        let rowLength = width * 3
        return [UInt8](unsafeUninitializedCapacity: newHeight * rowLength) { out, count in
            let accumulator = UnsafeMutablePointer<Int32>.allocate(capacity: rowLength)
            defer { accumulator.deallocate() }
            source.withUnsafeBufferPointer { src in
                let round = Int32(1 << (FixedPointWeights.shift - 1))
                for y in 0..<newHeight {
                    accumulator.update(repeating: round, count: rowLength)
                    for k in 0..<w.taps {
                        let weight = w.weights[y * w.taps + k]
                        if weight == 0 { continue }
                        let row = src.baseAddress! + (w.starts[y] + k) * rowLength
                        for i in 0..<rowLength { accumulator[i] &+= weight &* Int32(row[i]) }
                    }
                    let dst = out.baseAddress! + y * rowLength
                    for i in 0..<rowLength { dst[i] = clampedByte(accumulator[i]) }
                }
            }
            count = newHeight * rowLength
        }
    }

    @inline(__always) static func clampedByte(_ fixed: Int32) -> UInt8 {
        UInt8(clamping: fixed >> Int32(FixedPointWeights.shift))
    }
}

/// For each output index, the source indexes and weights that make it (weights sum to 1).
struct ResampleWeights {
    var starts: [Int] = []
    var sources: [Int] = []
    var weights: [Float] = []

    func range(_ output: Int) -> Range<Int> { starts[output]..<starts[output + 1] }

    init(from source: Int, to target: Int) {
        let scale = Double(source) / Double(target)
        starts.reserveCapacity(target + 1)
        for i in 0..<target {
            starts.append(sources.count)
            if scale >= 1 {
                // Area: output i covers source [i*scale, (i+1)*scale); each source pixel weighs its overlap.
                let lower = Double(i) * scale, upper = min(Double(source), Double(i + 1) * scale)
                var s = Int(lower)
                while Double(s) < upper {
                    let overlap = min(upper, Double(s + 1)) - max(lower, Double(s))
                    if overlap > 1e-9 {
                        sources.append(s)
                        weights.append(Float(overlap / scale))
                    }
                    s += 1
                }
            } else {
                // Bilinear between the two nearest source centres, clamped at the edges.
                let centre = max(0, min(Double(source - 1), (Double(i) + 0.5) * scale - 0.5))
                let left = Int(centre), fraction = centre - Double(left)
                sources.append(left)
                weights.append(Float(1 - fraction))
                if fraction > 0 && left + 1 < source {
                    sources.append(left + 1)
                    weights.append(Float(fraction))
                }
            }
        }
        starts.append(sources.count)
    }
}

/// How an image is brought to a target size (the modes of img2dataset, whose users know them).
public enum ResizeMode: String, Sendable, CaseIterable {
    /// Shorter side becomes the size, aspect ratio kept (nothing cropped).
    case keepRatio = "keep-ratio"
    /// Longer side becomes the size, aspect ratio kept (nothing cropped or padded).
    case keepRatioLargest = "keep-ratio-largest"
    /// Shorter side becomes the size, then the centre square is cut out.
    case centerCrop = "center-crop"
    /// Longer side becomes the size, then the image is centred on a square of the background colour.
    case border
}

extension RGBImage {
    /// Resizes to `size` under `mode`. Enlarges small images too, as img2dataset does.
    public func resized(mode: ResizeMode, size: Int, background: RGB = .white) -> RGBImage {
        precondition(size > 0, "resize to an empty image")
        switch mode {
        case .keepRatio, .keepRatioLargest:
            let (w, h) = resizedSize(mode: mode, size: size)
            return resized(width: w, height: h)
        case .centerCrop:
            // Crop the centre square first, then scale it: a thin image never becomes a huge intermediate.
            let side = min(width, height)
            return cropped(x: (width - side) / 2, y: (height - side) / 2, width: side, height: side)
                .resized(width: size, height: size)
        case .border:
            let (w, h) = resizedSize(mode: mode, size: size)
            return resized(width: w, height: h).centered(onSquare: size, background: background)
        }
    }

    /// The size `resized(mode:size:)` produces (for `border`, of the picture inside the square).
    public func resizedSize(mode: ResizeMode, size: Int) -> (width: Int, height: Int) {
        switch mode {
        case .centerCrop:
            return (size, size)
        case .keepRatio, .keepRatioLargest, .border:
            let reference = mode == .keepRatio ? min(width, height) : max(width, height)
            let scale = Double(size) / Double(reference)
            return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
        }
    }

    /// The rectangle at (x, y) of the given size; it must lie inside the image.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && cropWidth > 0 && cropHeight > 0 && x + cropWidth <= width && y + cropHeight <= height,
                     "crop outside the image")
        var out = [UInt8]()
        out.reserveCapacity(cropWidth * cropHeight * 3)
        for row in y..<y + cropHeight {
            let start = (row * width + x) * 3
            out += pixels[start..<start + cropWidth * 3]
        }
        return RGBImage(width: cropWidth, height: cropHeight, pixels: out)
    }

    /// This image centred on a `side` x `side` square of `background` (it must fit).
    public func centered(onSquare side: Int, background: RGB) -> RGBImage {
        precondition(width <= side && height <= side, "image larger than the square")
        var canvas = RGBImage(width: side, height: side, fill: background)
        canvas.draw(self, x: (side - width) / 2, y: (side - height) / 2)
        return canvas
    }

    /// Copies `image` onto this one with its top-left corner at (x, y), clipped to this image.
    public mutating func draw(_ image: RGBImage, x: Int, y: Int) {
        let left = max(0, x), right = min(width, x + image.width)
        guard left < right else { return }
        for row in max(0, y)..<min(height, y + image.height) {
            let source = ((row - y) * image.width + (left - x)) * 3, target = (row * width + left) * 3
            pixels.replaceSubrange(target..<target + (right - left) * 3, with: image.pixels[source..<source + (right - left) * 3])
        }
    }

    /// Fills a rectangle (clipped to the image) with `color`.
    public mutating func fill(x: Int, y: Int, width rectWidth: Int, height rectHeight: Int, with color: RGB) {
        for row in max(0, y)..<min(height, y + rectHeight) {
            for column in max(0, x)..<min(width, x + rectWidth) { self[column, row] = color }
        }
    }
}
