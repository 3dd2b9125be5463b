import Files
import Foundation
import HTTPServing
import Hummingbird
import HummingbirdCore
import Logging
import Predict
import ServiceLifecycle
import UnixSignals

// Serve: a trained model behind HTTP, the only module that imports Hummingbird. Files in reading order:
// - ImageServer.swift: `ImageServer`, the options, the application and its services (model loading and SIGHUP
//   reloads; SIGTERM/SIGINT end it gracefully through swift-service-lifecycle);
// (HTTPServing's ConnectionGuard keeps clients that never finish a request from holding the server: a cap on open
// connections, the immediate 413 for a declared body over the limit, Hummingbird's idle timeout.)
// - InferenceQueue.swift: the micro-batcher on its own thread, with its bounded queue;
// - ServerMetrics.swift: the Prometheus registry behind /metrics;
// - Routes/Replies.swift: the images of a request and the queue's refusals as replies (HTTPServing has the rest);
// - Routes/OriginalRoutes.swift: the original Flask service's API (/helloWorld, /image/detection);
// - Routes/ClassifyRoutes.swift: /v1/classify, /healthz, /readyz, /metrics;
// - Routes/InferenceProtocolRoutes.swift: the Open Inference Protocol (KServe v2 / Triton) REST routes.

/// What `imgcls serve` was asked.
public struct ServeOptions: Sendable {
    public var modelFile: String
    public var host = "127.0.0.1"
    public var port = 8133
    public var topK = 1
    public var fallback: FallbackRule?
    public var maxBatch = 16
    public var maxDelayMilliseconds = 5.0
    public var maxQueue = 256
    public var timeoutSeconds = 30.0
    public var maxBodyBytes = 20 << 20
    /// A connection whose headers or body stop arriving, or that sits idle between requests, closes after this long
    /// (nginx's client_header_timeout, client_body_timeout and keepalive_timeout are 60 s each).
    public var idleTimeoutSeconds = 60.0
    /// Open connections beyond this are closed at once, with a log line (each holds a file descriptor).
    public var maxConnections = 512
    /// Required as `Authorization: Bearer KEY` on /v1 and /v2 when set.
    public var apiKey: String?
    /// Threads of each forward pass.
    public var threads = 2

    public init(modelFile: String) { self.modelFile = modelFile }
}

/// The HTTP service: every route on one Hummingbird application, inference behind an `InferenceQueue`.
public struct ImageServer: Sendable {
    public let options: ServeOptions
    let queue: InferenceQueue
    let logger: Logger

    public init(_ options: ServeOptions, logger: Logger = Logger(label: "imgcls.serve")) throws(PredictError) {
        guard options.maxBatch >= 1, options.maxQueue >= options.maxBatch else {
            throw PredictError("--max-queue (\(options.maxQueue)) must be at least --max-batch (\(options.maxBatch)), which must be at least 1")
        }
        guard options.topK >= 1 else { throw PredictError("--top-k must be at least 1") }
        guard options.idleTimeoutSeconds > 0, options.maxConnections >= 1 else {
            throw PredictError("--idle-timeout must be above 0 seconds and --max-connections at least 1")
        }
        if let fallback = options.fallback, !(0...1).contains(fallback.minimumConfidence) {
            throw PredictError("--min-confidence must be between 0 and 1, not \(fallback.minimumConfidence)")
        }
        ServerMetrics.install()
        Predictor.threads = options.threads
        self.options = options
        self.logger = logger
        queue = InferenceQueue(settings: .init(maxBatch: options.maxBatch, maxDelay: options.maxDelayMilliseconds / 1000,
                                               maxQueue: options.maxQueue, timeout: options.timeoutSeconds))
    }

    /// The application: the routes, and the model service that loads the model (then /readyz answers ready) and
    /// reloads it on SIGHUP. `onServerRunning` gets the bound port (0 asks for any free one).
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        OriginalRoutes(server: self).add(to: router)
        ClassifyRoutes(server: self).add(to: router)
        InferenceProtocolRoutes(server: self).add(to: router)
        let http1 = ConnectionGuard.http1(maxConnections: options.maxConnections, maxBodyBytes: options.maxBodyBytes,
                                          limitOption: "--max-body-mb", idleTimeoutSeconds: options.idleTimeoutSeconds, logger: logger)
        return Application(
            router: router,
            server: .http1(configuration: http1),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "imgcls"),
            services: [ModelService(server: self)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, answers the requests in flight and returns.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onServerRunning: onServerRunning).runService()
        queue.stop()
    }

    /// Loads the model file on a thread of its own (it reads and folds tens of MB) and warms it up.
    func loadModel() async throws(PredictError) -> Predictor {
        let file = options.modelFile
        let result: Result<Predictor, PredictError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(PredictError) in
                    let predictor = try Predictor(modelFile: file)
                    predictor.warmUp()
                    return predictor
                })
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        return try result.get()
    }

    /// Loads the model for a start or a SIGHUP: on failure the model already serving (if any) goes on.
    func reload() async -> Bool {
        do {
            let predictor = try await loadModel()
            queue.replace(predictor)
            logger.info("serving \(predictor.modelName) version \(predictor.modelVersion) from \(predictor.modelFile) on \(Predictor.kernels)")
            return true
        } catch {
            logger.error("cannot load the model: \(error)\(queue.predictor == nil ? "" : "; the model loaded before goes on serving")")
            return false
        }
    }
}

/// Loads the model once the server is up, then reloads it on every SIGHUP until shutdown.
struct ModelService: Service {
    let server: ImageServer

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        guard await server.reload() else {
            throw PredictError("cannot serve: the model \(server.options.modelFile) could not be loaded (the log says why)")
        }
        for await _ in signals.cancelOnGracefulShutdown() {
            server.logger.info("SIGHUP: reloading \(server.options.modelFile)")
            _ = await server.reload()
        }
    }
}
