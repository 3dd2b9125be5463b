// HashLists: lists of known images as moderation teams exchange them (PDQ hex with quality and a label, MD5 or SHA-256
// digests), read from untrusted files before anything else sees them. Entry: `HashList.read`. Files in reading order:
//   HashList.swift   the formats, the reader and the compact list (this file)

import Files
import Foundation
import Imaging

/// A line that could not be read as a list entry: the file, the line and why.
public struct HashListProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public var description: String { "\(file) line \(line): \(message)" }
}

/// One list, held compactly (a PDQ entry is 32 bytes of hash, a quality byte and a label index), so lists of
/// millions fit.
///
/// Formats, detected per file:
/// - one entry per line: a hash, then optional fields separated by commas, tabs or spaces. 64 hex digits are a PDQ
///   hash (the lists' usual form), 32 an MD5 digest; a prefix names the kind when it matters (`pdq:`, `md5:`,
///   `sha256:` for a SHA-256 digest, which is 64 hex digits too). After a PDQ hash, a whole number 0–100 is its
///   quality; the rest of the line is the entry's label (a list name, a class);
/// - CSV whose first line names the columns: `pdq`, `md5`, `sha256` (at least one), `quality`, `label` or `list`;
///   other columns are ignored (exports carry many).
/// Blank lines and lines starting with `#` are skipped; so is a `.gz` file's compression (detected from the bytes).
public struct HashList: Sendable {
    public let name: String
    public private(set) var pdq: [PDQHash] = []
    /// Per PDQ entry: its quality, or `unknownQuality` when the list does not say.
    public private(set) var pdqQuality: [UInt8] = []
    /// Per PDQ entry: an index into `labels`, or -1.
    public private(set) var pdqLabel: [Int32] = []
    /// Lower-case hex digest -> index into `labels` (or -1).
    public private(set) var md5: [String: Int32] = [:]
    public private(set) var sha256: [String: Int32] = [:]
    public private(set) var labels: [String] = []
    /// Lines read (blank and comment lines included), and entries refused.
    public private(set) var lines = 0
    public private(set) var refused = 0
    /// The first refusals (at most `problemsKept`), to report.
    public private(set) var problems: [HashListProblem] = []

    public static let unknownQuality: UInt8 = 255
    public static let problemsKept = 20
    public static let maxLabelBytes = 200

    public var entries: Int { pdq.count + md5.count + sha256.count }

    private var labelIndex: [String: Int32] = [:]

    public init(name: String) { self.name = name }

    /// Reads a list file (`-`: standard input), streamed. `strict`: the first bad line is an error; otherwise bad
    /// lines are counted and the first ones kept in `problems`.
    public static func read(_ path: String, strict: Bool = false) throws(HashListProblem) -> HashList {
        let reader: LineReader
        do { reader = try LineReader(path: path) } catch { throw HashListProblem(file: path, line: 0, message: error.detail) }
        var list = HashList(name: reader.name)
        var columns: Columns?
        var first = true
        while true {
            let line: ArraySlice<UInt8>?
            do { line = try reader.nextLine() } catch { throw HashListProblem(file: list.name, line: reader.lineNumber, message: error.detail) }
            guard let line else { break }
            list.lines += 1
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { continue }
            if first {
                first = false
                if let header = Columns(header: text) {
                    columns = header
                    continue
                }
            }
            do throws(HashListProblem) {
                try list.add(text, columns: columns, line: reader.lineNumber)
            } catch {
                if strict { throw error }
                list.refused += 1
                if list.problems.count < problemsKept { list.problems.append(error) }
            }
        }
        return list
    }

    /// Adds one line (not blank, not a comment); throws what is wrong with it.
    mutating func add(_ text: String, columns: Columns?, line: Int) throws(HashListProblem) {
        let file = name
        func refuse(_ message: String) -> HashListProblem { HashListProblem(file: file, line: line, message: message) }
        if let columns {
            let fields: [String]
            do { fields = try CSV.records(text).first ?? [] } catch { throw refuse("not a CSV row: \(error)") }
            func field(_ index: Int?) -> String? {
                guard let index, index < fields.count else { return nil }
                let value = fields[index].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
            // Every field checked before anything is added: a row is taken whole or refused whole.
            var pdq: (PDQHash, UInt8)?
            if let hex = field(columns.pdq) {
                guard let hash = PDQHash(hex: hex) else { throw refuse("pdq: \(hex.prefix(80)) is not 64 hex digits") }
                pdq = (hash, try Self.quality(field(columns.quality), refuse))
            }
            let md5 = try field(columns.md5).map { hex throws(HashListProblem) in try Self.digest(hex, length: 32, kind: "md5", refuse) }
            let sha256 = try field(columns.sha256).map { hex throws(HashListProblem) in try Self.digest(hex, length: 64, kind: "sha256", refuse) }
            guard pdq != nil || md5 != nil || sha256 != nil else { throw refuse("no pdq, md5 or sha256 value on this row") }
            let label = try checkedLabel(field(columns.label), refuse)
            if let (hash, quality) = pdq { addPDQ(hash, quality: quality, label: label) }
            if let md5 { self.md5[md5] = label }
            if let sha256 { self.sha256[sha256] = label }
            return
        }
        // The hash, then (after a PDQ hash) a quality, then the label: the rest of the line, as written.
        var rest = Substring(text)
        func token() -> String {
            let end = rest.firstIndex { Self.separators.contains($0) } ?? rest.endIndex
            let taken = String(rest[..<end])
            rest = rest[end...].drop { Self.separators.contains($0) }
            return taken
        }
        var hash = token()
        var kind: String?
        for prefix in ["pdq:", "md5:", "sha256:"] where hash.lowercased().hasPrefix(prefix) {
            kind = String(prefix.dropLast())
            hash = String(hash.dropFirst(prefix.count))
        }
        switch kind ?? (hash.utf8.count == 32 ? "md5" : hash.utf8.count == 64 ? "pdq" : "") {
        case "pdq":
            guard let pdq = PDQHash(hex: hash) else { throw refuse("\(hash.prefix(80)) is not a PDQ hash (64 hex digits)") }
            var quality = Self.unknownQuality
            let next = rest.prefix { !Self.separators.contains($0) }
            if !next.isEmpty, next.allSatisfy(\.isASCII), next.allSatisfy(\.isNumber) { quality = try Self.quality(token(), refuse) }
            addPDQ(pdq, quality: quality, label: try checkedLabel(rest.isEmpty ? nil : String(rest), refuse))
        case "md5":
            let digest = try Self.digest(hash, length: 32, kind: "md5", refuse)
            md5[digest] = try checkedLabel(rest.isEmpty ? nil : String(rest), refuse)
        case "sha256":
            let digest = try Self.digest(hash, length: 64, kind: "sha256", refuse)
            sha256[digest] = try checkedLabel(rest.isEmpty ? nil : String(rest), refuse)
        default:
            throw refuse("\(hash.prefix(80)) is not a hash: give 64 hex digits (PDQ), 32 (MD5) or sha256:<64 hex digits>")
        }
    }

    static let separators: Set<Character> = [",", "\t", " "]

    private mutating func addPDQ(_ hash: PDQHash, quality: UInt8, label: Int32) {
        pdq.append(hash)
        pdqQuality.append(quality)
        pdqLabel.append(label)
    }

    /// A digest in lower-case hex, checked.
    private static func digest(_ hex: String, length: Int, kind: String, _ refuse: (String) -> HashListProblem) throws(HashListProblem) -> String {
        let digest = hex.lowercased()
        guard digest.utf8.count == length, digest.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw refuse("\(kind): \(hex.prefix(80)) is not \(length) hex digits")
        }
        return digest
    }

    private static func quality(_ text: String?, _ refuse: (String) -> HashListProblem) throws(HashListProblem) -> UInt8 {
        guard let text else { return Self.unknownQuality }
        guard let value = Int(text), (0...100).contains(value) else { throw refuse("quality \(text.prefix(20)) is not a whole number from 0 to 100") }
        return UInt8(value)
    }

    /// A label's index (interned: lists repeat a few labels millions of times), or -1 for none.
    private mutating func checkedLabel(_ label: String?, _ refuse: (String) -> HashListProblem) throws(HashListProblem) -> Int32 {
        guard let label else { return -1 }
        guard label.utf8.count <= Self.maxLabelBytes else { throw refuse("the label is longer than \(Self.maxLabelBytes) bytes") }
        guard !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw refuse("the label has a control character")
        }
        if let index = labelIndex[label] { return index }
        guard labels.count < Int(Int32.max) else { throw refuse("too many distinct labels") }
        let index = Int32(labels.count)
        labels.append(label)
        labelIndex[label] = index
        return index
    }

    /// The label of PDQ entry `index`, if the list gave one.
    public func label(ofPDQ index: Int) -> String? {
        pdqLabel[index] >= 0 ? labels[Int(pdqLabel[index])] : nil
    }
}

/// A CSV list's columns, from its header row.
struct Columns {
    var pdq: Int?, md5: Int?, sha256: Int?, quality: Int?, label: Int?

    init?(header: String) {
        guard let names = try? CSV.records(header).first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else { return nil }
        for (i, name) in names.enumerated() {
            switch name {
            case "pdq", "pdq_hash", "hash" where pdq == nil: pdq = i
            case "md5": md5 = i
            case "sha256", "sha-256": sha256 = i
            case "quality", "pdq_quality": quality = i
            case "label", "list", "list_name": if label == nil { label = i }
            default: break
            }
        }
        guard pdq != nil || md5 != nil || sha256 != nil else { return nil }
    }
}


/// Lists written in the format `HashList.read` takes (CSV with a header), so a team can build one from pictures it
/// has reviewed: `imgcls hash`.
public enum HashListWriter {
    public static func header(label: Bool) -> String { CSV.row(["pdq", "quality", "md5", "sha256"] + (label ? ["label"] : []) + ["file"]) }

    /// One file's row: its PDQ hash and quality (the stored pixels, EXIF orientation not applied, as ThreatExchange's
    /// tools hash), and the digests of its bytes; or why the file cannot be hashed.
    public static func row(file path: String, label: String?) -> Result<String, ImageError> {
        Result { () throws(ImageError) in
            let bytes = try ImageDecoder.readFile(path)
            var options = DecodeOptions()
            options.applyOrientation = false
            let pdq = PDQ.hash(try ImageDecoder.decode(bytes, options: options))
            return CSV.row([pdq.hash.hex, String(pdq.quality), MD5.hex(bytes), SHA256.hex(bytes)] + (label.map { [$0] } ?? []) + [path])
        }
    }
}
