import Foundation

/// A 256-bit PDQ hash (Meta's perceptual hash in ThreatExchange, the format moderation hash lists are exchanged in).
/// Bit `k` is `words[k / 64] >> (k % 64)`; as text, the 64 hex digits of the 256-bit number whose bit `k` is the
/// hash's bit `k`, most significant first (the format of ThreatExchange's lists and tools).
public struct PDQHash: Sendable, Hashable, CustomStringConvertible {
    public var words: (UInt64, UInt64, UInt64, UInt64)

    public init(words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)) { self.words = words }

    /// From the 64 hex digits of a list; nil for anything else.
    public init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        // Hex digits only: UInt64(_:radix:) would also take a sign.
        guard digits.count == 64, digits.allSatisfy({ (48...57).contains($0) || (65...70).contains($0) || (97...102).contains($0) }) else { return nil }
        var parsed: [UInt64] = []
        for chunk in 0..<4 {
            guard let value = UInt64(String(decoding: digits[chunk * 16..<(chunk + 1) * 16], as: UTF8.self), radix: 16) else { return nil }
            parsed.append(value)
        }
        words = (parsed[3], parsed[2], parsed[1], parsed[0])
    }

    public var hex: String {
        [words.3, words.2, words.1, words.0].map { word in
            let text = String(word, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }

    public var description: String { hex }

    mutating func setBit(_ k: Int) {
        switch k >> 6 {
        case 0: words.0 |= 1 << UInt64(k & 63)
        case 1: words.1 |= 1 << UInt64(k & 63)
        case 2: words.2 |= 1 << UInt64(k & 63)
        default: words.3 |= 1 << UInt64(k & 63)
        }
    }

    /// Hamming distance: PDQ matches at 31 or less (ThreatExchange's threshold).
    public func distance(to other: PDQHash) -> Int {
        (words.0 ^ other.words.0).nonzeroBitCount + (words.1 ^ other.words.1).nonzeroBitCount
            + (words.2 ^ other.words.2).nonzeroBitCount + (words.3 ^ other.words.3).nonzeroBitCount
    }

    public static func == (a: PDQHash, b: PDQHash) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0); hasher.combine(words.1); hasher.combine(words.2); hasher.combine(words.3)
    }
}

/// PDQ, from its published description (ThreatExchange's `pdq/README.md` and hashing document): luminance, a
/// 64x64 downsample by two passes of Jarosz box filters and decimation at pixel centres, the 16x16 corner of the
/// 64x64 DCT without its DC row and column, each coefficient above the median a 1 bit; a quality score from the
/// downsample's gradients; the hashes of the seven other rotations and mirrors from the same DCT (sign changes and
/// a transpose). Float arithmetic as the reference's, so hashes agree with it bit for bit on the same pixels (see
/// Tests/ImagingTests/PDQTests.swift for the measured agreement).
public enum PDQ {
    /// What one picture gives.
    public struct Result: Sendable, Equatable {
        public let hash: PDQHash
        /// 0–100: how much gradient the picture has; lists use hashes of quality 50 or more (flat pictures, logos
        /// on blank backgrounds, hash unreliably).
        public let quality: Int
    }

    /// The eight orientations, in the reference's order: as is; turned a quarter counter-clockwise, a half, a quarter
    /// clockwise; upside down (flipx: mirrored across the horizontal axis); left-right (flipy); across the main
    /// diagonal (transposed); across the other.
    public enum Dihedral: Int, CaseIterable, Sendable {
        case original, rotate90, rotate180, rotate270, flipX, flipY, flipPlus1, flipMinus1
    }

    /// Pictures with a side shorter than this hash to zero (quality 0), as the reference does.
    public static let minimumSide = 5

    public static func hash(_ image: RGBImage) -> Result {
        guard let dct = coefficients(image) else { return Result(hash: PDQHash(), quality: 0) }
        return Result(hash: bits(dct.values), quality: dct.quality)
    }

    /// The hash of each orientation (`Dihedral` order) and the quality, from one DCT.
    public static func dihedral(_ image: RGBImage) -> (hashes: [PDQHash], quality: Int) {
        guard let dct = coefficients(image) else { return (Array(repeating: PDQHash(), count: 8), 0) }
        return (Dihedral.allCases.map { bits(transform(dct.values, $0)) }, dct.quality)
    }

    // MARK: The steps

    /// Luminance (BT.601 weights), the 64x64 downsample, its quality, and the 16x16 DCT corner (row-major).
    static func coefficients(_ image: RGBImage) -> (values: [Float], quality: Int)? {
        let (rows, columns) = (image.height, image.width)
        guard rows >= minimumSide, columns >= minimumSide else { return nil }
        var luma = [Float](repeating: 0, count: rows * columns)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<rows * columns {
                // In double, then rounded to float: as pdqhash (PyPI) computes its input; the C++ tool's float
                // products differ from it in the last bit at most.
                let r = Double(p[3 * i]) * 0.299, g = Double(p[3 * i + 1]) * 0.587, b = Double(p[3 * i + 2]) * 0.114
                luma[i] = Float(r + g + b)
            }
        }
        let small = downsample(luma, rows: rows, columns: columns)
        return (dct16(small), quality(small))
    }

    /// Two passes of box filters along rows then columns (window: the old size over twice the new, rounded up),
    /// then the value at each of the 64x64 output pixels' centres.
    static func downsample(_ luma: [Float], rows: Int, columns: Int) -> [Float] {
        var a = luma, b = [Float](repeating: 0, count: luma.count)
        let windowAlongRows = (columns + 2 * 64 - 1) / (2 * 64), windowAlongColumns = (rows + 2 * 64 - 1) / (2 * 64)
        for _ in 0..<2 {
            for i in 0..<rows { box(a, into: &b, start: i * columns, count: columns, stride: 1, window: windowAlongRows) }
            for j in 0..<columns { box(b, into: &a, start: j, count: rows, stride: columns, window: windowAlongColumns) }
        }
        var out = [Float](repeating: 0, count: 64 * 64)
        for i in 0..<64 {
            let row = Int((Double(i) + 0.5) * Double(rows) / 64)
            for j in 0..<64 { out[i * 64 + j] = a[row * columns + Int((Double(j) + 0.5) * Double(columns) / 64)] }
        }
        return out
    }

    /// A running mean over `window` values centred on each (shorter at the ends, dividing by the values present).
    static func box(_ input: [Float], into output: inout [Float], start: Int, count: Int, stride: Int, window: Int) {
        let half = (window + 2) / 2
        var sum: Float = 0
        var size = 0
        var (read, drop, write) = (start, start, start)
        for _ in 0..<(half - 1) { sum += input[read]; size += 1; read += stride }
        for _ in 0..<(window - half + 1) {
            sum += input[read]; size += 1; read += stride
            output[write] = sum / Float(size); write += stride
        }
        for _ in 0..<(count - window) {
            sum += input[read]; sum -= input[drop]
            output[write] = sum / Float(size)
            read += stride; drop += stride; write += stride
        }
        for _ in 0..<(half - 1) {
            sum -= input[drop]; size -= 1
            output[write] = sum / Float(size)
            drop += stride; write += stride
        }
    }

    /// Sums of the quantized differences between neighbours (in percent of the range), over 90, at most 100.
    static func quality(_ a: [Float]) -> Int {
        var sum = 0
        func step(_ u: Float, _ v: Float) -> Int { abs(Int((u - v) * 100 / 255)) }
        for i in 0..<63 { for j in 0..<64 { sum += step(a[i * 64 + j], a[(i + 1) * 64 + j]) } }
        for i in 0..<64 { for j in 0..<63 { sum += step(a[i * 64 + j], a[i * 64 + j + 1]) } }
        return min(sum / 90, 100)
    }

    /// Rows 1–16 of the 64-point DCT-II basis (the DC row left out), scaled by sqrt(2/64).
    static let basis: [Float] = (0..<16).flatMap { i in
        // As the reference: the scale rounded to float, the product in double, the entry rounded to float.
        (0..<64).map { j in
            let angle = Double.pi / 2 / 64 * Double(i + 1) * Double(2 * j + 1)
            return Float(Double(Float((2.0 / 64.0).squareRoot())) * cos(angle))
        }
    }

    /// D A Dᵀ, with D the 16x64 basis: the 16x16 low-frequency corner. Each sum runs in index order, in float.
    static func dct16(_ a: [Float]) -> [Float] {
        var t = [Float](repeating: 0, count: 16 * 64)
        for i in 0..<16 {
            for j in 0..<64 {
                var sum: Float = 0
                for k in 0..<64 { sum += basis[i * 64 + k] * a[k * 64 + j] }
                t[i * 64 + j] = sum
            }
        }
        var b = [Float](repeating: 0, count: 256)
        for i in 0..<16 {
            for j in 0..<16 {
                var sum: Float = 0
                for k in 0..<64 { sum += t[i * 64 + k] * basis[j * 64 + k] }
                b[i * 16 + j] = sum
            }
        }
        return b
    }

    /// The DCT of the picture turned or mirrored: a mirror changes the sign of odd frequencies along its axis
    /// (frequencies here start at 1, so the even indexes), a quarter turn is a transpose plus a mirror.
    static func transform(_ a: [Float], _ orientation: Dihedral) -> [Float] {
        var b = [Float](repeating: 0, count: 256)
        for i in 0..<16 {
            for j in 0..<16 {
                let v = a[i * 16 + j]
                switch orientation {
                case .original: b[i * 16 + j] = v
                case .rotate90: b[j * 16 + i] = j & 1 == 1 ? v : -v
                case .rotate180: b[i * 16 + j] = (i + j) & 1 == 1 ? -v : v
                case .rotate270: b[j * 16 + i] = i & 1 == 1 ? v : -v
                case .flipX: b[i * 16 + j] = i & 1 == 1 ? v : -v
                case .flipY: b[i * 16 + j] = j & 1 == 1 ? v : -v
                case .flipPlus1: b[j * 16 + i] = v
                case .flipMinus1: b[j * 16 + i] = (i + j) & 1 == 1 ? -v : v
                }
            }
        }
        return b
    }

    /// A 1 for each coefficient above the median (Torben's selection, as the reference: the median of 256 values
    /// is the 128th smallest or a value between it and the 129th).
    static func bits(_ values: [Float]) -> PDQHash {
        let median = torbenMedian(values)
        var hash = PDQHash()
        for k in 0..<256 where values[k] > median { hash.setBit(k) }
        return hash
    }

    /// Torben's median without moving the data: bisect on values until at most half lie on each side.
    static func torbenMedian(_ m: [Float]) -> Float {
        let n = m.count
        var low = m.min()!, high = m.max()!
        var guess: Float = 0, less = 0, greater = 0, equal = 0, belowMax: Float = 0, aboveMin: Float = 0
        while true {
            guess = (low + high) / 2
            (less, greater, equal, belowMax, aboveMin) = (0, 0, 0, low, high)
            for v in m {
                if v < guess {
                    less += 1
                    if v > belowMax { belowMax = v }
                } else if v > guess {
                    greater += 1
                    if v < aboveMin { aboveMin = v }
                } else {
                    equal += 1
                }
            }
            if less <= (n + 1) / 2 && greater <= (n + 1) / 2 { break }
            if less > greater { high = belowMax } else { low = aboveMin }
        }
        if less >= (n + 1) / 2 { return belowMax }
        if less + equal >= (n + 1) / 2 { return guess }
        return aboveMin
    }
}
