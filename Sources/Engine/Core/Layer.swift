import Files

/// One step of a network. `forward` keeps what `backward` needs when `training` is true; `backward` takes the
/// gradient of the loss with respect to the output, adds the gradients of the layer's parameters to their
/// `gradient`, and returns the gradient with respect to the input. Forward and backward of each layer sit side
/// by side, and the tests check every backward against numerical gradients. With `training` false, `forward`
/// changes nothing in the layer, so threads may run it on different images at once (`Sequential` does).
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

    /// Inference on a batch runs each image through every layer on one thread, the threads taking a share of the
    /// images each: an image's activations then stay in its core's cache, and the threads meet once per batch
    /// instead of once per layer (EfficientNet-Lite0, batch 16: 89 images/s layer by layer on 2 threads, 144 this
    /// way; on one thread 62 and 72).
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        guard !training, input.batch > 1 else {
            return layers.reduce(input) { $1.forward($0, training: training) }
        }
        let outputs = UnsafeMutableBufferPointer<Tensor?>.allocate(capacity: input.batch)
        outputs.initialize(repeating: nil)
        defer { outputs.deinitialize().deallocate() }
        let shared = SendableBox(outputs)
        Parallel.forEachRange(input.batch) { _, images in
            for n in images {
                let image = Tensor(shape: [1] + input.shape.dropFirst(), data: Array(input.data[n * input.itemSize..<(n + 1) * input.itemSize]))
                shared.value[n] = layers.reduce(image) { $1.forward($0, training: false) }
            }
        }
        let first = outputs[0]!
        var data: [Float] = []
        data.reserveCapacity(first.count * input.batch)
        for output in outputs { data += output!.data }
        return Tensor(shape: [input.batch] + first.shape.dropFirst(), data: data)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        layers.reversed().reduce(outputGradient) { $1.backward($0) }
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
}
