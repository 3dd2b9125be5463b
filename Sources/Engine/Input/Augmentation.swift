import Files
import Foundation
import Imaging

/// Random changes applied to each training image, like Keras's `ImageDataGenerator`: flips, rotation,
/// shifts, shear and zoom (one affine transform, bilinear, edges extended as Keras's fill_mode "nearest"),
/// then brightness and channel shift. All drawn from a seeded generator.
public struct Augmentation: Codable, Sendable, Equatable {
    public var horizontalFlip = false
    public var verticalFlip = false
    public var rotationDegrees: Double = 0
    /// Fractions of the width and height.
    public var widthShift: Double = 0
    public var heightShift: Double = 0
    /// Shear angle in degrees.
    public var shearDegrees: Double = 0
    /// Zoom factor drawn from 1 - zoom ... 1 + zoom.
    public var zoom: Double = 0
    /// Brightness factor drawn from 1 - brightness ... 1 + brightness.
    public var brightness: Double = 0
    /// Added to each channel, drawn from -channelShift ... channelShift (pixel units).
    public var channelShift: Double = 0
    /// Turned a quarter clockwise (before the random changes), every time: not a training change but the view
    /// under which a copy turned 90° either way meets its original (semantic duplicates). Optional so that
    /// settings without it encode as before (the feature cache's key is their JSON).
    public var quarterTurn: Bool?

    public init() {}

    /// The quarter-turned view, nothing else.
    public static let quarterTurned: Augmentation = {
        var a = Augmentation()
        a.quarterTurn = true
        return a
    }()

    /// A sensible set for photos: flips left-right, small rotations, shifts and zoom, a little brightness.
    public static let standard: Augmentation = {
        var a = Augmentation()
        a.horizontalFlip = true
        a.rotationDegrees = 10
        a.widthShift = 0.1
        a.heightShift = 0.1
        a.zoom = 0.1
        a.brightness = 0.1
        return a
    }()

    var isGeometric: Bool {
        horizontalFlip || verticalFlip || rotationDegrees != 0 || widthShift != 0 || heightShift != 0
            || shearDegrees != 0 || zoom != 0 || quarterTurn == true
    }

    /// Writes the normalised, augmented image (square, `side` pixels, RGB) into `output` (side * side * 3).
    func apply(_ image: RGBImage, normalization: Normalization, random: inout SplitMix64,
               into output: UnsafeMutablePointer<Float>) {
        let side = image.width
        precondition(image.height == side, "augmentation expects the square, resized image")
        // The inverse affine map from output to source coordinates, about the centre.
        var a = 1.0, b = 0.0, c = 0.0, d = 1.0, tx = 0.0, ty = 0.0
        if isGeometric {
            let angle = random.next(in: -rotationDegrees...rotationDegrees) * .pi / 180
            let shear = random.next(in: -shearDegrees...shearDegrees) * .pi / 180
            let zx = random.next(in: (1 - zoom)...(1 + zoom)), zy = random.next(in: (1 - zoom)...(1 + zoom))
            let flipX = horizontalFlip && random.nextUnit() < 0.5 ? -1.0 : 1.0
            let flipY = verticalFlip && random.nextUnit() < 0.5 ? -1.0 : 1.0
            // source = Rotation * Shear * Zoom * Flip * (output - centre) + centre + shift, with
            // Shear = [[1, -sin(s)], [0, cos(s)]] (Keras's order of the same transforms).
            let (cosA, sinA) = (cos(angle), sin(angle))
            let r00 = cosA, r01 = -cosA * sin(shear) - sinA * cos(shear)
            let r10 = sinA, r11 = -sinA * sin(shear) + cosA * cos(shear)
            (a, b) = (r00 * zx * flipX, r01 * zy * flipY)
            (c, d) = (r10 * zx * flipX, r11 * zy * flipY)
            tx = random.next(in: -widthShift...widthShift) * Double(side)
            ty = random.next(in: -heightShift...heightShift) * Double(side)
            // Output (x, y) of the turned picture is (y, -x) of the picture, about the centre.
            if quarterTurn == true { (a, b, c, d) = (-b, a, -d, c) }
        }
        let scale = brightness > 0 ? Float(random.next(in: (1 - brightness)...(1 + brightness))) : 1
        let shifts = (0..<3).map { _ in channelShift > 0 ? Float(random.next(in: -channelShift...channelShift)) : 0 }
        let centre = Double(side - 1) / 2
        let factors = (0..<3).map { scale / 255 / normalization.deviation[$0] }
        let offsets = (0..<3).map { (shifts[$0] / 255 - normalization.mean[$0]) / normalization.deviation[$0] }
        image.pixels.withUnsafeBufferPointer { pixels in
            guard isGeometric else {
                // No transform (evaluation, or colour changes only): each pixel is its own source.
                for i in 0..<(side * side * 3) { output[i] = Float(pixels[i]) * factors[i % 3] + offsets[i % 3] }
                return
            }
            var out = output
            for y in 0..<side {
                for x in 0..<side {
                    let ox = Double(x) - centre, oy = Double(y) - centre
                    let sx = min(max(a * ox + b * oy + centre + tx, 0), Double(side - 1))
                    let sy = min(max(c * ox + d * oy + centre + ty, 0), Double(side - 1))
                    let x0 = Int(sx), y0 = Int(sy)
                    let x1 = min(x0 + 1, side - 1), y1 = min(y0 + 1, side - 1)
                    let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                    for ch in 0..<3 {
                        let p00 = Float(pixels[(y0 * side + x0) * 3 + ch]), p01 = Float(pixels[(y0 * side + x1) * 3 + ch])
                        let p10 = Float(pixels[(y1 * side + x0) * 3 + ch]), p11 = Float(pixels[(y1 * side + x1) * 3 + ch])
                        let top = p00 + (p01 - p00) * fx, bottom = p10 + (p11 - p10) * fx
                        out[ch] = (top + (bottom - top) * fy) * factors[ch] + offsets[ch]
                    }
                    out += 3
                }
            }
        }
    }
}
