import Dispatch
import Foundation

/// Two-stage stopping for long commands (fetch, train, serve): the first signal (Ctrl-C's SIGINT by default, or
/// SIGTERM) prints `notice` and calls `stop`, so the run finishes what is in flight and commits; a second one
/// quits at once with status 130. `cancel()` puts the default handling back.
public final class Interruption: @unchecked Sendable {
    private let signals: [Int32]
    private let sources: [DispatchSourceSignal]

    public init(signals: [Int32] = [SIGINT], notice: String, stop: @escaping @Sendable () -> Void) {
        self.signals = signals
        sources = signals.map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        let seen = FirstTime()
        for (number, source) in zip(signals, sources) {
            signal(number, SIG_IGN)  // the dispatch source sees it instead of the default handler
            source.setEventHandler {
                guard seen.check() else { exit(130) }
                FileHandle.standardError.write(Data("\n\(notice)\n".utf8))
                stop()
            }
            source.resume()
        }
    }

    public func cancel() {
        for (number, source) in zip(signals, sources) {
            source.cancel()
            signal(number, SIG_DFL)
        }
    }
}

/// True the first time only, from any thread.
private final class FirstTime: @unchecked Sendable {
    private let lock = NSLock()
    private var seen = false

    func check() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        defer { seen = true }
        return !seen
    }
}

/// A request to stop, raised from a signal handler's queue and read by a long loop on its own thread (training
/// checks it between epochs).
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    public init() {}

    public func raise() {
        lock.lock()
        defer { lock.unlock() }
        raised = true
    }

    public var isRaised: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}
