@testable import Fetch
import Foundation
import LoopbackHTTP
import SampleImages
import StageContract
import Testing

@Suite struct ManifestTests {
    let fixture = FetchFixture()

    func write(_ relative: String, _ text: String) throws -> String {
        let path = fixture.folder.file(relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Ingests without fetching and returns (label, source) pairs of the catalog.
    func ingest(_ configure: (inout FetchRequest) -> Void) throws -> (IngestSummary, Set<String>) {
        let summary = try fixture.fetch {
            $0.dryRun = true
            configure(&$0)
        }
        return (summary.ingest, Set(try fixture.items().map { "\($0.label.name) \($0.source)" }))
    }

    @Test func textManifestsSkipCommentsAndCleanScrapedLines() throws {
        let path = try write("lists/cats/urls_cats.txt", """
            # a comment

            http://A.example.COM:80/a.jpg#frag
            https://b.example/b.jpg (formerly /r/b)
            https://preview.redd.it/x.jpg?width=432&amp;s=abc
            http://c.example/one_two.jpg](http://c.example/one_two.jpg
            http://d.example/esc\\_aped.jpg
            not a url
            ftp://e.example/e.jpg
            """)
        let (summary, rows) = try ingest { $0.manifests = [path] }
        #expect(summary.records == 7)
        #expect(summary.invalid == 2)
        #expect(rows.isSuperset(of: [
            "cats http://a.example.com/a.jpg", "cats https://b.example/b.jpg", "cats https://preview.redd.it/x.jpg?width=432&s=abc",
            "cats http://c.example/one_two.jpg", "cats http://d.example/esc_aped.jpg",
        ]))
        let invalid = try fixture.items().filter { $0.reason == .fetch(.invalidURL) }
        #expect(invalid.count == 2)
        #expect(invalid.allSatisfy { $0.status == .failed && $0.message?.contains("urls_cats.txt:") == true })
    }

    @Test func nsfwDataSourceURLsLayoutCountsEachURLOnce() throws {
        // raw_data/<category>/urls_<category>.txt is the union of its reddit_sub_* lists.
        _ = try write("repo/raw_data/age_college/urls_age_college.txt", "https://i.redd.it/a.jpg\nhttps://i.redd.it/b.jpg\n")
        _ = try write("repo/raw_data/age_college/reddit_sub_X/urls.txt", "https://i.redd.it/a.jpg\nhttps://i.redd.it/c.png\n")
        _ = try write("repo/raw_data/age_college/reddit_sub_Y/urls.txt", "https://i.redd.it/b.jpg\n")
        _ = try write("repo/raw_data/general-categories_p.o.v./urls_general-categories_p.o.v..txt", "https://i.redd.it/a.jpg\n")
        _ = try write("repo/README.md", "not a manifest")
        let (summary, rows) = try ingest { $0.manifests = [fixture.folder.file("repo")] }
        #expect(summary.records == 6)
        #expect(summary.added == 4)
        #expect(summary.alreadyKnown == 2)
        #expect(rows == ["age_college https://i.redd.it/a.jpg", "age_college https://i.redd.it/b.jpg",
                         "age_college https://i.redd.it/c.png", "general-categories_p.o.v. https://i.redd.it/a.jpg"])
    }

    @Test func labelMapsMapDropAndCountUnmapped() throws {
        _ = try write("raw_data/hentai_a/urls.txt", "https://x.example/1.jpg\n")
        _ = try write("raw_data/hentai_b/urls.txt", "https://x.example/2.jpg\n")
        _ = try write("raw_data/neutral/urls.txt", "https://x.example/3.jpg\n")
        _ = try write("raw_data/gore/urls.txt", "https://x.example/4.jpg\n")
        _ = try write("raw_data/mystery/urls.txt", "https://x.example/5.jpg\nhttps://x.example/6.jpg\n")
        let map = try LabelMap(text: "# test map\nhentai*: porn\nneutral = neutral\ngore: -\n")
        let (summary, rows) = try ingest {
            $0.manifests = [fixture.folder.path]
            $0.labelMap = map
        }
        #expect(rows == ["porn https://x.example/1.jpg", "porn https://x.example/2.jpg", "neutral https://x.example/3.jpg"])
        #expect(summary.unmapped == ["mystery": 2])
        #expect(summary.dropped == ["gore": 1])
    }

    @Test func csvTsvAndJSONLinesWithGzip() throws {
        let csv = try write("m/list.csv", "id,URL,label\n1,\"https://x.example/a,b.jpg\",cats\n2,https://x.example/c.jpg,dogs\n3,https://x.example/d.jpg,\n")
        let tsv = try write("m/list.tsv", "label\turl\ncats\thttps://x.example/e.jpg\n")
        let jsonl = fixture.folder.file("m/list.jsonl.gz")
        let lines = "{\"url\": \"https://x.example/f.jpg\", \"label\": \"dogs\"}\n{\"url\": \"https://x.example/g.jpg\", \"label\": \"cats\"}\n"
        try Data(Gzip.compress(Array(lines.utf8))).write(to: URL(fileURLWithPath: jsonl))
        let (_, rows) = try ingest { $0.manifests = [csv, tsv, jsonl] }
        #expect(rows == [
            "cats https://x.example/a,b.jpg", "dogs https://x.example/c.jpg", "m https://x.example/d.jpg",  // empty label: the folder's
            "cats https://x.example/e.jpg", "dogs https://x.example/f.jpg", "cats https://x.example/g.jpg",
        ])
    }

    @Test func strayQuotesAndNullLabelsLoseNothing() throws {
        let csv = try write("q/list.csv", "url,label\nhttps://x.example/a\"1.jpg,cats\nhttps://x.example/b.jpg,dogs\n\"https://x.example/c\nd.jpg\",cats\n")
        let jsonl = try write("q/list.jsonl", "{\"url\": \"https://x.example/e.jpg\", \"label\": null}\n{\"url\": \"https://x.example/f.jpg\", \"label\": 7}\n")
        let (summary, rows) = try ingest { $0.manifests = [csv, jsonl] }
        // Every record arrives (the quoted one spans two lines); the two with a quote or a line break inside
        // the URL are kept as invalid_url rows.
        #expect(summary.records == 5)
        #expect(rows.isSuperset(of: ["dogs https://x.example/b.jpg", "q https://x.example/e.jpg", "7 https://x.example/f.jpg",
                                     "cats https://x.example/a\"1.jpg", "cats https://x.example/c\nd.jpg"]))
    }

    @Test func anOverlongLineDoesNotHideTheRest() throws {
        let long = String(repeating: "x", count: 3 << 20)
        let path = try write("l/cats/urls.txt", "https://x.example/1.jpg\n\(long)\nhttps://x.example/2.jpg\n")
        let (summary, rows) = try ingest { $0.manifests = [path] }
        #expect(summary.records == 3 && summary.invalid == 1)
        #expect(rows.contains("cats https://x.example/2.jpg"))
    }

    @Test func aMissingURLColumnIsAClearError() throws {
        let csv = try write("m/list.csv", "link,label\nhttps://x.example/a.jpg,cats\n")
        do {
            _ = try ingest { $0.manifests = [csv] }
            Issue.record("no error")
        } catch let error as FetchError {
            #expect(error.description.contains("no \"url\" column") && error.description.contains("--url-column"))
        }
        let (_, rows) = try ingest {
            $0.manifests = [csv]
            $0.urlColumn = "link"
        }
        #expect(rows == ["cats https://x.example/a.jpg"])
    }

    @Test func shardsSplitTheManifestWithoutOverlap() throws {
        let urls = (0..<300).map { "https://x.example/\($0).jpg" }
        let path = try write("s/cats/urls.txt", urls.joined(separator: "\n"))
        var union = Set<String>()
        for k in 1...3 {
            let shard = FetchFixture()
            let summary = try shard.fetch {
                $0.manifests = [path]
                $0.shard = try! Shard(index: k, count: 3)
                $0.dryRun = true
            }
            let mine = Set(try shard.items().map(\.source))
            #expect(mine.isDisjoint(with: union))
            #expect(summary.ingest.otherShards == 300 - mine.count)
            #expect((60...140).contains(mine.count))
            union.formUnion(mine)
        }
        #expect(union.count == 300)
        #expect(throws: FetchError.self) { try Shard(parsing: "0/3") }
        #expect(throws: FetchError.self) { try Shard(parsing: "4/3") }
    }

    @Test func shardingByHostKeepsEachHostInOneShard() throws {
        let urls = (0..<40).flatMap { host in (0..<5).map { "https://h\(host).example/\($0).jpg" } }
        var owner: [String: Int] = [:]
        for k in 1...4 {
            let shard = try Shard(index: k, count: 4, by: .host)
            for url in urls where shard.contains(url) {
                let host = URLNormalizer.hostKey(url)
                #expect(owner[host, default: k] == k, "\(host) in shards \(owner[host]!) and \(k)")
                owner[host] = k
            }
        }
        #expect(owner.count == 40)
        #expect(Set(owner.values).count == 4)
        #expect(try Shard(parsing: "2/4", by: .host).marker == .init(index: 2, count: 4, by: "host"))
    }

    @Test func urlNormalisation() throws {
        #expect(try URLNormalizer.normalize("  HTTPS://Ex.COM:443/a/./b/../c.jpg?x=1#top ").get() == "https://ex.com/a/c.jpg?x=1")
        #expect(try URLNormalizer.normalize("http://ex.com/a b.jpg").get() == "http://ex.com/a%20b.jpg")
        #expect((try? URLNormalizer.normalize("ex.com/a.jpg").get()) == nil)
        #expect((try? URLNormalizer.normalize("javascript:alert(1)").get()) == nil)
        #expect((try? URLNormalizer.normalize("file:///etc/passwd").get()) == nil)
        #expect(URLNormalizer.hostKey("https://user@ex.com:8443/a?b") == "ex.com:8443")
    }

    @Test func robotsRules() {
        let rules = RobotsRules(parsing: Array("""
            User-agent: *
            Disallow: /private
            Allow: /private/open$
            Disallow: /*.gif$

            User-agent: imgcls
            User-agent: otherbot
            Disallow: /no-imgcls/
            Allow: /no-imgcls/yes
            Crawl-delay: 2
            """.utf8))
        #expect(rules.crawlDelay == 2)
        #expect(!rules.allows("https://h/no-imgcls/x.jpg"))
        #expect(rules.allows("https://h/no-imgcls/yes.jpg"))
        #expect(rules.allows("https://h/private/x.jpg"))  // our group does not inherit from *
        let general = RobotsRules(parsing: Array("User-agent: *\nDisallow: /private\nAllow: /private/open$\nDisallow: /*.gif$\n".utf8))
        #expect(!general.allows("https://h/private/x.jpg"))
        #expect(general.allows("https://h/private/open"))
        #expect(!general.allows("https://h/private/open/more"))
        #expect(!general.allows("https://h/a/b.gif"))
        #expect(general.allows("https://h/a/b.gif?x"))
        #expect(RobotsRules.robotsURL(for: "https://h.example:81/a/b?c") == "https://h.example:81/robots.txt")
        // An empty User-agent line names nobody.
        let empty = RobotsRules(parsing: Array("User-agent:\nDisallow: /\n\nUser-agent: *\nDisallow: /x\n".utf8))
        #expect(empty.allows("https://h/a") && !empty.allows("https://h/x"))
    }

    @Test func optOutHeaderParsing() {
        #expect(OptOut.forbidsAI(["noai"]))
        #expect(OptOut.forbidsAI(["noindex, NoImageAI"]))
        #expect(OptOut.forbidsAI(["imgcls: noai"]))
        #expect(!OptOut.forbidsAI(["otherbot: noai"]))
        #expect(!OptOut.forbidsAI(["noindex, nofollow"]))
    }
}

@Suite struct NormalizerFastPathTests {
    /// The fast path must accept only URLs libcurl's parser gives back unchanged.
    @Test(arguments: [
        "https://i.imgur.com/abc.jpg", "http://example.com:8080/a/b.png?x=1&y=2", "https://a.b-c.example/%7Euser/x.jpg",
        "http://example.com:80/a.jpg", "https://Example.com/a.jpg", "http://example.com/a/./b.jpg", "http://example.com/a/../b.jpg",
        "http://example.com/a/b/..", "http://example.com/.", "http://example.com/a#frag", "http://example.com/a b.jpg",
        "http://example.com/a|b", "http://example.com/%zz", "https://example.com/...hidden/x", "http://example.com/a.b/c..d",
        "http://example.com/x?a=/../b", "http://example.com/[x]", "http://example.com", "https://example.com:443/x",
        "http://example.com/caf%C3%A9.jpg", "http://example.com/it's(1)*!.jpg", "http://example.com/a?b=c+d",
        "http://127.1/x.jpg", "http://0x7f000001/x.jpg", "http://2130706433/x.jpg", "http://010.0.0.1/x",
    ])
    func fastPathAgreesWithLibcurl(url: String) {
        if URLNormalizer.isAlreadyNormal(url) {
            let viaCurl = URLNormalizer.resolve(url, against: "http://base.example/")
            #expect((try? viaCurl.get()) == url, "\(url) took the fast path but libcurl gives \(String(describing: try? viaCurl.get()))")
        }
    }

    @Test func commonURLsTakeTheFastPath() {
        #expect(URLNormalizer.isAlreadyNormal("https://i.redd.it/49d0cf60cxy11.jpg"))
        #expect(URLNormalizer.isAlreadyNormal("http://img-l3.xvideos.com/videos/thumbs/21/43/75/2143.3.jpg"))
        #expect(!URLNormalizer.isAlreadyNormal("HTTP://example.com/a.jpg"))
    }
}
