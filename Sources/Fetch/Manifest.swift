import Files
import Foundation

/// How the lines of a manifest are read.
public enum ManifestFormat: String, Sendable, CaseIterable {
    /// One URL per line; blank lines and `#` comments skipped.
    case text
    /// Comma-separated with a header row.
    case csv
    /// Tab-separated with a header row.
    case tsv
    /// One JSON object per line.
    case jsonl

    /// From the file name (a `.gz` suffix is looked through); text when nothing else fits.
    static func guess(from path: String) -> ManifestFormat {
        var name = (path as NSString).lastPathComponent.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        switch (name as NSString).pathExtension {
        case "csv": return .csv
        case "tsv", "tab": return .tsv
        case "jsonl", "ndjson": return .jsonl
        default: return .text
        }
    }
}

/// One manifest file and the label its place in a folder tree gives.
struct ManifestFile: Equatable {
    let path: String
    /// The category from the folder layout (nil for standard input).
    let folderCategory: String?
    let format: ManifestFormat
}

/// Finds the manifest files behind the command-line inputs.
///
/// - A file: its category is the name of the folder holding it (`raw_data/cats/urls_cats.txt` → `cats`).
/// - A folder: every manifest file below it (`.txt`, `.csv`, `.tsv`, `.jsonl`, `.ndjson`, optionally `.gz`);
///   the category is the first folder under the given one, so both `nsfw_data_scraper`'s
///   `raw_data/<class>/urls_<class>.txt` and `nsfw_data_source_urls`' nested
///   `raw_data/<category>/…/urls.txt` files take their top category. A folder holding `raw_data/` is read
///   from there. Files directly in the given folder take the folder's own name.
/// - `-`: standard input.
enum ManifestDiscovery {
    static let extensions: Set = ["txt", "csv", "tsv", "tab", "jsonl", "ndjson", "lst", "list", "urls"]

    static func files(for inputs: [String], format: ManifestFormat?) throws(FetchError) -> [ManifestFile] {
        var files: [ManifestFile] = []
        for input in inputs {
            if input == "-" {
                files.append(ManifestFile(path: "-", folderCategory: nil, format: format ?? .text))
                continue
            }
            switch FileIO.kind(of: input) {
            case .file:
                let absolute = URL(fileURLWithPath: input).standardizedFileURL
                let folder = absolute.deletingLastPathComponent().lastPathComponent
                files.append(ManifestFile(path: input, folderCategory: folder.isEmpty || folder == "/" ? nil : folder,
                                          format: format ?? .guess(from: input)))
            case .directory:
                files += try folderFiles(input, format: format)
            default:
                throw FetchError("\(input): no such manifest file or folder")
            }
        }
        return files
    }

    private static func folderFiles(_ input: String, format: ManifestFormat?) throws(FetchError) -> [ManifestFile] {
        var root = input.hasSuffix("/") && input.count > 1 ? String(input.dropLast()) : input
        if FileIO.kind(of: root + "/raw_data") == .directory { root += "/raw_data" }
        let rootName = URL(fileURLWithPath: root).standardizedFileURL.lastPathComponent
        var found: [ManifestFile] = []
        var walker = DirectoryWalker(root: root)
        while let path = walker.next() {
            var name = (path as NSString).lastPathComponent.lowercased()
            if name.hasSuffix(".gz") { name.removeLast(3) }
            guard extensions.contains((name as NSString).pathExtension), !name.hasPrefix("readme"),
                  !name.hasPrefix("license") else { continue }
            let relative = path.dropFirst(root.count + 1).split(separator: "/")
            let category = relative.count > 1 ? String(relative[0]) : rootName
            found.append(ManifestFile(path: path, folderCategory: category, format: format ?? .guess(from: path)))
        }
        if let problem = walker.unreadable.first { throw FetchError("\(problem)") }
        guard !found.isEmpty else {
            throw FetchError("\(input): no manifest files (.txt, .csv, .tsv, .jsonl, optionally .gz) in this folder")
        }
        return found
    }
}

/// One URL read from a manifest, before normalisation and labelling.
struct ManifestEntry {
    var url: String
    /// The category the record names (a label column), if any.
    var recordCategory: String?
    var file: ManifestFile
    var line: Int
}

/// Streams the entries of manifest files: text, CSV/TSV with a header, or JSON Lines, gzip or not.
struct ManifestReader {
    var urlColumn = "url"
    var labelColumn = "label"

    /// Calls `body` with each entry until the file ends or `body` returns false.
    func read(_ file: ManifestFile, _ body: (ManifestEntry) throws(FetchError) -> Bool) throws(FetchError) {
        let reader: LineReader
        do { reader = try LineReader(path: file.path) } catch { throw FetchError("\(error)") }
        switch file.format {
        case .text: try readText(reader, file, body)
        case .csv: try readDelimited(reader, file, separator: UInt8(ascii: ","), body)
        case .tsv: try readDelimited(reader, file, separator: UInt8(ascii: "\t"), body)
        case .jsonl: try readJSONLines(reader, file, body)
        }
    }

    private func nextLine(_ reader: LineReader) throws(FetchError) -> ArraySlice<UInt8>? {
        do { return try reader.nextLine() } catch { throw FetchError("\(error)") }
    }

    private func readText(_ reader: LineReader, _ file: ManifestFile,
                          _ body: (ManifestEntry) throws(FetchError) -> Bool) throws(FetchError) {
        while let line = try nextLine(reader) {
            let text = String(decoding: line, as: UTF8.self).trimmingWhitespace()
            if text.isEmpty || text.hasPrefix("#") { continue }
            // A URL has no raw whitespace: what follows it is a comment ("… (formerly /r/x)").
            let url = text.prefix { $0 != " " && $0 != "\t" }
            if try !body(ManifestEntry(url: String(url), recordCategory: nil, file: file, line: reader.lineNumber)) { return }
        }
    }

    private func readDelimited(_ reader: LineReader, _ file: ManifestFile, separator: UInt8,
                               _ body: (ManifestEntry) throws(FetchError) -> Bool) throws(FetchError) {
        var header: [String]?
        var urlIndex = 0
        var labelIndex: Int?
        var record: [UInt8] = []
        var unfinished = false
        while true {
            guard let line = try nextLine(reader) else {
                // A quoted field never closed: read what there is rather than drop it silently.
                if unfinished { _ = try handleRecord() }
                return
            }
            record += line
            // A quoted field may hold a line break: keep reading while one is open.
            if DelimitedRecord.endsInsideQuotes(record, separator: separator) {
                record.append(0x0A)
                unfinished = true
                continue
            }
            unfinished = false
            if try !handleRecord() { return }
        }

        /// False when `body` asks to stop.
        func handleRecord() throws(FetchError) -> Bool {
            defer { record.removeAll(keepingCapacity: true) }
            if record.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }
            let fields = DelimitedRecord.split(record, separator: separator)
            if header == nil {
                let names = fields.map { $0.trimmingWhitespace() }
                let lowered = names.map { $0.lowercased() }
                guard let found = lowered.firstIndex(of: urlColumn.lowercased()) else {
                    throw FetchError("\(reader.name): no \"\(urlColumn)\" column in the header (columns: \(names.joined(separator: ", "))); name the URL column with --url-column")
                }
                header = names
                urlIndex = found
                labelIndex = lowered.firstIndex(of: labelColumn.lowercased())
                return true
            }
            guard urlIndex < fields.count else { return true }
            let category = labelIndex.flatMap { $0 < fields.count ? fields[$0].trimmingWhitespace() : nil }
            return try body(ManifestEntry(url: fields[urlIndex], recordCategory: category?.isEmpty == false ? category : nil,
                                          file: file, line: reader.lineNumber))
        }
    }

    private func readJSONLines(_ reader: LineReader, _ file: ManifestFile,
                               _ body: (ManifestEntry) throws(FetchError) -> Bool) throws(FetchError) {
        while let line = try nextLine(reader) {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                throw FetchError("\(reader.name):\(reader.lineNumber): not a JSON object; JSON Lines manifests hold one object per line")
            }
            let url = object[urlColumn] as? String ?? ""
            // A label may be a string or a number (class ids); null or empty falls back to the folder.
            var category: String?
            if let text = object[labelColumn] as? String { category = text.trimmingWhitespace() }
            if let number = object[labelColumn] as? NSNumber { category = number.stringValue }
            if category?.isEmpty == true { category = nil }
            if try !body(ManifestEntry(url: url, recordCategory: category, file: file, line: reader.lineNumber)) { return }
        }
    }
}

/// RFC 4180 field splitting: quoted fields may hold separators, line breaks and doubled quotes. A quote
/// opens a quoted field only at the start of a field; elsewhere it is an ordinary character.
enum DelimitedRecord {
    /// True when the record ends inside a quoted field (so the next line continues it).
    static func endsInsideQuotes(_ bytes: [UInt8], separator: UInt8) -> Bool {
        let quote = UInt8(ascii: "\"")
        var quoted = false, atFieldStart = true
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if quoted {
                if c == quote {
                    if i + 1 < bytes.count && bytes[i + 1] == quote { i += 1 } else { quoted = false }
                }
            } else if c == separator {
                atFieldStart = true
            } else if c == quote && atFieldStart {
                quoted = true
                atFieldStart = false
            } else if c != 0x20 {
                atFieldStart = false
            }
            i += 1
        }
        return quoted
    }

    static func split(_ bytes: [UInt8], separator: UInt8) -> [String] {
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == UInt8(ascii: "\"") && field.allSatisfy({ $0 == 0x20 }) {
                field.removeAll()
                quoted = true
            } else if c == separator {
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            } else {
                field.append(c)
            }
            i += 1
        }
        fields.append(String(decoding: field, as: UTF8.self))
        return fields
    }
}
