import Files
import Foundation
import Imaging
import Metrics
import Predict

/// The server's inference, on a thread of its own (decoding and the math block; the event loops never wait on
/// them). Requests queue their images; the thread takes them in arrival order, up to `maxBatch` images, waiting at
/// most `maxDelay` after the first for more, and runs them as one batch: concurrent requests share a forward pass.
/// The queue is bounded (`maxQueue` images): a request that does not fit is refused at once (503), so latency
/// stays bounded instead of growing with the load. A request still queued at its deadline is answered "timed out".
final class InferenceQueue: @unchecked Sendable {
    struct Settings: Sendable {
        var maxBatch = 16
        var maxDelay = 0.005
        var maxQueue = 256
        var timeout = 30.0
    }

    enum Refusal: Error, Sendable { case full, timedOut, notReady }

    /// A batch's answer for one request: the model that ran it, and each image's probabilities or why it was
    /// refused, in order.
    struct Answer: Sendable {
        let predictor: Predictor
        let probabilities: [Result<[Float], ImageError>]
    }

    /// One request's images, with its answer's continuation.
    private struct Job {
        let inputs: [ImageInput]
        let enqueued: Double
        let continuation: CheckedContinuation<Result<Answer, Refusal>, Never>
    }

    let settings: Settings
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var queuedImages = 0
    private var stopping = false
    private var model: Predictor?
    private var thread: WorkerThread?
    private let batchImages = Recorder(label: "imgcls_batch_images")
    private let queueDepth = Gauge(label: "imgcls_queue_images")
    private let imagesClassified = Counter(label: "imgcls_images_classified", dimensions: [("outcome", "classified")])
    private let imagesRefused = Counter(label: "imgcls_images_classified", dimensions: [("outcome", "refused")])

    init(settings: Settings) {
        self.settings = settings
        thread = WorkerThread(name: "imgcls inference") { [self] in serve() }
    }

    /// The model answering; nil until the first one has loaded and warmed up.
    var predictor: Predictor? {
        condition.lock()
        defer { condition.unlock() }
        return model
    }

    /// The model for the batches that start from now on; a batch already running finishes with the one it had, so
    /// a reload neither drops nor fails a request.
    func replace(_ predictor: Predictor) {
        condition.lock()
        model = predictor
        condition.unlock()
    }

    /// Queues `inputs` and waits for their batch; refused at once when no model is loaded yet or the queue has
    /// no room for them.
    func probabilities(_ inputs: [ImageInput]) async -> Result<Answer, Refusal> {
        await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard model != nil else { return continuation.resume(returning: .failure(.notReady)) }
            guard !stopping, queuedImages + inputs.count <= settings.maxQueue else { return continuation.resume(returning: .failure(.full)) }
            jobs.append(Job(inputs: inputs, enqueued: monotonicSeconds(), continuation: continuation))
            queuedImages += inputs.count
            queueDepth.record(queuedImages)
            condition.signal()
        }
    }

    /// Answers what is queued, then ends the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        thread?.join()
    }

    private func serve() {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { break }
            // More images may arrive within the delay: wait for them, up to a whole batch.
            let start = jobs[0].enqueued
            while queuedImages < settings.maxBatch && !stopping {
                let remaining = start + settings.maxDelay - monotonicSeconds()
                if remaining <= 0 { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: remaining))
            }
            var batch: [Job] = [], images = 0
            while let job = jobs.first, batch.isEmpty || images + job.inputs.count <= settings.maxBatch {
                jobs.removeFirst()
                batch.append(job)
                images += job.inputs.count
            }
            queuedImages -= images
            queueDepth.record(queuedImages)
            let predictor = model!
            condition.unlock()
            run(batch, on: predictor)
            condition.lock()
        }
        condition.unlock()
    }

    private func run(_ batch: [Job], on predictor: Predictor) {
        let now = monotonicSeconds()
        let (late, due) = (batch.filter { now - $0.enqueued > settings.timeout }, batch.filter { now - $0.enqueued <= settings.timeout })
        for job in late { job.continuation.resume(returning: .failure(.timedOut)) }
        guard !due.isEmpty else { return }
        let inputs = due.flatMap(\.inputs)
        batchImages.record(inputs.count)
        var answers = predictor.probabilities(of: inputs)[...]
        for job in due {
            let mine = Array(answers.prefix(job.inputs.count))
            answers = answers.dropFirst(job.inputs.count)
            let refused = mine.filter { if case .failure = $0 { true } else { false } }.count
            imagesClassified.increment(by: mine.count - refused)
            imagesRefused.increment(by: refused)
            job.continuation.resume(returning: .success(Answer(predictor: predictor, probabilities: mine)))
        }
    }
}
