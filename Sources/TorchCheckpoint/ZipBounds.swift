/// Checks that every offset and size a zip file's directories state lies inside the file, before ZIPFoundation
/// reads it: ZIPFoundation trusts them (an offset past Int64.max or past the end of the data stops the process
/// in a Swift runtime check), and a checkpoint given with `--from-file` is untrusted input. This reads only the
/// end-of-central-directory record (ZIP64 too), the central directory and each entry's local header.
enum ZipBounds {
    static func check(_ bytes: [UInt8]) throws(CheckpointError) {
        let length = UInt64(bytes.count)
        func fail(_ problem: String) -> CheckpointError { CheckpointError(file: "", problem: "a damaged zip file: \(problem)") }
        func value(_ at: UInt64, _ size: Int) throws(CheckpointError) -> UInt64 {
            guard at <= length, UInt64(size) <= length - at else { throw fail("a field at byte \(at) lies past the end") }
            return bytes[Int(at)..<Int(at) + size].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        // The end-of-central-directory record: the last signature within its comment's reach of the end.
        guard bytes.count >= 22 else { throw fail("too short for a zip file") }
        let earliest = max(0, bytes.count - 22 - 0xFFFF)
        guard let eocd = stride(from: bytes.count - 22, through: earliest, by: -1).first(where: {
            bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 0x05 && bytes[$0 + 3] == 0x06
        }).map(UInt64.init) else { throw fail("no end-of-central-directory record") }
        let plain = (entries: try value(eocd + 10, 2), size: try value(eocd + 12, 4), offset: try value(eocd + 16, 4))
        // Where ZIPFoundation may look for a ZIP64 record (a locator just before the record above, the 56-byte
        // record just before the locator), and which of its values it may take field by field: every directory
        // it could walk is checked.
        // A saturated 32-bit field cannot mislead it (the values it stands for are in the ZIP64 record, and a
        // 32-bit offset fails gracefully), so those are not candidates when a ZIP64 record is there.
        var candidates = [plain]
        if eocd >= 20 + 56, try value(eocd - 20, 4) == 0x0706_4B50, try value(eocd - 76, 4) == 0x0606_4B50 {
            let record = eocd - 76
            let wide = (entries: try value(record + 32, 8), size: try value(record + 40, 8), offset: try value(record + 48, 8))
            func choices(_ narrow: UInt64, _ saturated: UInt64, _ wide: UInt64) -> [UInt64] { narrow == saturated ? [wide] : [narrow, wide] }
            candidates = []
            for e in choices(plain.entries, 0xFFFF, wide.entries) {
                for z in choices(plain.size, 0xFFFF_FFFF, wide.size) {
                    for o in choices(plain.offset, 0xFFFF_FFFF, wide.offset) { candidates.append((e, z, o)) }
                }
            }
        }
        for (entries, directorySize, directoryOffset) in candidates {
            try checkDirectory(bytes, entries: entries, size: directorySize, offset: directoryOffset)
        }
    }

    private static func checkDirectory(_ bytes: [UInt8], entries: UInt64, size directorySize: UInt64,
                                       offset directoryOffset: UInt64) throws(CheckpointError) {
        let length = UInt64(bytes.count)
        func fail(_ problem: String) -> CheckpointError { CheckpointError(file: "", problem: "a damaged zip file: \(problem)") }
        func value(_ at: UInt64, _ size: Int) throws(CheckpointError) -> UInt64 {
            guard at <= length, UInt64(size) <= length - at else { throw fail("a field at byte \(at) lies past the end") }
            return bytes[Int(at)..<Int(at) + size].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        guard directoryOffset <= length, directorySize <= length - directoryOffset else { throw fail("the central directory lies past the end") }
        guard entries <= directorySize / 46 else { throw fail("\(entries) entries cannot fit a central directory of \(directorySize) bytes") }
        var at = directoryOffset
        for _ in 0..<entries {
            guard try value(at, 4) == 0x0201_4B50 else { throw fail("a central directory entry has no signature") }
            var compressed = try value(at + 20, 4), uncompressed = try value(at + 24, 4), local = try value(at + 42, 4)
            let nameLength = try value(at + 28, 2), extraLength = try value(at + 30, 2), commentLength = try value(at + 32, 2)
            // ZIP64 extra field (id 1): the 64-bit values of the fields saturated above, in this order.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try value(extra, 2), size = try value(extra + 2, 2)
                if id == 1 {
                    var field = extra + 4
                    for saturated in [uncompressed == 0xFFFF_FFFF, compressed == 0xFFFF_FFFF, local == 0xFFFF_FFFF] where saturated {
                        guard field + 8 <= extra + 4 + size else { throw fail("a ZIP64 field is cut short") }
                        let wide = try value(field, 8)
                        if uncompressed == 0xFFFF_FFFF { uncompressed = wide } else if compressed == 0xFFFF_FFFF { compressed = wide } else { local = wide }
                        field += 8
                    }
                }
                extra += 4 + size
            }
            guard local <= length, local + 30 <= length else { throw fail("an entry's header lies past the end") }
            guard try value(local, 4) == 0x0403_4B50 else { throw fail("an entry's local header has no signature") }
            let data = local + 30 + (try value(local + 26, 2)) + (try value(local + 28, 2))
            guard data <= length, compressed <= length - data else { throw fail("an entry's data lies past the end") }
            // A stored entry's data is its uncompressed size long; ZIPFoundation finds a data descriptor after it.
            let method = try value(at + 10, 2), flags = try value(at + 8, 2)
            let stored = method == 0 ? uncompressed : compressed
            guard stored <= length - data else { throw fail("an entry's stored data lies past the end") }
            if flags & 0x8 != 0 { guard 24 <= length - data - stored else { throw fail("an entry's data descriptor lies past the end") } }
            at += 46 + nameLength + extraLength + commentLength
            guard at <= directoryOffset + directorySize else { throw fail("the central directory's entries overrun it") }
        }
    }
}
