import Catalog
import Console
import Files
import Foundation
import Imaging
import LoopbackHTTP
import SampleImages
import StageContract

// Demo: what `imgcls demo` needs besides the stages themselves. Files in reading order:
// - DemoSite.swift: `DemoSite`, a web site on 127.0.0.1 serving the demo's pictures with the faults real URL lists
//   have, and its manifests in nsfw_data_scraper's layout;
// - DemoPictures.swift: the four procedurally drawn classes.

/// The demo's web site: every class's pictures, and planted faults (exact and near duplicates, a placeholder
/// behind many URLs, one picture under two labels, truncated files, HTML served as an image, 404s, redirects, a
/// slow URL), served by a real HTTP server on 127.0.0.1 until `stop`. The manifests are written as
/// `nsfw_data_scraper` lays them out: `raw_data/<class>/urls_<class>.txt`.
public final class DemoSite: Sendable {
    /// A fault the demo planted, and the reason code (or flag) the pipeline must report for it.
    public struct Fault: Sendable {
        public let kind: String
        public let label: String
        public let url: String
        public let expected: String
        /// For a duplicate, the URL of the picture it copies: curation keeps one of the two, either one.
        public let twin: String?
    }

    public let server: LoopbackHTTPServer
    public let manifests: String
    public let faults: [Fault]
    /// Pictures held out of the manifests, for `predict` after training: (label, file).
    public let heldOut: [(label: String, file: String)]
    /// The slow URL answers after this many seconds; fetch it with a shorter `--timeout`.
    public static let slowSeconds = 4.0

    /// Writes the manifests and held-out pictures under `folder` and starts the server.
    /// `delay`: seconds every answer waits (scale-out tests need shards that are still downloading when killed).
    public init(folder: String, perClass: Int, seed: UInt64 = 1, delay: Double = 0, port: Int = 0) throws {
        var files: [String: LoopbackResponse] = [:]
        var lists: [String: [String]] = [:]
        var planned: [(kind: String, label: String, path: String, expected: String)] = []
        var twins: [String: String] = [:]
        func jpeg(_ bytes: [UInt8]) -> LoopbackResponse { .ok(bytes, contentType: "image/jpeg") }
        for label in DemoPictures.classes {
            for i in 0..<perClass {
                let path = "/\(label)/\(i).jpg"
                files[path] = jpeg(DemoPictures.jpeg(label, i, seed: seed))
                lists[label, default: []].append(path)
            }
        }
        let first = DemoPictures.classes[0], second = DemoPictures.classes[1], third = DemoPictures.classes[2]
        // Exact duplicates: the same bytes under another URL of the same class.
        for i in 0..<4 {
            let path = "/mirror/\(first)-\(i).jpg"
            files[path] = files["/\(first)/\(i).jpg"]
            planned.append(("exact duplicate", first, path, Reason.curation(.duplicate).code))
            twins[path] = "/\(first)/\(i).jpg"
        }
        // Near duplicates: the same picture re-encoded smaller and at a lower quality.
        for i in 4..<8 {
            let path = "/thumbs/\(first)-\(i).jpg"
            let original = DemoPictures.image(first, i, seed: seed)
            files[path] = jpeg(SampleImages.jpeg(original.resized(width: original.width * 9 / 10, height: original.height * 9 / 10), quality: 60))
            planned.append(("near duplicate", first, path, Reason.curation(.nearDuplicate).code))
            twins[path] = "/\(first)/\(i).jpg"
        }
        // One "image removed" picture behind many URLs, in every class.
        let placeholder = DemoPictures.placeholder()
        for label in DemoPictures.classes {
            for i in 0..<3 {
                let path = "/removed/\(label)-\(i).png"
                files[path] = .ok(placeholder, contentType: "image/png")
                planned.append(("placeholder", label, path, Reason.curation(.placeholder).code))
            }
        }
        // The same picture under two labels.
        for i in 0..<2 {
            let path = "/shared/\(i).jpg"
            files[path] = jpeg(DemoPictures.jpeg("conflict", i, seed: seed))
            planned.append(("same picture, two labels", second, path, Reason.curation(.labelConflict).code))
            planned.append(("same picture, two labels", third, path, Reason.curation(.labelConflict).code))
        }
        // Truncated downloads, HTML error pages saved as .jpg, dead links.
        for i in 0..<3 {
            let path = "/partial/\(i).jpg"
            let bytes = DemoPictures.jpeg(second, perClass + i, seed: seed)
            files[path] = jpeg(SampleImages.truncated(bytes, keeping: 0.4))
            planned.append(("truncated file", second, path, Reason.image(.truncated).code))
        }
        for i in 0..<3 {
            let path = "/error/\(i).jpg"
            files[path] = .ok(Array("<html><body><h1>Not available</h1></body></html>".utf8), contentType: "text/html")
            planned.append(("HTML served as an image", third, path, Reason.image(.notAnImage).code))
        }
        for i in 0..<3 { planned.append(("404", DemoPictures.classes[3], "/gone/\(i).jpg", Reason.http(status: 404).code)) }
        // Redirects to pictures (followed: kept), and one URL slower than the fetch timeout.
        for i in 0..<2 {
            let path = "/moved/\(i).jpg", target = "/\(DemoPictures.classes[3])/\(perClass + i).jpg"
            files[target] = jpeg(DemoPictures.jpeg(DemoPictures.classes[3], perClass + i, seed: seed))
            files[path] = .redirect(to: target, status: 301)
            planned.append(("redirect", DemoPictures.classes[3], path, "ok"))
        }
        var slow = jpeg(DemoPictures.jpeg(first, perClass + 10, seed: seed))
        slow.behavior = .delay(seconds: Self.slowSeconds)
        files["/slow/0.jpg"] = slow
        planned.append(("slow URL", first, "/slow/0.jpg", Reason.fetch(.timeout).code))

        let served = files
        server = try LoopbackHTTPServer(port: port) { request in
            var response = served[request.path] ?? .status(404, "not found")
            if delay > 0, case .normal = response.behavior { response.behavior = .delay(seconds: delay) }
            return response
        }
        let base = server.baseURL
        manifests = folder + "/raw_data"
        for fault in planned { lists[fault.label, default: []].append(fault.path) }
        for (label, paths) in lists {
            let text = paths.map { base + $0 }.joined(separator: "\n") + "\n"
            try FileManager.default.createDirectory(atPath: "\(manifests)/\(label)", withIntermediateDirectories: true)
            try FileIO.writeAtomically(Array(text.utf8), to: "\(manifests)/\(label)/urls_\(label).txt")
        }
        faults = planned.map { Fault(kind: $0.kind, label: $0.label, url: base + $0.path, expected: $0.expected, twin: twins[$0.path].map { base + $0 }) }
        // Held out: pictures no manifest lists, to classify after training.
        var held: [(String, String)] = []
        try FileManager.default.createDirectory(atPath: folder + "/held-out", withIntermediateDirectories: true)
        for label in DemoPictures.classes {
            let file = "\(folder)/held-out/\(label)-\(perClass + 20).jpg"
            try FileIO.writeAtomically(DemoPictures.jpeg(label, perClass + 20, seed: seed), to: file)
            held.append((label, file))
        }
        heldOut = held
    }

    public func stop() { server.stop() }
}

extension DemoSite {
    /// What the catalog says of each planted fault: the reason code found (or "ok" for a kept item) and whether
    /// it is the one expected.
    public func check(_ workspace: Workspace) throws -> [(fault: Fault, found: String, right: Bool)] {
        let catalog = try workspace.requireCatalog()
        func code(_ url: String, _ label: String) throws -> String {
            let item = try catalog.item(source: url, label: try Label(label))
            return item.map { $0.reason?.code ?? $0.flags.first?.rawValue ?? "ok (\($0.status.rawValue))" } ?? "not in the catalog"
        }
        return try faults.map { fault in
            var found = try code(fault.url, fault.label)
            if found != fault.expected, let twin = fault.twin, try code(twin, fault.label) == fault.expected { found = fault.expected + " (its twin)" }
            return (fault, found, fault.expected == "ok" ? found.hasPrefix("ok") : found.hasPrefix(fault.expected))
        }
    }
}

extension DemoSite {
    /// What `imgcls demo` prints of `check`: each planted fault, what the catalog says of it, and the count missed.
    public func checkText(_ checks: [(fault: Fault, found: String, right: Bool)]) -> String {
        var table = TextTable(["fault", "label", "URL", "expected", "found"])
        for (fault, found, right) in checks {
            table.add([fault.kind, fault.label, String(fault.url.dropFirst(server.baseURL.count)), fault.expected, (right ? "" : "MISSED: ") + found])
        }
        let missed = checks.filter { !$0.right }.count
        return table.render() + "\n"
            + (missed == 0 ? "every planted fault was found (\(checks.count))" : "\(missed) of \(checks.count) planted faults were not found as expected")
    }
}
