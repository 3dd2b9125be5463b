import Catalog
import Dispatch
import Files
import Foundation
import Imaging

/// What `imgcls import` did.
public struct ImportSummary: Sendable, Codable {
    public var files = 0
    public var added = 0
    /// Files already in the catalog (a re-run of the same import).
    public var alreadyKnown = 0
    /// Files that are not images, or damaged in their header, by reason (recorded as failed rows).
    public var rejected: [String: Int] = [:]
    public var byLabel: [String: Int] = [:]
}

/// Registers an existing `<label>/<files>` tree as catalog items, so folders of images can be curated, split
/// and trained on without fetching. Each file's bytes are stored content-addressed under `raw/<label>/`
/// (a hard link to the original when both are on one file system, a copy otherwise).
public struct FolderImport: Sendable {
    public let workspace: Workspace
    /// Copy files even where a hard link is possible (so later edits of the originals do not show through).
    public var copy = false
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Imports every file under `folder`: the label is the name of the first folder below it, or `label`
    /// for every file when given. Hidden files are skipped.
    public func run(folder: String, label: Label?) throws(CatalogError) -> ImportSummary {
        guard FileIO.kind(of: folder) == .directory else {
            throw CatalogError(path: folder, detail: "not a folder; give a folder holding one sub-folder per label")
        }
        let catalog = try workspace.openCatalog()
        let root = URL(fileURLWithPath: folder).standardizedFileURL.path
        var summary = ImportSummary()
        var batch: [(path: String, label: Label)] = []
        var walker = DirectoryWalker(root: root)
        while let path = walker.next() {
            let relative = path.dropFirst(root.count + 1).split(separator: "/")
            let itemLabel: Label
            if let label {
                itemLabel = label
            } else {
                guard relative.count > 1 else { continue }  // files directly in the folder have no label
                do { itemLabel = try Label(String(relative[0])) } catch {
                    throw CatalogError(path: path, detail: "\(error)")
                }
            }
            batch.append((path, itemLabel))
            if batch.count == 512 {
                try importBatch(batch, into: catalog, &summary)
                batch.removeAll(keepingCapacity: true)
            }
        }
        try importBatch(batch, into: catalog, &summary)
        if let problem = walker.unreadable.first { throw CatalogError(path: problem.path, detail: problem.detail) }
        return summary
    }

    private func importBatch(_ batch: [(path: String, label: Label)], into catalog: Catalog,
                             _ summary: inout ImportSummary) throws(CatalogError) {
        guard !batch.isEmpty else { return }
        let importer = self
        try catalog.write { t throws(CatalogError) in
            try parallelMap(batch, threads: threads) { importer.item(for: $0.path, label: $0.label) } consume: { item throws(CatalogError) in
                summary.files += 1
                if try t.insertIfAbsent(item) {
                    summary.added += 1
                    if let reason = item.reason { summary.rejected[reason, default: 0] += 1 }
                    else { summary.byLabel[item.label.name, default: 0] += 1 }
                } else {
                    summary.alreadyKnown += 1
                }
            }
        }
    }

    /// The catalog row for one file, its bytes stored when it is an image.
    private func item(for path: String, label: Label) -> CatalogItem {
        var item = CatalogItem(source: path, sourceKind: .file, label: label)
        do throws(ImageError) {
            let bytes = try ImageDecoder.readFile(path)
            item.bytes = bytes.count
            let info = try ImageProbe.probe(bytes)
            let digest = SHA256.hex(bytes)
            let relative = "raw/\(label.name)/\(digest.prefix(16)).\(info.format.fileExtension)"
            try store(bytes, from: path, at: workspace.path(relative))
            item.status = .ok
            item.sha256 = digest
            item.path = relative
            item.format = info.format.rawValue
            item.width = info.orientedWidth
            item.height = info.orientedHeight
        } catch {
            item.status = .failed
            item.reason = error.reason.rawValue
            item.message = error.detail
        }
        return item
    }

    private func store(_ bytes: [UInt8], from source: String, at target: String) throws(ImageError) {
        if FileIO.kind(of: target) == .file { return }
        do {
            try FileIO.createDirectory(FileIO.parentFolder(of: target))
            if !copy && link(source, target) == 0 { return }
            try FileIO.createOnce(bytes, at: target, temporaryFolder: workspace.path("tmp"))
        } catch {
            throw ImageError(.unreadable, "cannot store it in the workspace: \(error.detail)", file: source)
        }
    }
}
