import Catalog
import Demo
import Files
import Foundation
import SampleImages
import StageContract
import Testing

/// `curate --label-issues` end to end with the real backbone (skipped without `make weights`): two of the demo's
/// classes (stripes and circles, 24 each) with two pictures moved into the wrong one are flagged with the right
/// suggestion, excluded only when asked, and `--reset` clears it all.
@Suite struct LabelIssueCommandTests {
    static let backboneInstalled: Bool = {
        guard let list = try? Imgcls.run(["backbone", "list"]) else { return false }
        return list.stdout.split(separator: "\n").contains { $0.hasPrefix("efficientnet-lite0 ") && $0.contains(".safetensors") }
    }()

    @Test(.enabled(if: backboneInstalled, "needs the efficientnet-lite0 backbone: run `make weights`"), .timeLimit(.minutes(4)))
    func plantedLabelErrorsAreFlaggedThenExcludedThenReset() throws {
        let folder = TemporaryFolder()
        let pictures = folder.file("pictures")
        var planted: [String] = []
        for label in ["stripes", "circles"] {
            try FileIO.createDirectory("\(pictures)/\(label)")
            for i in 0..<24 {
                // Two circles filed under stripes: the planted label errors.
                let folder = label == "circles" && i < 2 ? "stripes" : label
                let file = "\(pictures)/\(folder)/\(label)-\(i).jpg"
                try FileIO.writeAtomically(DemoPictures.jpeg(label, i), to: file)
                if folder != label { planted.append(file) }
            }
        }
        let workspace = folder.file("data")
        let run = try Imgcls.run(["curate", "--from", pictures, "--workspace", workspace, "--label-issues", "--json", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let catalog = try Catalog(path: Workspace(root: workspace).catalogPath, create: false)
        var flagged: [CatalogItem] = []
        try catalog.forEachItem { if $0.flags.contains(.labelIssue) { flagged.append($0) } }
        let sources = Set(flagged.map(\.source))
        for file in planted {
            #expect(sources.contains { $0.hasSuffix((file as NSString).lastPathComponent) }, "\(file) not flagged: \(sources)")
        }
        #expect(flagged.count <= planted.count + 2, "\(sources)")
        for item in flagged where item.source.contains("circles-") && item.label.name == "stripes" {
            #expect(item.suggestedLabel == "circles" && (item.labelScore ?? 1) < 0.5 && item.status == .ok)
        }

        let excluding = try Imgcls.run(["curate", "--workspace", workspace, "--label-issues", "--exclude", "label_issue", "-q"])
        #expect(excluding.status == 0 && excluding.stdout.contains("label issues:"), "\(excluding.stderr)")
        var excluded = 0
        try catalog.forEachItem(status: .excluded) { if $0.reason == .flag(.labelIssue) { excluded += 1 } }
        #expect(excluded >= planted.count)

        #expect(try Imgcls.run(["curate", "--workspace", workspace, "--reset"]).status == 0)
        var left = 0
        try catalog.forEachItem { if $0.flags.contains(.labelIssue) || $0.suggestedLabel != nil || $0.status == .excluded { left += 1 } }
        #expect(left == 0)
        let refused = try Imgcls.run(["curate", "--workspace", workspace, "--exclude", "label_issue"])
        #expect(refused.status != 0 && refused.stderr.contains("--label-issues"))
    }
}
