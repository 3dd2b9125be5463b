import Catalog
import HTTPBodies
import HTTPServing
import HTTPTypes
import Hummingbird
import StageContract

/// Changing the catalog: `POST /api/decisions` (keep, exclude or label items, or every item of a filter) and
/// `POST /api/undo` (the last decision). Each needs the session's token in `X-Review-Token` and a JSON body within
/// the size limit; a decision on a stale view is a 409 and changes nothing.
struct DecisionRoutes {
    let server: ReviewServer

    static let tokenHeader = HTTPField.Name("X-Review-Token")!

    func add(to router: Router<BasicRequestContext>) {
        let api = router.group("api")
        api.post("decisions") { request, _ in try await reply { () async throws(Replies.Failure) in try await decide(request) } }
        api.post("undo") { request, _ in try await reply { () async throws(Replies.Failure) in try await undo(request) } }
    }

    private func decide(_ request: Request) async throws(Replies.Failure) -> Response {
        try checkToken(request)
        guard Replies.contentType(request).mediaType == "application/json" else {
            throw Replies.Failure(status: .unsupportedMediaType, message: "send the decision as application/json")
        }
        let bytes = try await Replies.body(request, limit: server.options.maxBodyBytes, limitOption: "decisions are small")
        let body: ReviewDecisionBody
        do throws(BodyError) {
            body = try ReviewDecisionBody.parse(bytes)
        } catch {
            throw Replies.Failure(status: .badRequest, message: error.description)
        }
        let action: ReviewAction
        switch body.action {
        case .keep: action = .keep
        case .exclude: action = .exclude
        case .label:
            do throws(LabelError) { action = .label(try Label(body.label ?? "")) } catch {
                throw Replies.Failure(status: .unprocessableContent, message: "label: \(error)")
            }
        }
        let target: ReviewTarget
        if let items = body.items {
            target = .items(items.map { ItemRevision(id: $0.id, revision: $0.revision) })
        } else {
            let query = try ItemQuery(body.filter ?? [:], paging: false)
            target = .matching(query.filter, expected: body.expected ?? 0)
        }
        let note = body.note
        let result = await server.store.run { store -> Result<(ReviewOutcome, [CatalogItem]), ReviewRefusal> in
            Result { () throws(ReviewRefusal) in
                let outcome = try store.decide(action, on: target, note: note)
                guard let items = body.items else { return (outcome, []) }
                do { return (outcome, try store.catalog.items(ids: items.map(\.id))) } catch { return (outcome, []) }
            }
        }
        switch result {
        case .success(let (outcome, items)):
            if let batch = outcome.batch { server.logger.info("decision \(batch): \(outcome.action) on \(outcome.changed) items") }
            return Replies.json(DecisionReply(outcome, items: items.map(ItemView.init)))
        case .failure(let refusal): throw failure(refusal)
        }
    }

    private func undo(_ request: Request) async throws(Replies.Failure) -> Response {
        try checkToken(request)
        // The body is not used; it is read (within the limit) so the connection can go on.
        _ = try await Replies.body(request, limit: server.options.maxBodyBytes, limitOption: "decisions are small")
        let result = await server.store.run { store in Result { () throws(ReviewRefusal) in try store.undo() } }
        switch result {
        case .success(let outcome):
            if let outcome, let batch = outcome.batch { server.logger.info("undo of decision \(batch) (\(outcome.changed) items)") }
            return Replies.json(DecisionReply(outcome, items: []))
        case .failure(let refusal): throw failure(refusal)
        }
    }

    /// The page's token, compared in constant time.
    private func checkToken(_ request: Request) throws(Replies.Failure) {
        guard let given = request.headers[Self.tokenHeader] else {
            throw Replies.Failure(status: .forbidden, message: "a change needs the page's token in X-Review-Token: reload the review page")
        }
        guard APIKeyMiddleware<BasicRequestContext>.same(given, server.token) else {
            throw Replies.Failure(status: .forbidden, message: "the X-Review-Token is not this server's (it restarted?): reload the review page")
        }
    }

    private func failure(_ refusal: ReviewRefusal) -> Replies.Failure {
        switch refusal.kind {
        case .conflict: return Replies.Failure(status: .conflict, message: refusal.description)
        case .notFound: return Replies.Failure(status: .notFound, message: refusal.description)
        case .invalid: return Replies.Failure(status: .unprocessableContent, message: refusal.description)
        case .catalog:
            server.logger.error("catalog: \(refusal.description)")
            return Replies.Failure(status: .internalServerError, message: "the catalog could not be changed: \(refusal.description)")
        }
    }
}
