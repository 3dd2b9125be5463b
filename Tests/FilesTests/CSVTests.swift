import Files
import Testing

/// Reading CSV as people edit it (spreadsheets write CRLF and quote what they must).
@Suite struct CSVTests {
    @Test func readsWhatItWritesAndWhatSpreadsheetsWrite() throws {
        let fields = [["id", "source", "new_label"], ["1", "https://a.example/x,y.jpg", "cat"], ["2", "say \"hi\"\nthere", ""]]
        let text = fields.map(CSV.row).joined(separator: "\r\n") + "\r\n\r\n"
        #expect(try CSV.records(text) == fields)
        #expect(try CSV.records("a,b\n1,") == [["a", "b"], ["1", ""]])
        #expect(try CSV.records("") == [])
    }

    @Test func refusesBrokenQuotingWithTheLine() {
        #expect(throws: CSVError.self) { try CSV.records("a,b\n\"open,2\n") }
        do { _ = try CSV.records("a\nx\"y\n") } catch { #expect(error.line == 2) }
        do { _ = try CSV.records("a\n\"x\"y\n") } catch { #expect(error.line == 2 && error.detail.contains("after a closing quote")) }
    }
}
