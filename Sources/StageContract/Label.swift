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
        let utf8 = name.utf8
        guard let first = utf8.first, let last = utf8.last else { return "it is empty" }
        if utf8.count > 200 { return "it is longer than 200 bytes" }
        if utf8.contains(UInt8(ascii: "/")) || utf8.contains(UInt8(ascii: "\\")) { return "it contains a path separator" }
        if first == UInt8(ascii: ".") { return "it starts with a dot (\"..\" and hidden folders are not allowed)" }
        if utf8.contains(where: { $0 < 0x20 || $0 == 0x7F })
            || (utf8.contains { $0 >= 0x80 } && name.unicodeScalars.contains { (0x80...0x9F).contains($0.value) }) {
            return "it contains a control character"
        }
        if first == 0x20 || last == 0x20 || name.first!.isWhitespace || name.last!.isWhitespace {
            return "it starts or ends with a space"
        }
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
