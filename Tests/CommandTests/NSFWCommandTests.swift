import Catalog
import Files
import Foundation
import SampleImages
import StageContract
import Testing

/// `curate --nsfw` end to end on real photographs and drawn pictures with the installed open_nsfw (skipped
/// without `make weights` or ../shared/data/photos): every kept image gets its probability in the catalog, none of
/// these is flagged at the default threshold, a low threshold flags and (with --exclude nsfw) excludes, and the
/// report shows its sheet.
@Suite(.enabled(if: OpenNSFW.installed && SharedTestData.path("photos") != nil, "needs open-nsfw (`make weights`) and ../shared/data/photos"))
struct NSFWCommandTests {
    @Test(.timeLimit(.minutes(4))) func everyKeptImageIsScoredAndOnlyWhatPassesTheThresholdIsFlagged() throws {
        let folder = TemporaryFolder()
        let pictures = folder.file("pictures")
        try FileIO.createDirectory(pictures + "/photos")
        try FileIO.createDirectory(pictures + "/drawn")
        for photo in ["chelsea.png", "coffee.png", "rocket.jpg"] {
            try FileManager.default.copyItem(atPath: SharedTestData.path("photos")! + "/" + photo, toPath: pictures + "/photos/" + photo)
        }
        for i in 0..<4 {
            try FileIO.writeAtomically(SampleImages.png(SampleImages.scene(width: 120, height: 96, seed: UInt64(i + 7))), to: "\(pictures)/drawn/\(i).png")
        }
        let workspace = folder.file("data")
        let run = try Imgcls.run(["curate", "--from", pictures, "--workspace", workspace, "--nsfw", "-q"])
        #expect(run.status == 0 && run.stdout.contains("nsfw: 0 of 7 images"), "\(run.stdout)\n\(run.stderr)")
        func items() throws -> [String: CatalogItem] {
            let catalog = try Catalog(path: Workspace(root: workspace).catalogPath, create: false)
            var items: [String: CatalogItem] = [:]
            try catalog.forEachItem { items[($0.source as NSString).lastPathComponent] = $0 }
            return items
        }
        var scored = try items()
        #expect(scored.count == 7 && scored.values.allSatisfy { ($0.nsfwScore ?? -1) >= 0 && ($0.nsfwScore ?? 2) <= 1 })
        // The wheel's own pipeline gives the espresso 0.0130 (scripts/onnx-reference.sh open-nsfw).
        #expect(abs((scored["coffee.png"]?.nsfwScore ?? 1) - 0.0130) < 0.02)
        #expect(scored.values.allSatisfy { !$0.flags.contains(.nsfw) })

        // A threshold below the espresso's score flags it; --exclude nsfw leaves it out, with the score in the message.
        let strict = try Imgcls.run(["curate", "--workspace", workspace, "--nsfw", "--nsfw-threshold", "0.005", "--exclude", "nsfw", "-q"])
        #expect(strict.status == 0, "\(strict.stderr)")
        scored = try items()
        let coffee = try #require(scored["coffee.png"])
        #expect(coffee.flags.contains(.nsfw) && coffee.status == .excluded && coffee.reason == .flag(.nsfw)
                && coffee.message?.contains("open-nsfw's nsfw probability") == true, "\(coffee)")
        #expect(scored["chelsea.png"]?.status == .ok)
        let sheet = Workspace(root: workspace).path(Workspace.assistSheetsFolder.workspace) + "/nsfw.jpg"
        #expect(FileManager.default.fileExists(atPath: sheet))
        let refused = try Imgcls.run(["curate", "--workspace", workspace, "--exclude", "nsfw"])
        #expect(refused.status == 64 && refused.stderr.contains("--exclude nsfw goes with --nsfw"))
    }
}

enum OpenNSFW {
    static let installed: Bool = {
        guard let list = try? Imgcls.run(["backbone", "list"]) else { return false }
        return list.stdout.split(separator: "\n").contains { $0.hasPrefix("open-nsfw ") && $0.contains(".safetensors") }
    }()
}
