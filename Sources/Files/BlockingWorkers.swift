import Foundation

/// Threads of their own for blocking calls (SQLite, decoders) made on behalf of async code, such as a server's
/// handlers: the Swift concurrency pool has as many threads as cores, and a blocking call inside a task holds one.
/// Jobs run in the order given, `threads` at a time (one thread: one at a time, in order). The threads end once the
/// workers are released and the jobs given have run.
public final class BlockingWorkers: Sendable {
    private let queue = JobQueue()

    public init(name: String, threads count: Int) {
        // The threads hold the queue, not the workers: releasing the workers closes the queue, and they end.
        for _ in 0..<max(1, count) { WorkerThread(name: name) { [queue] in queue.work() }.detach() }
    }

    deinit { queue.close() }

    /// Runs `job` on one of the threads and returns its result to the awaiting task.
    public func run<T: Sendable>(_ job: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.submit { continuation.resume(returning: job()) }
        }
    }
}

/// The jobs waiting for a thread.
private final class JobQueue: @unchecked Sendable {
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private let condition = NSCondition()
    private var closed = false

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        precondition(!closed, "a job given to released workers")
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// A thread's loop: the next job, until the queue is closed and empty.
    func work() {
        while true {
            condition.lock()
            while head == jobs.count && !closed { condition.wait() }
            guard head < jobs.count else {
                condition.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            if head > 1024 && head * 2 > jobs.count {  // drop what has run, now and then
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
