import Catalog
import HTTPServing
import HTTPTypes
import Hummingbird
import NIOCore
import StageContract

/// Reading the catalog: `GET /api/items` (a page of the grid with the counts beside each filter), `GET /api/items/:id`
/// (an item, its cluster side by side, its decisions), `GET /api/items/:id/thumbnail?side=N`, `GET /api/items/:id/file`
/// and `GET /api/journal`. Items are asked for by id only: no path ever comes from a request.
struct BrowseRoutes {
    let server: ReviewServer

    func add(to router: Router<BasicRequestContext>) {
        let api = router.group("api")
        api.get("items") { request, _ in try await reply { () async throws(Replies.Failure) in try await grid(request) } }
        api.get("items/:id") { _, context in try await reply { () async throws(Replies.Failure) in try await item(try id(context)) } }
        api.get("items/:id/thumbnail") { request, context in
            try await reply { () async throws(Replies.Failure) in try await thumbnail(try id(context), request) }
        }
        api.get("items/:id/file") { _, context in try await reply { () async throws(Replies.Failure) in try await file(try id(context)) } }
        api.get("journal") { _, _ in
            try await reply { () async throws(Replies.Failure) in
                let entries = try await catalog { store throws(CatalogError) in try store.catalog.journal(limit: 50) }
                return Replies.json(["journal": entries.map(JournalView.init)])
            }
        }
    }

    private func grid(_ request: Request) async throws(Replies.Failure) -> Response {
        let query = try ItemQuery(Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { $1 }), paging: true)
        let workspace = server.options.workspace.root
        let reply = try await catalog { store throws(CatalogError) -> GridReply in
            let groups = try store.groups(for: query.filter)
            let all = query.filter.cluster == nil ? groups : try store.groups()
            // A score or size order shows only the items that have the value.
            let total = groups.total(query.filter, sort: query.sort)
            let (matching, catalogItems) = (groups.total(query.filter), all.total(ItemFilter()))
            let items = try store.catalog.page(query.filter, sort: query.sort, offset: query.offset, limit: query.perPage,
                                               matchingShare: Double(matching) / Double(max(1, catalogItems)))
            let facets = groups.facets(query.filter)
            return GridReply(items: items.map(ItemView.init), total: total, matching: matching, page: query.page, perPage: query.perPage, sort: query.sort.rawValue,
                             facets: Dictionary(uniqueKeysWithValues: facets.map { ($0.key.rawValue, $0.value) }), labels: all.labels,
                             catalogItems: catalogItems, decidedSinceSplit: store.itemsDecidedSinceSplit(), workspace: workspace)
        }
        return Replies.json(reply)
    }

    private func item(_ id: Int64) async throws(Replies.Failure) -> Response {
        let found = try await catalog { store throws(CatalogError) -> (CatalogItem, [CatalogItem], [JournalEntry], [String])? in
            guard let item = try store.catalog.items(ids: [id]).first else { return nil }
            var members: [CatalogItem] = []
            if let cluster = item.cluster { members = try store.catalog.clusterMembers(cluster) }
            return (item, members, try store.catalog.journal(item: id, limit: 20), try store.groups().labels)
        }
        guard let (item, members, history, labels) = found else { throw notFound(id) }
        let keeper = members.first { $0.id == item.cluster }
        let conflict = members.contains { $0.reason == .curation(.labelConflict) }
        let cluster = members.map { member in
            let isKeeper = member.id == keeper?.id
            let why = member.status == .ok && isKeeper && !conflict ? DuplicateCluster.why(keeper: member, among: members)
                : member.status == .ok ? (member.manualStatus == .ok ? "kept by hand" : "kept") : (member.message ?? member.reason?.code ?? member.status.rawValue)
            return ClusterMember(item: ItemView(member), isKeeper: isKeeper, why: why)
        }
        return Replies.json(ItemReply(item: ItemView(item), cluster: cluster, history: history.map(JournalView.init), labels: labels))
    }

    private func thumbnail(_ id: Int64, _ request: Request) async throws(Replies.Failure) -> Response {
        var side = 256
        if let value = request.uri.queryParameters["side"] {
            guard let asked = Int(String(value)), Thumbnails.sides.contains(asked) else {
                throw Replies.Failure(status: .badRequest, message: "side=\(value.prefix(20)): the sizes are \(Thumbnails.sides.map(String.init).joined(separator: ", "))")
            }
            side = asked
        }
        let (path, sha256) = try await picture(id)
        // The address carries the content hash's start (`v`), so what it names never changes: cache it for good.
        let tag = "\"\(sha256.prefix(32))-\(side)\""
        if request.headers[.ifNoneMatch] == tag { return Response(status: .notModified, headers: [.eTag: tag]) }
        switch await server.thumbnails.thumbnail(path: path, sha256: sha256, side: side) {
        case .success(let jpeg):
            return Response(status: .ok, headers: [.contentType: "image/jpeg", .eTag: tag, .cacheControl: "private, max-age=31536000, immutable"],
                            body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
        case .failure(let error):
            throw Replies.Failure(status: .unprocessableContent, message: "item \(id): the stored file cannot be shown: \(error.reason.rawValue) (\(error.detail))")
        }
    }

    private func file(_ id: Int64) async throws(Replies.Failure) -> Response {
        let (path, _) = try await picture(id)
        switch await server.thumbnails.original(path: path) {
        case .success(let (bytes, type)):
            // Stored bytes come from the web: the browser may show them as the picture they are and nothing else.
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "private, max-age=3600",
                                                   HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                                                   .contentSecurityPolicy: "default-src 'none'; sandbox"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .failure(let error):
            throw Replies.Failure(status: .unprocessableContent, message: "item \(id): the stored file cannot be shown: \(error.reason.rawValue) (\(error.detail))")
        }
    }

    /// The stored file of an item that has one, and its content hash.
    private func picture(_ id: Int64) async throws(Replies.Failure) -> (path: String, sha256: String) {
        let found = try await catalog { store throws(CatalogError) in try store.catalog.items(ids: [id]).first }
        guard let item = found else { throw notFound(id) }
        guard let path = Thumbnails.safe(item.path), let sha256 = Thumbnails.safeHash(item.sha256), item.status == .ok || item.status == .excluded else {
            throw Replies.Failure(status: .notFound, message: "item \(id) has no stored picture (\(item.status.rawValue)\(item.reason.map { ": \($0.code)" } ?? ""))")
        }
        return (path, sha256)
    }

    /// `body` on the catalog's thread; a catalog failure is the server's (500).
    private func catalog<T: Sendable>(_ body: @escaping @Sendable (ReviewStore) throws(CatalogError) -> T) async throws(Replies.Failure) -> T {
        let result = await server.store.run { store in Result { () throws(CatalogError) in try body(store) } }
        switch result {
        case .success(let value): return value
        case .failure(let error):
            server.logger.error("catalog: \(error)")
            throw Replies.Failure(status: .internalServerError, message: "the catalog could not be read: \(error)")
        }
    }
}

/// The item id of a route's `:id`.
func id(_ context: BasicRequestContext) throws(Replies.Failure) -> Int64 {
    guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
        throw Replies.Failure(status: .badRequest, message: "an item is asked for by its id, a positive whole number")
    }
    return id
}

func notFound(_ id: Int64) -> Replies.Failure {
    Replies.Failure(status: .notFound, message: "no item with id \(id) in the catalog")
}

/// A route's answer, its failures as `{"error": ...}` with their status.
func reply(_ body: () async throws(Replies.Failure) -> Response) async throws -> Response {
    do throws(Replies.Failure) { return try await body() } catch {
        return Replies.error(error.message, status: error.status, headers: error.headers)
    }
}
