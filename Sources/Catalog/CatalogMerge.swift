import Files
import Foundation

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
