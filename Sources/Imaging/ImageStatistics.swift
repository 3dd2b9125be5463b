import Foundation

/// Measures for data-quality flags, taken on a copy scaled so its longer side is at most 256 pixels (so
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

    public static let analysisSide = 256

    public init(brightness: Double, sharpness: Double, entropy: Double, colorfulness: Double) {
        self.brightness = brightness
        self.sharpness = sharpness
        self.entropy = entropy
        self.colorfulness = colorfulness
    }

    public init(of image: RGBImage) {
        // Larger pictures are measured at 256 px on the longer side; smaller ones as they are (enlarging
        // would only blur them).
        let scaled = max(image.width, image.height) > ImageStatistics.analysisSide
            ? image.resizedToLongerSide(ImageStatistics.analysisSide) : image
        let w = scaled.width, h = scaled.height
        let luma = scaled.luma()
        var histogram = [Int](repeating: 0, count: 256)
        var sum = 0.0, chroma = 0.0
        scaled.pixels.withUnsafeBufferPointer { p in
            for i in 0..<w * h {
                let r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2]
                chroma += Double(max(r, g, b) - min(r, g, b))
                histogram[min(255, Int(luma[i].rounded()))] += 1
                sum += Double(luma[i])
            }
        }
        let count = Double(w * h)
        brightness = sum / count
        colorfulness = chroma / count
        entropy = histogram.reduce(0.0) { total, n in
            guard n > 0 else { return total }
            let p = Double(n) / count
            return total - p * log2(p)
        }
        // 4-neighbour Laplacian over the interior.
        var lapSum = 0.0, lapSquares = 0.0, lapCount = 0.0
        if w >= 3 && h >= 3 {
            for y in 1..<h - 1 {
                for x in 1..<w - 1 {
                    let i = y * w + x
                    let value = Double(luma[i - 1] + luma[i + 1] + luma[i - w] + luma[i + w] - 4 * luma[i])
                    lapSum += value
                    lapSquares += value * value
                    lapCount += 1
                }
            }
        }
        sharpness = lapCount > 0 ? lapSquares / lapCount - (lapSum / lapCount) * (lapSum / lapCount) : 0
    }
}

extension RGBImage {
    /// Scaled (down or up) so the longer side is `side`, keeping the aspect ratio.
    public func resizedToLongerSide(_ side: Int) -> RGBImage {
        resized(mode: .keepRatioLargest, size: side)
    }
}
