import Foundation

/// A convolution's int8 form, as calibration found it: one scale for its input (the value of one step of the 8-bit
/// code), unsigned (0...255) when calibration saw no negative input (after a ReLU; a negative input later is
/// clipped to 0), else signed (the largest magnitude seen maps to 127; codes saturate at -128 and 127). The weights
/// need nothing stored: they are quantized per output channel from the float weights when the convolution first
/// runs (`WeightQuantization`), the same codes every time on a machine.
public struct InputQuantization: Codable, Sendable, Equatable {
    public var scale: Float
    public var unsigned: Bool

    public init(scale: Float, unsigned: Bool) {
        (self.scale, self.unsigned) = (scale, unsigned)
    }

    /// From the range of inputs calibration saw: the largest magnitude maps to the last code.
    public init(range: InputRange.Bounds) {
        unsigned = range.lowest >= 0
        let largest = max(abs(range.lowest), abs(range.highest), 1e-6)
        scale = largest / (unsigned ? 255 : 127)
    }

    /// Why the values cannot be used (from a model file), or nil.
    var problem: String? {
        scale.isFinite && scale > 0 ? nil : "input scale \(scale) is not a positive number"
    }

    /// `value` as the 8-bit code the library computes with (round to nearest, saturated), back in values.
    func roundTrip(_ value: Float) -> Float {
        let code = (value / scale).rounded(.toNearestOrEven)
        return min(max(code, unsigned ? 0 : -128), unsigned ? 255 : 127) * scale
    }
}

/// Weights [.., out] as signed codes with one scale per output channel (symmetric: the largest magnitude of each
/// channel maps to the largest code: 127 with VNNI, 63 without, where oneDNN's 16-bit pair sums would saturate).
struct WeightQuantization {
    let values: [Int8]
    let scales: [Float]

    init(_ weights: [Float], outChannels: Int, largestCode: Float = OneDNN.hasVNNI ? 127 : 63) {
        var largest = [Float](repeating: 0, count: outChannels)
        for (i, w) in weights.enumerated() { largest[i % outChannels] = max(largest[i % outChannels], abs(w)) }
        let scales = largest.map { $0 > 0 ? $0 / largestCode : 1 }
        values = weights.enumerated().map { i, w in
            Int8(max(-largestCode, min(largestCode, (w / scales[i % outChannels]).rounded(.toNearestOrEven))))
        }
        self.scales = scales
    }

    /// The weights the int8 product actually uses, as floats (for the reference path).
    var dequantized: [Float] {
        values.enumerated().map { i, code in Float(code) * scales[i % scales.count] }
    }
}

/// The smallest and largest input a convolution has seen: what calibration records (threads record at once).
public final class InputRange: @unchecked Sendable {
    public struct Bounds: Sendable {
        public var lowest: Float = .infinity
        public var highest: Float = -.infinity
    }

    private let lock = NSLock()
    private var seen = Bounds()

    public init() {}

    public var bounds: Bounds {
        lock.lock()
        defer { lock.unlock() }
        return seen
    }

    func record(_ values: [Float]) {
        var local = Bounds()
        values.withUnsafeBufferPointer { p in
            for v in p { local.lowest = min(local.lowest, v); local.highest = max(local.highest, v) }
        }
        lock.lock()
        seen.lowest = min(seen.lowest, local.lowest)
        seen.highest = max(seen.highest, local.highest)
        lock.unlock()
    }
}
