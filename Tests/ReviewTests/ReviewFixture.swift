import Catalog
import Files
import Foundation
import SampleImages
import StageContract

/// A small curated workspace for the review app's tests, written straight into a catalog: kept pictures of two
/// labels, a near-duplicate cluster (keeper 1, its duplicate 2), a label issue with a suggestion, a source present
/// under both labels, a failed download, and a stored file that no longer decodes.
struct ReviewFixture {
    let folder = TemporaryFolder("imgcls-review")
    var workspace: Workspace { Workspace(root: folder.path + "/data") }
    /// Row ids by role.
    var ids: [String: Int64] = [:]

    init() throws {
        let catalog = try workspace.openCatalog()
        func store(_ name: String, label: String, seed: UInt64, bytes: [UInt8]? = nil, _ change: (inout CatalogItem) -> Void = { _ in }) throws {
            let picture = bytes ?? SampleImages.jpeg(SampleImages.scene(width: 96 + Int(seed) * 4, height: 80, seed: seed))
            let sha = SHA256.hex(picture)
            let label = try Label(label)
            let path = Workspace.rawFile(label: label, sha256: sha, fileExtension: "jpg")
            try FileIO.createDirectory(FileIO.parentFolder(of: workspace.path(path)))
            try FileIO.writeAtomically(picture, to: workspace.path(path))
            var item = CatalogItem(source: "https://example.test/\(name).jpg", sourceKind: .url, label: label)
            (item.status, item.path, item.sha256, item.bytes, item.format) = (.ok, path, sha, picture.count, "jpeg")
            (item.width, item.height, item.phash) = (96 + Int(seed) * 4, 80, seed)
            change(&item)
            ids[name] = try catalog.upsert(item)
        }
        try store("keeper", label: "cat", seed: 1)
        try store("duplicate", label: "cat", seed: 2) { $0.status = .excluded; $0.reason = .curation(.nearDuplicate); $0.message = "nearly the same picture" }
        try store("issue", label: "cat", seed: 3) { $0.flags = [.labelIssue, .blurry]; $0.suggestedLabel = "dog"; $0.labelScore = 0.05 }
        // One source under both labels: relabelling either row to the other's label must be refused.
        try store("both", label: "cat", seed: 4)
        ids["both-cat"] = ids["both"]
        try store("both", label: "dog", seed: 5)
        ids["both-dog"] = ids["both"]
        for i in 0..<6 { try store("dog\(i)", label: "dog", seed: 10 + UInt64(i)) { $0.nsfwScore = Double(i) / 10 } }
        try store("broken", label: "dog", seed: 20, bytes: Array(SampleImages.jpeg(SampleImages.scene(width: 64, height: 64, seed: 20)).prefix(200)))
        var failed = CatalogItem(source: "https://example.test/gone.jpg", sourceKind: .url, label: try Label("dog"))
        (failed.status, failed.reason, failed.message) = (.failed, .http(status: 404), "the server said 404")
        ids["failed"] = try catalog.upsert(failed)
        // The cluster: keeper and duplicate.
        try catalog.write { t throws(CatalogError) in
            let (keeper, duplicate) = (ids["keeper"]!, ids["duplicate"]!)
            try t.updateCuration(id: keeper, status: .ok, reason: nil, message: nil, flags: [], cluster: keeper, duplicateOf: nil)
            try t.updateCuration(id: duplicate, status: .excluded, reason: .curation(.nearDuplicate), message: "nearly the same picture as item \(keeper)",
                                 flags: [], cluster: keeper, duplicateOf: keeper)
        }
        // updateCuration clears suggestions: put the issue's back.
        var issue = try require(try catalog.items(ids: [ids["issue"]!]).first)
        (issue.flags, issue.suggestedLabel, issue.labelScore) = ([.blurry, .labelIssue], "dog", 0.05)
        try catalog.upsert(issue)
    }

    func catalog() throws -> Catalog { try workspace.requireCatalog() }

    func item(_ name: String) throws -> CatalogItem { try require(try catalog().items(ids: [ids[name]!]).first) }
}

/// `#require` for plain throwing code.
func require<T>(_ value: T?, _ what: String = "a value") throws -> T {
    guard let value else { throw ErrorMessage("expected \(what)") }
    return value
}
