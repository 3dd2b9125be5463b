import ArgumentParser
import Console
import Foundation
import Predict
import Serve

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
            /v1 and /v2. A connection that stops sending its request, or sits idle, closes after --idle-timeout; \
            beyond --max-connections new connections close at once.
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
    @Option(help: "The largest request body, in MB (413 beyond, at once when the body declares its length).") var maxBodyMb = 20
    @Option(help: "Seconds before closing a connection whose headers or body stop arriving, or that sits idle.") var idleTimeout = 60.0
    @Option(help: "Open connections at most; beyond, new ones are closed at once (and a line logged).") var maxConnections = 512
    @Option(help: "Require Authorization: Bearer KEY on /v1 and /v2 (default: $IMGCLS_API_KEY when set).") var apiKey: String?
    @Option(help: "Threads for the math.") var threads = 2

    func run() async throws {
        global.startLogging()
        var options = ServeOptions(modelFile: try global.workspaceFolder.modelFile(model))
        (options.host, options.port, options.topK, options.fallback) = (host, port, topK, fallback.rule)
        (options.maxBatch, options.maxDelayMilliseconds, options.maxQueue) = (maxBatch, maxDelayMs, maxQueue)
        (options.timeoutSeconds, options.maxBodyBytes, options.threads) = (timeout, maxBodyMb << 20, threads)
        (options.idleTimeoutSeconds, options.maxConnections) = (idleTimeout, maxConnections)
        options.apiKey = apiKey ?? ProcessInfo.processInfo.environment["IMGCLS_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let server = try ImageServer(options)
        let (quiet, file, host) = (global.quiet, options.modelFile, options.host)
        try await server.run { port in
            if !quiet {
                FileHandle.standardOutput.write(Data("serving \(file) on http://\(host):\(port) (Ctrl-C to stop), inference on \(Predictor.kernels)\n".utf8))
            }
        }
    }
}
