@testable import Fetch
import Foundation
import LoopbackHTTP
import SampleImages
import StageContract
import Testing

@Suite struct ScrapeTests {
    static let page = """
        <!DOCTYPE html>
        <html><head>
          <meta property="og:image" content="/og.jpg">
          <meta name="twitter:image" content="https://127.0.0.1:1/never-fetched-other-port.jpg">
          <title>gallery</title>
        </head><body>
          <img src="img/plain.jpg" alt="">
          <img src="small.jpg" srcset="small.jpg 320w, large.jpg 1280w, medium.jpg 640w">
          <img src="data:image/gif;base64,R0lGOD" data-src="lazy.jpg">
          <img data-original="/original.jpg">
          <picture><source srcset="pic-1x.jpg 1x, pic-2x.jpg 2x"></picture>
          <a href="/files/linked.JPG?size=big">full size</a>
          <a href="next.html">next page</a>
          <a href="https://elsewhere.example/other.html">elsewhere</a>
          <p>unclosed <b>tags
        </body></html>
        """

    @Test func linksAreFoundAndResolved() {
        let links = PageScraper.links(in: Array(Self.page.utf8), pageURL: "http://127.0.0.1:8080/gallery/index.html")
        let base = "http://127.0.0.1:8080"
        #expect(Set(links.images) == Set([
            "\(base)/og.jpg", "https://127.0.0.1:1/never-fetched-other-port.jpg", "\(base)/gallery/img/plain.jpg",
            "\(base)/gallery/small.jpg", "\(base)/gallery/large.jpg", "\(base)/gallery/lazy.jpg", "\(base)/original.jpg",
            "\(base)/gallery/pic-2x.jpg", "\(base)/files/linked.JPG?size=big",
        ]))
        #expect(links.pages == ["\(base)/gallery/next.html"])
    }

    @Test func baseHrefChangesResolution() {
        let html = "<html><head><base href='https://cdn.example/assets/'></head><body><img src='a.png'></body></html>"
        #expect(PageScraper.links(in: Array(html.utf8), pageURL: "http://site.example/x/").images == ["https://cdn.example/assets/a.png"])
    }

    @Test func srcsetPicksTheLargestCandidate() {
        #expect(PageScraper.largestCandidate("a.jpg 1x, b.jpg 3x, c.jpg 2x") == "b.jpg")
        #expect(PageScraper.largestCandidate("a.jpg 100w,b.jpg 50w") == "a.jpg")
        #expect(PageScraper.largestCandidate("only.jpg") == "only.jpg")
    }

    @Test func scrapingFetchesThePageImagesAndFollowsLinksToADepth() throws {
        let photo = samplePhoto
        let server = try LoopbackHTTPServer { request in
            switch request.path {
            case "/gallery/index.html": return .ok(Array(ScrapeTests.page.utf8), contentType: "text/html")
            case "/gallery/next.html":
                return .ok(Array("<img src='page2.jpg'><a href='third.html'>more</a>".utf8), contentType: "text/html")
            case "/gallery/third.html": return .ok(Array("<img src='page3.jpg'>".utf8), contentType: "text/html")
            default:
                return request.path.lowercased().contains(".jp") ? .ok(photo, contentType: "image/jpeg") : .status(404)
            }
        }
        let fixture = FetchFixture()
        let summary = try fixture.fetch {
            $0.pages = [server.baseURL + "/gallery/index.html"]
            $0.label = try! Label("gallery")
            $0.depth = 1
        }
        #expect(summary.pagesScraped == 2)  // depth 1: the page and next.html, not third.html
        let items = try fixture.items()
        let sources = Set(items.map(\.source))
        #expect(sources.contains(server.baseURL + "/gallery/large.jpg"))
        #expect(sources.contains(server.baseURL + "/gallery/page2.jpg"))
        #expect(!sources.contains(server.baseURL + "/gallery/page3.jpg"))
        #expect(items.allSatisfy { $0.label.name == "gallery" })
        // Everything on this host was fetched; the other-port og image failed to connect.
        for item in items where item.source.hasPrefix(server.baseURL) { #expect(item.status == .ok, "\(item.source)") }
        #expect(items.first { $0.source.contains(":1/") }?.status == .failed)
        #expect(!server.requests.contains { $0.path == "/gallery/third.html" })
    }
}
