import ArgumentParser
import Console
import Foundation
import Predict
import Serve

/// The original service's rule, as both commands take it.
struct FallbackOptions: ParsableArguments {
    @Option(help: "Below this top probability (0 to 1), answer --fallback-label instead (the original service used 0.75).")
    var minConfidence: Float?
    @Option(help: "The label answered below --min-confidence (the original service used neutral).")
    var fallbackLabel: String?

    func validate() throws {
        if (minConfidence == nil) != (fallbackLabel == nil) {
            throw ValidationError("--min-confidence and --fallback-label go together")
        }
    }

    var rule: FallbackRule? {
        guard let minConfidence, let fallbackLabel else { return nil }
        return FallbackRule(minimumConfidence: minConfidence, label: fallbackLabel)
    }
}

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
        request.base64 = base64
        request.topK = topK
        request.fallback = fallback.rule
        request.format = json ? .json : jsonl ? .jsonl : csv ? .csv : .text
        request.batchSize = batchSize
        request.threads = threads
        request.showProgress = !global.quiet && request.format == .text && isatty(STDERR_FILENO) != 0
        let summary = try PredictRun.run(request)
        if !global.quiet && request.format == .text {
            let fallbacks = request.fallback == nil ? "" : ", \(summary.fallbackApplied) answered \(request.fallback!.label) by the fallback rule"
            FileHandle.standardError.write(Data("\(summary.classified + summary.refused) images: \(summary.classified) classified, \(summary.refused) refused\(fallbacks)\n".utf8))
        }
        if summary.refused > 0 { throw ExitCode(1) }
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over HTTP: the original /image/detection API, /v1/classify and the Open Inference Protocol.",
        discussion: """
            Binds 127.0.0.1:8133 unless --host says otherwise. The model loads and warms up once (GET /readyz \
            answers ready after that); SIGHUP reloads the model file, keeping the old model if the new one \
            cannot be loaded; SIGTERM or SIGINT stop accepting, answer the requests in flight, and exit. \
            Concurrent requests are batched (--max-batch, --max-delay-ms); a full queue (--max-queue images) \
            answers 503 with Retry-After. --api-key (or IMGCLS_API_KEY) requires Authorization: Bearer KEY on \
            /v1 and /v2.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The model: a name under models/ or a model.safetensors path.") var model = "default"
    @Option(help: "The interface to bind: 127.0.0.1 unless you mean to serve other machines (0.0.0.0: all).") var host = "127.0.0.1"
    @Option(help: "The port.") var port = 8133
    @Option(help: "Labels per image in /v1 answers (a request's ?top_k= overrides it).") var topK = 1
    @OptionGroup var fallback: FallbackOptions
    @Option(help: "Images per forward pass at most.") var maxBatch = 16
    @Option(help: "How long the first queued image waits for others to share its batch (milliseconds).") var maxDelayMs = 5.0
    @Option(help: "Images queued at most; beyond, requests get 503 with Retry-After.") var maxQueue = 256
    @Option(help: "Seconds a request may wait in the queue before it is answered 503.") var timeout = 30.0
    @Option(help: "The largest request body, in MB (413 beyond).") var maxBodyMb = 20
    @Option(help: "Require Authorization: Bearer KEY on /v1 and /v2 (default: $IMGCLS_API_KEY when set).") var apiKey: String?
    @Option(help: "Threads for the math.") var threads = 2

    func run() async throws {
        global.startLogging()
        var options = ServeOptions(modelFile: try global.workspaceFolder.modelFile(model))
        (options.host, options.port, options.topK, options.fallback) = (host, port, topK, fallback.rule)
        (options.maxBatch, options.maxDelayMilliseconds, options.maxQueue) = (maxBatch, maxDelayMs, maxQueue)
        (options.timeoutSeconds, options.maxBodyBytes, options.threads) = (timeout, maxBodyMb << 20, threads)
        options.apiKey = apiKey ?? ProcessInfo.processInfo.environment["IMGCLS_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let server = try ImageServer(options)
        let (quiet, file, host) = (global.quiet, options.modelFile, options.host)
        try await server.run { port in
            if !quiet { FileHandle.standardOutput.write(Data("serving \(file) on http://\(host):\(port) (Ctrl-C to stop)\n".utf8)) }
        }
    }
}
