import Files
import Foundation
@testable import Report
import StageContract
import Testing

/// The report page's pieces; the whole page on a demo's workspace is checked in CommandTests' demo test.
@Suite struct ReportTests {
    @Test func everyTextIsEscaped() {
        #expect(HTMLPage.escape("<img src=\"x\" onerror='a&b'>") == "&lt;img src=&quot;x&quot; onerror=&#39;a&amp;b&#39;&gt;")
        var page = HTMLPage(title: "</title><script>")
        page.table(["<b>"], [["a<b"]], caption: "c&d")
        page.thumbnailRow([.init(file: "/nonexistent.jpg", source: "http://h/\"x", title: "<t>", lines: ["<l>"], good: true)])
        #expect(!page.html.contains("<script>") && !page.html.contains("<t>") && !page.html.contains("<l>") && !page.html.contains("a<b"))
        #expect(page.html.contains("no picture"), "an unreadable file is a labelled grey box")
    }

    @Test func picturesAreNamedByTheirLastTwoParts() {
        #expect(HTMLPage.fileName("http://127.0.0.1:8/mirror/circles-0.jpg?x=1") == "mirror/circles-0.jpg")
        #expect(HTMLPage.fileName("http://example.org/a.jpg") == "a.jpg")
        #expect(HTMLPage.fileName("data/validation/cats/1.png") == "cats/1.png")
        #expect(HTMLPage.host("https://i.imgur.com/a.jpg") == "i.imgur.com" && HTMLPage.host("raw/cats/1.png") == "")
    }

    @Test func aWorkspaceWithoutACatalogSaysWhatToRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = try WorkspaceReport(workspace: Workspace(root: folder)).write()
        let page = try String(contentsOfFile: path, encoding: .utf8)
        #expect(path == folder + "/reports/index.html" && page.contains("No catalog yet"))
    }
}
