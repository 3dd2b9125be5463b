/// A dense Float32 array with a shape. Images are NHWC ([batch, height, width, channels]): a convolution's
/// im2col matrix times its weights is then already the next layer's input, and a 1x1 convolution needs no
/// im2col at all.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// For outputs that are written in full before they are read: no time spent zeroing.
    package init(uninitialized shape: [Int]) {
        let count = shape.reduce(1, *)
        self.init(shape: shape, data: [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count })
    }

    public var count: Int { data.count }
    /// The batch size: the first dimension.
    public var batch: Int { shape[0] }
    /// Values per batch item.
    public var itemSize: Int { count / max(1, shape[0]) }

    /// The same values seen with another shape of the same size.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }

    /// The values copied with their axes reordered: axis i of the result is axis perm[i] of this one ([0, 2, 3, 1]
    /// turns NCHW, as ONNX tools hand tensors over, into the engine's NHWC).
    public func transposed(_ perm: [Int]) -> Tensor { GraphKernels.transpose(self, perm) }
}

/// Weights and their gradient. `trainable` is false for frozen layers and for state such as batch norm's
/// running statistics, which is saved with the model but not updated by the optimizer.
public final class Parameter {
    /// Unique within its model; a model on several backbones prefixes each backbone's with its name.
    public internal(set) var name: String
    public let shape: [Int]
    public var value: [Float]
    public var gradient: [Float]
    public var trainable: Bool
    /// Weight decay applies to weights, not to biases and normalisation scales.
    public let decays: Bool
    /// This parameter's learning rate as a fraction of the run's (a fine-tuned backbone learns slower than its head).
    public var learningRateScale: Float = 1

    public init(_ name: String, shape: [Int], value: [Float], trainable: Bool = true, decays: Bool = false) {
        precondition(shape.reduce(1, *) == value.count, "\(name): shape \(shape) does not hold \(value.count) values")
        self.name = name
        self.shape = shape
        self.value = value
        self.gradient = [Float](repeating: 0, count: value.count)
        self.trainable = trainable
        self.decays = decays
    }

    public var count: Int { value.count }

    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

extension Optional where Wrapped == [Float] {
    /// The array's storage, or nil, for loops that take an optional operand (a bias).
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let values = self else { return body(nil) }
        return values.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
