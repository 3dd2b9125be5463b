import Catalog
import Files
import Foundation
import StageContract

/// The completion marker's side of a fetch (`ShardCompletion`, `reports/shard.json`): what identifies the
/// manifests, whether this workspace already holds the completed shard (then the run is a no-op), and the
/// marker written last when the run completes.
struct ShardMarker {
    let shard: ShardCompletion.Shard
    let identity: String
    let manifests: [ShardCompletion.ManifestFile]

    /// Nil when the manifests cannot be identified (standard input) or there are none (a scrape).
    init?(files: [ManifestFile], request: FetchRequest) throws(FetchError) {
        guard !files.isEmpty, !files.contains(where: { $0.path == "-" }) else { return nil }
        var manifests: [ShardCompletion.ManifestFile] = []
        for file in files {
            do {
                manifests.append(.init(path: file.path, category: file.folderCategory, sha256: try SHA256.hex(file: file.path)))
            } catch {
                throw FetchError("\(error)")
            }
        }
        // What decides the rows besides the bytes: paths are left out, so shards may run in different folders.
        var described = manifests.map { "\($0.category ?? "")\t\($0.sha256)" }
        described.append("label=\(request.label?.name ?? "")")
        described.append("label-map=\(request.labelMap?.canonicalText ?? "")")
        described.append("format=\(request.format?.rawValue ?? "")")
        described.append("columns=\(request.urlColumn),\(request.labelColumn)")
        identity = SHA256.hex(Array(described.joined(separator: "\n").utf8))
        self.manifests = manifests
        shard = request.shard?.marker ?? .init(share: .all, by: ShardKey.url.rawValue)
    }

    /// The marker says this shard of these manifests completed, and nothing was queued since.
    func isComplete(in workspace: Workspace, catalog: Catalog) throws(FetchError) -> Bool {
        do {
            guard let marker = try workspace.shardCompletion(), marker.manifestIdentity == identity, marker.shard == shard
            else { return false }
            return try catalog.count(status: .pending) == 0
        } catch {
            throw FetchError("\(error)")
        }
    }

    func write(in workspace: Workspace, catalog: Catalog) throws(FetchError) {
        var marker = ShardCompletion(shard: shard, manifestIdentity: identity, manifests: manifests)
        do {
            try marker.count(catalog)
            try workspace.writeShardCompletion(marker)
        } catch {
            throw FetchError("\(error)")
        }
    }
}
