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
    private var primitives: [[Int]: Primitive?] = [:]
    private let lock = NSLock()

    init(_ name: String, window: Window, groups: Int, inChannels: Int, outChannels: Int, weights: [Float], bias: [Float]?,
         postOps: [PostOp]) {
        (self.name, self.window, self.groups, self.inChannels, self.outChannels, self.postOps) =
            (name, window, groups, inChannels, outChannels, postOps)
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

    /// The convolution of `input` with the post-ops, `addend` added where the post-ops say.
    func forward(_ input: Tensor, adding addend: Tensor?) -> Tensor {
        let shape = outputShape(input.shape)
        precondition(adds == (addend != nil) && addend.map { $0.shape == shape } ?? true,
                     "\(name): the tensor to add must have the output's shape \(shape), got \(addend?.shape ?? [])")
        guard let primitive = primitive(for: input.shape) else { return referenceForward(input, adding: addend) }
        var output = addend ?? Tensor(uninitialized: shape)
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                primitive.execute(UnsafeMutableRawPointer(mutating: x.baseAddress!), y.baseAddress!)
            }
        }
        return output
    }

    /// The plain loops with the same post-ops: the fallback, and what the tests check the library against.
    func referenceForward(_ input: Tensor, adding addend: Tensor?) -> Tensor {
        let shape = outputShape(input.shape)
        let image = input.itemSize, imageShape = [1] + shape.dropFirst()
        var data: [Float] = []
        data.reserveCapacity(shape.reduce(1, *))
        for n in 0..<input.batch {
            let x = Tensor(shape: [1] + input.shape.dropFirst(), data: Array(input.data[n * image..<(n + 1) * image]))
            data += GraphKernels.convolution(x, [weight.value] + (bias.map { [$0.value] } ?? []), window, groups, nil, imageShape).data
        }
        var output = Tensor(shape: shape, data: data)
        for op in postOps {
            switch op {
            case let .clamp(low, high): for i in output.data.indices { output.data[i] = min(max(output.data[i], low), high) }
            case .hardSwish: for i in output.data.indices { let x = output.data[i]; output.data[i] = x * min(max(x + 3, 0), 6) / 6 }
            case .sigmoid: for i in output.data.indices { output.data[i] = 1 / (1 + exp(-output.data[i])) }
            case .addition: for i in output.data.indices { output.data[i] += addend!.data[i] }
            }
        }
        return output
    }

    func backward(_ outputGradient: Tensor) -> Tensor {
        preconditionFailure("\(name): a library convolution is for inference only")
    }

    /// The primitive for inputs of `shape`, created on first use; nil when oneDNN declines it.
    private func primitive(for shape: [Int]) -> Primitive? {
        lock.lock()
        defer { lock.unlock() }
        if let known = primitives[shape] { return known }
        let made = Primitive(self, input: shape)
        primitives[shape] = .some(made)
        return made
    }

    /// The oneDNN implementations this layer's primitives use ("brgconv_1x1:avx512_core"), for reports.
    var implementations: [String] {
        lock.lock()
        defer { lock.unlock() }
        return primitives.values.compactMap { $0?.implementation }
    }
}

/// One oneDNN convolution primitive for one input shape, with its weights in the primitive's layout.
private final class Primitive {
    let primitive: dnnl_primitive_t
    var source, destination: dnnl_memory_desc_t
    let weights: dnnl_memory_t
    let bias: dnnl_memory_t?
    var scratchpad: dnnl_memory_desc_t
    let scratchpadBytes: Int
    let implementation: String

    /// Nil when oneDNN has no implementation for it (or no engine).
    init?(_ layer: LibraryConvolution, input: [Int]) {
        guard let engine = OneDNN.engine else { return nil }
        let w = layer.window, g = layer.groups
        let (kh, kw) = (w.kernel[0], w.kernel[1])
        let (inPer, out) = (layer.inChannels / g, layer.outChannels)
        var source = OneDNN.activation(input), destination = OneDNN.activation(layer.outputShape(input))
        // The user's weights [kh, kw, in/g, out] seen as oneDNN's logical [g, out/g, in/g, kh, kw] (or without g).
        let userWeights = g == 1
            ? OneDNN.descriptor([out, inPer, kh, kw], strides: [1, out, kw * inPer * out, inPer * out])
            : OneDNN.descriptor([g, out / g, inPer, kh, kw], strides: [out / g, 1, out, kw * inPer * out, inPer * out])
        var anyWeights = OneDNN.anyLayout(g == 1 ? [out, inPer, kh, kw] : [g, out / g, inPer, kh, kw])
        var biasDesc = OneDNN.descriptor([out], strides: [1])
        var description = dnnl_convolution_desc_t()
        let status = withUnsafePointer(to: biasDesc) { biasPointer in
            dnnl_dilated_convolution_forward_desc_init(
                &description, dnnl_forward_inference, dnnl_convolution_direct, &source, &anyWeights,
                layer.bias == nil ? nil : biasPointer, &destination, OneDNN.dims(w.strides), OneDNN.dims(w.dilations.map { $0 - 1 }),
                OneDNN.dims([w.pads[0], w.pads[1]]), OneDNN.dims([w.pads[2], w.pads[3]]))
        }
        guard status == dnnl_success else { return nil }
        (self.source, self.destination) = (source, destination)

        var postOps: dnnl_post_ops_t?
        OneDNN.check(dnnl_post_ops_create(&postOps), "creating post-ops")
        defer { dnnl_post_ops_destroy(postOps) }
        for op in layer.postOps {
            switch op {
            case let .clamp(low, high) where low == 0 && high == .infinity:
                OneDNN.check(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0), "adding a ReLU")
            case let .clamp(low, high):
                OneDNN.check(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_clip, low, high), "adding a clamp")
            case .hardSwish:
                OneDNN.check(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_hardswish, 0, 0), "adding a hard swish")
            case .sigmoid:
                OneDNN.check(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_logistic, 0, 0), "adding a sigmoid")
            case .addition:
                OneDNN.check(dnnl_post_ops_append_sum(postOps, 1), "adding a sum")
            }
        }
        var attributes: dnnl_primitive_attr_t?
        OneDNN.check(dnnl_primitive_attr_create(&attributes), "creating attributes")
        defer { dnnl_primitive_attr_destroy(attributes) }
        OneDNN.check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "setting post-ops")
        // Scratch memory per call, not the library's one per primitive, which threads running it at once would share.
        OneDNN.check(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "setting the scratchpad mode")
        var descriptor: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&descriptor, &description, attributes, engine, nil) == dnnl_success else { return nil }
        defer { dnnl_primitive_desc_destroy(descriptor) }
        var created: dnnl_primitive_t?
        guard dnnl_primitive_create(&created, descriptor) == dnnl_success else { return nil }
        primitive = created!

        var name: UnsafePointer<CChar>?
        OneDNN.check(dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name), "naming the implementation")
        implementation = String(cString: name!)
        scratchpad = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0)!.pointee
        scratchpadBytes = dnnl_memory_desc_get_size(&scratchpad)

        // The weights reordered once into the primitive's layout.
        let chosen = dnnl_primitive_desc_query_md(descriptor, dnnl_query_weights_md, 0)!
        var reordered: dnnl_memory_t?
        OneDNN.check(dnnl_memory_create(&reordered, chosen, engine, OneDNN.allocate), "allocating weights")
        weights = reordered!
        layer.weight.value.withUnsafeBufferPointer { values in
            var user = userWeights
            let from = OneDNN.memory(&user, UnsafeMutableRawPointer(mutating: values.baseAddress!))
            defer { dnnl_memory_destroy(from) }
            var reorderDescriptor: dnnl_primitive_desc_t?
            OneDNN.check(dnnl_reorder_primitive_desc_create(&reorderDescriptor, &user, engine, chosen, engine, nil), "planning a reorder")
            defer { dnnl_primitive_desc_destroy(reorderDescriptor) }
            var reorder: dnnl_primitive_t?
            OneDNN.check(dnnl_primitive_create(&reorder, reorderDescriptor), "creating a reorder")
            defer { dnnl_primitive_destroy(reorder) }
            let arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: from), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: reordered)]
            let stream = OneDNN.stream()
            OneDNN.check(dnnl_primitive_execute(reorder, stream, Int32(arguments.count), arguments), "reordering weights")
            OneDNN.check(dnnl_stream_wait(stream), "reordering weights")
        }
        if let values = layer.bias?.value {
            var owned: dnnl_memory_t?
            OneDNN.check(dnnl_memory_create(&owned, &biasDesc, engine, OneDNN.allocate), "allocating a bias")
            var handle: UnsafeMutableRawPointer?
            OneDNN.check(dnnl_memory_get_data_handle(owned, &handle), "reading a bias handle")
            values.withUnsafeBytes { handle!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            bias = owned
        } else {
            bias = nil
        }
    }

    /// Runs the primitive from `input` into `output` (which holds the addend when the post-ops add one).
    func execute(_ input: UnsafeMutableRawPointer, _ output: UnsafeMutableRawPointer) {
        let src = OneDNN.memory(&source, input), dst = OneDNN.memory(&destination, output)
        defer { dnnl_memory_destroy(src); dnnl_memory_destroy(dst) }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, scratchpadBytes), alignment: 64)
        defer { scratch.deallocate() }
        let pad = OneDNN.memory(&scratchpad, scratch)
        defer { dnnl_memory_destroy(pad) }
        var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: src), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: weights),
                         dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: dst), dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: pad)]
        if let bias { arguments.append(dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: bias)) }
        OneDNN.setCallThreads()
        let stream = OneDNN.stream()
        OneDNN.check(dnnl_primitive_execute(primitive, stream, Int32(arguments.count), arguments), "running \(implementation)")
        OneDNN.check(dnnl_stream_wait(stream), "running \(implementation)")
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_memory_destroy(weights)
        if let bias { dnnl_memory_destroy(bias) }
    }
}
