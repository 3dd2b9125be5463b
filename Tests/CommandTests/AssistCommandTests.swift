import Catalog
import Files
import Foundation
import Imaging
import SampleImages
import StageContract
import Testing

/// Model-assisted curation end to end on small real data (skipped without `make weights` or ../shared/data):
/// two classes of real animal silhouettes (animal_mnist bear and zebra, 30 each) with two zebras filed as bears
/// (label issues), three real photographs filed among them (off-topic), and a flipped and a 3%-cropped copy of one
/// of them (semantic duplicates: pHash does not see the flip). Then relabel through the CSV,
/// the split keeping a semantic cluster together, and `--reset` undoing it all.
@Suite(.enabled(if: LabelIssueCommandTests.backboneInstalled && SharedTestData.path("animal_mnist") != nil
                && SharedTestData.path("photos") != nil, "needs `make weights` and ../shared/data"))
struct AssistCommandTests {
    @Test(.timeLimit(.minutes(10))) func labelIssuesSemanticDuplicatesAndOffTopicOnRealPictures() throws {
        let folder = TemporaryFolder()
        let pictures = folder.file("pictures")
        let animals = SharedTestData.path("animal_mnist")!, photos = SharedTestData.path("photos")!
        var mislabelled: [String] = []
        for label in ["bear", "zebra"] {
            try FileIO.createDirectory("\(pictures)/\(label)")
            let files = try FileManager.default.contentsOfDirectory(atPath: "\(animals)/\(label)").sorted().prefix(32)
            for (i, name) in files.enumerated() {
                let target = label == "zebra" && i < 2 ? "bear" : label
                try FileManager.default.copyItem(atPath: "\(animals)/\(label)/\(name)", toPath: "\(pictures)/\(target)/\(label)-\(name)")
                if target != label { mislabelled.append("\(label)-\(name)") }
            }
        }
        for (photo, label) in [("coffee.png", "bear"), ("rocket.jpg", "bear"), ("chelsea.png", "zebra")] {
            try FileManager.default.copyItem(atPath: "\(photos)/\(photo)", toPath: "\(pictures)/\(label)/\(photo)")
        }
        let cat = try ImageDecoder.decode(file: "\(photos)/chelsea.png")
        let copies: [Transformation] = [.flipHorizontal, .crop(fraction: 0.03)]
        for (i, transformation) in copies.enumerated() {
            try FileIO.writeAtomically(try transformation.apply(to: cat).jpegData(quality: 90), to: "\(pictures)/zebra/chelsea-copy-\(i).jpg")
        }

        let workspace = folder.file("data")
        let run = try Imgcls.run(["curate", "--from", pictures, "--workspace", workspace, "--label-issues", "--semantic-duplicates",
                                  "--off-topic", "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        // Not told which backbone: the best measured combination installed, and it says which.
        let told = try Imgcls.run(["curate", "--workspace", workspace, "--label-issues", "--semantic-duplicates", "--off-topic", "--json"])
        #expect(told.status == 0 && told.stderr.contains("label issues and off-topic images on efficientnet-lite0")
                && told.stderr.contains("semantic duplicates on efficientnet-lite0 (--backbone chooses)"), "\(told.stderr)")
        let catalog = try Catalog(path: Workspace(root: workspace).catalogPath, create: false)
        var items: [CatalogItem] = []
        try catalog.forEachItem { items.append($0) }
        func named(_ suffix: String) -> CatalogItem? { items.first { $0.source.hasSuffix("/" + suffix) } }

        // Semantic duplicates: every copy of the cat left out in favour of the original, one cluster (the crop may
        // be curate's near duplicate already; the flip is the backbone's find).
        let original = try #require(named("chelsea.png"))
        for i in copies.indices {
            let copy = try #require(named("chelsea-copy-\(i).jpg"))
            #expect(copy.status == .excluded && [.curation(.semanticDuplicate), .curation(.nearDuplicate)].contains(copy.reason),
                    "\(copies[i]): \(copy.status) \(String(describing: copy.reason))")
            #expect(copy.duplicateOf == original.id && copy.cluster == original.id)
        }
        #expect(named("chelsea-copy-0.jpg")?.reason == .curation(.semanticDuplicate))
        // Confirmed by local features, and the decision says so.
        #expect(named("chelsea-copy-0.jpg")?.message?.contains("corners agreeing") == true, "\(String(describing: named("chelsea-copy-0.jpg")?.message))")
        #expect(original.status == .ok && original.cluster == original.id)
        let semantic = items.filter { $0.reason == .curation(.semanticDuplicate) }
        // Silhouettes (28 pixels: too small for the local-feature check) stand on their cosine alone, at 0.95: a few
        // of one animal merge.
        #expect(semantic.count <= copies.count + 8, "\(semantic.map(\.source))")

        // Label issues: both zebras among the bears, with zebra suggested.
        for name in mislabelled {
            let item = try #require(named(name))
            #expect(item.flags.contains(.labelIssue) && item.suggestedLabel == "zebra", "\(name): \(item.flags)")
        }
        #expect(items.filter { $0.flags.contains(.labelIssue) }.count <= mislabelled.count + 6)

        // Off-topic: the photographs rank first.
        let report = try JSONSerialization.jsonObject(with: Data(try FileIO.read(Workspace(root: workspace).report(Workspace.ReportFile.assist)))) as! [String: Any]
        let offTopic = ((report["offTopic"] as? [String: Any])?["found"] as? [[String: Any]]) ?? []
        let top = offTopic.prefix(3).compactMap { ($0["image"] as? [String: Any])?["source"] as? String }
        for photo in ["coffee.png", "rocket.jpg"] { #expect(top.contains { $0.hasSuffix(photo) }, "\(photo) not among \(top)") }
        #expect(named("coffee.png")?.flags.contains(.offTopic) == true)
        let markdown = String(decoding: try FileIO.read(Workspace(root: workspace).report(Workspace.ReportFile.assistMarkdown)), as: UTF8.self)
        #expect(markdown.contains("## Label issues") && markdown.contains("## Semantic duplicates") && markdown.contains("## Off-topic images"))
        for sheet in ["label-issues.jpg", "semantic-duplicates.jpg", "off-topic.jpg"] {
            #expect(FileIO.kind(of: "\(workspace)/reports/assist/\(sheet)") == .file, "\(sheet)")
        }
        let page = String(decoding: try FileIO.read(Workspace(root: workspace).report(Workspace.ReportFile.page)), as: UTF8.self)
        #expect(page.contains("Model-assisted curation") && page.contains("chelsea-copy-0.jpg"))

        // Relabel: accept every suggestion through the CSV.
        let csv = folder.file("issues.csv")
        #expect(try Imgcls.run(["relabel", "--workspace", workspace, "--export", csv]).status == 0)
        var records = try CSV.records(String(decoding: try FileIO.read(csv), as: UTF8.self))
        #expect(records.count >= mislabelled.count + 1)
        for r in records.indices.dropFirst() { records[r][6] = records[r][4] }
        try FileIO.writeAtomically(Array(records.map(CSV.row).joined(separator: "\n").utf8), to: csv)
        let applied = try Imgcls.run(["relabel", "--workspace", workspace, csv])
        #expect(applied.status == 0 && applied.stdout.contains("relabelled"), "\(applied.stderr)")
        for name in mislabelled {
            let item = try #require(try catalog.items(ids: [named(name)!.id!]).first)
            #expect(item.label.name == "zebra" && !item.flags.contains(.labelIssue) && item.suggestedLabel == nil)
        }
        // The same CSV again: every row now names a label the item no longer has.
        let stale = try Imgcls.run(["relabel", "--workspace", workspace, csv])
        #expect(stale.status != 0 && stale.stderr.contains("line 2"), "\(stale.stderr)")

        // Kept semantic duplicates stay clustered, and the split keeps the cluster on one side.
        let keeping = try Imgcls.run(["curate", "--workspace", workspace, "--semantic-duplicates", "--keep-near-duplicates", "-q"])
        #expect(keeping.status == 0, "\(keeping.stderr)")
        #expect(try Imgcls.run(["split", "--workspace", workspace, "--ratio", "0.5,0.5", "-q"]).status == 0)
        var cluster: [CatalogItem] = []
        try catalog.forEachItem { if $0.cluster == original.id { cluster.append($0) } }
        #expect(cluster.count == copies.count + 1 && Set(cluster.map(\.split)).count == 1, "\(cluster.map(\.split))")

        #expect(try Imgcls.run(["curate", "--workspace", workspace, "--reset"]).status == 0)
        var left = 0
        try catalog.forEachItem { if !$0.flags.isEmpty || $0.status == .excluded || $0.cluster != nil { left += 1 } }
        #expect(left == 0)
        #expect(FileIO.kind(of: Workspace(root: workspace).report(Workspace.ReportFile.assist)) != .file)
    }
}
