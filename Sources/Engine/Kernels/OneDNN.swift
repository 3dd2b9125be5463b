import Files
import Foundation
internal import CDNNL

/// oneDNN (Debian's `libdnnl`), the kernel library under PyTorch and OpenVINO: one CPU engine for the process, a
/// stream per thread, and the thread count of each call. Its kernels are JIT-compiled for the CPU found (AVX2,
/// AVX-512, AVX-512 VNNI); `ONEDNN_MAX_CPU_ISA=AVX2` caps them, as on a CPU without AVX-512.
enum OneDNN {
    /// Nil when the library could not make a CPU engine (then every layer keeps the engine's own loops).
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// `DNNL_MEMORY_ALLOCATE`: memory the library allocates (and frees with the memory object).
    static var allocate: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt.max) }

    /// "oneDNN 2.6.3".
    static var version: String {
        let v = dnnl_version()!.pointee
        return "oneDNN \(v.major).\(v.minor).\(v.patch)"
    }

    /// The instruction set its kernels use on this CPU ("avx512_core_vnni", "avx2").
    static var instructionSet: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: "sse4.1"
        case dnnl_cpu_isa_avx: "avx"
        case dnnl_cpu_isa_avx2: "avx2"
        case dnnl_cpu_isa_avx2_vnni: "avx2_vnni"
        case dnnl_cpu_isa_avx512_core: "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: "avx512_core_amx"
        default: "another instruction set"
        }
    }

    /// Whether the kernels have 8-bit dot products (VNNI). Without them oneDNN multiplies unsigned inputs by
    /// signed weights with 16-bit pair sums that saturate (2 x 255 x 127 > 32767), so weights then get 7 bits.
    static var hasVNNI: Bool {
        [dnnl_cpu_isa_avx2_vnni, dnnl_cpu_isa_avx512_core_vnni, dnnl_cpu_isa_avx512_core_bf16, dnnl_cpu_isa_avx512_core_amx]
            .contains(dnnl_get_effective_cpu_isa())
    }

    /// This thread's stream (a stream is used by one thread at a time; Dispatch's threads are not ours, so a
    /// thread-specific value, destroyed with its thread).
    static func stream() -> dnnl_stream_t {
        if let existing = pthread_getspecific(streamKey) { return OpaquePointer(existing) }
        var stream: dnnl_stream_t?
        check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "creating a stream")
        pthread_setspecific(streamKey, UnsafeRawPointer(stream!))
        return stream!
    }

    /// The OpenMP team a call on this thread gets: every thread of the run on the calling thread, one inside a
    /// share of `Parallel` (whose threads already take an image each) and for `small` work, where the team's
    /// meeting costs more than a second thread saves (squeeze-excite's convolutions on one pixel).
    static func callThreads(small: Bool) -> Int {
        Parallel.insideShare || small ? 1 : max(1, Parallel.threads)
    }

    /// Sets this thread's team size. oneDNN's kernels fix their thread count when their primitive is created
    /// (from the team size then), so it is set before creating a primitive as well as before running it, and a
    /// primitive serves only calls with the count it was made for.
    static func setThreads(_ count: Int) {
        omp_set_num_threads(Int32(count))
    }

    /// Stops on a failed call that cannot fail with valid arguments (a primitive's creation, which may decline a
    /// shape, is checked by its caller instead).
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        // The message only when it fails: calls run on every convolution of every image.
        precondition(status == dnnl_success, "oneDNN failed \(what()) (status \(status.rawValue))")
    }

    /// A dims array as the C API takes it (`dnnl_dims_t`, DNNL_MAX_NDIMS values).
    static func dims(_ values: [Int]) -> [Int64] {
        values.map(Int64.init) + [Int64](repeating: 0, count: Int(DNNL_MAX_NDIMS) - values.count)
    }

    /// A memory descriptor over values of `type` with these dimensions and element strides.
    static func descriptor(_ sizes: [Int], strides: [Int], type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        var desc = dnnl_memory_desc_t()
        check(dnnl_memory_desc_init_by_strides(&desc, Int32(sizes.count), dims(sizes), type, dims(strides)), "describing memory")
        return desc
    }

    /// A descriptor for the library to choose the layout (`format_tag_any`), as for weights.
    static func anyLayout(_ sizes: [Int], type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        var desc = dnnl_memory_desc_t()
        check(dnnl_memory_desc_init_by_tag(&desc, Int32(sizes.count), dims(sizes), type, dnnl_format_tag_any), "describing memory")
        return desc
    }

    /// An NHWC activation [n, h, w, c], described as oneDNN's logical NCHW with NHWC strides.
    static func activation(_ shape: [Int], type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        return descriptor([n, c, h, w], strides: [h * w * c, 1, w * c, c], type: type)
    }

    /// Copies `from` (described by `source`) into `to` (described by `target`), converting layout and type.
    static func reorder(from source: UnsafePointer<dnnl_memory_desc_t>, _ from: dnnl_memory_t, to target: UnsafePointer<dnnl_memory_desc_t>,
                        _ to: dnnl_memory_t) {
        var descriptor: dnnl_primitive_desc_t?
        check(dnnl_reorder_primitive_desc_create(&descriptor, source, engine, target, engine, nil), "planning a reorder")
        defer { dnnl_primitive_desc_destroy(descriptor) }
        var reorder: dnnl_primitive_t?
        check(dnnl_primitive_create(&reorder, descriptor), "creating a reorder")
        defer { dnnl_primitive_destroy(reorder) }
        let arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: from), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: to)]
        let stream = stream()
        check(dnnl_primitive_execute(reorder, stream, Int32(arguments.count), arguments), "reordering")
        check(dnnl_stream_wait(stream), "reordering")
    }

    /// Memory over `pointer` (not owned; nil: none yet) with `desc`; destroy it after the call.
    static func memory(_ desc: UnsafePointer<dnnl_memory_desc_t>, _ pointer: UnsafeMutableRawPointer?) -> dnnl_memory_t {
        var memory: dnnl_memory_t?
        check(dnnl_memory_create(&memory, desc, engine, pointer), "wrapping memory")
        return memory!
    }
}

private let streamKey: pthread_key_t = {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, { pointer in _ = dnnl_stream_destroy(OpaquePointer(pointer)) }) == 0,
                 "no thread-specific key left")
    return key
}()
