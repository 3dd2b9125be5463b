import Foundation
internal import CDNNL

/// One oneDNN convolution primitive for one input shape, with its weights in the primitive's layout. In float, it
/// reads the f32 input; in int8 (the layer has an `InputQuantization`), a reorder first quantizes the input to u8
/// or s8 with the calibrated scale, the product runs on 8-bit integers (VNNI where the CPU has it) with the
/// weights quantized per output channel, and the output scales turn the sums back into f32 before the post-ops.
final class ConvolutionPrimitive {
    private let primitive: dnnl_primitive_t
    private var source, destination, scratchpad: dnnl_memory_desc_t
    private let scratchpadBytes: Int
    private let weights: dnnl_memory_t
    private let bias: dnnl_memory_t?
    /// Int8: the reorder that quantizes the f32 input, its f32 source and its 8-bit result descriptors.
    private let quantize: dnnl_primitive_t?
    private var floatSource: dnnl_memory_desc_t
    /// Int8: the bytes of the quantized input (0 in float).
    private let quantizedBytes: Int
    let implementation: String

    /// Nil when oneDNN has no implementation for it (or no engine).
    init?(_ layer: LibraryConvolution, input: [Int]) {
        guard let engine = OneDNN.engine else { return nil }
        let w = layer.window, g = layer.groups
        let (kh, kw) = (w.kernel[0], w.kernel[1])
        let (inPer, out) = (layer.inChannels / g, layer.outChannels)
        let quantization = layer.quantization
        let sourceType = quantization.map { $0.unsigned ? dnnl_u8 : dnnl_s8 } ?? dnnl_f32
        let weightType = quantization == nil ? dnnl_f32 : dnnl_s8
        var source = OneDNN.activation(input, type: sourceType), destination = OneDNN.activation(layer.outputShape(input))
        // The user's weights [kh, kw, in/g, out] seen as oneDNN's logical [g, out/g, in/g, kh, kw] (or without g).
        let weightSizes = g == 1 ? [out, inPer, kh, kw] : [g, out / g, inPer, kh, kw]
        let weightStrides = g == 1 ? [1, out, kw * inPer * out, inPer * out] : [out / g, 1, out, kw * inPer * out, inPer * out]
        var userWeights = OneDNN.descriptor(weightSizes, strides: weightStrides, type: weightType)
        var anyWeights = OneDNN.anyLayout(weightSizes, type: weightType)
        var biasDesc = OneDNN.descriptor([out], strides: [1])
        var description = dnnl_convolution_desc_t()
        let status = withUnsafePointer(to: biasDesc) { biasPointer in
            dnnl_dilated_convolution_forward_desc_init(
                &description, dnnl_forward_inference, dnnl_convolution_direct, &source, &anyWeights,
                layer.bias == nil ? nil : biasPointer, &destination, OneDNN.dims(w.strides), OneDNN.dims(w.dilations.map { $0 - 1 }),
                OneDNN.dims([w.pads[0], w.pads[1]]), OneDNN.dims([w.pads[2], w.pads[3]]))
        }
        guard status == dnnl_success else { return nil }

        var attributes: dnnl_primitive_attr_t?
        OneDNN.check(dnnl_primitive_attr_create(&attributes), "creating attributes")
        defer { dnnl_primitive_attr_destroy(attributes) }
        let postOps = Self.postOps(layer.postOps)
        defer { dnnl_post_ops_destroy(postOps) }
        OneDNN.check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "setting post-ops")
        // Scratch memory per call, not the library's one per primitive, which threads running it at once would share.
        OneDNN.check(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "setting the scratchpad mode")
        var quantizedWeights: WeightQuantization?
        if let quantization {
            let weightQuantization = WeightQuantization(layer.weight.value, outChannels: out)
            // The 32-bit sums are in units of (input step x weight step); the scales bring them back to values.
            let scales = weightQuantization.scales.map { $0 * quantization.scale }
            OneDNN.check(dnnl_primitive_attr_set_output_scales(attributes, Int64(out), 1 << 1, scales), "setting output scales")
            quantizedWeights = weightQuantization
        }
        var descriptor: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&descriptor, &description, attributes, engine, nil) == dnnl_success else { return nil }
        defer { dnnl_primitive_desc_destroy(descriptor) }
        var created: dnnl_primitive_t?
        guard dnnl_primitive_create(&created, descriptor) == dnnl_success else { return nil }
        primitive = created!
        (self.source, self.destination) = (source, destination)

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
        func reorderWeights(_ values: UnsafeRawPointer) {
            let from = OneDNN.memory(&userWeights, UnsafeMutableRawPointer(mutating: values))
            defer { dnnl_memory_destroy(from) }
            OneDNN.reorder(from: &userWeights, from, to: chosen, reordered!)
        }
        if let quantizedWeights {
            quantizedWeights.values.withUnsafeBytes { reorderWeights($0.baseAddress!) }
        } else {
            layer.weight.value.withUnsafeBytes { reorderWeights($0.baseAddress!) }
        }
        if var values = layer.bias?.value {
            // In int8 the bias joins the 32-bit sums before the output scales (oneDNN 2.x), so it goes in their units.
            if let quantizedWeights, let quantization {
                for j in values.indices { values[j] /= quantizedWeights.scales[j] * quantization.scale }
            }
            var owned: dnnl_memory_t?
            OneDNN.check(dnnl_memory_create(&owned, &biasDesc, engine, OneDNN.allocate), "allocating a bias")
            var handle: UnsafeMutableRawPointer?
            OneDNN.check(dnnl_memory_get_data_handle(owned, &handle), "reading a bias handle")
            values.withUnsafeBytes { handle!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            bias = owned
        } else {
            bias = nil
        }
        floatSource = OneDNN.activation(input)
        quantizedBytes = quantization == nil ? 0 : dnnl_memory_desc_get_size(&self.source)
        if let quantization {
            // f32 -> u8/s8: x / scale, rounded to nearest and saturated.
            var quantizer: dnnl_primitive_attr_t?
            OneDNN.check(dnnl_primitive_attr_create(&quantizer), "creating attributes")
            defer { dnnl_primitive_attr_destroy(quantizer) }
            var inverse = 1 / quantization.scale
            OneDNN.check(dnnl_primitive_attr_set_output_scales(quantizer, 1, 0, &inverse), "setting the input scale")
            var reorderDescriptor: dnnl_primitive_desc_t?
            OneDNN.check(dnnl_reorder_primitive_desc_create(&reorderDescriptor, &floatSource, engine, &self.source, engine, quantizer),
                         "planning the input's quantization")
            defer { dnnl_primitive_desc_destroy(reorderDescriptor) }
            var reorder: dnnl_primitive_t?
            OneDNN.check(dnnl_primitive_create(&reorder, reorderDescriptor), "creating the input's quantization")
            quantize = reorder
        } else {
            quantize = nil
        }
    }

    private static func postOps(_ ops: [PostOp]) -> dnnl_post_ops_t? {
        var postOps: dnnl_post_ops_t?
        OneDNN.check(dnnl_post_ops_create(&postOps), "creating post-ops")
        for op in ops {
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
        return postOps
    }

    /// Runs the primitive from the f32 `input` into `output` (which holds the addend when the post-ops add one), on
    /// the thread count it was created for.
    func execute(_ input: UnsafeMutableRawPointer, _ output: UnsafeMutableRawPointer, threads: Int) {
        OneDNN.setThreads(threads)
        let stream = OneDNN.stream()
        // One buffer per call: the scratchpad, then (int8) the quantized input.
        let scratchBytes = (scratchpadBytes + 63) / 64 * 64
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, scratchBytes + quantizedBytes), alignment: 64)
        defer { scratch.deallocate() }
        var convolutionInput = input
        if let quantize {
            let quantized = scratch + scratchBytes
            let from = OneDNN.memory(&floatSource, input), to = OneDNN.memory(&source, quantized)
            defer { dnnl_memory_destroy(from); dnnl_memory_destroy(to) }
            let arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: from), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: to)]
            OneDNN.check(dnnl_primitive_execute(quantize, stream, Int32(arguments.count), arguments), "quantizing an input")
            convolutionInput = quantized
        }
        let src = OneDNN.memory(&source, convolutionInput), dst = OneDNN.memory(&destination, output)
        defer { dnnl_memory_destroy(src); dnnl_memory_destroy(dst) }
        let pad = OneDNN.memory(&scratchpad, scratch)
        defer { dnnl_memory_destroy(pad) }
        var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: src), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: weights),
                         dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: dst), dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: pad)]
        if let bias { arguments.append(dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: bias)) }
        OneDNN.check(dnnl_primitive_execute(primitive, stream, Int32(arguments.count), arguments), "running \(implementation)")
        OneDNN.check(dnnl_stream_wait(stream), "running \(implementation)")
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        if let quantize { dnnl_primitive_destroy(quantize) }
        dnnl_memory_destroy(weights)
        if let bias { dnnl_memory_destroy(bias) }
    }
}
