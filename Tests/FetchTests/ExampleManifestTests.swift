@testable import Fetch
import Foundation
import StageContract
import Testing

/// The examples in manifests/ read as their README says.
@Suite struct ExampleManifestTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("manifests").path

    func rows(_ inputs: [String], _ configure: (inout FetchRequest) -> Void = { _ in }) throws -> (IngestSummary, Set<String>) {
        let fixture = FetchFixture()
        let summary = try fixture.fetch {
            $0.manifests = inputs.map { Self.folder + "/" + $0 }
            $0.dryRun = true
            configure(&$0)
        }
        return (summary.ingest, Set(try fixture.items().map { "\($0.label.name) \($0.source.split(separator: "/").last!)" }))
    }

    @Test func textFolders() throws {
        let (summary, rows) = try rows(["text"])
        #expect(summary.records == 6 && summary.invalid == 0)
        #expect(rows.filter { $0.hasPrefix("cats ") }.count == 3 && rows.filter { $0.hasPrefix("dogs ") }.count == 3)
    }

    @Test func layouts() throws {
        let scraper = try rows(["layouts/nsfw_data_scraper"]).1
        #expect(scraper == ["neutral Cat03.jpg", "neutral Golde33443.jpg", "drawings Tsunami_by_hokusai_19th_century.jpg"])
        let (summary, source) = try rows(["layouts/nsfw_data_source_urls"])
        #expect(summary.records == 9 && summary.added == 6)
        #expect(source.contains("animals_cats Six_weeks_old_cat_%28aka%29.jpg"))
        let (mapped, labels) = try rows(["layouts/nsfw_data_source_urls"]) {
            $0.labelMap = try! LabelMap(contentsOf: Self.folder + "/label-map.txt")
        }
        #expect(Set(labels.map { $0.split(separator: " ")[0] }) == ["animals", "neutral"])
        #expect(mapped.unmapped.isEmpty)
    }

    @Test func tableFormats() throws {
        let (summary, rows) = try rows(["list.csv", "list.tsv", "list.jsonl.gz"])
        #expect(summary.records == 7 && summary.invalid == 0)
        #expect(rows.contains("dogs Golde33443.jpg") && rows.contains("cats Cat_November_2010-1a.jpg"))
    }
}
