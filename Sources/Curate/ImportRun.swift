import Catalog
import Files
import Foundation
import Imaging
import StageContract

/// What `imgcls import` (and `curate --from`) asks for.
public struct ImportRequest: Sendable {
    /// A `<label>/<files>` folder.
    public var folder: String
    /// The label of every file, instead of the names of the folders below `folder`.
    public var label: Label?
    /// Copy files even where a hard link is possible (so later edits of the originals do not show through).
    public var copy = false
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init(folder: String) {
        self.folder = folder
    }
}

/// What `imgcls import` did.
public struct ImportSummary: Sendable, Codable {
    public var files = 0
    public var added = 0
    /// Files already in the catalog (a re-run of the same import).
    public var alreadyKnown = 0
    /// Files that are not images, or damaged in their header, by reason code (recorded as failed rows).
    public var rejected: [String: Int] = [:]
    public var byLabel: [String: Int] = [:]
}

/// Registers an existing `<label>/<files>` tree as catalog items, so folders of images can be curated, split
/// and trained on without fetching. Each file's bytes are stored content-addressed under `raw/<label>/`
/// (a hard link to the original when both are on one file system, a copy otherwise). The walk never enters
/// the workspace itself, which may sit inside the folder.
public struct ImportRun: Sendable {
    public let workspace: Workspace, request: ImportRequest

    public init(workspace: Workspace, request: ImportRequest) {
        (self.workspace, self.request) = (workspace, request)
    }

    public func run() throws(CatalogError) -> ImportSummary {
        let folder = request.folder
        guard FileIO.kind(of: folder) == .directory else {
            throw CatalogError(path: folder, detail: "not a folder; give a folder holding one sub-folder per label")
        }
        let catalog = try workspace.openCatalog()
        try workspace.prepareTemporaryFolder()
        let root = URL(fileURLWithPath: folder).standardizedFileURL.path
        var summary = ImportSummary()
        var batch: [(path: String, label: Label)] = []
        var walker = DirectoryWalker(root: root, skipping: [workspace.root])
        while let path = walker.next() {
            let relative = path.dropFirst(root.count + 1).split(separator: "/")
            let itemLabel: Label
            if let label = request.label {
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
            try parallelMap(batch, threads: request.threads) { importer.item(for: $0.path, label: $0.label) } consume: { item throws(CatalogError) in
                summary.files += 1
                if try t.insertIfAbsent(item) {
                    summary.added += 1
                    if let reason = item.reason { summary.rejected[reason.code, default: 0] += 1 }
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
            let relative = Workspace.rawFile(label: label, sha256: digest, fileExtension: info.format.fileExtension)
            do { try workspace.storeOnce(bytes, at: relative, linkingFrom: request.copy ? nil : path) } catch {
                throw ImageError(.unreadable, "cannot store it in the workspace: \(error.detail)", file: path)
            }
            item.status = .ok
            item.sha256 = digest
            item.path = relative
            item.format = info.format.rawValue
            item.width = info.orientedWidth
            item.height = info.orientedHeight
        } catch {
            item.status = .failed
            item.reason = .image(error.reason)
            item.message = error.detail
        }
        return item
    }
}
