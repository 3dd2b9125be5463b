import Foundation

/// A POSIX ustar archive built in memory. Every header is fixed but for the name and the size (mode 0644,
/// owner 0, time 0, no user names), so the same files in the same order give the same bytes on every machine.
struct TarWriter {
    private(set) var bytes: [UInt8] = []

    /// Adds a regular file. Names are at most 100 bytes (WebDataset keys and extensions are short).
    mutating func add(name: String, _ contents: [UInt8]) throws(ExportError) {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= 100 else { throw ExportError("tar member name \"\(name)\" is longer than 100 bytes") }
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ field: [UInt8], at offset: Int) { header.replaceSubrange(offset..<offset + field.count, with: field) }
        func octal(_ value: Int, width: Int) -> [UInt8] {  // zero-padded, then a NUL
            let digits = Array(String(value, radix: 8).utf8)
            return [UInt8](repeating: UInt8(ascii: "0"), count: width - 1 - digits.count) + digits + [0]
        }
        put(nameBytes, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)   // uid
        put(octal(0, width: 8), at: 116)   // gid
        put(octal(contents.count, width: 12), at: 124)
        put(octal(0, width: 12), at: 136)  // mtime
        put([UInt8](repeating: UInt8(ascii: " "), count: 8), at: 148)  // the checksum counts itself as spaces
        header[156] = UInt8(ascii: "0")    // a regular file
        put(Array("ustar".utf8) + [0] + Array("00".utf8), at: 257)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(format: "%06o", checksum).utf8) + [0, UInt8(ascii: " ")], at: 148)
        bytes += header
        bytes += contents
        bytes += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }

    /// The archive with its end: two zero blocks.
    mutating func finish() -> [UInt8] {
        bytes += [UInt8](repeating: 0, count: 1024)
        return bytes
    }
}
