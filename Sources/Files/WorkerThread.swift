import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own for blocking work (decoding, libcurl, SQLite), started at once. `join` waits until the
/// body has returned and released what it captured, which is what lets `parallelMap` lend it a closure that
/// must not outlive the call.
public final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    private var joined = false
    private let finished = DispatchSemaphore(value: 0)

    /// `stackSize`: decoders keep tables on the stack, so more than the 512 KiB of Foundation's threads.
    public init(name: String? = nil, stackSize: Int = 8 << 20, _ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        let context = Unmanaged.passRetained(Body(name: name, body, finished)).toOpaque()
        let status = pthread_create(&thread, &attributes, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(status == 0, "cannot start a thread: \(String(cString: strerror(status)))")
    }

    /// Lets the thread end on its own, its resources released when it does (no one will join it).
    public func detach() {
        guard !joined else { return }
        joined = true
        pthread_detach(thread)
    }

    /// Waits until the body has returned.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }

    /// Waits at most `seconds` for the body to return; false when it is still running.
    public func finished(within seconds: Double) -> Bool {
        guard finished.wait(timeout: .now() + seconds) == .success else { return false }
        finished.signal()  // later calls see it finished too
        join()
        return true
    }

    private final class Body {
        let name: String?
        let body: @Sendable () -> Void
        let finished: DispatchSemaphore
        init(name: String?, _ body: @escaping @Sendable () -> Void, _ finished: DispatchSemaphore) {
            (self.name, self.body, self.finished) = (name, body, finished)
        }

        func run() {
            if let name { Thread.current.name = name }  // shown by debuggers and top -H
            body()
            finished.signal()
        }
    }
}
