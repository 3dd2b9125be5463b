import ArgumentParser
import Catalog
import Files
import Foundation
import SampleImages
import StageContract

/// A synthetic catalog for the review app's scale benchmark (scripts/bench-review.sh): N rows with the mix of
/// statuses, reasons, flags, scores, clusters and splits a curated web crawl has, whose stored files are a few
/// dozen real JPEGs shared by every row (only the rows a page shows are ever decoded).
struct ReviewCatalog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review-catalog", abstract: "Write a synthetic catalog of N rows for the review app's benchmark.")

    @Argument(help: "The workspace folder to create (it must not hold a catalog yet).") var workspace: String
    @Option(help: "Rows.") var rows = 1_000_000
    @Option(help: "Labels.") var labels = 10
    @Option(help: "Distinct pictures behind the rows.") var pictures = 48

    func run() throws {
        let space = Workspace(root: workspace)
        guard !space.hasCatalog else { throw ValidationError("\(space.catalogPath) exists: give a new folder") }
        let names = try (0..<labels).map { try Label(String(format: "class%02d", $0)) }
        var files: [(path: String, sha256: String, bytes: Int, width: Int, height: Int)] = []
        for i in 0..<pictures {
            let (width, height) = (320 + 16 * (i % 8), 240 + 16 * (i % 5))
            let bytes = SampleImages.jpeg(SampleImages.scene(width: width, height: height, seed: UInt64(i + 1)))
            let sha = SHA256.hex(bytes)
            let path = Workspace.rawFile(label: names[i % labels], sha256: sha, fileExtension: "jpg")
            try FileIO.createDirectory(FileIO.parentFolder(of: space.path(path)))
            try FileIO.writeAtomically(bytes, to: space.path(path))
            files.append((path, sha, bytes.count, width, height))
        }
        let catalog = try space.openCatalog()
        let writer = CatalogBatchWriter(catalog: catalog, batchSize: 5000)
        var random = SplitMix64(seed: 7)
        let started = Date()
        for row in 0..<rows {
            let label = names[Int(random.next() % UInt64(labels))]
            var item = CatalogItem(source: "https://images.example/\(label.name)/\(row).jpg", sourceKind: .url, label: label)
            let roll = random.nextUnit()
            let file = files[row % files.count]
            if roll < 0.03 {
                item.status = .pending
            } else if roll < 0.08 {
                item.status = .failed
                item.reason = [Reason.http(status: 404), .fetch(.timeout), .image(.truncated), .image(.notAnImage)][row % 4]
                item.message = "synthetic failure"
            } else {
                (item.path, item.sha256, item.bytes, item.format, item.width, item.height) = (file.path, file.sha256, file.bytes + row % 5000, "jpeg", file.width, file.height)
                item.phash = random.next()
                item.status = .ok
                var flags: [QualityFlag] = []
                if random.nextUnit() < 0.05 { flags.append(.blurry) }
                if random.nextUnit() < 0.03 { flags.append(.dark) }
                if random.nextUnit() < 0.02 {
                    flags.append(.labelIssue)
                    item.suggestedLabel = names[Int(random.next() % UInt64(labels))].name
                    item.labelScore = random.nextUnit() * 0.3
                }
                if random.nextUnit() < 0.01 { flags.append(.offTopic) }
                item.offTopicScore = random.nextUnit() * 3
                item.nsfwScore = random.nextUnit() * random.nextUnit()
                if item.nsfwScore! > 0.8 { flags.append(.nsfw) }
                item.flags = flags.sorted()
                if roll < 0.16 {
                    item.status = .excluded
                    let reason: CurationReason = [.duplicate, .nearDuplicate, .labelConflict, .placeholder][row % 4]
                    item.reason = .curation(reason)
                    item.cluster = Int64(max(1, row - row % 7))
                    item.duplicateOf = item.cluster
                    item.message = "synthetic \(reason.rawValue)"
                } else {
                    item.split = random.nextUnit() < 0.8 ? .train : .validation
                    if row % 50 == 0 { item.cluster = Int64(row + 1) }
                }
            }
            try writer.add(.insertIfAbsent(item))
        }
        try writer.flush()
        print("wrote \(rows) rows (\(labels) labels, \(pictures) pictures) to \(space.catalogPath) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}
