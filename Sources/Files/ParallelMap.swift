import Dispatch

/// `transform` applied to every element on `threads` threads (blocking work such as decoding stays off Swift
/// concurrency), results in input order.
public func parallelMap<Element: Sendable, Result: Sendable>(_ elements: [Element], threads: Int,
                                                          _ transform: @Sendable (Element) -> Result) -> [Result] {
    guard !elements.isEmpty else { return [] }
    let threads = max(1, min(threads, elements.count))
    let slots = UnsafeMutablePointer<Result>.allocate(capacity: elements.count)
    defer { slots.deallocate() }
    let output = SlotPointer(slots)
    DispatchQueue.concurrentPerform(iterations: threads) { worker in
        // Each worker initialises only its own indexes, so no two threads touch one slot.
        for i in stride(from: worker, to: elements.count, by: threads) { (output.base + i).initialize(to: transform(elements[i])) }
    }
    return (0..<elements.count).map { (slots + $0).move() }
}

private struct SlotPointer<Result>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Result>
    init(_ base: UnsafeMutablePointer<Result>) { self.base = base }
}
