import Files
import Foundation
import Imaging

/// Oriented binary descriptors at corners of one picture, as ORB builds them (Rublee et al. 2011): corners at
/// several scales, each turned to the direction of its patch's intensity centroid, 256 brightness comparisons
/// in that frame. Each corner also carries the comparisons mirrored, so a flipped copy matches as well. What
/// `PairVerification` compares when the backbone's features say two pictures look alike: the backbone cannot
/// tell a copy from a different photograph of the same kind of scene; the same corners in the same layout can.
public struct LocalFeatures: Sendable {
    public struct Keypoint: Sendable, Equatable {
        /// In the pixels of the picture scaled to `side` (its longer side).
        public var x: Float, y: Float
        /// Radians, the direction of the patch's intensity centroid.
        public var angle: Float
        /// The pyramid level's scale: 1 at full size, smaller on coarser levels.
        public var scale: Float
    }

    /// The picture's longer side is scaled to this many pixels first.
    public static let side = 256
    /// Levels of the pyramid and the scale between two, which together span copies at about half to twice the size.
    static let levels = 5, levelScale: Float = 1 / 1.25
    /// Comparisons stay within this radius of the corner (pixels of its level), and corners this far from the edge.
    static let patchRadius = 13, margin = 16

    public let width: Int, height: Int
    /// The shorter side of the picture as it came, before scaling.
    public let originalShorterSide: Int
    public private(set) var keypoints: [Keypoint] = []
    /// 4 words per keypoint; `mirrored` the same comparisons with the pattern mirrored across the corner's axis.
    public private(set) var descriptors: [UInt64] = []
    public private(set) var mirrored: [UInt64] = []

    /// Up to `maxKeypoints` corners of `image` (any size; scaled to `side` first), strongest first per level.
    public init(image: RGBImage, maxKeypoints: Int = 500) {
        let base = image.resized(mode: .keepRatioLargest, size: Self.side)
        width = base.width
        height = base.height
        originalShorterSide = min(image.width, image.height)
        var scale: Float = 1
        let areas = (0..<Self.levels).map { pow(Self.levelScale * Self.levelScale, Float($0)) }
        for level in 0..<Self.levels {
            let (w, h) = (Int((Float(width) * scale).rounded()), Int((Float(height) * scale).rounded()))
            guard min(w, h) > 2 * Self.margin + 4 else { break }
            let plane = GrayPlane(level == 0 ? base : base.resized(width: w, height: h))
            let quota = max(8, Int(Float(maxKeypoints) * areas[level] / areas.reduce(0, +)))
            for corner in plane.corners(limit: quota, margin: Self.margin) {
                let angle = plane.centroidAngle(x: corner.x, y: corner.y, radius: Self.patchRadius)
                let (normal, flipped) = plane.describe(x: corner.x, y: corner.y, angle: angle)
                keypoints.append(Keypoint(x: Float(corner.x) / scale, y: Float(corner.y) / scale, angle: angle, scale: scale))
                descriptors.append(contentsOf: normal)
                mirrored.append(contentsOf: flipped)
            }
            scale *= Self.levelScale
        }
    }

    /// The comparison pattern: 256 pairs of offsets, Gaussian around the corner (sigma a fifth of the patch, as
    /// BRIEF's best pattern), inside the patch's circle; seeded, so every run and machine draws the same.
    static let pattern: [(Float, Float, Float, Float)] = {
        var random = SplitMix64(seed: 0x0b1e)
        let sigma = Double(2 * patchRadius + 1) / 5, limit = Double(patchRadius)
        func offset() -> (Float, Float) {
            while true {
                let (x, y) = (random.nextGaussian() * sigma, random.nextGaussian() * sigma)
                if x * x + y * y <= limit * limit { return (Float(x), Float(y)) }
            }
        }
        return (0..<256).map { _ in
            let (p, q) = (offset(), offset())
            return (p.0, p.1, q.0, q.1)
        }
    }()
}

/// One pyramid level in luma, smoothed (comparisons of single pixels are too noisy), with the corner
/// search, orientation and comparisons that read it.
struct GrayPlane {
    let width: Int, height: Int
    /// Smoothed luma, row by row.
    let values: [Float]

    init(_ image: RGBImage) {
        width = image.width
        height = image.height
        values = Self.smoothed(image.luma(), width: width, height: height)
    }

    /// A separable 1-4-6-4-1 binomial (a Gaussian of sigma 1), edges clamped.
    static func smoothed(_ input: [Float], width: Int, height: Int) -> [Float] {
        let taps: [Float] = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]
        var across = [Float](repeating: 0, count: input.count), out = across
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for k in -2...2 { sum += taps[k + 2] * input[y * width + min(width - 1, max(0, x + k))] }
                across[y * width + x] = sum
            }
        }
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for k in -2...2 { sum += taps[k + 2] * across[min(height - 1, max(0, y + k)) * width + x] }
                out[y * width + x] = sum
            }
        }
        return out
    }

    /// The strongest corners by the smaller eigenvalue of the gradients' structure tensor over a 5x5 window
    /// (Shi and Tomasi), local maxima within 2 pixels, at least `margin` from the edge.
    func corners(limit: Int, margin: Int) -> [(x: Int, y: Int)] {
        let n = width * height
        var xx = [Float](repeating: 0, count: n), yy = xx, xy = xx
        for y in 1..<(height - 1) {
            for x in 1..<(width - 1) {
                let i = y * width + x
                let gx = values[i + 1] - values[i - 1], gy = values[i + width] - values[i - width]
                xx[i] = gx * gx
                yy[i] = gy * gy
                xy[i] = gx * gy
            }
        }
        let (a, b, c) = (Self.smoothed(xx, width: width, height: height), Self.smoothed(xy, width: width, height: height),
                         Self.smoothed(yy, width: width, height: height))
        var score = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let half = (a[i] - c[i]) / 2
            score[i] = (a[i] + c[i]) / 2 - (half * half + b[i] * b[i]).squareRoot()
        }
        var found: [(score: Float, x: Int, y: Int)] = []
        // Below this a "corner" is sensor noise or JPEG ringing (gradients of a couple of grey levels).
        let floor: Float = 4
        for y in margin..<(height - margin) {
            for x in margin..<(width - margin) {
                let s = score[y * width + x]
                guard s > floor else { continue }
                var isMaximum = true
                for dy in -2...2 where isMaximum {
                    for dx in -2...2 where (dx, dy) != (0, 0) {
                        let other = score[(y + dy) * width + x + dx]
                        // Ties go to the first in reading order, so a flat plateau yields one corner.
                        if other > s || (other == s && (dy < 0 || (dy == 0 && dx < 0))) { isMaximum = false; break }
                    }
                }
                if isMaximum { found.append((s, x, y)) }
            }
        }
        found.sort { ($0.score, -$0.y, -$0.x) > ($1.score, -$1.y, -$1.x) }
        return found.prefix(limit).map { ($0.x, $0.y) }
    }

    /// The direction from the corner to its patch's intensity centroid (ORB's orientation).
    func centroidAngle(x: Int, y: Int, radius: Int) -> Float {
        var mx: Float = 0, my: Float = 0
        for dy in -radius...radius {
            for dx in -radius...radius where dx * dx + dy * dy <= radius * radius {
                let v = values[(y + dy) * width + x + dx]
                mx += Float(dx) * v
                my += Float(dy) * v
            }
        }
        return atan2(my, mx)
    }

    /// The 256 comparisons turned by `angle`, and the same with the pattern mirrored (offsets (px, -py)): in a
    /// mirrored picture the corner's angle is pi - angle, and its comparisons there are exactly these.
    func describe(x: Int, y: Int, angle: Float) -> (normal: [UInt64], mirrored: [UInt64]) {
        let (c, s) = (cos(angle), sin(angle))
        func at(_ px: Float, _ py: Float) -> Float {
            let u = Int((Float(x) + c * px - s * py).rounded()), v = Int((Float(y) + s * px + c * py).rounded())
            return values[v * width + u]
        }
        var normal = [UInt64](repeating: 0, count: 4), mirrored = normal
        for (k, (px, py, qx, qy)) in LocalFeatures.pattern.enumerated() {
            if at(px, py) < at(qx, qy) { normal[k >> 6] |= 1 << UInt64(k & 63) }
            if at(px, -py) < at(qx, -qy) { mirrored[k >> 6] |= 1 << UInt64(k & 63) }
        }
        return (normal, mirrored)
    }
}
