import Files
import Foundation
@testable import HashLists
import Imaging
import SampleImages
import Testing

/// Hash lists as people exchange them: each crafted line gives its entry or its refusal with the line number and
/// why; mutated files never stop the reader, and every line is either an entry, skipped, or a counted refusal.
@Suite struct HashListTests {
    static let pdqA = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    static let pdqB = "5feb5321f01da156898e2bf629a5d3438412cdbd23f48942464526315db33ffd"
    static let md5 = "d41d8cd98f00b204e9800998ecf8427e"
    static let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    func list(_ text: String, strict: Bool = false) throws -> HashList {
        let folder = TemporaryFolder()
        try FileIO.writeAtomically(Array(text.utf8), to: folder.file("list.txt"))
        return try HashList.read(folder.file("list.txt"), strict: strict)
    }

    @Test func plainLinesGiveTheirEntries() throws {
        let read = try list("""
            # banned, from the team's review
            \(Self.pdqA)
            \(Self.pdqB.uppercased()),87,terrorism

            \(Self.pdqA) 100 known good, banner
            \(Self.md5)
            md5:\(Self.md5.uppercased()) porn
            sha256:\(Self.sha),political
            pdq:\(Self.pdqB)\t50
            """)
        #expect(read.lines == 9 && read.refused == 0 && read.entries == 6)  // the two MD5 lines are one digest
        #expect(read.pdq.map(\.hex) == [Self.pdqA, Self.pdqB, Self.pdqA, Self.pdqB])
        #expect(read.pdqQuality == [HashList.unknownQuality, 87, 100, 50])
        #expect((0..<4).map { read.label(ofPDQ: $0) } == [nil, "terrorism", "known good, banner", nil])
        #expect(read.md5 == [Self.md5: 0 + Int32(read.labels.firstIndex(of: "porn")!)] && read.sha256[Self.sha] == Int32(read.labels.firstIndex(of: "political")!))
        #expect(read.labels.count == 4)  // interned: each label once
    }

    @Test func csvWithAHeaderReadsItsColumns() throws {
        let read = try list("""
            id,pdq,quality,list,md5,notes
            1,\(Self.pdqA),92,csam-known,,"a, note"
            2,,,"reviewed, ok",\(Self.md5),
            3,,,x,,
            4,\(Self.pdqB),101,y,,
            """)
        #expect(read.pdq.map(\.hex) == [Self.pdqA] && read.pdqQuality == [92] && read.label(ofPDQ: 0) == "csam-known")
        #expect(read.md5[Self.md5].map { read.labels[Int($0)] } == "reviewed, ok")
        #expect(read.refused == 2 && read.problems.map(\.line) == [4, 5] && read.labels == ["csam-known", "reviewed, ok"])  // refused rows add nothing
        #expect(read.problems[0].message.contains("no pdq, md5 or sha256") && read.problems[1].message.contains("quality 101"))
    }

    @Test func badLinesAreRefusedWithTheirLineAndReason() throws {
        let cases: [(String, String)] = [
            ("abc", "is not a hash"),
            (String(Self.pdqA.dropLast()) + "g", "is not a PDQ hash"),
            ("+" + String(Self.pdqA.dropFirst()), "is not a PDQ hash"),  // a sign is not a hex digit
            ("sha256:" + String(Self.sha.prefix(40)), "is not 64 hex digits"),
            ("md5:\(Self.pdqA)", "is not 32 hex digits"),
            ("\(Self.pdqA) 150", "quality 150"),
            ("\(Self.pdqA) 50 \(String(repeating: "x", count: 201))", "longer than 200 bytes"),
            ("\(Self.pdqA) 50 bad\u{7}label", "control character"),
        ]
        for (line, words) in cases {
            let read = try list("# header comment\n" + line)
            #expect(read.entries == 0 && read.refused == 1, "\(line)")
            #expect(read.problems.first?.line == 2 && read.problems.first?.message.contains(words) == true, "\(line): \(read.problems)")
            #expect(throws: HashListProblem.self, "strict: \(line)") { try list("# header comment\n" + line, strict: true) }
        }
        #expect(throws: HashListProblem.self) { try HashList.read("/no/such/list.txt") }
    }

    /// What `imgcls hash` writes is a list `HashList.read` takes back, entry for entry.
    @Test func writtenListsReadBack() throws {
        let folder = TemporaryFolder()
        var rows = [HashListWriter.header(label: true)]
        var expected: [String] = []
        for seed in 1...5 {
            let bytes = SampleImages.png(SampleImages.scene(width: 80 + seed * 10, height: 70, seed: UInt64(seed)))
            let path = folder.file("picture, \(seed).png")  // a comma in the name: CSV quoting
            try FileIO.writeAtomically(bytes, to: path)
            rows.append(try HashListWriter.row(file: path, label: "reviewed").get())
            expected.append(PDQ.hash(try ImageDecoder.decode(bytes)).hash.hex)
            #expect(rows.last!.contains(MD5.hex(bytes)) && rows.last!.contains(SHA256.hex(bytes)))
        }
        try FileIO.writeAtomically(Array(rows.joined(separator: "\n").utf8), to: folder.file("list.csv"))
        let read = try HashList.read(folder.file("list.csv"), strict: true)
        #expect(read.pdq.map(\.hex) == expected && read.md5.count == 5 && read.sha256.count == 5 && read.labels == ["reviewed"])
        #expect(throws: ImageError.self) { try HashListWriter.row(file: folder.file("list.csv"), label: nil).get() }
    }

    @Test func gzipListsAreReadAsTheyAre() throws {
        let folder = TemporaryFolder()
        let text = (0..<1000).map { String(format: "%064x", $0) + " 90 banned" }.joined(separator: "\n")
        try FileIO.writeAtomically(Array(text.utf8), to: folder.file("list"))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = [folder.file("list")]
        try gzip.run()
        gzip.waitUntilExit()
        let read = try HashList.read(folder.file("list.gz"))
        #expect(read.pdq.count == 1000 && read.refused == 0 && read.labels == ["banned"])
    }

    /// Bytes flipped, dropped and repeated in a good list: the reader never stops, and every line is an entry, a
    /// skipped line or a refusal. Bounded: 300 mutated files.
    @Test func mutatedListsAreAccountedForLineByLine() throws {
        let good = Array("""
            pdq,quality,label
            \(Self.pdqA),90,a
            \(Self.pdqB),40,"b, c"
            """.utf8) + Array("\n\(Self.pdqA) 70 x\n\(Self.md5) y\nsha256:\(Self.sha)\n# c\n".utf8)
        var random = SplitMix64(seed: 30)
        let folder = TemporaryFolder()
        for round in 0..<300 {
            var bytes = good
            for _ in 0..<(1 + random.next(below: 4)) {
                let at = random.next(below: bytes.count)
                switch random.next(below: 4) {
                case 0: bytes[at] ^= UInt8(1 << random.next(below: 8))
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(UInt8(random.next(below: 256)), at: at)
                default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 20)], at: at)
                }
            }
            let path = folder.file("list-\(round)")
            try FileIO.writeAtomically(bytes, to: path)
            let read = try HashList.read(path)
            let content = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let meaningful = content.filter { let t = $0.trimmingCharacters(in: .whitespaces); return !t.isEmpty && !t.hasPrefix("#") }.count
            // A CSV header line is neither an entry nor a refusal; an entry line can hold two digests (CSV).
            #expect(read.refused + read.entries >= meaningful - 1 && read.refused <= meaningful, "round \(round)")
            #expect(read.problems.allSatisfy { $0.line >= 1 && $0.line <= read.lines })
        }
    }
}
