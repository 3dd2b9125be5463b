import Files
import Imaging
import SampleImages

/// The demo's four classes, drawn procedurally so that the demo needs no download: each picture has its own size,
/// background (a gradient of two random colours with noise), colours, positions and sizes; the class is the kind
/// of thing drawn on it.
public enum DemoPictures {
    public static let classes = ["circles", "squares", "stripes", "checkers"]

    /// Picture `index` of `label`, as JPEG bytes (quality 70–95), the same for the same arguments.
    public static func jpeg(_ label: String, _ index: Int, seed: UInt64 = 1) -> [UInt8] {
        var random = SplitMix64(seed: stableHash("\(label)/\(index)/\(seed)"))
        let image = picture(label, random: &random)
        return SampleImages.jpeg(image, quality: 70 + Int(random.next() % 26))
    }

    /// The pixels `jpeg` encodes.
    public static func image(_ label: String, _ index: Int, seed: UInt64 = 1) -> RGBImage {
        var random = SplitMix64(seed: stableHash("\(label)/\(index)/\(seed)"))
        return picture(label, random: &random)
    }

    static func picture(_ label: String, random: inout SplitMix64) -> RGBImage {
        func unit() -> Double { Double(random.next() % 10_000) / 10_000 }
        // Backgrounds light, what is drawn dark (or the other way round): a shape the colour of its background
        // would be a picture of nothing.
        let darkOnLight = random.next() % 2 == 0
        func tone(_ dark: Bool) -> UInt8 { dark ? UInt8(random.next() % 90) : UInt8(165 + random.next() % 91) }
        func color(_ dark: Bool) -> RGB { RGB(tone(dark), tone(dark), tone(dark)) }
        func ink() -> RGB { color(darkOnLight) }
        func paper() -> RGB { color(!darkOnLight) }
        let width = 96 + Int(random.next() % 97), height = 96 + Int(random.next() % 97)
        var image = RGBImage(width: width, height: height)
        let (from, to) = (paper(), paper())
        for y in 0..<height {
            for x in 0..<width {
                let t = Double(x + y) / Double(width + height)
                image[x, y] = RGB(UInt8(Double(from.r) * (1 - t) + Double(to.r) * t), UInt8(Double(from.g) * (1 - t) + Double(to.g) * t),
                                  UInt8(Double(from.b) * (1 - t) + Double(to.b) * t))
            }
        }
        let side = Double(min(width, height))
        switch label {
        case "circles", "squares":
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let r = (0.12 + 0.18 * unit()) * side
                let cx = r + unit() * (Double(width) - 2 * r), cy = r + unit() * (Double(height) - 2 * r)
                let fill = ink()
                for y in max(0, Int(cy - r))..<min(height, Int(cy + r) + 1) {
                    for x in max(0, Int(cx - r))..<min(width, Int(cx + r) + 1) {
                        let (dx, dy) = (Double(x) - cx, Double(y) - cy)
                        if label == "squares" || dx * dx + dy * dy <= r * r { image[x, y] = fill }
                    }
                }
            }
        case "stripes":
            let (a, b) = (ink(), paper())
            let period = 6 + Int(random.next() % 14)
            let (kx, ky) = [(1, 0), (0, 1), (1, 1), (1, -1)][Int(random.next() % 4)]
            for y in 0..<height {
                for x in 0..<width where ((kx * x + ky * y) % period + period) % period < period / 2 { image[x, y] = a }
                for x in 0..<width where ((kx * x + ky * y) % period + period) % period >= period / 2 && random.next() % 4 == 0 { image[x, y] = b }
            }
        default:  // checkers
            let (a, b) = (ink(), paper())
            let cell = 6 + Int(random.next() % 12)
            for y in 0..<height {
                for x in 0..<width { image[x, y] = (x / cell + y / cell) % 2 == 0 ? a : b }
            }
        }
        for i in 0..<image.pixels.count { image.pixels[i] = image.pixels[i] &+ UInt8(random.next() % 10) }
        return image
    }

    /// The "image removed" picture hosts serve for anything deleted: the same bytes behind many URLs.
    public static func placeholder() -> [UInt8] {
        var image = RGBImage(width: 120, height: 90, fill: RGB(204, 204, 204))
        for y in 40..<50 { for x in 20..<100 { image[x, y] = RGB(120, 120, 120) } }
        return SampleImages.png(image)
    }
}
