import Foundation

/// Hashing and random numbers that give the same results on every machine, run and Swift version (unlike
/// `Hasher` and the standard library's generators and shuffle): shards, splits and seeds depend on them.

/// FNV-1a, 64-bit.
public func stableHash(_ text: String) -> UInt64 {
    text.utf8.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
}

/// SplitMix64: small, fast and well mixed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in 0..<bound, by the multiply-shift method (fixed here, not the standard library's).
    public mutating func next(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A uniform number in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform number in `range`.
    public mutating func next(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + nextUnit() * (range.upperBound - range.lowerBound)
    }

    /// A standard normal number (Box–Muller).
    public mutating func nextGaussian() -> Double {
        let u = 1 - nextUnit()  // in (0, 1]: the logarithm stays finite
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * nextUnit())
    }
}

extension Array {
    /// Fisher–Yates with `SplitMix64`: the same order for the same seed everywhere.
    public mutating func stableShuffle(using random: inout SplitMix64) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) { swapAt(i, random.next(below: i + 1)) }
    }
}
