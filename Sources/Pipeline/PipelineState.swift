import Files
import Foundation

/// What `imgcls run` has completed in a workspace: each stage's fingerprint when it last finished, in
/// `pipeline-state.json`. A stage whose fingerprint is unchanged is skipped; any change reruns it and, since each
/// fingerprint includes the one before it, every stage after it.
public struct PipelineState: Sendable {
    public let file: String
    public private(set) var completed: [String: String]

    public init(workspace: String) {
        file = workspace + "/pipeline-state.json"
        let bytes = (try? FileIO.read(file)) ?? []
        completed = (try? JSONDecoder().decode([String: String].self, from: Data(bytes))) ?? [:]
    }

    /// The stages' fingerprints, in order: a stage's options and input files' contents, and the previous one's.
    public static func fingerprints(_ pipeline: PipelineFile) -> [String] {
        var previous = ""
        return pipeline.stages.map { stage in
            var text = previous + "\n" + stage.id + "\n" + stage.arguments.joined(separator: "\u{1F}")
            for input in stage.inputFiles { text += "\n" + contentHash(input) }
            previous = SHA256.hex(Array(text.utf8).withUnsafeBytes { SHA256.digest($0) })
            return previous
        }
    }

    /// A file's SHA-256, or a folder's over its files (names and contents, in walk order).
    static func contentHash(_ path: String) -> String {
        let files = FileIO.kind(of: path) == .directory ? Array(DirectoryWalker(root: path)).sorted() : [path]
        var text = ""
        for file in files {
            let bytes = (try? FileIO.read(file)) ?? []
            text += file + " " + bytes.withUnsafeBytes { SHA256.hex($0) } + "\n"
        }
        return SHA256.hex(Array(text.utf8).withUnsafeBytes { SHA256.digest($0) })
    }

    /// Forgets that `stage` completed, so the next run does it again (a stage after one rerun alone with --only).
    public mutating func forget(_ stage: String) {
        completed[stage] = nil
    }

    public mutating func record(_ stage: String, fingerprint: String) throws {
        completed[stage] = fingerprint
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(atPath: FileIO.parentFolder(of: file), withIntermediateDirectories: true)
        try FileIO.writeAtomically([UInt8](try encoder.encode(completed)), to: file)
    }
}
