import Dispatch
import Files
import Glibc

/// The math's own threads. OpenBLAS runs single-threaded inside them: each thread takes a share of the batch
/// (its im2col, products and col2im), so the Swift loops scale with the cores as well as the products, and no
/// BLAS thread spins while Swift code runs.
enum Parallel {
    /// Set by training and evaluation from `--threads`.
    nonisolated(unsafe) static var threads = 1 {
        didSet {
            BLAS.threads = 1
            AllocatorTuning.keepFreedMemoryForReuse()
        }
    }

    /// Splits 0..<count into up to `threads` (read once by the caller when it sizes buffers by it) contiguous ranges of at least `minimum` and runs `body` on each at
    /// once; `body(part, range)` gets the part's index (for per-thread buffers).
    static func forEachRange(_ count: Int, minimum: Int = 1, threads: Int = Parallel.threads,
                             _ body: (_ part: Int, _ range: Range<Int>) -> Void) {
        let parts = max(1, min(threads, count / max(1, minimum)))
        // Inside a share the threads are all busy already: a nested split would only add a meeting point.
        guard parts > 1, !insideShare else { return body(0, 0..<count) }
        // concurrentPerform returns when every part is done, so `body` does not outlive the call.
        withoutActuallyEscaping(body) { body in
            let shared = SendableBox(body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let outer = pthread_getspecific(insideShareKey)
                pthread_setspecific(insideShareKey, UnsafeRawPointer(bitPattern: 1))
                defer { pthread_setspecific(insideShareKey, outer) }
                shared.value(part, count * part / parts..<count * (part + 1) / parts)
            }
        }
    }
}

extension Parallel {
    /// Whether this thread is running a share of `forEachRange`.
    static var insideShare: Bool { pthread_getspecific(insideShareKey) != nil }
}

/// Marks the threads running a share (a thread-specific value, since Dispatch's threads are not ours).
private let insideShareKey: pthread_key_t = {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
    return key
}()

/// Element-wise work over a buffer, split between the threads (for memory-bound loops on large tensors).
@inline(__always)
func forEachShare(_ count: Int, _ body: (Range<Int>) -> Void) {
    Parallel.forEachRange(count, minimum: 1 << 15) { _, range in body(range) }
}
