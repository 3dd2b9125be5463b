// Console: what a command shows a person. Entry: `Output` (data to stdout, logs to stderr). Files in reading order:
//   Output.swift         JSON and text output, logging set-up (this file)
//   ProgressBar.swift    count, rate and ETA of long work
//   TextTable.swift      aligned columns
//   Interruption.swift   Ctrl-C and SIGTERM: stop after the work in progress, then force

import Files
import Foundation
import Logging

/// Where command output goes: data to stdout (as text or JSON), logs and progress to stderr.
public enum Output {
    /// Pretty, key-sorted JSON on stdout.
    public static func printJSON(_ value: some Encodable) throws {
        print(try jsonString(value))
    }

    public static func jsonString(_ value: some Encodable, pretty: Bool = true) throws -> String {
        try JSONText.string(value, pretty: pretty)
    }

    /// Logs go to stderr; `--verbose` shows debug messages, `--quiet` only errors. swift-log takes one bootstrap
    /// per process: the first call decides (`imgcls demo` runs several commands in one process).
    public static func bootstrapLogging(verbose: Bool, quiet: Bool) {
        guard !loggingStarted.exchange(true) else { return }
        let level: Logger.Level = verbose ? .debug : quiet ? .error : .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Set by the first `bootstrapLogging`.
private let loggingStarted = OnceFlag()

/// A flag set once, from any thread.
private final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    /// Sets the flag; whether it was set before.
    func exchange(_ newValue: Bool) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let old = value
        value = newValue
        return old
    }
}
