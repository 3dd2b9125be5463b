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

/// Something that shows how far a long loop is (the command line's progress bar), for loops in modules that
/// must not import the console (the engine): `start` once the work is counted, `advance` as it goes, `finish` at
/// the end.
public protocol ProgressDisplay: AnyObject, Sendable {
    func start(total: Int)
    func advance(by count: Int)
    func finish()
}
