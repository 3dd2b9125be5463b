import Files
import Foundation
import Imaging
import SampleImages
import Testing

/// The README's "Your own images, start to finish", its commands read from the README and run as written (but
/// `serve`, which the server tests cover), in a folder holding `pictures/cats/` and `pictures/dogs/`: real
/// silhouettes of cats and dogs (animal_mnist's, 40 each, drawn at 112 px as JPEGs, so that they are large enough
/// for a backbone). `train` must choose the installed backbone by itself and reach what that backbone's head
/// reaches when asked for by name. Skipped without `make weights` or ../shared/data.
@Suite(.enabled(if: LabelIssueCommandTests.backboneInstalled && SharedTestData.path("animal_mnist") != nil,
                "needs `make weights` and ../shared/data"))
struct RecipeCommandTests {
    /// The recipe's commands (arguments after `imgcls`), in order, from the README's section.
    static func recipe() throws -> [[String]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let readme = String(decoding: try FileIO.read(root + "/README.md"), as: UTF8.self)
        let section = try #require(readme.components(separatedBy: "## Your own images, start to finish").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        return section.split(separator: "\n").compactMap { line -> [String]? in
            let command = line.split(separator: "#", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard command.hasPrefix("imgcls ") else { return nil }
            return command.split(separator: " ").dropFirst().map(String.init)
        }
    }

    @Test(.timeLimit(.minutes(10))) func theReadmesRecipeAsWrittenTrainsOnTheBackbone() throws {
        let commands = try Self.recipe()
        #expect(commands.map(\.[0]) == ["curate", "split", "train", "evaluate", "predict", "serve"], "\(commands)")
        let folder = TemporaryFolder()
        let animals = SharedTestData.path("animal_mnist")!
        for (label, folderName) in [("cat", "cats"), ("dog", "dogs")] {
            try FileIO.createDirectory(folder.file("pictures/\(folderName)"))
            let files = try FileManager.default.contentsOfDirectory(atPath: "\(animals)/\(label)").sorted().prefix(40)
            for (i, name) in files.enumerated() {
                let silhouette = try ImageDecoder.decode(file: "\(animals)/\(label)/\(name)")
                try FileIO.writeAtomically(try silhouette.resized(width: 112, height: 112).jpegData(quality: 92),
                                           to: folder.file("pictures/\(folderName)/\(i + 1).jpg"))
            }
        }
        var trainNote = "", accuracy = 0.0
        for arguments in commands where arguments[0] != "serve" {
            let run = try Imgcls.run(arguments + (["evaluate", "train"].contains(arguments[0]) ? ["--json"] : []), in: folder.path)
            #expect(run.status == 0, "imgcls \(arguments.joined(separator: " ")): \(run.stderr)")
            if arguments[0] == "train" { trainNote = run.stderr }
            if arguments[0] == "evaluate" {
                accuracy = try #require((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["accuracy"] as? Double)
            }
            if arguments[0] == "predict" { #expect(run.stdout.contains("cats") || run.stdout.contains("dogs"), "\(run.stdout)") }
        }
        // The backbone train chose, by name, on the same split: the same accuracy.
        let chosen = try #require(trainNote.firstMatch(of: /training on ([a-z0-9.-]+)'s features/)?.1, "\(trainNote)")
        let named = try Imgcls.run(["train", "--name", "named", "--backbone", String(chosen), "--json"], in: folder.path)
        #expect(named.status == 0, "\(named.stderr)")
        let evaluated = try Imgcls.run(["evaluate", "--model", "named", "--json"], in: folder.path)
        let reference = try #require((try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])?["accuracy"] as? Double)
        #expect(accuracy == reference, "the recipe: \(accuracy), --backbone \(chosen): \(reference)")
        #expect(accuracy >= 0.75, "the recipe reached \(accuracy) on cats and dogs")
    }
}
