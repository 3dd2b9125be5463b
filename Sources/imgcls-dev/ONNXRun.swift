import ArgumentParser
import Backbone
import Engine
import Files
import Foundation

/// An ONNX network imported and run on a raw float32 tensor, for the reference comparisons with ONNX Runtime
/// (`scripts/onnx-compare.sh`): the same tensor in, the outputs written as raw float32, the import and run timed.
struct ONNXRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onnx-run", abstract: "Import an ONNX network and run it on a raw float32 tensor (as ONNX Runtime takes it).")

    @Flag(help: "Only print the kernels inference runs on (library and instruction set, or the reference loops).")
    var describeKernels = false
    @Option(help: "The .onnx file, or an imgcls model file (.safetensors: run as it is, to compare a network with its ONNX export).") var model: String = ""
    @Option(help: "Raw little-endian float32 input, in the ONNX input's own layout.") var input: String = ""
    @Option(help: "The input's shape, e.g. 2,3,224,224 or 2,224,224,3.") var shape: String = ""
    @Option(help: "Where to write the outputs (raw float32).") var output: String?
    @Flag(help: "Write softmax probabilities instead of logits (for networks that end in a softmax).") var softmax = false
    @Flag(help: "Run the int8 form, calibrated on the input itself (for timing; `imgcls quantize` calibrates on a train split).")
    var int8 = false
    @Option var threads = 2
    @Option(help: "Timed passes of the whole batch; the median counts.") var repeats = 1
    @OptionGroup var values: MeasuredValues

    func run() throws {
        if describeKernels { return print(InferenceKernels.description) }
        guard !model.isEmpty, !input.isEmpty, !shape.isEmpty else { throw ValidationError("--model, --input and --shape are required") }
        let dims = shape.split(separator: ",").compactMap { Int($0) }
        guard dims.count == 4 else { throw ValidationError("--shape takes four numbers") }
        Kernels.threads = threads
        let started = monotonicSeconds()
        let network = model.hasSuffix(".safetensors") ? try ModelFile.load(model).model : try BackboneImport.model(model)
        let importSeconds = monotonicSeconds() - started
        let raw = try FileIO.read(input)
        let data = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        guard data.count == dims.reduce(1, *) else { throw ValidationError("\(input) holds \(data.count) values, not \(dims)") }
        // NCHW (channels of 3 second, not last) to the engine's NHWC.
        let given = Tensor(shape: dims, data: data)
        let batch = dims[1] == 3 && dims[3] != 3 ? given.transposed([0, 2, 3, 1]) : given
        if int8 {
            guard network.int8.isEmpty else { throw ValidationError("\(model) is an int8 model already: run it without --int8") }
            guard let scales = Int8Calibration.scales(network, batches: [batch]) else {
                throw ValidationError("int8 needs the library kernels (\(InferenceKernels.description))")
            }
            network.int8 = scales
        }
        let inference = network.inferenceNetwork()
        var result = batch
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = monotonicSeconds()
            result = inference.forward(batch, training: false)
            times.append(monotonicSeconds() - start)
        }
        let runSeconds = times.sorted()[times.count / 2]
        if softmax { result = Engine.softmax(result) }
        if let output {
            try FileIO.writeAtomically(result.data.withUnsafeBytes { [UInt8]($0) }, to: output)
        }
        values.report(String(format: "imported %@ in %.2f s (%d steps); ran %d images in %.3f s on %d threads; output %@",
                             model, importSeconds, network.spec.graph?.steps.count ?? 0, dims[0], runSeconds, threads, "\(result.shape)"),
                      ["import_seconds": importSeconds, "run_seconds": runSeconds])
    }
}
