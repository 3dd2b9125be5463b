import Foundation

/// Perceptual hashes: similar pictures give hashes a few bits apart (`hammingDistance`).
/// - pHash (64 bits), computed as imagehash computes it, so its thresholds carry over: 32x32 grayscale,
///   2-D DCT-II, the 8x8 lowest frequencies (DC included), a bit per coefficient above their median;
/// - dHash (64 bits): 9x8 grayscale, a bit per pixel brighter than its left neighbour;
/// - the detail hash (256 bits): the same as pHash from a 64x64 picture and its 16x16 lowest frequencies.
///   Pictures that merely look alike at 32x32 (silhouettes, icons) differ here; copies of one picture
///   (re-encoded, resized, trimmed by a percent) do not.
/// 64-bit hashes have their first bit most significant, in row-major order.
public struct PerceptualHashes: Sendable, Equatable {
    public let phash: UInt64
    public let dhash: UInt64
    public let detail: DetailHash

    public init(phash: UInt64, dhash: UInt64, detail: DetailHash) {
        self.phash = phash
        self.dhash = dhash
        self.detail = detail
    }

    public init(of image: RGBImage) {
        // One area downscale to 64x64, and the smaller sizes from it: area averaging composes, so this is
        // the same picture as scaling the original down directly, at a fraction of the work.
        let small = image.resized(width: 64, height: 64)
        let phashBits = PerceptualHashes.dctBits(small.resized(width: 32, height: 32).luma(), side: 32, block: 8)
        phash = phashBits.reduce(UInt64(0)) { $0 << 1 | ($1 ? 1 : 0) }
        dhash = PerceptualHashes.dhash(small.resized(width: 9, height: 8).luma())
        detail = DetailHash(bits: PerceptualHashes.dctBits(small.luma(), side: 64, block: 16))
    }

    /// The `block` x `block` lowest frequencies of the DCT-II of a `side` x `side` grayscale picture, each
    /// compared with their median.
    static func dctBits(_ gray: [Float], side: Int, block: Int) -> [Bool] {
        precondition(gray.count == side * side)
        let basis = transposedCosines(side: side, block: block)  // [n][k]
        // Separable: rows first (only the `block` lowest frequencies), then columns. Each inner loop runs over
        // the frequencies, element by element with no running sum, so the compiler vectorises it.
        var rows = [Float](repeating: 0, count: side * block)  // [y][u]
        var coefficients = [Float](repeating: 0, count: block * block)  // [v][u]
        gray.withUnsafeBufferPointer { gray in
            basis.withUnsafeBufferPointer { basis in
                rows.withUnsafeMutableBufferPointer { rows in
                    for y in 0..<side {
                        let out = rows.baseAddress! + y * block
                        for x in 0..<side {
                            let value = gray[y * side + x], cosines = basis.baseAddress! + x * block
                            for u in 0..<block { out[u] += value * cosines[u] }
                        }
                    }
                    coefficients.withUnsafeMutableBufferPointer { coefficients in
                        for y in 0..<side {
                            let row = rows.baseAddress! + y * block, cosines = basis.baseAddress! + y * block
                            for v in 0..<block {
                                let weight = cosines[v], out = coefficients.baseAddress! + v * block
                                for u in 0..<block { out[u] += weight * row[u] }
                            }
                        }
                    }
                }
            }
        }
        let sorted = coefficients.sorted()
        let median = (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return coefficients.map { $0 > median }
    }

    static func dhash(_ gray: [Float]) -> UInt64 {
        precondition(gray.count == 9 * 8)
        var hash: UInt64 = 0
        for y in 0..<8 {
            for x in 0..<8 { hash = hash << 1 | (gray[y * 9 + x + 1] > gray[y * 9 + x] ? 1 : 0) }
        }
        return hash
    }

    /// cos(pi * k * (2n + 1) / (2 * side)) for n < side, k < block, at [n * block + k]: the DCT-II basis.
    private static func transposedCosines(side: Int, block: Int) -> [Float] {
        side == 32 && block == 8 ? basis32 : side == 64 && block == 16 ? basis64 : makeBasis(side: side, block: block)
    }

    private static let basis32 = makeBasis(side: 32, block: 8)
    private static let basis64 = makeBasis(side: 64, block: 16)

    private static func makeBasis(side: Int, block: Int) -> [Float] {
        (0..<side).flatMap { n in
            (0..<block).map { k in Float(cos(Double.pi * Double(k) * Double(2 * n + 1) / Double(2 * side))) }
        }
    }
}

/// A 256-bit perceptual hash (see `PerceptualHashes`).
public struct DetailHash: Sendable, Hashable {
    public let words: [UInt64]  // 4 words, first bit most significant

    init(bits: [Bool]) {
        precondition(bits.count == 256)
        words = (0..<4).map { w in bits[w * 64..<(w + 1) * 64].reduce(UInt64(0)) { $0 << 1 | ($1 ? 1 : 0) } }
    }

    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var words: [UInt64] = []
        for w in 0..<4 {
            guard let value = UInt64(String(decoding: digits[w * 16..<(w + 1) * 16], as: UTF8.self), radix: 16) else { return nil }
            words.append(value)
        }
        self.words = words
    }

    public var hex: String {
        words.map { word in
            let text = String(word, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }

    public func distance(to other: DetailHash) -> Int {
        zip(words, other.words).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount }
    }
}

/// Bits in which two hashes differ.
@inline(__always) public func hammingDistance(_ a: UInt64, _ b: UInt64) -> Int {
    (a ^ b).nonzeroBitCount
}

extension RGBImage {
    /// Luma per pixel (ITU-R 601 weights, as PIL's "L" mode), 0...255.
    public func luma() -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<width * height {
                out[i] = 0.299 * Float(p[3 * i]) + 0.587 * Float(p[3 * i + 1]) + 0.114 * Float(p[3 * i + 2])
            }
        }
        return out
    }
}
