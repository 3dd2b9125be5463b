extension RGBImage {
    /// Resizes each axis on its own: area averaging when shrinking (every source pixel counts, so no
    /// aliasing), bilinear when enlarging.
    public func resized(width newWidth: Int, height newHeight: Int) -> RGBImage {
        precondition(newWidth > 0 && newHeight > 0, "resize to an empty image")
        if newWidth == width && newHeight == height { return self }
        let horizontal = ResampleWeights(from: width, to: newWidth)
        let vertical = ResampleWeights(from: height, to: newHeight)
        // Pass 1: rows to the new width, in Float to keep precision between the passes.
        var rows = [Float](repeating: 0, count: height * newWidth * 3)
        pixels.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let srcRow = y * width * 3, dstRow = y * newWidth * 3
                    for x in 0..<newWidth {
                        var r: Float = 0, g: Float = 0, b: Float = 0
                        for k in horizontal.range(x) {
                            let weight = horizontal.weights[k], p = srcRow + horizontal.sources[k] * 3
                            r += weight * Float(src[p])
                            g += weight * Float(src[p + 1])
                            b += weight * Float(src[p + 2])
                        }
                        dst[dstRow + x * 3] = r
                        dst[dstRow + x * 3 + 1] = g
                        dst[dstRow + x * 3 + 2] = b
                    }
                }
            }
        }
        // Pass 2: columns to the new height.
        let rowLength = newWidth * 3
        let out = [UInt8](unsafeUninitializedCapacity: newHeight * rowLength) { dst, count in
            var accumulator = [Float](repeating: 0, count: rowLength)
            rows.withUnsafeBufferPointer { src in
                for y in 0..<newHeight {
                    let target = y * rowLength
                    for i in 0..<rowLength { accumulator[i] = 0 }
                    for k in vertical.range(y) {
                        let weight = vertical.weights[k], row = vertical.sources[k] * rowLength
                        for i in 0..<rowLength { accumulator[i] += weight * src[row + i] }
                    }
                    for i in 0..<rowLength { dst[target + i] = UInt8(max(0, min(255, accumulator[i] + 0.5))) }
                }
            }
            count = newHeight * rowLength
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: out)
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
        func scaled(toSide side: Int, of reference: Int) -> (Int, Int) {
            let scale = Double(side) / Double(reference)
            return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
        }
        switch mode {
        case .keepRatio:
            let (w, h) = scaled(toSide: size, of: min(width, height))
            return resized(width: w, height: h)
        case .keepRatioLargest:
            let (w, h) = scaled(toSide: size, of: max(width, height))
            return resized(width: w, height: h)
        case .centerCrop:
            let (w, h) = scaled(toSide: size, of: min(width, height))
            return resized(width: w, height: h).cropped(x: (w - size) / 2, y: (h - size) / 2, width: min(size, w), height: min(size, h))
        case .border:
            let (w, h) = scaled(toSide: size, of: max(width, height))
            return resized(width: w, height: h).centered(onSquare: size, background: background)
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
        let left = (side - width) / 2, top = (side - height) / 2
        for row in 0..<height {
            let source = row * width * 3, target = ((top + row) * side + left) * 3
            canvas.pixels.replaceSubrange(target..<target + width * 3, with: pixels[source..<source + width * 3])
        }
        return canvas
    }
}
