import Catalog
import Files
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Imaging
import NIOCore
@testable import Review
import SampleImages
import StageContract
import Testing

/// Every route of the review app in process, with good and bad input: each answer's status and content say what
/// they must (a value, or a refusal naming the field), and the catalog holds what the answers said.
@Suite struct ReviewRoutesTests {
    let fixture: ReviewFixture
    let server: ReviewServer

    init() throws {
        fixture = try ReviewFixture()
        var options = ReviewOptions(workspace: fixture.workspace)
        (options.port, options.maxBodyBytes) = (0, 64 << 10)
        server = try ReviewServer(options)
    }

    static let host: HTTPFields = [:]

    func json(_ response: TestResponse) throws -> [String: Any] {
        try require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any], "a JSON object")
    }

    func post(_ client: some TestClientProtocol, _ path: String, _ body: String, token: String? = nil,
              type: String = "application/json") async throws -> TestResponse {
        var headers = Self.host
        headers[.contentType] = type
        if let token = token ?? Optional(server.token), !token.isEmpty { headers[DecisionRoutes.tokenHeader] = token }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func thePageCarriesItsTokenAndAllowsOnlyItsOwnScripts() async throws {
        try await server.application().test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get, headers: Self.host)
            #expect(page.status == .ok && String(buffer: page.body).contains(#"content="\#(server.token)""#))
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            for asset in ["/app.js", "/app.css"] {
                let reply = try await client.execute(uri: asset, method: .get, headers: Self.host)
                #expect(reply.status == .ok && reply.body.readableBytes > 1000, "\(asset)")
            }
        }
    }

    @Test func theGridFiltersSortsCountsAndRefusesBadFields() async throws {
        try await server.application().test(.router) { client in
            let all = try json(try await client.execute(uri: "/api/items", method: .get, headers: Self.host))
            #expect(all["total"] as? Int == 13 && all["catalog_items"] as? Int == 13)
            let facets = try require(all["facets"] as? [String: [String: Int]])
            #expect(facets["label"] == ["cat": 4, "dog": 9])
            #expect(facets["status"]?["failed"] == 1 && facets["flag"]?["label_issue"] == 1)

            let flagged = try json(try await client.execute(uri: "/api/items?flag=label_issue", method: .get, headers: Self.host))
            let items = try require(flagged["items"] as? [[String: Any]])
            #expect(items.count == 1 && items[0]["suggested_label"] as? String == "dog" && flagged["total"] as? Int == 1)
            // Counts beside the other filters are those within this one.
            #expect((flagged["facets"] as? [String: [String: Int]])?["label"] == ["cat": 1])

            let byScore = try json(try await client.execute(uri: "/api/items?sort=nsfw_score&per_page=2", method: .get, headers: Self.host))
            #expect((byScore["items"] as? [[String: Any]])?.compactMap { $0["nsfw_score"] as? Double } == [0.5, 0.4])
            // The grid shows the scored items; "select all" decides on every item the filter matches.
            #expect(byScore["total"] as? Int == 6 && byScore["matching"] as? Int == 13)

            let cluster = try json(try await client.execute(uri: "/api/items?cluster=\(fixture.ids["keeper"]!)", method: .get, headers: Self.host))
            #expect(cluster["total"] as? Int == 2)

            for bad in ["flag=bogus", "status=gone", "label=..%2Fx", "page=0", "per_page=1000", "sort=random", "cluster=-1", "decided=maybe", "color=red", "reason=nope"] {
                let reply = try await client.execute(uri: "/api/items?\(bad)", method: .get, headers: Self.host)
                let field = String(bad.prefix { $0 != "=" })
                #expect(reply.status == .badRequest && ((try? json(reply))?["error"] as? String)?.contains(field) == true, "\(bad)")
            }
        }
    }

    @Test func anItemComesWithItsClusterAndItsPictures() async throws {
        try await server.application().test(.router) { client in
            let duplicate = fixture.ids["duplicate"]!
            let reply = try json(try await client.execute(uri: "/api/items/\(duplicate)", method: .get, headers: Self.host))
            let members = try require(reply["cluster"] as? [[String: Any]])
            #expect(members.count == 2 && members[0]["is_keeper"] as? Bool == true)
            #expect((members[0]["why"] as? String)?.hasPrefix("kept") == true && (members[1]["why"] as? String)?.contains("nearly the same") == true)

            let thumbnail = try await client.execute(uri: "/api/items/\(duplicate)/thumbnail?side=128", method: .get, headers: Self.host)
            #expect(thumbnail.status == .ok && thumbnail.headers[.contentType] == "image/jpeg")
            #expect(Array(buffer: thumbnail.body).prefix(3) == [0xFF, 0xD8, 0xFF])
            let picture = try ImageDecoderCheck.size(Array(buffer: thumbnail.body))
            #expect(max(picture.width, picture.height) == 104 || max(picture.width, picture.height) == 128)
            #expect(thumbnail.headers[.cacheControl]?.contains("immutable") == true)
            // Cached on disk by content hash and size.
            let sha = try fixture.item("duplicate").sha256!
            #expect(FileIO.kind(of: fixture.workspace.path(Workspace.thumbnailFile(sha256: sha, side: 128))) == .file)
            let again = try await client.execute(uri: "/api/items/\(duplicate)/thumbnail?side=128", method: .get,
                                                 headers: [.ifNoneMatch: thumbnail.headers[.eTag] ?? ""])
            #expect(again.status == .notModified)

            let file = try await client.execute(uri: "/api/items/\(duplicate)/file", method: .get, headers: Self.host)
            #expect(file.status == .ok && file.headers[.contentType] == "image/jpeg" && file.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")

            let checks: [(String, HTTPResponse.Status, String)] = [
                ("/api/items/999999", .notFound, "no item with id 999999"),
                ("/api/items/abc", .badRequest, "positive whole number"),
                ("/api/items/\(fixture.ids["failed"]!)/thumbnail", .notFound, "no stored picture"),
                ("/api/items/\(fixture.ids["broken"]!)/thumbnail", .unprocessableContent, "cannot be shown"),
                ("/api/items/\(duplicate)/thumbnail?side=7", .badRequest, "the sizes are"),
                ("/api/items/999999/file", .notFound, "no item"),
            ]
            for (uri, status, words) in checks {
                let reply = try await client.execute(uri: uri, method: .get, headers: Self.host)
                #expect(reply.status == status && ((try? json(reply))?["error"] as? String)?.contains(words) == true, "\(uri): \(String(buffer: reply.body))")
            }
        }
    }

    @Test func decisionsChangeTheCatalogAndAreJournaledAndUndone() async throws {
        try await server.application().test(.router) { client in
            _ = await server.store.run { store in try? store.groups() }  // the counts the app keeps, read once
            let issue = try fixture.item("issue")
            let relabel = try await post(client, "/api/decisions", #"{"action": "label", "label": "dog", "items": [{"id": \#(issue.id!), "revision": \#(issue.revision)}]}"#)
            #expect(relabel.status == .ok, "\(String(buffer: relabel.body))")
            let changed = try fixture.item("issue")
            #expect(changed.label.name == "dog" && changed.manualLabel && !changed.flags.contains(.labelIssue) && changed.revision == issue.revision + 1)

            // The same decision on what the page saw before is a conflict, and nothing changes.
            let stale = try await post(client, "/api/decisions", #"{"action": "exclude", "items": [{"id": \#(issue.id!), "revision": \#(issue.revision)}]}"#)
            #expect(stale.status == .conflict && ((try? json(stale))?["error"] as? String)?.contains("changed since you looked") == true)
            #expect(try fixture.item("issue").status == .ok)

            let dogs = try await client.execute(uri: "/api/items?label=dog&status=ok", method: .get, headers: Self.host)
            let count = try require(try json(dogs)["total"] as? Int)
            let excludeAll = try await post(client, "/api/decisions", #"{"action": "exclude", "note": "not dogs", "filter": {"label": "dog", "status": "ok"}, "expected": \#(count)}"#)
            #expect(excludeAll.status == .ok && ((try? json(excludeAll))?["changed"] as? Int) == count, "\(String(buffer: excludeAll.body))")
            let excluded = try fixture.item("dog3")
            #expect(excluded.status == .excluded && excluded.reason == .curation(.manual) && excluded.message == "not dogs" && excluded.manualStatus == .excluded)
            // The filter now matches nothing: the count the page saw is stale.
            let staleFilter = try await post(client, "/api/decisions", #"{"action": "keep", "filter": {"label": "dog", "status": "ok"}, "expected": \#(count)}"#)
            #expect(staleFilter.status == .conflict)

            // The counts the app moved by each decision are those the catalog gives when read again.
            let kept = await server.store.run { store in (try? store.groups())?.facets(ItemFilter()) }
            let fresh = try fixture.catalog().reviewGroups().facets(ItemFilter())
            #expect(kept == fresh && kept?[.reason]?["manual"] == count)

            let journal = try json(try await client.execute(uri: "/api/journal", method: .get, headers: Self.host))
            #expect((journal["journal"] as? [[String: Any]])?.map { $0["action"] as? String } == ["exclude", "label"])

            let undo = try await post(client, "/api/undo", "")
            #expect(undo.status == .ok && ((try? json(undo))?["changed"] as? Int) == count)
            #expect(try fixture.item("dog3").status == .ok && fixture.item("dog3").manualStatus == nil)
            #expect(try fixture.item("issue").label.name == "dog")
            _ = try await post(client, "/api/undo", "{}")
            let restored = try fixture.item("issue")
            #expect(restored.label.name == "cat" && !restored.manualLabel && restored.flags == [.blurry, .labelIssue] && restored.suggestedLabel == "dog")
            let nothing = try json(try await post(client, "/api/undo", ""))
            #expect(nothing["message"] as? String == "nothing to undo")
            let afterUndo = await server.store.run { store in (try? store.groups())?.facets(ItemFilter()) }
            #expect(afterUndo == (try fixture.catalog().reviewGroups().facets(ItemFilter())))
        }
    }

    @Test func badDecisionsAreRefusedWithTheirReason() async throws {
        try await server.application().test(.router) { client in
            let keeper = try fixture.item("keeper")
            let item = #"[{"id": \#(keeper.id!), "revision": \#(keeper.revision)}]"#
            let both = try fixture.item("both-cat")
            let checks: [(body: String, token: String?, type: String, status: HTTPResponse.Status, words: String)] = [
                (#"{"action": "keep", "items": \#(item)}"#, "", "application/json", .forbidden, "X-Review-Token"),
                (#"{"action": "keep", "items": \#(item)}"#, "0123", "application/json", .forbidden, "not this server's"),
                (#"{"action": "keep", "items": \#(item)}"#, nil, "text/plain", .unsupportedMediaType, "application/json"),
                (#"{"action": "keep", "items": \#(item)"#, nil, "application/json", .badRequest, "JSON object"),
                (#"{"action": "destroy", "items": \#(item)}"#, nil, "application/json", .badRequest, "action must be one of"),
                (#"{"action": "label", "label": "../etc", "items": \#(item)}"#, nil, "application/json", .unprocessableContent, "path separator"),
                (#"{"action": "label", "label": ".hidden", "items": \#(item)}"#, nil, "application/json", .unprocessableContent, "starts with a dot"),
                (#"{"action": "label", "items": \#(item)}"#, nil, "application/json", .badRequest, "needs the new label"),
                (#"{"action": "keep", "items": [{"id": 999999, "revision": 0}]}"#, nil, "application/json", .notFound, "no item with id 999999"),
                (#"{"action": "keep", "items": [{"id": "1", "revision": 0}]}"#, nil, "application/json", .badRequest, "items[0]"),
                (#"{"action": "keep", "items": []}"#, nil, "application/json", .badRequest, "send 1 to"),
                (#"{"action": "keep", "path": "/etc/passwd", "items": \#(item)}"#, nil, "application/json", .badRequest, "unknown field \"path\""),
                (#"{"action": "keep", "filter": {"flag": "bogus"}, "expected": 1}"#, nil, "application/json", .badRequest, "flag=bogus"),
                (#"{"action": "keep", "filter": {"label": "cat"}}"#, nil, "application/json", .badRequest, "expected"),
                (#"{"action": "label", "label": "dog", "items": [{"id": \#(both.id!), "revision": \#(both.revision)}]}"#, nil, "application/json",
                 .unprocessableContent, "already in the catalog as dog"),
                (#"{"action": "keep", "note": "\#(String(repeating: "n", count: 501))", "items": \#(item)}"#, nil, "application/json", .badRequest, "note is longer"),
                (#"{"action": "keep", "note": "\#(String(repeating: "n", count: 70_000))", "items": \#(item)}"#, nil, "application/json", .contentTooLarge, "limit"),
            ]
            for check in checks {
                let reply = try await post(client, "/api/decisions", check.body, token: check.token, type: check.type)
                let error = (try? json(reply))?["error"] as? String ?? String(buffer: reply.body)
                #expect(reply.status == check.status && error.contains(check.words), "\(check.body.prefix(90)): \(reply.status) \(error)")
            }
            // Nothing above changed the catalog, and nothing was journaled.
            #expect(try fixture.item("keeper").revision == keeper.revision && fixture.catalog().journal().isEmpty)
            let noToken = try await post(client, "/api/undo", "", token: "")
            #expect(noToken.status == .forbidden)
        }
    }

    /// Mutated decision bodies (bytes flipped, dropped, repeated; JSON values swapped for others) never get a 5xx,
    /// and each answer is JSON. Bounded: 1500 bodies.
    @Test(.timeLimit(.minutes(2))) func mutatedBodiesNeverGetAServerError() async throws {
        try await server.application().test(.router) { client in
            let keeper = try fixture.item("keeper")
            let seeds = [
                #"{"action": "keep", "note": "fine", "items": [{"id": \#(keeper.id!), "revision": \#(keeper.revision)}]}"#,
                #"{"action": "label", "label": "cat", "items": [{"id": 3, "revision": 1}, {"id": 4, "revision": 0}]}"#,
                #"{"action": "exclude", "filter": {"label": "dog", "flag": "blurry", "status": "ok"}, "expected": 0}"#,
                #"{"action": "keep", "filter": {"cluster": "1", "decided": "no", "split": "none", "reason": "none"}, "expected": 2}"#,
            ]
            let splices = ["null", "true", "-1", "1e309", "0.5", "\"\"", "[]", "{}", "\"\\u0000\"", "9223372036854775808", "\"../../x\"", "{\"a\":[[[[]]]]}"]
            var random = SplitMix64(seed: 29)
            var statuses: [Int: Int] = [:]  // of the decisions (undo answers 200 when there is nothing to undo)
            for round in 0..<1500 {
                var bytes = Array(seeds[round % seeds.count].utf8)
                for _ in 0..<(1 + random.next(below: 3)) {
                    let at = random.next(below: bytes.count)
                    switch random.next(below: 5) {
                    case 0: bytes[at] ^= UInt8(1 << random.next(below: 8))
                    case 1: bytes.remove(at: at)
                    case 2: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 8)], at: at)
                    case 3: bytes = Array(bytes.prefix(at))
                    default:
                        let end = min(bytes.count, at + 1 + random.next(below: 6))
                        bytes.replaceSubrange(at..<end, with: Array(splices[random.next(below: splices.count)].utf8))
                    }
                    if bytes.isEmpty { bytes = Array("{".utf8) }
                }
                var headers = Self.host
                (headers[.contentType], headers[DecisionRoutes.tokenHeader]) = ("application/json", server.token)
                let reply = try await client.execute(uri: round % 10 == 9 ? "/api/undo" : "/api/decisions", method: .post, headers: headers,
                                                     body: ByteBuffer(bytes: bytes))
                if round % 10 != 9 { statuses[Int(reply.status.code), default: 0] += 1 }
                #expect(reply.status.code < 500, "\(String(decoding: bytes, as: UTF8.self)): \(String(buffer: reply.body))")
                #expect((try? json(reply)) != nil, "not JSON: \(String(buffer: reply.body))")
            }
            #expect(statuses[400, default: 0] > 300 && statuses.keys.contains(200), "\(statuses)")
        }
    }
}

/// The journal on its own: undo after several decisions on one item, and the refusals that keep the catalog whole.
@Suite struct ReviewJournalTests {
    @Test func threeDecisionsOnOneItemUndoOneByOne() throws {
        let fixture = try ReviewFixture()
        let catalog = try fixture.catalog()
        let start = try fixture.item("keeper")
        var revision = start.revision
        for action in [ReviewAction.exclude, .keep, .label(try Label("bird"))] {
            let outcome = try catalog.decide(action, on: .items([ItemRevision(id: start.id!, revision: revision)]), note: nil)
            #expect(outcome.changed == 1 && outcome.batch != nil)
            revision = try fixture.item("keeper").revision
        }
        #expect(try fixture.item("keeper").label.name == "bird")
        for expected in ["undo label", "undo keep", "undo exclude"] { #expect(try catalog.undoLastDecision()?.action == expected) }
        let back = try fixture.item("keeper")
        #expect(back.label == start.label && back.status == start.status && back.manualStatus == nil && !back.manualLabel)
        #expect(try catalog.undoLastDecision() == nil)
    }

    @Test func theCountsGiveEveryOrdersTotalAsSQLCountsIt() throws {
        let fixture = try ReviewFixture()
        let catalog = try fixture.catalog()
        let groups = try catalog.reviewGroups()
        var dogs = ItemFilter(), issues = ItemFilter(), ok = ItemFilter()
        (dogs.label, issues.flag, ok.status) = (try Label("dog"), .labelIssue, .ok)
        for filter in [ItemFilter(), dogs, issues, ok] {
            for sort in ItemSort.allCases {
                #expect(groups.total(filter, sort: sort) == (try catalog.count(filter, sort: sort)), "\(filter) \(sort)")
            }
        }
    }

    @Test func aDecisionThatChangesNothingWritesNothing() throws {
        let fixture = try ReviewFixture()
        let catalog = try fixture.catalog()
        let item = try fixture.item("dog0")
        let outcome = try catalog.decide(.label(try Label("dog")), on: .items([ItemRevision(id: item.id!, revision: item.revision)]), note: nil)
        #expect(try outcome.batch == nil && outcome.changed == 0 && outcome.unchanged == 1 && catalog.journal().isEmpty)
    }

    @Test func twoRowsOfOneSourceCannotTakeOneLabel() throws {
        let fixture = try ReviewFixture()
        let (cat, dog) = (try fixture.item("both-cat"), try fixture.item("both-dog"))
        let both = [ItemRevision(id: cat.id!, revision: cat.revision), ItemRevision(id: dog.id!, revision: dog.revision)]
        #expect {
            try fixture.catalog().decide(.label(try Label("bird")), on: .items(both), note: nil)
        } throws: { ($0 as? ReviewRefusal)?.kind == .invalid && "\($0)".contains("under two labels") }
        #expect(try fixture.item("both-cat").label.name == "cat" && fixture.catalog().journal().isEmpty)
    }

    @Test func onlyLoopbackNamesAreLoopback() {
        for name in ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1"] { #expect(ReviewOptions.isLoopback(name), "\(name)") }
        for name in ["127.evil.example", "127.0.0.1.evil.example", "1270.0.0.1", "0.0.0.0", "example.com", "127.0.0.256", "", "[::1]"] {
            #expect(!ReviewOptions.isLoopback(name), "\(name)")
        }
    }
}

/// The size of an encoded picture, through the product's own decoder.
enum ImageDecoderCheck {
    static func size(_ bytes: [UInt8]) throws -> (width: Int, height: Int) {
        let image = try Imaging.ImageDecoder.decode(bytes)
        return (image.width, image.height)
    }
}
