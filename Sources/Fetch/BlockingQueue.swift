import Foundation

/// A bounded first-in first-out queue between threads: `push` waits while it is full, `pop` waits while it is
/// empty, and `close` ends both sides (pop returns nil once the queue is drained).
final class BlockingQueue<Element>: @unchecked Sendable {
    /// Taken slots are cleared at once, so the queue keeps no reference to what it handed out.
    private var items: [Element?] = []
    private var head = 0
    private let capacity: Int
    private let condition = NSCondition()
    private var closed = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds an element, waiting for room; false when the queue was closed.
    @discardableResult
    func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !closed && items.count - head >= capacity { condition.wait() }
        guard !closed else { return false }
        items.append(element)
        condition.broadcast()
        return true
    }

    /// The next element, waiting for one; nil when the queue is closed and empty.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while !closed && head == items.count { condition.wait() }
        return take()
    }

    var isClosedAndEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed && head == items.count
    }

    /// The next element if one is ready, without waiting.
    func tryPop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        return take()
    }

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return items.count - head
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func take() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head].take()
        head += 1
        if head > 1024 && head * 2 > items.count {  // compact now and then instead of shifting on every pop
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return element
    }
}

/// Body buffers handed back after processing and reused by the next transfers: their memory stays mapped,
/// so thousands of images a second do not each fault in fresh pages.
final class BufferPool: @unchecked Sendable {
    private let lock = NSLock()
    private var buffers: [[UInt8]] = []
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// An empty buffer, with room from an earlier use when one is free. (Emptied here, not in `give`: by now
    /// the processing that handed it back holds no other reference, so its storage is kept, not copied.)
    func take() -> [UInt8] {
        lock.lock()
        var buffer = buffers.popLast() ?? []
        lock.unlock()
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }

    /// Buffers that held an unusually large image are let go, so the pool stays small.
    static let largestKept = 2 << 20

    func give(_ buffer: [UInt8]) {
        guard buffer.capacity > 0, buffer.capacity <= BufferPool.largestKept else { return }
        lock.lock()
        defer { lock.unlock() }
        if buffers.count < limit { buffers.append(buffer) }
    }
}
