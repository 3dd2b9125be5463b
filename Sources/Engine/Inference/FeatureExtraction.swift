import Files
import Foundation

/// Backbone features on disk: one small file per image (and augmented view), named by the hash of the image's
/// bytes, in a folder for the backbone and input size (the workspace's `features/<backbone>/<size>/`). A second
/// run, more epochs or another head read them instead of running the backbone again.
package struct FeatureCache {
    package let folder: String
    package let width: Int

    package init(folder: String, width: Int) {
        (self.folder, self.width) = (folder, width)
    }

    /// `view` 0 is the image as it is; views 1... are augmented copies (`augmentationKey` names the settings).
    func path(_ sha256: String, view: Int, augmentationKey: String) -> String {
        folder + "/" + sha256.prefix(2) + "/" + sha256 + (view == 0 ? "" : ".\(augmentationKey).v\(view)") + ".f32"
    }

    func read(_ path: String) -> [Float]? {
        guard let bytes = try? FileIO.read(path, limit: width * 4), bytes.count == width * 4 else { return nil }
        return bytes.withUnsafeBytes { raw in (0..<width).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) } }
    }

    func write(_ values: ArraySlice<Float>, to path: String) throws {
        try FileIO.createDirectory(FileIO.parentFolder(of: path))
        try FileIO.writeAtomically(values.withUnsafeBytes { Array($0) }, to: path)
    }
}

/// Where a long engine loop shows how far it is (the caller's display, such as the command line's progress bar,
/// started once the work is counted and finished at the end of a loop that was not stopped), and whether to stop.
public struct LoopProgress: Sendable {
    public let display: (any ProgressDisplay)?
    public let shouldStop: @Sendable () -> Bool

    public init(display: (any ProgressDisplay)? = nil, shouldStop: @escaping @Sendable () -> Bool = { false }) {
        (self.display, self.shouldStop) = (display, shouldStop)
    }
}

/// Runs the frozen backbone over images that have no cached features yet, a batch at a time, decoding the next
/// batch on a loader thread meanwhile, and writes each image's features as they come: memory stays at one batch
/// of activations whatever the number of images. Training then reads the cache.
package struct FeatureExtraction {
    package struct Item {
        /// The sample's position in `train + validation`.
        package let sample: Int
        package let label: Int
        package var views: [[Float]]
    }

    package let model: Model
    package let cache: FeatureCache
    package let loader: BatchLoader
    package let augmentation: Augmentation
    package let progress: LoopProgress

    package init(model: Model, cache: FeatureCache, loader: BatchLoader, augmentation: Augmentation, progress: LoopProgress) {
        (self.model, self.cache, self.loader, self.augmentation, self.progress) = (model, cache, loader, augmentation, progress)
    }

    /// Features of every training image in `views` views and of every validation image as it is; images that
    /// cannot be read are left out (the loader warns and counts them).
    package func features(train: [ImageFolder.Sample], validation: [ImageFolder.Sample], views: Int)
        throws -> (train: [Item], validation: [Item], computed: Int, reused: Int, seconds: Double, unreadable: [String: String])
    {
        let started = monotonicSeconds()
        // "v2": views drawn from the image's hash (the same picture for every backbone), not the cache path.
        let settingsText = ((try? ModelFile.json(augmentation)) ?? "") + "v2"
        let key = String(SHA256.hex(Array(settingsText.utf8)).prefix(8))
        struct Job { let view: Int, path: String, hash: String, cached: String }
        var jobs: [Job] = []
        var hashes: [String?] = []
        var unreadable: [String: String] = [:]
        for sample in train + validation {
            do { hashes.append(SHA256.hex(try FileIO.read(sample.path))) } catch {
                hashes.append(nil)
                unreadable[sample.path] = "\(error)"
            }
        }
        let samples = train + validation
        var reused = 0
        for (i, sample) in samples.enumerated() {
            guard let hash = hashes[i] else { continue }
            for view in 0..<(i < train.count ? views : 1) {
                let path = cache.path(hash, view: view, augmentationKey: key)
                if FileIO.kind(of: path) == .file {
                    reused += 1
                } else {
                    jobs.append(Job(view: view, path: sample.path, hash: hash, cached: path))
                }
            }
        }
        let extractor = model.featureExtractor()
        let progress = self.progress
        progress.display?.start(total: jobs.count)
        let batches = stride(from: 0, to: jobs.count, by: 8).map { Array(jobs[$0..<min($0 + 8, jobs.count)]) }
        let (loader, augmentation, preparation) = (self.loader, self.augmentation, loader.preparation)
        try parallelMap(batches, threads: 1, window: 2, { batch -> (Tensor, [Job]) in
            // Each view has its own seed, so a view is the same picture whenever it is computed, and the same
            // picture for every backbone (a combined model's head reads view v of each).
            var input = Tensor(uninitialized: preparation.batchShape(batch.count))
            var kept: [Job] = []
            for job in batch {
                let one = loader.batch([ImageFolder.Sample(path: job.path, label: 0)][...],
                                       augmentation: job.view == 0 ? Augmentation() : augmentation,
                                       seed: stableHash("\(job.hash).\(key).v\(job.view)"))
                guard !one.labels.isEmpty else { continue }
                input.data.replaceSubrange(kept.count * one.input.count..<(kept.count + 1) * one.input.count, with: one.input.data)
                kept.append(job)
            }
            return (Tensor(shape: preparation.batchShape(kept.count), data: Array(input.data.prefix(kept.count * preparation.valuesPerImage))), kept)
        }) { (input, kept) throws(EngineError) in
            // Throwing ends the walk: no more batches are decoded.
            if progress.shouldStop() {
                throw EngineError("stopped while computing features; those computed are cached in \(cache.folder): run the same command to continue")
            }
            guard !kept.isEmpty else { return }
            let features = extractor.forward(input, training: false)
            for (row, job) in kept.enumerated() {
                do { try cache.write(features.data[row * cache.width..<(row + 1) * cache.width], to: job.cached) } catch {
                    throw EngineError("cannot write the feature cache in \(cache.folder): \(error)")
                }
            }
            progress.display?.advance(by: kept.count)
        }
        progress.display?.finish()

        // Every view now in the cache (a file that could not be decoded has none).
        var items = samples.enumerated().map { Item(sample: $0, label: $1.label, views: []) }
        for i in samples.indices {
            guard let hash = hashes[i] else { continue }
            for view in 0..<(i < train.count ? views : 1) {
                if let values = cache.read(cache.path(hash, view: view, augmentationKey: key)) { items[i].views.append(values) }
            }
        }
        let trainItems = items[..<train.count].filter { !$0.views.isEmpty }
        let validationItems = items[train.count...].filter { !$0.views.isEmpty }
        return (Array(trainItems), Array(validationItems), jobs.count, reused, monotonicSeconds() - started, unreadable)
    }
}

/// A backbone's pooled features of any image files, through a feature cache folder (the one `train --mode head`
/// reads and fills): what is cached is read, the rest computed and cached. For model-assisted curation, which
/// needs features of the catalog's images rather than of a split.
public enum BackboneFeatures {
    /// Where a backbone's features of one input size are cached (the workspace's `featuresFolder`).
    public typealias CacheFolder = (_ backbone: String, _ inputSize: Int) -> String

    /// Each file's features (nil where the file cannot be read), `width` values each.
    public static func of(_ files: [String], backbone: BackboneReference, cacheFolder: CacheFolder,
                          progress: LoopProgress) throws -> [[Float]?] {
        try views(files, backbone: backbone, cacheFolder: cacheFolder, progress: progress, quarterTurned: false).map { $0?.plain }
    }

    /// Each file's features as it is and, when asked, turned a quarter (`Augmentation.quarterTurned`), both cached.
    public static func views(_ files: [String], backbone: BackboneReference, cacheFolder: CacheFolder, progress: LoopProgress,
                             quarterTurned: Bool) throws -> [(plain: [Float], quarterTurned: [Float]?)?] {
        let model = try ModelFile.load(backbone.modelFile).model
        let cache = FeatureCache(folder: cacheFolder(backbone.name, model.spec.inputSize), width: model.featureWidth)
        let loader = BatchLoader(model.input, cacheMegabytes: 0)
        // Each sample's label is its position, so the features come back to their files without hashing
        // the files again (extraction leaves out the unreadable ones).
        let extracted = try FeatureExtraction(model: model, cache: cache, loader: loader,
                                              augmentation: quarterTurned ? .quarterTurned : Augmentation(), progress: progress)
            .features(train: files.enumerated().map { ImageFolder.Sample(path: $1, label: $0) }, validation: [], views: quarterTurned ? 2 : 1)
        var features = [(plain: [Float], quarterTurned: [Float]?)?](repeating: nil, count: files.count)
        for item in extracted.train { features[item.label] = (item.views[0], item.views.count > 1 ? item.views[1] : nil) }
        return features
    }

    /// Several backbones' features side by side: each backbone's scaled to unit length, so that each counts the
    /// same in a cosine similarity whatever its scale, and concatenated in order; nil where a backbone cannot read
    /// the file. One backbone's come as they are.
    public static func views(_ files: [String], backbones: [BackboneReference], cacheFolder: CacheFolder, progress: (String) -> LoopProgress,
                             quarterTurned: Bool) throws -> [(plain: [Float], quarterTurned: [Float]?)?] {
        guard backbones.count > 1 else {
            return try views(files, backbone: backbones[0], cacheFolder: cacheFolder, progress: progress(backbones[0].name), quarterTurned: quarterTurned)
        }
        var joined: [(plain: [Float], quarterTurned: [Float]?)?] = Array(repeating: ([], quarterTurned ? [] : nil), count: files.count)
        for backbone in backbones {
            let each = try views(files, backbone: backbone, cacheFolder: cacheFolder, progress: progress(backbone.name), quarterTurned: quarterTurned)
            for i in files.indices {
                guard let before = joined[i], let more = each[i] else { joined[i] = nil; continue }
                let turned = before.quarterTurned.flatMap { a in more.quarterTurned.map { a + unitLength($0) } }
                joined[i] = (before.plain + unitLength(more.plain), turned)
            }
        }
        return joined
    }

    private static func unitLength(_ row: [Float]) -> [Float] {
        let scale = 1 / max(row.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        return row.map { $0 * scale }
    }

    /// The width of EfficientNet-Lite's features (a backbone's own: `Model.featureWidth`).
    public static var width: Int { EfficientNetLite.featureWidth }
}
