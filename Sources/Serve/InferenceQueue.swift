import Files
import Foundation
import Imaging
import Metrics
import Predict

/// The server's inference, on a thread of its own (decoding and the math block; the event loops never wait on
/// them). Each request's images are decoded as it arrives, on Dispatch's threads, so decoding overlaps the batch
/// that is running (511 → 707 images/s for a small model and 8 connections); then they are queued. The thread
/// takes them in arrival order, up to `maxBatch` images, and runs them as one batch: concurrent requests share a
/// forward pass. It waits for more (at most `maxDelay` after the first) only until as many requests are queued as
/// the last batch had: clients that each wait for their answer come back together, and a lone client waits for
/// no one (a fixed 5 ms wait made one connection's latency 8.0 ms for a model that takes 1.6 ms).
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

    /// One request's images, decoded by `predictor` (a batch holds one model's images), with its answer's
    /// continuation.
    private struct Job {
        let predictor: Predictor
        let prepared: [Result<PreparedImage, ImageError>]
        let images: Int
        let enqueued: Double
        let continuation: CheckedContinuation<Result<Answer, Refusal>, Never>
    }

    let settings: Settings
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var queuedImages = 0
    /// Room held for requests whose images are being decoded, so a full queue refuses before any decoding.
    private var reservedImages = 0
    private var stopping = false
    /// The requests the last batch held: how many to wait for.
    private var expectedJobs = 1
    /// While set, no batch starts (tests fill the queue with it, whatever the machine's speed).
    private var held = false
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
    var predictor: Predictor? { locked { model } }

    /// The model for the batches that start from now on; a batch already running finishes with the one it had, so
    /// a reload neither drops nor fails a request.
    func replace(_ predictor: Predictor) { locked { model = predictor } }

    /// Decodes `inputs`, queues them and waits for their batch; refused at once when no model is loaded yet or
    /// the queue has no room for them.
    func probabilities(_ inputs: [ImageInput]) async -> Result<Answer, Refusal> {
        let predictor: Predictor
        switch reserve(inputs.count) {
        case let .success(model): predictor = model
        case let .failure(refusal): return .failure(refusal)
        }
        let arrived = monotonicSeconds()
        let prepared = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: predictor.prepare(inputs)) }
        }
        return await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            reservedImages -= inputs.count
            guard !stopping else { return continuation.resume(returning: .failure(.full)) }
            let images = prepared.filter { (try? $0.get()) != nil }.count
            jobs.append(Job(predictor: predictor, prepared: prepared, images: images, enqueued: arrived, continuation: continuation))
            queuedImages += images
            queueDepth.record(queuedImages)
            condition.signal()
        }
    }

    /// Room for `count` images, and the model to decode them with; refused when there is no model or no room.
    private func reserve(_ count: Int) -> Result<Predictor, Refusal> {
        locked {
            guard let model else { return .failure(.notReady) }
            guard !stopping, queuedImages + reservedImages + count <= settings.maxQueue else { return .failure(.full) }
            reservedImages += count
            return .success(model)
        }
    }

    /// Images queued now.
    var depth: Int { locked { queuedImages } }

    /// Holds (or releases) the batches: queued requests wait.
    func hold(_ value: Bool) {
        locked {
            held = value
            condition.broadcast()
        }
    }

    /// Answers what is queued, then ends the thread.
    func stop() {
        locked {
            stopping = true
            condition.broadcast()
        }
        thread?.join()
    }

    /// `body` under the queue's lock (not for async code, which must not hold a lock across a suspension).
    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    private func serve() {
        condition.lock()
        while true {
            while (jobs.isEmpty || held) && !stopping { condition.wait() }
            if jobs.isEmpty { break }
            // More images may arrive within the delay: wait for them, up to a whole batch.
            let start = jobs[0].enqueued
            while queuedImages < settings.maxBatch && jobs.count < expectedJobs && !stopping {
                let remaining = start + settings.maxDelay - monotonicSeconds()
                if remaining <= 0 { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: remaining))
            }
            var batch: [Job] = [], images = 0
            while let job = jobs.first, batch.isEmpty || (images + job.images <= settings.maxBatch && job.predictor === batch[0].predictor) {
                jobs.removeFirst()
                batch.append(job)
                images += job.images
            }
            queuedImages -= images
            expectedJobs = batch.count
            queueDepth.record(queuedImages)
            condition.unlock()
            run(batch)
            condition.lock()
        }
        condition.unlock()
    }

    private func run(_ batch: [Job]) {
        let now = monotonicSeconds()
        let (late, due) = (batch.filter { now - $0.enqueued > settings.timeout }, batch.filter { now - $0.enqueued <= settings.timeout })
        for job in late { job.continuation.resume(returning: .failure(.timedOut)) }
        guard let predictor = due.first?.predictor else { return }
        let images = due.flatMap { $0.prepared.compactMap { try? $0.get() } }
        // One request may hold more than a batch: it runs in passes of at most `maxBatch` images.
        var rows: ArraySlice<[Float]> = []
        for start in stride(from: 0, to: images.count, by: settings.maxBatch) {
            let pass = Array(images[start..<min(start + settings.maxBatch, images.count)])
            batchImages.record(pass.count)
            rows += predictor.probabilities(ofPrepared: pass)
        }
        for job in due {
            let answers = job.prepared.map { outcome in outcome.map { _ in rows.removeFirst() } }
            imagesClassified.increment(by: job.images)
            imagesRefused.increment(by: answers.count - job.images)
            job.continuation.resume(returning: .success(Answer(predictor: predictor, probabilities: answers)))
        }
    }
}
