import Foundation
import Imaging
import StageContract
import Testing

/// The README's reason-code tables and the `Reason` type list the same codes, and every code reads back as the
/// member that wrote it.
@Suite struct ReasonCodeTests {
    /// The backticked first column of every table row in the README's "Reason codes" section.
    static func documentedInREADME() throws -> [String] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "\n## Reason codes\n").dropFirst().first)
            .components(separatedBy: "\n## ").first!
        return section.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).split(separator: "`").first.map(String.init)
        }
    }

    @Test func readmeAndTypeListTheSameCodes() throws {
        let documented = try Self.documentedInREADME()
        #expect(documented.count == Set(documented).count, "a code is listed twice in the README")
        let known = Reason.documentedCodes
        #expect(known.count == Set(known).count, "two members share a code")
        #expect(Set(documented).subtracting(known).sorted() == [], "in the README but not in Reason")
        #expect(Set(known).subtracting(documented).sorted() == [], "in Reason but not in the README")
    }

    @Test func everyCodeReadsBackAsItsMember() throws {
        var members: [Reason] = RejectReason.allCases.map(Reason.image) + [.http(status: 404), .http(status: 503)]
        members += FetchReason.allCases.map(Reason.fetch) + CurationReason.allCases.map(Reason.curation)
            + QualityFlag.allCases.map(Reason.flag)
        for member in members { #expect(Reason(code: member.code) == member, "\(member.code)") }
        #expect(Reason(code: "http_0") == .http(status: 0))  // whatever status a server sends reads back
        for unknown in ["", "http_", "http_abc", "http_-1", "no_such_code"] { #expect(Reason(code: unknown) == nil, "\(unknown)") }
        let json = try JSONEncoder().encode(members)
        #expect(try JSONDecoder().decode([Reason].self, from: json) == members)
    }
}
