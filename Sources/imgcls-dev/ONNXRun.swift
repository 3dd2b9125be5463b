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

    @Option(help: "The .onnx file, or an imgcls model file (.safetensors: run as it is, to compare a network with its ONNX export).") var model: String
    @Option(help: "Raw little-endian float32 input, in the ONNX input's own layout.") var input: String
    @Option(help: "The input's shape, e.g. 2,3,224,224 or 2,224,224,3.") var shape: String
    @Option(help: "Where to write the outputs (raw float32).") var output: String?
    @Flag(help: "Write softmax probabilities instead of logits (for networks that end in a softmax).") var softmax = false
    @Option var threads = 2
    @Option(help: "Timed passes of the whole batch; the median counts.") var repeats = 1
    @OptionGroup var values: MeasuredValues

    func run() throws {
        let dims = shape.split(separator: ",").compactMap { Int($0) }
        guard dims.count == 4 else { throw ValidationError("--shape takes four numbers") }
        Kernels.threads = threads
        let started = monotonicSeconds()
        let network = model.hasSuffix(".safetensors") ? try ModelFile.load(model).model : try BackboneImport.model(model)
        let importSeconds = monotonicSeconds() - started
        let raw = try FileIO.read(input)
        var data = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        guard data.count == dims.reduce(1, *) else { throw ValidationError("\(input) holds \(data.count) values, not \(dims)") }
        var nhwc = dims
        if dims[1] == 3 && dims[3] != 3 {
            // NCHW to the engine's NHWC.
            let (n, c, h, w) = (dims[0], dims[1], dims[2], dims[3])
            var out = [Float](repeating: 0, count: data.count)
            for b in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                out[((b * h + y) * w + x) * c + ch] = data[((b * c + ch) * h + y) * w + x]
            } } } }
            (data, nhwc) = (out, [n, h, w, c])
        }
        let batch = Tensor(shape: nhwc, data: data)
        let inference = network.inferenceNetwork()
        var result = batch
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = monotonicSeconds()
            result = inference.forward(batch, training: false)
            times.append(monotonicSeconds() - start)
        }
        let runSeconds = times.sorted()[times.count / 2]
        if softmax {
            let classes = result.shape[1]
            for row in 0..<result.shape[0] {
                let logits = result.data[row * classes..<(row + 1) * classes]
                let largest = logits.max()!
                let exps = logits.map { exp($0 - largest) }
                let sum = exps.reduce(0, +)
                for j in 0..<classes { result.data[row * classes + j] = exps[j] / sum }
            }
        }
        if let output {
            try FileIO.writeAtomically(result.data.withUnsafeBytes { [UInt8]($0) }, to: output)
        }
        values.report(String(format: "imported %@ in %.2f s (%d steps); ran %d images in %.3f s on %d threads; output %@",
                             model, importSeconds, network.spec.graph?.steps.count ?? 0, dims[0], runSeconds, threads, "\(result.shape)"),
                      ["import_seconds": importSeconds, "run_seconds": runSeconds])
    }
}
