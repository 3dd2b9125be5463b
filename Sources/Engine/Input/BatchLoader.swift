import Files
import Foundation
import Imaging
import Logging

/// A model's input from an image file's bytes: decode (JPEGs at the smallest scale that still covers the input
/// size), resize to the square input, normalise. Training, evaluation and prediction all go through it, so a
/// served model sees exactly what it was trained and evaluated on.
public struct InputPreparation: Sendable {
    public let side: Int
    public let normalization: Normalization

    public init(side: Int, normalization: Normalization) {
        (self.side, self.normalization) = (side, normalization)
    }

    /// The square, input-size image (in BGR order when the network takes that); the error says why the bytes
    /// are not a usable image.
    public func resizedImage(_ bytes: [UInt8]) throws(ImageError) -> RGBImage {
        let resize = max(side, normalization.resizeBeforeCrop ?? side)
        let decoded = try ImageDecoder.decode(bytes, options: .thumbnail(of: try ImageProbe.probe(bytes), minimumSide: resize))
        var image = decoded.width == resize && decoded.height == resize ? decoded : decoded.resized(width: resize, height: resize)
        if let quality = normalization.jpegRoundTrip { image = try ImageDecoder.decode(try image.jpegData(quality: quality)) }
        if resize > side { image = image.cropped(x: (resize - side) / 2, y: (resize - side) / 2, width: side, height: side) }
        if normalization.bgr == true {
            image.pixels.withUnsafeMutableBufferPointer { p in for i in stride(from: 0, to: p.count, by: 3) { p.swapAt(i, i + 2) } }
        }
        return image
    }

    /// Writes the normalised [side, side, 3] input of `image` (from `resizedImage`), unaugmented.
    public func write(_ image: RGBImage, into output: UnsafeMutablePointer<Float>) {
        var unused = SplitMix64(seed: 0)
        Augmentation().apply(image, normalization: normalization, random: &unused, into: output)
    }
}

/// Turns samples into input batches: decode (via `Imaging`), resize to the model's square input, keep the
/// resized pixels in memory while they fit in `cacheBytes` (one epoch decodes, the next ones only augment),
/// augment, normalise. Files that cannot be decoded are skipped with a warning naming them, once, and counted.
/// Thread-safe: batches are prepared on worker threads while the math runs.
public final class BatchLoader: @unchecked Sendable {
    public let side: Int
    let normalization: Normalization
    private let preparation: InputPreparation
    private let cacheBytes: Int
    private let lock = NSLock()
    private var cache: [String: RGBImage] = [:]
    private var cachedBytes = 0
    private var unreadable: [String: String] = [:]
    private let log = Logger(label: "imgcls.train")

    public init(side: Int, normalization: Normalization, cacheMegabytes: Int) {
        self.side = side
        self.normalization = normalization
        preparation = InputPreparation(side: side, normalization: normalization)
        cacheBytes = max(0, cacheMegabytes) << 20
    }

    /// Files skipped so far, with the reason.
    public var skipped: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return unreadable
    }

    /// The square input-size image, from the cache or decoded; nil for a file that cannot be decoded.
    public func image(_ path: String) -> RGBImage? {
        lock.lock()
        if let cached = cache[path] { lock.unlock(); return cached }
        let known = unreadable[path] != nil
        lock.unlock()
        if known { return nil }
        do {
            let bytes = try ImageDecoder.readFile(path)
            let resized: RGBImage
            do throws(ImageError) { resized = try preparation.resizedImage(bytes) } catch { throw error.naming(path) }
            lock.lock()
            if cachedBytes + resized.pixels.count <= cacheBytes {
                cache[path] = resized
                cachedBytes += resized.pixels.count
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

    /// A batch of the samples that decode: inputs [n, side, side, 3] and their labels. The default augmentation
    /// changes nothing (evaluation).
    public func batch(_ samples: ArraySlice<ImageFolder.Sample>, augmentation: Augmentation = Augmentation(), seed: UInt64)
        -> (input: Tensor, labels: [Int], paths: [String])
    {
        var images: [(RGBImage, ImageFolder.Sample)] = []
        for sample in samples { if let image = image(sample.path) { images.append((image, sample)) } }
        var input = Tensor(uninitialized: [images.count, side, side, 3])  // every value is written below
        var random = SplitMix64(seed: seed)
        input.data.withUnsafeMutableBufferPointer { out in
            for (i, (image, _)) in images.enumerated() {
                augmentation.apply(image, normalization: normalization, random: &random,
                                   into: out.baseAddress! + i * side * side * 3)
            }
        }
        return (input, images.map(\.1.label), images.map(\.1.path))
    }
}
