import Catalog
@testable import Fetch
import Foundation
import LoopbackHTTP
import SampleImages
import StageContract

/// Engine settings that keep tests fast: short timeouts and backoffs.
func quickEngine() -> EngineSettings {
    var settings = EngineSettings()
    settings.concurrency = 8
    settings.connectTimeout = 2
    settings.totalTimeout = 5
    // Not 1: under CI's load (43 suites on 2 cores) a loopback server can be starved for a second, and a
    // robots.txt of 90 bytes can then read as a stall (the likely cause of robotsTxtIsReadOnceAndObeyed failing
    // once in CI after 95 s).
    settings.lowSpeedSeconds = 3
    settings.maxBytes = 300_000
    settings.retry.baseBackoff = 0.05
    settings.retry.maxBackoff = 0.2
    return settings
}

/// A workspace in a temporary folder, and a way to run fetches into it.
final class FetchFixture {
    let folder = TemporaryFolder("imgcls-fetch")
    var workspace: Workspace { Workspace(root: folder.file("data")) }

    /// Writes a text manifest `<name>/urls.txt` (the folder name is the label) and returns its path.
    func manifest(label: String, _ urls: [String]) throws -> String {
        let path = folder.file("manifests/\(label)/urls.txt")
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try urls.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @discardableResult
    func fetch(_ configure: (inout FetchRequest) -> Void) throws -> FetchSummary {
        var request = FetchRequest()
        request.engine = quickEngine()
        request.threads = 2
        configure(&request)
        return try FetchRun(workspace: workspace, request: request).run()
    }

    func items() throws -> [CatalogItem] {
        var all: [CatalogItem] = []
        try workspace.openCatalog().forEachItem { all.append($0) }
        return all
    }

    func item(_ url: String) throws -> CatalogItem? {
        try items().first { $0.source == url }
    }
}

let samplePhoto = SampleImages.jpeg(SampleImages.picture(width: 64, height: 48, seed: 4))
