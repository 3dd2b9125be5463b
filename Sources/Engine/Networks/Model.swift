import Files
import Foundation

/// What a model is, enough to build it again: the model file stores it, and loading builds the network from it
/// before filling in the weights.
public struct ModelSpec: Codable, Sendable, Equatable {
    public enum Architecture: String, Codable, CaseIterable, Sendable {
        /// The default: a small residual network (three stages of basic blocks, widths w, 2w, 4w).
        case resnet
        /// A few conv-BN-ReLU-maxpool blocks, for comparison.
        case baseline
        /// EfficientNet-Lite, the ImageNet backbones `imgcls backbone install` converts (`inputSize` is theirs).
        case efficientnetLite0 = "efficientnet-lite0"
        case efficientnetLite1 = "efficientnet-lite1"
        case efficientnetLite2 = "efficientnet-lite2"
        /// A network imported from ONNX (`imgcls backbone import`): `graph` describes it.
        case imported
        /// Several backbones side by side, their features concatenated (`train --backbone a,b`): `parts`.
        case combined

        public var efficientNetLite: EfficientNetLite.Variant? {
            switch self {
            case .resnet, .baseline, .imported, .combined: nil
            case .efficientnetLite0: .lite0
            case .efficientnetLite1: .lite1
            case .efficientnetLite2: .lite2
            }
        }
    }

    public var architecture: Architecture = .resnet
    /// Square input side in pixels.
    public var inputSize = 64
    /// Channels of the first stage.
    public var width = 16
    /// Residual blocks per stage.
    public var blocksPerStage = 2
    public var dropout: Float = 0.2
    /// A hidden Dense layer with ReLU before the classifier (the original project's Dense(512) head); nil: the
    /// classifier sits on the features.
    public var hiddenUnits: Int?
    public var classes: Int
    /// The imported network up to its features (architecture `imported` only).
    public var graph: GraphSpec?
    /// The backbones side by side, in feature order (architecture `combined` only).
    public var parts: [CombinedBackbones.Part]?

    public init(classes: Int) { self.classes = classes }

    /// Inputs of 64 pixels and more start with a stride-2 stem: the first stage then works at half size, which
    /// keeps the cost of a 64-pixel model close to a 32-pixel one.
    var stemStride: Int { inputSize >= 64 ? 2 : 1 }
}

/// How pixels become network inputs: (value / 255 - mean) / deviation per channel, after the optional steps a
/// network was trained with (open_nsfw: resize to 256, a JPEG round trip, the centre 224, BGR order).
public struct Normalization: Codable, Sendable, Equatable {
    public var mean: [Float] = [0.5, 0.5, 0.5]
    public var deviation: [Float] = [0.5, 0.5, 0.5]
    /// The square side the image is resized to before the centre crop of the input size; nil: resized straight
    /// to the input size (no crop).
    public var resizeBeforeCrop: Int?
    /// The JPEG quality of an encode and decode after resizing, for networks trained on JPEG artefacts; nil: none.
    public var jpegRoundTrip: Int?
    /// Channels in blue, green, red order (Caffe's networks); mean and deviation are then in that order too.
    public var bgr: Bool?
    public init() {}

    public init(mean: [Float], deviation: [Float]) {
        (self.mean, self.deviation) = (mean, deviation)
    }

    /// EfficientNet-Lite's (x - 127) / 128, the input its TensorFlow training used.
    public static let efficientNetLite = Normalization(mean: [Float](repeating: 127 / 255, count: 3),
                                                       deviation: [Float](repeating: 128 / 255, count: 3))
}

/// A network with its labels and input convention.
public final class Model {
    public let spec: ModelSpec
    public var labels: [String]
    public var normalization: Normalization
    public let network: Sequential
    /// The width of the features the body hands the head (what a backbone's feature cache holds).
    public let featureWidth: Int
    /// An int8 model (`imgcls quantize`): each quantized convolution's calibrated input scale, by name. Inference
    /// on library kernels runs those convolutions in int8; the reference kernels run the float weights.
    public var int8: [String: InputQuantization] = [:]

    /// `seed` fixes the initial weights (and dropout masks).
    public init(spec: ModelSpec, labels: [String], normalization: Normalization = Normalization(), seed: UInt64) {
        precondition(labels.count == spec.classes, "\(labels.count) labels for \(spec.classes) classes")
        self.spec = spec
        self.labels = labels
        self.normalization = normalization
        var random = SplitMix64(seed: seed)
        let (body, features) = Self.body(spec, &random)
        network = Sequential(body)
        featureWidth = features
        // The images need no gradient: the stem (after its padding, if any) computes none.
        (network.layers.prefix(2).first { $0 is Conv2D } as? Conv2D)?.computesInputGradient = false
        if let hidden = spec.hiddenUnits {
            network.append(Dense("hidden", in: features, out: hidden, random: &random))
            network.append(ReLU())
        }
        network.append(Dropout(rate: spec.dropout, seed: random.next()))
        network.append(Dense("head", in: spec.hiddenUnits ?? features, out: spec.classes, random: &random))
    }

    /// The layers up to the features of `spec`'s network, and the width of those features.
    static func body(_ spec: ModelSpec, _ random: inout SplitMix64) -> (layers: [Layer], featureWidth: Int) {
        switch spec.architecture {
        case .resnet: return (ResidualNetwork.make(spec, &random).layers, spec.width * 4)
        case .baseline: return (BaselineNetwork.make(spec, &random).layers, spec.width * 4)
        case .efficientnetLite0, .efficientnetLite1, .efficientnetLite2:
            return (EfficientNetLite.features(spec.architecture.efficientNetLite!, &random).layers, EfficientNetLite.featureWidth)
        case .imported: return ([GraphNetwork(spec.graph!)], spec.graph!.featureWidth)
        case .combined:
            let combined = CombinedBackbones(spec.parts!, &random)
            return ([combined], combined.featureWidth)
        }
    }

    /// How an image file becomes this model's input (one square input per backbone for a combined model).
    public var input: InputPreparation {
        guard let parts = spec.parts, spec.architecture == .combined else {
            return InputPreparation(side: spec.inputSize, normalization: normalization)
        }
        return InputPreparation(inputs: parts.map { InputPreparation.Input(side: $0.spec.inputSize, normalization: $0.normalization) })
    }

    public var parameters: [Parameter] { network.parameters }

    /// The imported network, for architecture `imported`.
    public var graphNetwork: GraphNetwork? {
        network.layers.first as? GraphNetwork
    }

    /// The classification head: the last layer.
    public var head: Dense { network.layers.last as! Dense }

    /// While training, the layers below the lowest trainable one (a frozen backbone) run as a folded inference
    /// network on the inference kernels: they need no gradient, and their batch norm is in inference mode anyway, so folding changes
    /// nothing but the time (a fine-tuning step on EfficientNet-Lite0's last 2 blocks spends most of it there).
    public func logits(_ batch: Tensor, training: Bool) -> Tensor {
        guard training, case let frozen = frozenLayerCount, frozen > 0 else { return network.forward(batch, training: training) }
        return network.layers[frozen...].reduce(frozenLayersOutput(batch)) { $1.forward($0, training: true) }
    }

    /// The body's layers below the lowest trainable one; the head's (dropout included, which has no parameters
    /// but must train) never count.
    var frozenLayerCount: Int { min(lowestTrainableLayer, bodyLayers.count) }

    /// What the frozen layers make of `batch`, through their folded copy (rebuilt when what is frozen changes;
    /// frozen weights do not change while training).
    func frozenLayersOutput(_ batch: Tensor) -> Tensor {
        let frozen = frozenLayerCount
        if frozenPrefix?.count != frozen {
            frozenPrefix = (frozen, Sequential(InferenceKernels.selected(InferenceFolding.folded(Array(network.layers[..<frozen])))))
        }
        return frozenPrefix!.network.forward(batch, training: false)
    }

    /// The folded copy of the frozen layers; rebuilt when what is frozen changes.
    private var frozenPrefix: (count: Int, network: Sequential)?

    /// The first layer with something to train (the layer count when nothing trains).
    var lowestTrainableLayer: Int {
        network.layers.firstIndex { $0.parameters.contains(where: \.trainable) } ?? network.layers.count
    }

    /// Backward from the gradient of the loss with respect to the logits, stopping below the lowest layer that
    /// has something to train (with `--freeze`, only the head's gradient is computed).
    public func backward(_ logitsGradient: Tensor) {
        let lowest = lowestTrainableLayer
        var gradient = logitsGradient
        for layer in network.layers[lowest...].reversed() { gradient = layer.backward(gradient) }
    }

    /// The layers after the features: the optional hidden layer, dropout and the classifier.
    public var headLayers: [Layer] { Array(network.layers.suffix(spec.hiddenUnits == nil ? 2 : 4)) }

    /// The network up to the features (what a backbone is).
    public var bodyLayers: [Layer] { Array(network.layers.dropLast(headLayers.count)) }

    /// Freezes every parameter but the head's (fine-tuning only the top). Frozen batch norms use their running
    /// statistics, as Keras does.
    public func freezeAllButHead() {
        for layer in bodyLayers { for p in layer.parameters { p.trainable = false } }
        frozenPrefix = nil
    }

    /// Fine-tuning the top of a backbone: its last `blocks` blocks (and what follows them) train at
    /// `rateScale` of the head's learning rate; everything below stays frozen, batch norm included.
    public func unfreezeLast(_ blocks: Int, rateScale: Float) {
        frozenPrefix = nil
        // An imported network's blocks are its graph's (check `GraphNetwork.fineTuningProblem` first).
        if let graph = graphNetwork { return graph.unfreezeLast(blocks, rateScale: rateScale) }
        let body = bodyLayers
        // Blocks are the body's Sequential and Residual layers; the layers after the last block (the top
        // convolution) always train with them.
        let blockIndices = body.indices.filter { body[$0] is Sequential || body[$0] is Residual }
        let firstTrained = blocks <= 0 ? body.count : blocks >= blockIndices.count ? 0 : blockIndices[blockIndices.count - blocks]
        for (i, layer) in body.enumerated() {
            for p in layer.parameters where !p.name.hasSuffix("running_mean") && !p.name.hasSuffix("running_var") {
                p.trainable = i >= firstTrained
                p.learningRateScale = rateScale
            }
        }
    }

    /// A classifier for `labels` on a backbone's features: the backbone's body weights, a fresh head.
    public static func onBackbone(_ backbone: Model, labels: [String], hiddenUnits: Int?, dropout: Float, seed: UInt64) -> Model {
        var spec = backbone.spec
        spec.classes = labels.count
        spec.hiddenUnits = hiddenUnits
        spec.dropout = dropout
        let model = Model(spec: spec, labels: labels, normalization: backbone.normalization, seed: seed)
        let source = Dictionary(uniqueKeysWithValues: backbone.bodyLayers.flatMap(\.parameters).map { ($0.name, $0) })
        for p in model.bodyLayers.flatMap(\.parameters) { p.value = source[p.name]!.value }
        return model
    }

    /// A classifier for `labels` on several backbones' features side by side (`named` gives each its name, which
    /// prefixes its weights' names and names its feature cache): their body weights, a fresh head.
    public static func onBackbones(_ backbones: [(name: String, model: Model)], labels: [String], hiddenUnits: Int?, dropout: Float,
                                   seed: UInt64) -> Model {
        var spec = ModelSpec(classes: labels.count)
        spec.architecture = .combined
        spec.parts = backbones.map { CombinedBackbones.Part(name: $0.name, spec: $0.model.spec, normalization: $0.model.normalization) }
        spec.inputSize = backbones.map(\.model.spec.inputSize).max() ?? 0
        (spec.hiddenUnits, spec.dropout) = (hiddenUnits, dropout)
        let model = Model(spec: spec, labels: labels, seed: seed)
        let combined = model.network.layers[0] as! CombinedBackbones
        for (part, backbone) in zip(combined.bodies, backbones) {
            let source = Dictionary(uniqueKeysWithValues: backbone.model.bodyLayers.flatMap(\.parameters).map { ($0.name, $0) })
            for p in part.parameters { p.value = source[String(p.name.dropFirst(backbone.name.count + 1))]!.value }
        }
        return model
    }

    /// A new, freshly initialised head for another label set.
    public func replaceHead(labels: [String], seed: UInt64) -> Model {
        var spec = self.spec
        spec.classes = labels.count
        let model = Model(spec: spec, labels: labels, normalization: normalization, seed: seed)
        let old = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0) })
        for p in model.parameters where !p.name.hasPrefix("head.") { p.value = old[p.name]!.value }
        return model
    }
}
