import Foundation

/// JSON as the tool writes it everywhere (reports, `--json`, model-file metadata): keys sorted, so the same value
/// always reads the same, and slashes left as they are. Infinities and NaN, which JSON has no numbers for (an
/// imported network's ReLU clamps at +infinity), are the strings "Infinity", "-Infinity" and "NaN".
public enum JSONText {
    public static func string(_ value: some Encodable, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A decoder that reads what `string` writes.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }
}
