import Catalog
@testable import Curate
import Files
import Foundation
import Imaging
import SampleImages

/// A workspace filled item by item, as fetch or import would leave it.
final class CurateFixture {
    let folder = TemporaryFolder("imgcls-curate")
    var workspace: Workspace { Workspace(root: folder.file("data")) }
    private var catalog: Catalog!
    private var count = 0

    init() throws {
        catalog = try workspace.openCatalog()
    }

    /// Stores `bytes` under `label` and records an ok item; returns its source name.
    @discardableResult
    func add(_ bytes: [UInt8], label: String, source: String? = nil, url: Bool = false) throws -> String {
        count += 1
        let name = source ?? "item-\(count)"
        let digest = SHA256.hex(bytes)
        let ext = (try? ImageFormat.sniff(bytes).fileExtension) ?? "bin"
        let relative = "raw/\(label)/\(digest.prefix(16)).\(ext)"
        try FileIO.createDirectory(workspace.path("raw/\(label)"))
        try FileIO.createOnce(bytes, at: workspace.path(relative))
        var item = CatalogItem(source: url ? "https://example.test/\(name)" : "/images/\(name)", sourceKind: url ? .url : .file,
                               label: try Label(label))
        item.status = .ok
        item.sha256 = digest
        item.bytes = bytes.count
        item.path = relative
        try catalog.upsert(item)
        return item.source
    }

    func curate(_ configure: (inout CurateOptions) -> Void = { _ in }) throws -> CurateSummary {
        var options = CurateOptions()
        options.threads = 2
        configure(&options)
        return try Curator(workspace: workspace, options: options).run()
    }

    func items() throws -> [CatalogItem] {
        var all: [CatalogItem] = []
        try catalog.forEachItem { all.append($0) }
        return all
    }

    func item(_ source: String) throws -> CatalogItem {
        try items().first { $0.source == source }!
    }
}
