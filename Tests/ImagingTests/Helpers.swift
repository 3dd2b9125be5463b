import Imaging
import Testing

/// The reason a decode failed with, or nil when it succeeded.
func rejection(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) -> RejectReason? {
    do {
        _ = try ImageDecoder.decode(bytes, options: options)
        return nil
    } catch {
        return error.reason
    }
}

/// Mean absolute difference per channel value between two images of the same size.
func meanDifference(_ a: RGBImage, _ b: RGBImage) -> Double {
    precondition(a.width == b.width && a.height == b.height)
    var total = 0
    for i in 0..<a.pixels.count { total += abs(Int(a.pixels[i]) - Int(b.pixels[i])) }
    return Double(total) / Double(a.pixels.count)
}

/// Mean colour of a rectangle.
func meanColor(_ image: RGBImage, x: Range<Int>, y: Range<Int>) -> (Double, Double, Double) {
    var sum = (0, 0, 0)
    for yy in y {
        for xx in x {
            let p = image[xx, yy]
            sum.0 += Int(p.r)
            sum.1 += Int(p.g)
            sum.2 += Int(p.b)
        }
    }
    let n = Double(x.count * y.count)
    return (Double(sum.0) / n, Double(sum.1) / n, Double(sum.2) / n)
}
