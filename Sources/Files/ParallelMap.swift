import Foundation

/// Applies `transform` to every element on `threads` threads of their own (blocking work such as decoding
/// stays off Swift concurrency) and hands each result to `consume` on the calling thread, in input order, as
/// soon as it and those before it are ready, so the caller records results while the workers go on.
/// A worker takes the next element whenever it finishes one (a slow file holds up no fixed share of the
/// work), workers stay at most `window` results ahead of `consume` (memory stays flat on any number of
/// elements), and the sequence is read as the workers need it. When `consume` throws, workers take no new
/// element, those under way finish, and the error is rethrown.
public func parallelMap<Elements: Sequence, Result, Failure: Error>(
    _ elements: Elements, threads: Int, window: Int? = nil,
    _ transform: @Sendable (Elements.Element) -> Result,
    consume: (Result) throws(Failure) -> Void
) throws(Failure) {
    let threads = max(1, threads)
    let work = OrderedWork<Elements.Element, Result>(AnyIterator(elements.makeIterator()), window: max(1, window ?? threads * 16))
    try withoutActuallyEscaping(transform) { (transform) throws(Failure) in
        let workers = (0..<threads).map { _ in WorkerThread(work.startWorker(SendableBox(transform))) }
        // Joined before the closure's borrow ends, also when `consume` throws.
        defer {
            work.stop()
            workers.forEach { $0.join() }
        }
        while let result = work.next() { try consume(result) }
    }
}

/// The state the workers and the consumer of `parallelMap` share, under one lock.
private final class OrderedWork<Element, Result>: @unchecked Sendable {
    private let condition = NSCondition()
    private let iterator: AnyIterator<Element>
    private let window: Int
    private var handedOut = 0       // elements taken by workers
    private var consumed = 0        // results given to the consumer
    private var ready: [Int: Result] = [:]
    private var inputEnded = false
    private var stopped = false
    private var running = 0

    init(_ iterator: AnyIterator<Element>, window: Int) {
        self.iterator = iterator
        self.window = window
    }

    /// The body of one more worker thread.
    func startWorker(_ transform: SendableBox<(Element) -> Result>) -> @Sendable () -> Void {
        condition.lock()
        running += 1
        condition.unlock()
        return { self.run(transform.value) }
    }

    /// A worker: takes elements until there are none left or the consumer stopped.
    private func run(_ transform: (Element) -> Result) {
        condition.lock()
        while true {
            while !stopped && !inputEnded && handedOut - consumed >= window { condition.wait() }
            if stopped || inputEnded { break }
            guard let element = iterator.next() else {
                inputEnded = true
                condition.broadcast()
                break
            }
            let index = handedOut
            handedOut += 1
            condition.unlock()
            let result = transform(element)
            condition.lock()
            ready[index] = result
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The next result in input order, waiting for it; nil once every element has been consumed.
    func next() -> Result? {
        condition.lock()
        defer { condition.unlock() }
        while ready.index(forKey: consumed) == nil && !(inputEnded && consumed == handedOut) && running > 0 {
            condition.wait()
        }
        guard let result = ready.removeValue(forKey: consumed) else { return nil }
        consumed += 1
        condition.broadcast()
        return result
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Carries a value that is not `Sendable` to other threads, for callers that keep the threads from sharing it
/// unsafely (they join them before the value goes away, and give each its own part of the work).
public struct SendableBox<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
