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
        var entries = try value(eocd + 10, 2), directorySize = try value(eocd + 12, 4), directoryOffset = try value(eocd + 16, 4)
        // Where ZIPFoundation looks for the ZIP64 record, and takes its values whenever both structures are there:
        // a locator just before the record above, the 56-byte record just before the locator.
        if eocd >= 20 + 56, try value(eocd - 20, 4) == 0x0706_4B50, try value(eocd - 76, 4) == 0x0606_4B50 {
            let record = eocd - 76
            (entries, directorySize, directoryOffset) = (try value(record + 32, 8), try value(record + 40, 8), try value(record + 48, 8))
        } else if entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            throw fail("ZIP64 sizes without a ZIP64 record")
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
            _ = uncompressed  // inflated sizes are checked against what each member may need when it is read
            at += 46 + nameLength + extraLength + commentLength
            guard at <= directoryOffset + directorySize else { throw fail("the central directory's entries overrun it") }
        }
    }
}
