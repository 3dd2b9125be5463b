import Foundation
import Imaging

/// The same picture as a scraper meets it again: cropped, rotated, mirrored, re-framed. For the semantic
/// near-duplicate tests and benchmark (planted copies of real pictures).
public enum Transformation: Sendable, Hashable, CustomStringConvertible {
    /// `fraction` of the width and height off each side (0.03 is 3% per side).
    case crop(fraction: Double)
    case rotate90
    /// A small rotation, then the largest centred rectangle without the blank corners.
    case rotate(degrees: Double)
    case flipHorizontal
    /// An off-centre crop of `fraction` of the picture, then a border of `fraction / 2` of the size, as a
    /// page that frames the same photograph differently.
    case reframe(fraction: Double)

    public var description: String {
        switch self {
        case .crop(let f): "crop \(Int((f * 100).rounded()))% per side"
        case .rotate90: "rotate 90°"
        case .rotate(let d): "rotate \(d)°"
        case .flipHorizontal: "flip"
        case .reframe(let f): "re-frame \(Int((f * 100).rounded()))%"
        }
    }

    public func apply(to image: RGBImage) -> RGBImage {
        let (w, h) = (image.width, image.height)
        switch self {
        case .crop(let f):
            let (dx, dy) = (Int(Double(w) * f), Int(Double(h) * f))
            return image.cropped(x: dx, y: dy, width: w - 2 * dx, height: h - 2 * dy)
        case .rotate90:
            var out = RGBImage(width: h, height: w)
            for y in 0..<h { for x in 0..<w { out[h - 1 - y, x] = image[x, y] } }
            return out
        case .flipHorizontal:
            var out = image
            for y in 0..<h { for x in 0..<w { out[w - 1 - x, y] = image[x, y] } }
            return out
        case .rotate(let degrees):
            return Self.rotated(image, degrees: degrees)
        case .reframe(let f):
            let (cw, ch) = (Int(Double(w) * (1 - f)), Int(Double(h) * (1 - f)))
            let inner = image.cropped(x: w - cw, y: 0, width: cw, height: ch)  // off-centre: the top right
            let (bx, by) = (max(1, Int(Double(w) * f / 2)), max(1, Int(Double(h) * f / 2)))
            var out = RGBImage(width: cw + 2 * bx, height: ch + 2 * by, fill: RGB(245, 245, 240))
            out.draw(inner, x: bx, y: by)
            return out
        }
    }

    /// Bilinear rotation about the centre, cropped to the largest axis-aligned rectangle inside the rotated
    /// picture (so no blank corners give it away).
    static func rotated(_ image: RGBImage, degrees: Double) -> RGBImage {
        let (w, h) = (Double(image.width), Double(image.height))
        let angle = degrees * .pi / 180
        let (c, s) = (abs(cos(angle)), abs(sin(angle)))
        // The largest rectangle of the original's aspect inside the rotated one.
        let scale = min(w / (w * c + h * s), h / (w * s + h * c))
        let (ow, oh) = (max(1, Int(w * scale)), max(1, Int(h * scale)))
        var out = RGBImage(width: ow, height: oh)
        let (cosA, sinA) = (cos(angle), sin(angle))
        for y in 0..<oh {
            for x in 0..<ow {
                let (dx, dy) = (Double(x) - Double(ow) / 2 + 0.5, Double(y) - Double(oh) / 2 + 0.5)
                let sx = cosA * dx + sinA * dy + w / 2 - 0.5, sy = -sinA * dx + cosA * dy + h / 2 - 0.5
                let (x0, y0) = (max(0, min(image.width - 2, Int(sx))), max(0, min(image.height - 2, Int(sy))))
                let (fx, fy) = (max(0, min(1, sx - Double(x0))), max(0, min(1, sy - Double(y0))))
                let (a, b, cc, d) = (image[x0, y0], image[x0 + 1, y0], image[x0, y0 + 1], image[x0 + 1, y0 + 1])
                func mix(_ p: UInt8, _ q: UInt8, _ r: UInt8, _ t: UInt8) -> UInt8 {
                    let top = Double(p) * (1 - fx) + Double(q) * fx, bottom = Double(r) * (1 - fx) + Double(t) * fx
                    return UInt8(max(0, min(255, (top * (1 - fy) + bottom * fy).rounded())))
                }
                out[x, y] = RGB(mix(a.r, b.r, cc.r, d.r), mix(a.g, b.g, cc.g, d.g), mix(a.b, b.b, cc.b, d.b))
            }
        }
        return out
    }

    /// The planted set of the benchmark and tests: crops of 2 to 5% per side, both rotations, a flip and a
    /// re-framing.
    public static let planted: [Transformation] = [.crop(fraction: 0.02), .crop(fraction: 0.05), .rotate90, .rotate(degrees: 5),
                                                   .flipHorizontal, .reframe(fraction: 0.1)]
}
