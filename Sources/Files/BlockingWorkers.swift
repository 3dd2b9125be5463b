import Foundation

/// Threads of their own for blocking calls (SQLite, decoders) made on behalf of async code, such as a server's
/// handlers: the Swift concurrency pool has as many threads as cores, and a blocking call inside a task holds one.
/// Jobs run in the order given, `threads` at a time (one thread: one at a time, in order).
public final class BlockingWorkers: @unchecked Sendable {
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private let condition = NSCondition()
    private var stopped = false
    private var threads: [WorkerThread] = []

    public init(name: String, threads count: Int) {
        threads = (0..<max(1, count)).map { _ in WorkerThread(name: name) { [unowned self] in work() } }
    }

    deinit { stop() }

    /// Runs `job` on one of the threads and returns its result to the awaiting task.
    public func run<T: Sendable>(_ job: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: job()) }
        }
    }

    /// Stops the threads once the jobs already given have run.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        for thread in threads { thread.join() }
        threads = []
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        precondition(!stopped, "a job given to stopped workers")
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count && !stopped { condition.wait() }
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
