import Foundation
internal import CDNNL

/// What a convolution applies to its output in the same pass, in order (oneDNN's post-ops): the network steps
/// that followed it, fused.
enum PostOp: Equatable, Sendable {
    /// Values clamped to [low, high]: ReLU is (0, infinity), ReLU6 (0, 6).
    case clamp(low: Float, high: Float)
    case hardSwish
    case sigmoid
    /// Another tensor of the output's shape added (a residual connection), given with each call.
    case addition
}

/// A convolution for inference run by a oneDNN primitive, with its bias and the steps after it fused in as
/// post-ops. Made from a folded layer's weights, which it keeps fixed: primitives are created once per input shape
/// (with the weights reordered into the layout the primitive chose) and reused by every call and thread. Where the
/// library declines a shape, the plain loops of `GraphKernels` run instead, with the same post-ops.
final class LibraryConvolution: Layer {
    let name: String
    let window: Window
    let groups, inChannels, outChannels: Int
    /// [kernel height, kernel width, in / groups, out], as `Conv2D` and the graph steps hold them.
    let weight: Parameter
    let bias: Parameter?
    let postOps: [PostOp]
    /// Int8: the calibrated input scale (nil: float).
    let quantization: InputQuantization?
    /// Calibration: when set, every input's range is recorded here.
    var observer: InputRange?
    /// By input shape and thread count (`OneDNN.setThreads`).
    private var primitives: [[Int]: ConvolutionPrimitive?] = [:]
    private let lock = NSLock()

    init(_ name: String, window: Window, groups: Int, inChannels: Int, outChannels: Int, weights: [Float], bias: [Float]?,
         postOps: [PostOp], quantization: InputQuantization? = nil) {
        (self.name, self.window, self.groups, self.inChannels, self.outChannels, self.postOps, self.quantization) =
            (name, window, groups, inChannels, outChannels, postOps, quantization)
        weight = Parameter("\(name).weight", shape: [window.kernel[0], window.kernel[1], inChannels / groups, outChannels],
                           value: weights, trainable: false)
        self.bias = bias.map { Parameter("\(name).bias", shape: [outChannels], value: $0, trainable: false) }
        precondition(postOps.filter { $0 == .addition }.count <= 1, "\(name): one addition at most")
    }

    var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// Whether each call takes a tensor to add (a `.addition` post-op).
    var adds: Bool { postOps.contains(.addition) }

    func outputShape(_ input: [Int]) -> [Int] {
        precondition(input.count == 4 && input[3] == inChannels, "\(name): expected \(inChannels) channels, got shape \(input)")
        let w = window
        let height = (input[1] + w.pads[0] + w.pads[2] - ((w.kernel[0] - 1) * w.dilations[0] + 1)) / w.strides[0] + 1
        let width = (input[2] + w.pads[1] + w.pads[3] - ((w.kernel[1] - 1) * w.dilations[1] + 1)) / w.strides[1] + 1
        return [input[0], height, width, outChannels]
    }

    func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(!adds, "\(name): this convolution adds a tensor; call forward(_:adding:)")
        return forward(input, adding: nil)
    }

    /// The convolution of `input` with the post-ops, `addend` added where the post-ops say (the addend's storage
    /// becomes the output's when the caller hands over its last reference).
    func forward(_ input: Tensor, adding addend: consuming Tensor?) -> Tensor {
        let shape = outputShape(input.shape)
        precondition(adds == (addend != nil) && addend.map { $0.shape == shape } ?? true,
                     "\(name): the tensor to add must have the output's shape \(shape), got \(addend?.shape ?? [])")
        observer?.record(input.data)
        // Below about 64K multiply-adds, one thread.
        let small = shape.reduce(1, *) * window.kernel[0] * window.kernel[1] * inChannels / groups < 1 << 16
        let threads = OneDNN.callThreads(small: small)
        guard let primitive = primitive(for: input.shape, threads: threads) else { return referenceForward(input, adding: addend) }
        var output = addend.take() ?? Tensor(uninitialized: shape)
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                primitive.execute(UnsafeMutableRawPointer(mutating: x.baseAddress!), y.baseAddress!, threads: threads)
            }
        }
        return output
    }

    /// The plain loops with the same post-ops: the fallback, and what the tests check the library against. In
    /// int8, on the values the 8-bit codes stand for (the input and weights rounded to their steps).
    func referenceForward(_ input: Tensor, adding addend: Tensor?) -> Tensor {
        let shape = outputShape(input.shape)
        var input = input
        var weights = weight.value
        if let quantization {
            input.data = input.data.map(quantization.roundTrip)
            weights = WeightQuantization(weights, outChannels: outChannels).dequantized
        }
        let image = input.itemSize, imageShape = [1] + shape.dropFirst()
        var data: [Float] = []
        data.reserveCapacity(shape.reduce(1, *))
        for n in 0..<input.batch {
            let x = Tensor(shape: [1] + input.shape.dropFirst(), data: Array(input.data[n * image..<(n + 1) * image]))
            data += GraphKernels.convolution(x, [weights] + (bias.map { [$0.value] } ?? []), window, groups, nil, imageShape).data
        }
        var output = Tensor(shape: shape, data: data)
        // The graph steps' own plain functions.
        for op in postOps {
            let function: UnaryFunction
            switch op {
            case .addition:
                for i in output.data.indices { output.data[i] += addend!.data[i] }
                continue
            case let .clamp(low, high): function = .clip(low: low, high: high)
            case .hardSwish: function = .hardSwish
            case .sigmoid: function = .sigmoid
            }
            let f = GraphKernels.unaryFunction(function)
            for i in output.data.indices { output.data[i] = f(output.data[i]) }
        }
        return output
    }

    func backward(_ outputGradient: Tensor) -> Tensor {
        preconditionFailure("\(name): a library convolution is for inference only")
    }

    /// The primitive for inputs of `shape` run by `threads`, created on first use; nil when oneDNN declines it.
    private func primitive(for shape: [Int], threads: Int) -> ConvolutionPrimitive? {
        lock.lock()
        defer { lock.unlock() }
        let key = shape + [threads]
        if let known = primitives[key] { return known }
        OneDNN.setThreads(threads)
        let made = ConvolutionPrimitive(self, input: shape)
        primitives[key] = .some(made)
        return made
    }

    /// The oneDNN implementations this layer's primitives use ("brgconv_1x1:avx512_core"), for reports.
    var implementations: [String] {
        lock.lock()
        defer { lock.unlock() }
        return primitives.values.compactMap { $0?.implementation }
    }
}
