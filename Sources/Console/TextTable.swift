/// Aligned columns for terminal output: numbers right-aligned, text left-aligned.
public struct TextTable {
    public var headers: [String]
    public var rows: [[String]] = []

    public init(_ headers: [String]) {
        self.headers = headers
    }

    public mutating func add(_ row: [String]) {
        rows.append(row)
    }

    /// A two-column table of counts, largest first (ties by name): reasons, formats, ….
    public static func counts(_ counts: [String: Int], name: String, unit: String) -> TextTable {
        var table = TextTable([name, unit])
        for (key, count) in counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            table.add([key, String(count)])
        }
        return table
    }

    /// Numbers and percentages ("0.25", "97.5%") are right-aligned, so their digits line up.
    static func isNumber(_ cell: String) -> Bool {
        Double(cell.hasSuffix("%") ? String(cell.dropLast()) : cell) != nil
    }

    public func render() -> String {
        let all = [headers] + rows
        let columns = headers.count
        let widths = (0..<columns).map { c in all.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        let numeric = (0..<columns).map { c in
            !rows.isEmpty && rows.allSatisfy { c >= $0.count || $0[c].isEmpty || TextTable.isNumber($0[c]) }
        }
        return all.map { row in
            (0..<columns).map { c in
                let cell = c < row.count ? row[c] : ""
                let padding = String(repeating: " ", count: widths[c] - cell.count)
                return numeric[c] ? padding + cell : cell + padding
            }.joined(separator: "  ").replacingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

private extension String {
    func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
