import Foundation

/// JSON as the tool writes it everywhere (reports, `--json`, model-file metadata): keys sorted, so the same value
/// always reads the same, and slashes left as they are.
public enum JSONText {
    public static func string(_ value: some Encodable, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
