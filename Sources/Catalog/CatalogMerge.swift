import Files
import Foundation
import StageContract

/// What `imgcls catalog merge` did.
public struct MergeSummary: Sendable, Codable, Equatable {
    /// Rows new to this catalog.
    public var added = 0
    /// Rows that replaced ours because theirs were further along (ok, then excluded, then failed, then
    /// pending; between equals the newer).
    public var replaced = 0
    /// Rows where ours stayed.
    public var kept = 0
    public var filesCopied = 0
    /// Rows whose file the other workspace does not have either.
    public var filesMissing = 0
}

extension Workspace {
    /// Merges the shard workspaces of one fetch (`fetch --shard K/N`, each with its completion marker) into
    /// this one, in the order of K whatever order they are given in, so the result is the same every time.
    /// Refused, unless `partial`: a workspace with no marker (its fetch did not finish), markers of different
    /// manifests or N, and sets that do not hold each of 1…N once. A whole set merged into an empty workspace
    /// leaves a marker for the whole fetch (shard 1/1), so running that fetch here is a no-op.
    public func mergeShards(_ others: [Workspace], partial: Bool = false) throws(CatalogError) -> [(Workspace, MergeSummary)] {
        var shards: [(workspace: Workspace, marker: ShardCompletion?)] = []
        for other in others {
            guard other.hasCatalog else {
                throw CatalogError(path: other.catalogPath, detail: "no catalog here; give a workspace folder or its catalog.sqlite")
            }
            let marker = try other.shardCompletion()
            if marker == nil && !partial {
                throw CatalogError(path: other.shardCompletionPath, detail: "no completion marker: this shard's fetch did not finish; run it again (or merge with --partial)")
            }
            shards.append((other, marker))
        }
        if !partial { try Workspace.checkCoverage(shards.map { ($0.workspace, $0.marker!) }) }
        shards.sort { a, b in
            let ka = a.marker?.shard.index ?? Int.max, kb = b.marker?.shard.index ?? Int.max
            return ka != kb ? ka < kb : a.workspace.root < b.workspace.root
        }
        var wasEmpty = true
        if hasCatalog { wasEmpty = try openCatalog().summary().total == 0 }
        var results: [(Workspace, MergeSummary)] = []
        for shard in shards { results.append((shard.workspace, try merge(from: shard.workspace))) }
        if !partial, wasEmpty, let first = shards.first?.marker {
            var whole = ShardCompletion(shard: .init(share: .all, by: "url"), manifestIdentity: first.manifestIdentity,
                                        manifests: first.manifests)
            try whole.count(try openCatalog())
            try writeShardCompletion(whole)
        }
        return results
    }

    /// One manifest identity, one N and one way of hashing; each K of 1…N exactly once.
    private static func checkCoverage(_ shards: [(workspace: Workspace, marker: ShardCompletion)]) throws(CatalogError) {
        guard let first = shards.first else { return }
        var byIndex: [Int: Workspace] = [:]
        for (workspace, marker) in shards {
            if marker.manifestIdentity != first.marker.manifestIdentity {
                throw CatalogError(path: workspace.root, detail: "fetched from other manifests (or label options) than \(first.workspace.root): these are not shards of one fetch")
            }
            if marker.shard.count != first.marker.shard.count || marker.shard.by != first.marker.shard.by {
                throw CatalogError(path: workspace.root, detail: "is shard \(marker.shard), but \(first.workspace.root) is shard \(first.marker.shard)")
            }
            if let twice = byIndex[marker.shard.index] {
                throw CatalogError(path: workspace.root, detail: "shard \(marker.shard) again: \(twice.root) is that shard too")
            }
            byIndex[marker.shard.index] = workspace
        }
        let missing = (1...first.marker.shard.count).filter { byIndex[$0] == nil }
        if !missing.isEmpty {
            let list = missing.prefix(20).map(String.init).joined(separator: ", ") + (missing.count > 20 ? ", …" : "")
            throw CatalogError(path: first.workspace.root, detail: "shards \(list) of \(first.marker.shard.count) are missing: merge all of them (or use --partial)")
        }
    }

    /// Merges another workspace's catalog into this one (as shards of one fetch produce them) and brings over
    /// the files its rows point at (hard links when both are on one file system, copies otherwise).
    public func merge(from other: Workspace) throws(CatalogError) -> MergeSummary {
        guard other.hasCatalog else {
            throw CatalogError(path: other.catalogPath, detail: "no catalog here; give a workspace folder or its catalog.sqlite")
        }
        let theirs = try Catalog(path: other.catalogPath, create: false)
        let ours = try openCatalog()
        var summary = MergeSummary()
        var incoming: [CatalogItem] = []
        func mergeBatch() throws(CatalogError) {
            try ours.write { t throws(CatalogError) in
                for var item in incoming {
                    item.id = nil
                    if try t.insertIfAbsent(item) {
                        summary.added += 1
                    } else if let existing = try t.item(source: item.source, label: item.label), Workspace.ranks(item, above: existing) {
                        try t.upsert(item)
                        summary.replaced += 1
                    } else {
                        summary.kept += 1
                        continue
                    }
                    for relative in [item.path, item.originalPath].compactMap({ $0 }) {
                        switch try copyFile(relative, from: other) {
                        case .copied: summary.filesCopied += 1
                        case .missing: summary.filesMissing += 1
                        case .present: break
                        }
                    }
                }
            }
            incoming.removeAll(keepingCapacity: true)
        }
        try theirs.forEachItem { item throws(CatalogError) in
            incoming.append(item)
            if incoming.count >= 1000 { try mergeBatch() }
        }
        try mergeBatch()
        return summary
    }

    /// ok beats excluded (a decision about a good file) beats failed beats pending; between equals the newer
    /// row wins.
    static func ranks(_ a: CatalogItem, above b: CatalogItem) -> Bool {
        func rank(_ status: ItemStatus) -> Int {
            switch status {
            case .ok: 3
            case .excluded: 2
            case .failed: 1
            case .pending: 0
            }
        }
        return rank(a.status) != rank(b.status) ? rank(a.status) > rank(b.status) : a.updatedAt > b.updatedAt
    }

    private enum CopyResult { case copied, present, missing }

    private func copyFile(_ relative: String, from other: Workspace) throws(CatalogError) -> CopyResult {
        let target = path(relative), source = other.path(relative)
        if FileIO.kind(of: target) == .file { return .present }
        guard FileIO.kind(of: source) == .file else { return .missing }
        do {
            try FileIO.createDirectory((target as NSString).deletingLastPathComponent)
            if link(source, target) != 0 { try FileIO.writeAtomically(try FileIO.read(source), to: target) }
        } catch {
            throw CatalogError(path: target, detail: "cannot copy from \(source): \(error.detail)")
        }
        return .copied
    }
}

extension MergeSummary {
    /// What `imgcls catalog merge` prints for one merged workspace.
    public var text: String {
        "\(added) added, \(replaced) replaced, \(kept) kept; \(filesCopied) files brought over, \(filesMissing) missing"
    }
}
