import ArgumentParser
import Console
import Foundation
import Predict
import Serve

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify images with a trained model: top-k labels and probabilities per image.",
        discussion: """
            INPUT is an image file, a folder (every file below it), or - (paths from standard input, one a \
            line). With --base64, each INPUT is an image as base64 (a data-URL prefix is allowed), and - or no \
            INPUT reads one a line from standard input. An image that cannot be read or decoded is reported with \
            its reason code and the run goes on; the exit status is 1 when any was refused.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The model: a name under models/ or a model.safetensors path.") var model = "default"
    @Argument(help: "Image files, folders, or - for paths on standard input.") var inputs: [String] = []
    @Flag(help: "The inputs are base64 images, not paths.") var base64 = false
    @Option(help: "Labels to show per image, most probable first.") var topK = 1
    @OptionGroup var fallback: FallbackOptions
    @Flag(help: "Print one JSON document.") var json = false
    @Flag(help: "Print one JSON object per image, as each batch is done.") var jsonl = false
    @Flag(help: "Print CSV with a header row.") var csv = false
    @Option(help: "Images per forward pass.") var batchSize = 16
    @Option(help: "Threads for the math.") var threads = 2

    func validate() throws {
        if [json, jsonl, csv].filter({ $0 }).count > 1 { throw ValidationError("choose one of --json, --jsonl and --csv") }
    }

    func run() throws {
        global.startLogging()
        var request = PredictRequest(modelFile: try global.workspaceFolder.modelFile(model), sources: inputs)
        (request.base64, request.topK, request.fallback) = (base64, topK, fallback.rule)
        request.format = json ? .json : jsonl ? .jsonl : csv ? .csv : .text
        (request.batchSize, request.threads) = (batchSize, threads)
        request.showProgress = !global.quiet && request.format == .text && isatty(STDERR_FILENO) != 0
        let summary = try PredictRun(request: request).run()
        if !global.quiet && request.format == .text {
            FileHandle.standardError.write(Data((summary.text(fallback: request.fallback) + "\n").utf8))
        }
        if summary.refused > 0 { throw ExitCode(1) }
    }
}
