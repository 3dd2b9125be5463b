import Foundation
import Logging

/// Where command output goes: data to stdout (as text or JSON), logs and progress to stderr.
public enum Output {
    /// Pretty, key-sorted JSON on stdout.
    public static func printJSON(_ value: some Encodable) throws {
        print(try jsonString(value))
    }

    public static func jsonString(_ value: some Encodable, pretty: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Logs go to stderr; `--verbose` shows debug messages, `--quiet` only errors.
    public static func bootstrapLogging(verbose: Bool, quiet: Bool) {
        let level: Logger.Level = verbose ? .debug : quiet ? .error : .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
