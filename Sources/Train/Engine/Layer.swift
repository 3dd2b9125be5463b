/// One step of a network. `forward` keeps what `backward` needs when `training` is true; `backward` takes the
/// gradient of the loss with respect to the output, adds the gradients of the layer's parameters to their
/// `gradient`, and returns the gradient with respect to the input. Forward and backward of each layer sit side
/// by side, and the tests check every backward against numerical gradients.
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, training: Bool) -> Tensor
    func backward(_ outputGradient: Tensor) -> Tensor
    /// Weights and saved state, named uniquely within the model (the names are the model file's keys).
    var parameters: [Parameter] { get }
}

extension Layer {
    public var parameters: [Parameter] { [] }
}

/// Layers applied one after another.
public final class Sequential: Layer {
    public private(set) var layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public func append(_ layer: Layer) { layers.append(layer) }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        layers.reduce(input) { $1.forward($0, training: training) }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        layers.reversed().reduce(outputGradient) { $1.backward($0) }
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
}
