/// CSV (RFC 4180): a field with a comma, quote or line break is quoted, quotes doubled.
public enum CSV {
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func row(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") }

    /// The records of a whole CSV text (a file a person edited: CRLF or LF, a final line break or not, blank
    /// lines skipped). Throws, with the 1-based line, on a quote left open or text after a closing quote.
    public static func records(_ text: String) throws(CSVError) -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = "", quoted = false, afterQuote = false
        var line = 1, quoteLine = 1
        var characters = text.unicodeScalars.makeIterator()
        func endRecord() {
            record.append(field)
            if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
            record = []
            field = ""
        }
        while let c = characters.next() {
            if quoted {
                if c == "\"" {
                    quoted = false
                    afterQuote = true
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                if afterQuote {
                    field.append("\"")  // a doubled quote inside a quoted field
                    quoted = true
                    afterQuote = false
                } else if field.isEmpty {
                    quoted = true
                    quoteLine = line
                } else {
                    throw CSVError(line: line, detail: "a quote inside an unquoted field (quote the whole field and double the quote)")
                }
            case ",":
                record.append(field)
                field = ""
                afterQuote = false
            case "\r":
                continue
            case "\n":
                endRecord()
                afterQuote = false
                line += 1
            default:
                if afterQuote { throw CSVError(line: line, detail: "text after a closing quote") }
                field.unicodeScalars.append(c)
            }
        }
        if quoted { throw CSVError(line: quoteLine, detail: "a quoted field is never closed") }
        if !field.isEmpty || !record.isEmpty || afterQuote { endRecord() }
        return records
    }
}

public struct CSVError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let detail: String
    public var description: String { "line \(line): \(detail)" }
}
