/// A class label. Labels become folder names (`data/train/<label>/`), so they are checked like path parts.
public struct Label: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) throws(LabelError) {
        if let problem = Label.problem(with: name) { throw LabelError(label: name, problem: problem) }
        self.name = name
    }

    public var description: String { name }

    public static func < (a: Label, b: Label) -> Bool { a.name < b.name }

    /// Why `name` cannot be a label, or nil when it can.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "it is empty" }
        if name.utf8.count > 200 { return "it is longer than 200 bytes" }
        if name.contains("/") || name.contains("\\") { return "it contains a path separator" }
        if name.hasPrefix(".") { return "it starts with a dot (\"..\" and hidden folders are not allowed)" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) {
            return "it contains a control character"
        }
        if name.first!.isWhitespace || name.last!.isWhitespace { return "it starts or ends with a space" }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        try self.init(name)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

public struct LabelError: Error, CustomStringConvertible, Sendable {
    public let label: String
    public let problem: String

    public var description: String {
        "invalid label \"\(label.debugDescription.dropFirst().dropLast())\": \(problem); labels become folder names, so use letters, digits, '-' or '_'"
    }
}
