import ArgumentParser
import Engine
import Files
import Foundation
import Predict
import Train

/// A model's own time per image, for `scripts/bench-serve.sh` to set the server's single-image latency against:
/// the forward pass alone on a prepared input, and decode + preparation + forward on one encoded image.
struct BenchPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-predict", abstract: "Time a model's forward pass, and decode + forward, on single images.")

    @Option(help: "A model.safetensors.") var model: String
    @Option(help: "An image file to classify.") var image: String
    @Option var threads = 2
    @Option(help: "Timed passes; the median counts.") var repeats = 50
    @OptionGroup var output: MeasuredValues

    func run() throws {
        Predictor.threads = threads
        let predictor = try Predictor(modelFile: model)
        predictor.warmUp()
        let input = Tensor(zeros: predictor.preparation.batchShape(1))
        let bytes = try FileIO.read(image)
        func median(_ body: () -> Void) -> Double {
            let times = (0..<repeats).map { _ in
                let start = monotonicSeconds()
                body()
                return monotonicSeconds() - start
            }.sorted()
            return times[times.count / 2] * 1000
        }
        let forward = median { _ = predictor.probabilities(input) }
        let whole = median { _ = predictor.classify([ImageInput(name: "x", bytes: bytes)]) }
        output.report(String(format: "forward %.2f ms, decode + forward %.2f ms (median of %d, %d threads)", forward, whole, repeats, threads),
                      ["forward_ms": forward, "decode_forward_ms": whole])
    }
}
