import Catalog
@testable import Fetch
import Files
import Foundation
import Imaging
import LoopbackHTTP
import SampleImages
import StageContract
import Testing

/// Every case the issue names, against a real HTTP server on 127.0.0.1 in this process.
@Suite struct EngineTests {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [String: Int] = [:]
        func next(_ key: String) -> Int {
            lock.lock()
            defer { lock.unlock() }
            counts[key, default: 0] += 1
            return counts[key]!
        }
    }

    static let png = SampleImages.png(SampleImages.picture(width: 40, height: 30, seed: 2))
    static let big = [UInt8](repeating: 7, count: 400_000)  // over the 300 KB cap of these tests

    func server(_ counter: Counter = Counter()) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            switch request.path {
            case "/photo.jpg": return .ok(samplePhoto, contentType: "image/jpeg")
            case "/photo.png": return .ok(Self.png, contentType: "image/png")
            case "/same-bytes.jpg": return .ok(samplePhoto, contentType: "image/jpeg")
            case "/missing.jpg": return .status(404, "gone")
            case "/flaky.jpg":
                return counter.next("flaky") == 1 ? .status(500, "oops") : .ok(samplePhoto, contentType: "image/jpeg")
            case "/always-500.jpg": return .status(500, "down")
            case "/busy.jpg":
                return counter.next("busy") == 1
                    ? LoopbackResponse(status: 429, headers: [("Retry-After", "1")]) : .ok(samplePhoto, contentType: "image/jpeg")
            case "/patience.jpg": return LoopbackResponse(status: 429, headers: [("Retry-After", "3600")])
            case "/stalled.jpg":
                return LoopbackResponse(status: 200, headers: [("Content-Type", "image/jpeg")], body: samplePhoto,
                                    behavior: .stall(afterBytes: 100, seconds: 30))
            case "/hop1": return .redirect(to: "/hop2")
            case "/hop2": return .redirect(to: "/hop3", status: 301)
            case "/hop3": return .redirect(to: "/photo.png")
            case "/loop": return .redirect(to: "/loop")
            case "/to-file": return .redirect(to: "file:///etc/passwd")
            case "/huge.png": return .ok(Self.big, contentType: "image/png")
            case "/huge-streamed.png":
                return LoopbackResponse(status: 200, headers: [("Content-Type", "image/png")], body: Self.big, behavior: .closeDelimited)
            case "/page-as-jpeg.jpg": return .ok(SampleImages.htmlPage, contentType: "image/jpeg")
            case "/cut.jpg":
                return LoopbackResponse(status: 200, headers: [("Content-Type", "image/jpeg")], body: samplePhoto,
                                    behavior: .cutOff(afterBytes: samplePhoto.count / 2))
            case "/gzipped.png":
                return LoopbackResponse(status: 200, headers: [("Content-Type", "image/png")], body: Self.png, gzip: true)
            case "/noai.jpg":
                return LoopbackResponse(status: 200, headers: [("Content-Type", "image/jpeg"), ("X-Robots-Tag", "noindex, noai")],
                                    body: samplePhoto)
            case "/gone-noai.jpg":
                return LoopbackResponse(status: 404, headers: [("X-Robots-Tag", "noai")], body: [])
            case "/other-bot-noai.jpg":
                return LoopbackResponse(status: 200, headers: [("Content-Type", "image/jpeg"), ("X-Robots-Tag", "otherbot: noimageai")],
                                    body: samplePhoto)
            default: return .status(404)
            }
        }
    }

    @Test func everyCaseEndsWithItsDocumentedStatus() throws {
        let counter = Counter()
        let server = try server(counter)
        let fixture = FetchFixture()
        let cases: [(String, ItemStatus, Reason?)] = [
            ("/photo.jpg", .ok, nil),
            ("/missing.jpg", .failed, .http(status: 404)),
            ("/flaky.jpg", .ok, nil),
            ("/always-500.jpg", .failed, .http(status: 500)),
            ("/busy.jpg", .ok, nil),
            ("/patience.jpg", .failed, .http(status: 429)),
            ("/stalled.jpg", .failed, .fetch(.timeout)),
            ("/hop1", .ok, nil),
            ("/loop", .failed, .fetch(.tooManyRedirects)),
            ("/to-file", .failed, .fetch(.redirectRefused)),
            ("/huge.png", .failed, .fetch(.tooLarge)),
            ("/huge-streamed.png", .failed, .fetch(.tooLarge)),
            ("/page-as-jpeg.jpg", .failed, .image(.notAnImage)),
            ("/cut.jpg", .failed, .image(.truncated)),
            ("/gzipped.png", .ok, nil),
            ("/noai.jpg", .failed, .fetch(.optedOut)),
            ("/gone-noai.jpg", .failed, .http(status: 404)),
            ("/other-bot-noai.jpg", .ok, nil),
        ]
        let manifest = try fixture.manifest(label: "cats", cases.map { server.baseURL + $0.0 })
        let started = Date()
        let summary = try fixture.fetch { $0.manifests = [manifest] }
        #expect(Date().timeIntervalSince(started) < 30, "the run must end, stalled hosts included")
        #expect(summary.finished == cases.count)
        for (path, status, reason) in cases {
            let item = try #require(try fixture.item(server.baseURL + path), "\(path) has no catalog row")
            #expect(item.status == status, "\(path): \(item.status) \(item.reason?.code ?? "") \(item.message ?? "")")
            #expect(item.reason == reason, "\(path): \(item.reason?.code ?? "nil") \(item.message ?? "")")
        }

        // Nothing is lost: every ok row points at its stored bytes, named by their hash.
        for item in try fixture.items() where item.status == .ok {
            let bytes = try FileIO.read(fixture.workspace.path(try #require(item.path)))
            #expect(SHA256.hex(bytes) == item.sha256)
            #expect(item.path == Workspace.rawFile(label: item.label, sha256: item.sha256!, fileExtension: item.format == "png" ? "png" : "jpg"))
        }
        let gzipped = try #require(try fixture.item(server.baseURL + "/gzipped.png"))
        #expect(try FileIO.read(fixture.workspace.path(gzipped.path!)) == Self.png)  // stored decoded
        let redirected = try #require(try fixture.item(server.baseURL + "/hop1"))
        #expect(redirected.finalURL == server.baseURL + "/photo.png")

        // Retries: the flaky URL took two attempts, 404 one, the 500 three (two retries).
        #expect(try fixture.item(server.baseURL + "/flaky.jpg")?.attempts == 2)
        #expect(server.requests.filter { $0.path == "/missing.jpg" }.count == 1)
        #expect(server.requests.filter { $0.path == "/always-500.jpg" }.count == 3)
        // 429 with Retry-After: 1 — the second request waited at least about a second.
        let busy = server.requests.filter { $0.path == "/busy.jpg" }.map(\.receivedAt)
        #expect(busy.count == 2)
        if busy.count == 2 { #expect(busy[1].timeIntervalSince(busy[0]) >= 0.9) }
        // The User-Agent names the tool.
        #expect(server.requests.allSatisfy { $0.headers["user-agent"]?.hasPrefix("imgcls/") == true })
        // The report was written.
        #expect(FileIO.kind(of: fixture.workspace.report(FetchSummary.reportFileName)) == .file)
    }

    @Test func optOutCanBeTurnedOffAndUserAgentChanged() throws {
        let server = try server()
        let fixture = FetchFixture()
        let manifest = try fixture.manifest(label: "cats", [server.baseURL + "/noai.jpg"])
        try fixture.fetch {
            $0.manifests = [manifest]
            $0.engine.respectOptOut = false
            $0.engine.userAgent = "research-crawler/1.0"
        }
        #expect(try fixture.item(server.baseURL + "/noai.jpg")?.status == .ok)
        #expect(server.requests.first?.headers["user-agent"] == "research-crawler/1.0")
    }

    @Test func sameBytesInOneLabelAreStoredOnce() throws {
        let server = try server()
        let fixture = FetchFixture()
        let manifest = try fixture.manifest(label: "cats", [server.baseURL + "/photo.jpg", server.baseURL + "/same-bytes.jpg"])
        try fixture.fetch { $0.manifests = [manifest] }
        let paths = Set(try fixture.items().compactMap(\.path))
        #expect(paths.count == 1)
        let stored = fixture.workspace.path(try #require(paths.first))
        let files = try FileManager.default.contentsOfDirectory(atPath: FileIO.parentFolder(of: stored))
        #expect(files.count == 1)
    }

    @Test func rateLimitSpacesRequestsToOneHost() throws {
        let server = try server()
        let fixture = FetchFixture()
        let manifest = try fixture.manifest(label: "cats", (0..<5).map { server.baseURL + "/photo.jpg?n=\($0)" })
        try fixture.fetch {
            $0.manifests = [manifest]
            $0.engine.requestsPerSecond = 10
        }
        let times = server.requests.map(\.receivedAt).sorted()
        #expect(times.count == 5)
        for (a, b) in zip(times, times.dropFirst()) { #expect(b.timeIntervalSince(a) >= 0.08) }
    }

    @Test func robotsTxtIsReadOnceAndObeyed() throws {
        let server = try LoopbackHTTPServer { request in
            switch request.path {
            case "/robots.txt":
                return .ok(Array("User-agent: *\nDisallow: /private/\nAllow: /private/ok\n\nUser-agent: otherbot\nDisallow: /\n".utf8),
                           contentType: "text/plain")
            default: return .ok(samplePhoto, contentType: "image/jpeg")
            }
        }
        let fixture = FetchFixture()
        let urls = ["/public/a.jpg", "/private/b.jpg", "/private/ok.jpg", "/c.jpg"].map { server.baseURL + $0 }
        let manifest = try fixture.manifest(label: "cats", urls)
        try fixture.fetch {
            $0.manifests = [manifest]
            $0.engine.respectRobots = true
        }
        #expect(try fixture.item(urls[0])?.status == .ok)
        #expect(try fixture.item(urls[1])?.reason == .fetch(.robotsDisallowed))
        #expect(try fixture.item(urls[2])?.status == .ok)
        #expect(try fixture.item(urls[3])?.status == .ok)
        #expect(server.requests.filter { $0.path == "/robots.txt" }.count == 1)
        #expect(!server.requests.contains { $0.path == "/private/b.jpg" })
    }

    @Test func robotsTxtThatCannotBeReadKeepsOffTheHostButCanBeRetried() throws {
        let huge = Array("User-agent: *\nDisallow: /private/\n".utf8) + Array(repeating: UInt8(ascii: "#"), count: 700_000)
        let broken = try LoopbackHTTPServer { request in
            request.path == "/robots.txt" ? .status(503) : .ok(samplePhoto, contentType: "image/jpeg")
        }
        let big = try LoopbackHTTPServer { request in
            request.path == "/robots.txt" ? .ok(huge, contentType: "text/plain") : .ok(samplePhoto, contentType: "image/jpeg")
        }
        let fixture = FetchFixture()
        let urls = [broken.baseURL + "/a.jpg", big.baseURL + "/b.jpg", big.baseURL + "/private/c.jpg"]
        let manifest = try fixture.manifest(label: "cats", urls)
        try fixture.fetch {
            $0.manifests = [manifest]
            $0.engine.respectRobots = true
        }
        #expect(try fixture.item(urls[0])?.reason == .fetch(.robotsUnavailable))
        #expect(broken.requests.filter { $0.path == "/robots.txt" }.count == 3)  // retried like any 5xx
        #expect(!broken.requests.contains { $0.path == "/a.jpg" })
        #expect(try fixture.item(urls[1])?.status == .ok)                      // a 700 KB robots.txt is read, not refused
        #expect(try fixture.item(urls[2])?.reason == .fetch(.robotsDisallowed))
    }

    @Test func aThinImageThatKeepRatioWouldBlowUpIsRefused() throws {
        let strip = SampleImages.png(RGBImage(width: 3000, height: 2, fill: RGB(1, 2, 3)))
        let server = try LoopbackHTTPServer { _ in .ok(strip, contentType: "image/png") }
        let fixture = FetchFixture()
        let manifest = try fixture.manifest(label: "cats", [server.baseURL + "/strip.png"])
        try fixture.fetch {
            $0.manifests = [manifest]
            $0.processing.resize = .mode(.keepRatio, size: 256)
            $0.processing.decodeOptions.maxPixels = 10_000_000
        }
        let item = try #require(try fixture.item(server.baseURL + "/strip.png"))
        #expect(item.reason == .image(.tooManyPixels) && item.message?.contains("384000x256") == true)
    }

    @Test func pagesThatAreNotURLsAreAnError() throws {
        let fixture = FetchFixture()
        #expect(throws: FetchError.self) {
            try fixture.fetch {
                $0.pages = ["not a url"]
                $0.label = try! Label("x")
            }
        }
    }

    @Test func resizingStoresAJPEGCopyAndKeepsTheOriginal() throws {
        let server = try server()
        let fixture = FetchFixture()
        let manifest = try fixture.manifest(label: "cats", [server.baseURL + "/photo.png"])
        try fixture.fetch {
            $0.manifests = [manifest]
            $0.processing.resize = .mode(.centerCrop, size: 16)
        }
        let item = try #require(try fixture.item(server.baseURL + "/photo.png"))
        #expect(item.path == Workspace.resizedFile(label: item.label, sha256: item.sha256!))
        #expect(item.width == 16 && item.height == 16)
        let resized = try ImageDecoder.decode(file: fixture.workspace.path(item.path!))
        #expect(resized.width == 16 && resized.height == 16)
        #expect(try FileIO.read(fixture.workspace.path(try #require(item.originalPath))) == Self.png)
    }

    @Test func validationDecodesFully() throws {
        let truncatedTail = Array(samplePhoto.prefix(samplePhoto.count - 200))
        let server = try LoopbackHTTPServer { _ in .ok(truncatedTail, contentType: "image/jpeg") }
        let fixture = FetchFixture()
        let manifest = try fixture.manifest(label: "cats", [server.baseURL + "/a.jpg"])
        try fixture.fetch { $0.manifests = [manifest] }
        #expect(try fixture.item(server.baseURL + "/a.jpg")?.status == .ok)  // the header is fine
        let other = FetchFixture()
        let manifest2 = try other.manifest(label: "cats", [server.baseURL + "/a.jpg"])
        try other.fetch {
            $0.manifests = [manifest2]
            $0.processing.validate = true
        }
        #expect(try other.item(server.baseURL + "/a.jpg")?.reason == .image(.truncated))
    }
}
