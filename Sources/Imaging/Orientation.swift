extension RGBImage {
    /// Applies an EXIF orientation (1–8) so the result is upright as a viewer would show it.
    public func oriented(_ orientation: Int) -> RGBImage {
        guard (2...8).contains(orientation) else { return self }
        let w = width, h = height
        let swapsSides = orientation >= 5
        let outWidth = swapsSides ? h : w, outHeight = swapsSides ? w : h
        // For each output pixel (X, Y), the source pixel it shows.
        let source: (Int, Int) -> (Int, Int)
        switch orientation {
        case 2: source = { x, y in (w - 1 - x, y) }                 // mirrored
        case 3: source = { x, y in (w - 1 - x, h - 1 - y) }         // rotated 180°
        case 4: source = { x, y in (x, h - 1 - y) }                 // flipped
        case 5: source = { x, y in (y, x) }                         // transposed
        case 6: source = { x, y in (y, h - 1 - x) }                 // needs 90° clockwise
        case 7: source = { x, y in (w - 1 - y, h - 1 - x) }         // transversed
        default: source = { x, y in (w - 1 - y, x) }                // 8: needs 90° counter-clockwise
        }
        let pixels = [UInt8](unsafeUninitializedCapacity: w * h * 3) { out, count in
            self.pixels.withUnsafeBufferPointer { src in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let (sx, sy) = source(x, y)
                        let from = (sy * w + sx) * 3, to = (y * outWidth + x) * 3
                        out[to] = src[from]
                        out[to + 1] = src[from + 1]
                        out[to + 2] = src[from + 2]
                    }
                }
            }
            count = w * h * 3
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }
}
