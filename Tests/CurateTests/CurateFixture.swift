import Catalog
@testable import Curate
import Files
import Foundation
import Imaging
import SampleImages
import StageContract

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
        let itemLabel = try Label(label)
        let relative = Workspace.rawFile(label: itemLabel, sha256: digest, fileExtension: ext)
        try workspace.storeOnce(bytes, at: relative)
        var item = CatalogItem(source: url ? "https://example.test/\(name)" : "/images/\(name)", sourceKind: url ? .url : .file,
                               label: itemLabel)
        item.status = .ok
        item.sha256 = digest
        item.bytes = bytes.count
        item.path = relative
        try catalog.upsert(item)
        return item.source
    }

    func curate(_ configure: (inout CurateRequest) -> Void = { _ in }) throws -> CurateSummary {
        var request = CurateRequest()
        request.threads = 2
        configure(&request)
        return try CurateRun(workspace: workspace, request: request).run()
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
