import Files
import Foundation
import Imaging
import Logging

/// A model's input from an image file's bytes: decode (JPEGs at the smallest scale that still covers the input
/// size), resize to the square input, normalise. Training, evaluation and prediction all go through it, so a
/// served model sees exactly what it was trained and evaluated on. A model on several backbones side by side
/// takes one input per backbone (each its own size and preprocessing), laid end to end in each image's row.
public struct InputPreparation: Sendable {
    /// One square input: its side and the preprocessing its network was trained with.
    public struct Input: Sendable, Equatable {
        public let side: Int
        public let normalization: Normalization

        public init(side: Int, normalization: Normalization) {
            (self.side, self.normalization) = (side, normalization)
        }

        var valueCount: Int { side * side * 3 }
    }

    public let inputs: [Input]

    public init(side: Int, normalization: Normalization) {
        inputs = [Input(side: side, normalization: normalization)]
    }

    public init(inputs: [Input]) {
        precondition(!inputs.isEmpty, "a model takes at least one input")
        self.inputs = inputs
    }

    /// Values of one image's row in a batch.
    public var valuesPerImage: Int { inputs.reduce(0) { $0 + $1.valueCount } }

    /// The shape of a batch of `count` images: [count, side, side, 3] for one input, else one flat row each.
    public func batchShape(_ count: Int) -> [Int] {
        inputs.count == 1 ? [count, inputs[0].side, inputs[0].side, 3] : [count, valuesPerImage]
    }

    /// Each input's square image (in BGR order where the network takes that); the error says why the bytes are
    /// not a usable image. The file is decoded once per size the inputs resize from: a JPEG decodes at the
    /// smallest scale that covers that size, so each input gets the pixels it gets alone (what its backbone's
    /// cached features, which a combined model's head trained on, were computed from).
    public func resizedImage(_ bytes: [UInt8]) throws(ImageError) -> PreparedImage {
        let info = try ImageProbe.probe(bytes)
        var decoded: [Int: RGBImage] = [:]
        var parts: [RGBImage] = []
        for input in inputs {
            let size = max(input.side, input.normalization.resizeBeforeCrop ?? input.side)
            if decoded[size] == nil { decoded[size] = try ImageDecoder.decode(bytes, options: .thumbnail(of: info, minimumSide: size)) }
            parts.append(try Self.resized(decoded[size]!, to: input))
        }
        return PreparedImage(parts: parts)
    }

    private static func resized(_ decoded: RGBImage, to input: Input) throws(ImageError) -> RGBImage {
        let (side, normalization) = (input.side, input.normalization)
        let resize = max(side, normalization.resizeBeforeCrop ?? side)
        var image = decoded.width == resize && decoded.height == resize ? decoded : decoded.resized(width: resize, height: resize)
        if let quality = normalization.jpegRoundTrip { image = try ImageDecoder.decode(try image.jpegData(quality: quality)) }
        if resize > side { image = image.cropped(x: (resize - side) / 2, y: (resize - side) / 2, width: side, height: side) }
        if normalization.bgr == true {
            image.pixels.withUnsafeMutableBufferPointer { p in for i in stride(from: 0, to: p.count, by: 3) { p.swapAt(i, i + 2) } }
        }
        return image
    }

    /// Writes the normalised row (`valuesPerImage` values) of `image` (from `resizedImage`), unaugmented.
    public func write(_ image: PreparedImage, into output: UnsafeMutablePointer<Float>) {
        var unused = SplitMix64(seed: 0)
        write(image, augmentation: Augmentation(), random: &unused, into: output)
    }

    /// Writes the row augmented: every input gets the same transform (one draw of `random`, replayed per input).
    func write(_ image: PreparedImage, augmentation: Augmentation, random: inout SplitMix64, into output: UnsafeMutablePointer<Float>) {
        var offset = 0
        let start = random
        for (input, part) in zip(inputs, image.parts) {
            random = start
            augmentation.apply(part, normalization: input.normalization, random: &random, into: output + offset)
            offset += input.valueCount
        }
    }
}

/// An image decoded and resized for a model: one square picture per input of the model.
public struct PreparedImage: Sendable {
    public let parts: [RGBImage]

    /// Bytes of pixels held.
    var byteCount: Int { parts.reduce(0) { $0 + $1.pixels.count } }
}

/// Turns samples into input batches: decode (via `Imaging`), resize to the model's square input, keep the
/// resized pixels in memory while they fit in `cacheBytes` (one epoch decodes, the next ones only augment),
/// augment, normalise. Files that cannot be decoded are skipped with a warning naming them, once, and counted.
/// Thread-safe: batches are prepared on worker threads while the math runs.
public final class BatchLoader: @unchecked Sendable {
    public let preparation: InputPreparation
    private let cacheBytes: Int
    private let lock = NSLock()
    private var cache: [String: PreparedImage] = [:]
    private var cachedBytes = 0
    private var unreadable: [String: String] = [:]
    private let log = Logger(label: "imgcls.train")

    public convenience init(side: Int, normalization: Normalization, cacheMegabytes: Int) {
        self.init(InputPreparation(side: side, normalization: normalization), cacheMegabytes: cacheMegabytes)
    }

    public init(_ preparation: InputPreparation, cacheMegabytes: Int) {
        self.preparation = preparation
        cacheBytes = max(0, cacheMegabytes) << 20
    }

    /// Files skipped so far, with the reason.
    public var skipped: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return unreadable
    }

    /// The square input-size image(s), from the cache or decoded; nil for a file that cannot be decoded.
    public func image(_ path: String) -> PreparedImage? {
        lock.lock()
        if let cached = cache[path] { lock.unlock(); return cached }
        let known = unreadable[path] != nil
        lock.unlock()
        if known { return nil }
        do {
            let bytes = try ImageDecoder.readFile(path)
            let resized: PreparedImage
            do throws(ImageError) { resized = try preparation.resizedImage(bytes) } catch { throw error.naming(path) }
            lock.lock()
            if cachedBytes + resized.byteCount <= cacheBytes {
                cache[path] = resized
                cachedBytes += resized.byteCount
            }
            lock.unlock()
            return resized
        } catch {
            lock.lock()
            let first = unreadable.updateValue("\(error)", forKey: path) == nil
            lock.unlock()
            if first { log.warning("skipping \(error)") }
            return nil
        }
    }

    /// A batch of the samples that decode: inputs (`InputPreparation.batchShape`) and their labels. The default
    /// augmentation changes nothing (evaluation).
    public func batch(_ samples: ArraySlice<ImageFolder.Sample>, augmentation: Augmentation = Augmentation(), seed: UInt64)
        -> (input: Tensor, labels: [Int], paths: [String])
    {
        var images: [(PreparedImage, ImageFolder.Sample)] = []
        for sample in samples { if let image = image(sample.path) { images.append((image, sample)) } }
        var input = Tensor(uninitialized: preparation.batchShape(images.count))  // every value is written below
        var random = SplitMix64(seed: seed)
        let row = preparation.valuesPerImage
        input.data.withUnsafeMutableBufferPointer { out in
            for (i, (image, _)) in images.enumerated() {
                preparation.write(image, augmentation: augmentation, random: &random, into: out.baseAddress! + i * row)
            }
        }
        return (input, images.map(\.1.label), images.map(\.1.path))
    }
}
