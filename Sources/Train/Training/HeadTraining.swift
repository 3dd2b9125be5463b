import Catalog
import Console
import Files
import Foundation
import Logging

/// Backbone features on disk: one small file per image (and augmented view), named by the hash of the image's
/// bytes, in the workspace's features folder for the backbone and input size. A second run, more epochs or
/// another head read them instead of running the backbone again.
struct FeatureCache {
    let folder: String
    let width: Int

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

/// `train --mode head`: the backbone is frozen; its pooled features are computed once per image (and per
/// augmented view) and cached, then only the head trains on them, which takes seconds per epoch.
struct HeadTraining {
    let model: Model
    let backboneName: String
    let settings: TrainingSettings
    let augmentViews: Int
    let train, validation: [ImageFolder.Sample]
    let workspace: Workspace
    /// Where the model file goes.
    let folder: String
    let showProgress: Bool
    /// Ctrl-C: extraction stops after the batch in progress (what it computed stays cached).
    let stop: StopFlag?
    private let log = Logger(label: "imgcls.train")

    private var cache: FeatureCache {
        FeatureCache(folder: workspace.featuresFolder(backbone: backboneName, inputSize: model.spec.inputSize),
                     width: EfficientNetLite.featureWidth)
    }

    private func extraction(_ loader: BatchLoader) -> FeatureExtraction {
        FeatureExtraction(model: model, cache: cache, loader: loader, augmentation: trainingAugmentation, showProgress: showProgress, stop: stop)
    }

    /// Only the features of one share of the images, into the cache; no model.
    func extractFeatures(_ share: FeatureShare) throws -> TrainingSummary {
        let started = monotonicSeconds()
        Parallel.threads = settings.threads
        let loader = BatchLoader(side: model.spec.inputSize, normalization: model.normalization, cacheMegabytes: 0)
        let (mine, mineValidation) = (train.filter { share.contains($0.path) }, validation.filter { share.contains($0.path) })
        let extracted = try extraction(loader).features(train: mine, validation: mineValidation, views: 1 + augmentViews)
        log.info("features of share \(share.index)/\(share.count): \(extracted.computed) computed, \(extracted.reused) already in \(cache.folder)")
        return TrainingSummary(model: "", labels: model.labels, epochs: [], bestEpoch: 0, bestValidationAccuracy: nil, stoppedEarly: false,
                               skippedFiles: loader.skipped.merging(extracted.unreadable) { first, _ in first },
                               seconds: monotonicSeconds() - started,
                               features: FeatureCounts(images: mine.count + mineValidation.count, computed: extracted.computed,
                                                       reused: extracted.reused, folder: cache.folder))
    }

    func run() throws -> TrainingSummary {
        let started = monotonicSeconds()
        Parallel.threads = settings.threads
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let cache = self.cache
        let loader = BatchLoader(side: model.spec.inputSize, normalization: model.normalization, cacheMegabytes: 0)
        let extracted = try extraction(loader).features(train: train, validation: validation, views: 1 + augmentViews)
        guard !extracted.train.isEmpty else { throw TrainError("no training image could be read (see the warnings): nothing to train the head on") }
        log.info("features: \(extracted.computed) computed, \(extracted.reused) read from \(cache.folder) (\(String(format: "%.1f", extracted.seconds)) s)")

        model.freezeAllButHead()
        let head = Sequential(model.headLayers)
        let optimizer = Optimizer(settings.optimizer)
        let loss = SoftmaxCrossEntropy(smoothing: settings.labelSmoothing)
        var history: [EpochRecord] = []
        var best: (accuracy: Float, epoch: Int, values: [[Float]]) = (-1, 0, [])
        let trainable = head.parameters.filter(\.trainable)
        let width = cache.width
        for epoch in 0..<settings.epochs {
            let epochStarted = monotonicSeconds()
            var random = SplitMix64(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9)
            var order = Array(extracted.train.indices)
            order.stableShuffle(using: &random)
            for case let dropout as Dropout in head.layers { dropout.random = SplitMix64(seed: random.next()) }
            var (lossSum, correct) = (0.0, 0)
            var rate: Float = 0
            for start in stride(from: 0, to: order.count, by: settings.batchSize) {
                let rows = order[start..<min(start + settings.batchSize, order.count)]
                var input = Tensor(uninitialized: [rows.count, width])
                var labels: [Int] = []
                for (i, row) in rows.enumerated() {
                    let views = extracted.train[row].views
                    input.data.replaceSubrange(i * width..<(i + 1) * width, with: views[random.next(below: views.count)])
                    labels.append(extracted.train[row].label)
                }
                rate = settings.schedule.rate(atEpoch: Double(epoch) + Double(start) / Double(order.count), of: settings.epochs)
                let result = loss.evaluate(logits: head.forward(input, training: true), labels: labels)
                _ = head.backward(result.gradient)
                optimizer.update(trainable, rate: rate)
                lossSum += Double(result.loss) * Double(rows.count)
                correct += Evaluator.correctCount(result.probabilities, labels)
            }
            var record = EpochRecord(epoch: epoch + 1, learningRate: rate, trainLoss: Float(lossSum / Double(max(1, order.count))),
                                     trainAccuracy: Float(correct) / Float(max(1, order.count)), seconds: 0, imagesPerSecond: 0)
            if !extracted.validation.isEmpty {
                let input = Tensor(shape: [extracted.validation.count, width], data: extracted.validation.flatMap(\.views[0]))
                let labels = extracted.validation.map(\.label)
                let result = loss.evaluate(logits: head.forward(input, training: false), labels: labels)
                record.validationLoss = result.loss
                record.validationAccuracy = Float(Evaluator.correctCount(result.probabilities, labels)) / Float(labels.count)
            }
            record.seconds = monotonicSeconds() - epochStarted
            record.imagesPerSecond = Double(order.count) / max(record.seconds, 1e-9)
            history.append(record)
            let score = record.validationAccuracy ?? record.trainAccuracy
            if score > best.accuracy { best = (score, epoch + 1, trainable.map(\.value)) }
            let line = String(format: "epoch %d/%d: loss %.4f, accuracy %.4f", record.epoch, settings.epochs, record.trainLoss, record.trainAccuracy)
                + (record.validationAccuracy.map { String(format: "; validation accuracy %.4f", $0) } ?? "")
            log.info("\(line)")
        }
        for (p, values) in zip(trainable, best.values) { p.value = values }
        let path = folder + "/" + Workspace.modelFileName
        try ModelFile.save(model, to: path, extra: [
            "training": try ModelFile.json(settings), "history": try ModelFile.json(history),
            "metrics": try ModelFile.json(history.first { $0.epoch == best.epoch } ?? history.last),
            "backbone": backboneName,
        ])
        return TrainingSummary(model: path, labels: model.labels, epochs: history, bestEpoch: best.epoch,
                               bestValidationAccuracy: extracted.validation.isEmpty ? nil : best.accuracy, stoppedEarly: false,
                               skippedFiles: loader.skipped.merging(extracted.unreadable) { first, _ in first },
                               seconds: monotonicSeconds() - started)
    }

    /// The views past the first are augmented as `--augment` would (standard flips, rotation, shifts, zoom,
    /// brightness) unless the run set its own augmentation.
    private var trainingAugmentation: Augmentation {
        settings.augmentation == Augmentation() ? .standard : settings.augmentation
    }
}

/// Runs the frozen backbone over images that have no cached features yet, a batch at a time, decoding the next
/// batch on a loader thread meanwhile, and writes each image's features as they come: memory stays at one batch
/// of activations whatever the number of images. Training then reads the cache.
struct FeatureExtraction {
    struct Item {
        let label: Int
        var views: [[Float]]
    }

    let model: Model
    let cache: FeatureCache
    let loader: BatchLoader
    let augmentation: Augmentation
    let showProgress: Bool
    let stop: StopFlag?

    /// Features of every training image in `views` views and of every validation image as it is; images that
    /// cannot be read are left out (the loader warns and counts them).
    func features(train: [ImageFolder.Sample], validation: [ImageFolder.Sample], views: Int)
        throws -> (train: [Item], validation: [Item], computed: Int, reused: Int, seconds: Double, unreadable: [String: String])
    {
        let started = monotonicSeconds()
        let settingsText = (try? ModelFile.json(augmentation)) ?? ""
        let key = String(SHA256.hex(Array(settingsText.utf8)).prefix(8))
        struct Job { let view: Int, path: String, cached: String }
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
                    jobs.append(Job(view: view, path: sample.path, cached: path))
                }
            }
        }
        let extractor = model.featureExtractor()
        let progress = ProgressBar(title: "features", total: jobs.count, unit: "images", enabled: showProgress && !jobs.isEmpty)
        let batches = stride(from: 0, to: jobs.count, by: 8).map { Array(jobs[$0..<min($0 + 8, jobs.count)]) }
        let (loader, augmentation, side) = (self.loader, self.augmentation, model.spec.inputSize)
        try parallelMap(batches, threads: 1, window: 2, { batch -> (Tensor, [Job]) in
            // Each view has its own seed, so a view is the same picture whenever it is computed.
            var input = Tensor(uninitialized: [batch.count, side, side, 3])
            var kept: [Job] = []
            for job in batch {
                let one = loader.batch([ImageFolder.Sample(path: job.path, label: 0)][...],
                                       augmentation: job.view == 0 ? Augmentation() : augmentation, seed: stableHash(job.cached))
                guard !one.labels.isEmpty else { continue }
                input.data.replaceSubrange(kept.count * one.input.count..<(kept.count + 1) * one.input.count, with: one.input.data)
                kept.append(job)
            }
            return (Tensor(shape: [kept.count, side, side, 3], data: Array(input.data.prefix(kept.count * side * side * 3))), kept)
        }) { (input, kept) throws(TrainError) in
            // Throwing ends the walk: no more batches are decoded.
            if stop?.isRaised == true {
                throw TrainError("stopped while computing features; those computed are cached in \(cache.folder): run the same command to continue")
            }
            guard !kept.isEmpty else { return }
            let features = extractor.forward(input, training: false)
            for (row, job) in kept.enumerated() {
                do { try cache.write(features.data[row * cache.width..<(row + 1) * cache.width], to: job.cached) } catch {
                    throw TrainError("cannot write the feature cache in \(cache.folder): \(error)")
                }
            }
            progress.advance(by: kept.count)
        }
        progress.finish()

        // Every view now in the cache (a file that could not be decoded has none).
        var items = samples.map { Item(label: $0.label, views: []) }
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
