import Engine
import Foundation

/// `imgcls classify` (and `imgcls backbone classify`): an installed backbone's own classifier on any photos (ImageNet's classes,
/// open_nsfw's sfw and nsfw, an imported network's labels), to check a backbone end to end (decode, resize,
/// normalise, the network, the labels) or to use it as it is.
public enum BackboneClassification {
    public struct Guess: Sendable, Codable, Equatable {
        public let index: Int
        public let name: String
        public let probability: Float
    }

    public struct Answer: Sendable, Codable {
        public let file: String
        /// Most probable first; empty when the file could not be read (`skipped` says why).
        public let top: [Guess]
    }

    /// The `count` most probable classes for each of `files`, in their order; files that cannot be decoded are
    /// returned in `skipped` with the reason.
    public static func classify(_ files: [String], modelFile: String, count: Int = 5, threads: Int = ProcessInfo.processInfo.activeProcessorCount)
        throws -> (answers: [Answer], skipped: [String: String])
    {
        let model = try ModelFile.load(modelFile).model
        guard !model.labels.isEmpty else {
            throw BackboneError("\(modelFile): this backbone keeps no classifier of its own (it was imported with --features, or its network has none): it gives features to `train --backbone` and `curate --backbone`, not answers")
        }
        Kernels.threads = threads
        let loader = BatchLoader(model.input, cacheMegabytes: 0)
        let samples = files.map { ImageFolder.Sample(path: $0, label: 0) }
        let predictions = Evaluator.predict(model, samples, loader: loader, batchSize: 8)
        var answers: [Answer] = []
        var row = 0
        for file in files {
            guard row < predictions.paths.count, predictions.paths[row] == file else {
                answers.append(Answer(file: file, top: []))
                continue
            }
            let probabilities = Array(predictions.row(row))
            let best = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(count)
            answers.append(Answer(file: file, top: best.map { Guess(index: $0, name: model.labels[$0], probability: probabilities[$0]) }))
            row += 1
        }
        return (answers, loader.skipped)
    }
}
