import Foundation

/// Measures for data-quality flags, taken on a copy scaled so its longer side is at most 128 pixels (so
/// values do not depend on the resolution an image happens to have).
public struct ImageStatistics: Sendable, Equatable, Codable {
    /// Mean luma, 0 (black) to 255 (white).
    public var brightness: Double
    /// Variance of the Laplacian of the luma: low for blurry pictures.
    public var sharpness: Double
    /// Shannon entropy of the luma histogram in bits (0 for a flat picture, 8 at most).
    public var entropy: Double
    /// Mean spread between the largest and smallest RGB channel: near 0 for grayscale pictures.
    public var colorfulness: Double

    public static let analysisSide = 128

    public init(brightness: Double, sharpness: Double, entropy: Double, colorfulness: Double) {
        self.brightness = brightness
        self.sharpness = sharpness
        self.entropy = entropy
        self.colorfulness = colorfulness
    }

    public init(of image: RGBImage) {
        // Larger pictures are measured at 128 px on the longer side; smaller ones as they are (enlarging
        // would only blur them).
        let scaled = image.fitting(maxSide: ImageStatistics.analysisSide)
        let w = scaled.width, h = scaled.height, count = w * h
        // Integer luma (ITU-R 601, as in `luma()`), so the loops below stay in integer arithmetic.
        let luma = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        defer { luma.deallocate() }
        let histogram = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        defer { histogram.deallocate() }
        histogram.initialize(repeating: 0, count: 256)
        var sum = 0, chroma = 0
        scaled.pixels.withUnsafeBufferPointer { p in
            for i in 0..<count {
                let r = Int32(p[3 * i]), g = Int32(p[3 * i + 1]), b = Int32(p[3 * i + 2])
                let y = (299 &* r &+ 587 &* g &+ 114 &* b &+ 500) / 1000
                luma[i] = y
                histogram[Int(y)] &+= 1
                sum &+= Int(y)
                chroma &+= Int(max(r, g, b) &- min(r, g, b))
            }
        }
        brightness = Double(sum) / Double(count)
        colorfulness = Double(chroma) / Double(count)
        var entropy = 0.0
        for k in 0..<256 where histogram[k] > 0 {
            let p = Double(histogram[k]) / Double(count)
            entropy -= p * log2(p)
        }
        self.entropy = entropy
        // 4-neighbour Laplacian over the interior.
        var lapSum = 0, lapSquares = 0
        if w >= 3 && h >= 3 {
            for row in 1..<h - 1 {
                for x in 1..<w - 1 {
                    let i = row * w + x
                    let value = Int(luma[i - 1] &+ luma[i + 1] &+ luma[i - w] &+ luma[i + w] &- 4 &* luma[i])
                    lapSum &+= value
                    lapSquares &+= value &* value
                }
            }
        }
        let interior = Double(max(0, (w - 2) * (h - 2)))
        sharpness = interior > 0 ? Double(lapSquares) / interior - (Double(lapSum) / interior) * (Double(lapSum) / interior) : 0
    }
}

