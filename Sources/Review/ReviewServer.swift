// Review: the review web app (`imgcls review`), the catalog in the browser and a person's decisions into it. A
// Hummingbird application like `serve`'s, with the same guard against clients that never finish (HTTPServing).
// Entry: `ReviewServer`. Files in reading order:
//   ReviewServer.swift         the options, the application, who may call it (this file)
//   ReviewStore.swift          the catalog on a thread of its own, with the counts behind the filters kept in memory
//   Thumbnails.swift           pictures made on demand from the stored files, cached on disk by content hash
//   ItemQuery.swift            a filter from the page (query parameters or a decision's JSON) into the catalog's terms
//   Routes/PageRoutes.swift    the single page, its script and style (Assets/, embedded in the binary)
//   Routes/BrowseRoutes.swift  the grid, an item with its cluster and history, thumbnails and files
//   Routes/DecisionRoutes.swift  decisions and undo (POST, with the session's token)
//   Routes/ReviewReplies.swift   the JSON the page reads

import Catalog
import Files
import Foundation
import HTTPServing
import Hummingbird
import Logging
import StageContract

/// What `imgcls review` was asked.
public struct ReviewOptions: Sendable {
    public var workspace: Workspace
    public var host = "127.0.0.1"
    public var port = Workspace.reviewPort
    /// Required (HTTP Basic password, or Bearer) when the server binds anything but the loopback interface.
    public var apiKey: String?
    /// As `serve`'s: a connection whose headers or body stop arriving, or that sits idle, closes after this long.
    public var idleTimeoutSeconds = 60.0
    public var maxConnections = 512
    /// Decisions are small (10,000 items are 400 KB of JSON).
    public var maxBodyBytes = 1 << 20
    /// Threads that make thumbnails.
    public var thumbnailThreads = 2

    public init(workspace: Workspace) { self.workspace = workspace }

    /// The loopback interface: the only one served without an API key.
    var isLoopback: Bool { Self.isLoopback(host) }

    /// `localhost`, `::1`, or an IPv4 address in 127.0.0.0/8 written as one (not a name that merely starts "127.").
    static func isLoopback(_ name: String) -> Bool {
        let name = name.lowercased()
        if name == "localhost" || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127"
            && parts.allSatisfy { part in !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && UInt8(part) != nil }
    }
}

public typealias ReviewError = ErrorMessage

/// The review app: every route on one Hummingbird application over the workspace's catalog.
public struct ReviewServer: Sendable {
    public let options: ReviewOptions
    let store: ReviewStore
    let thumbnails: Thumbnails
    /// A secret of this server's run, given to the page it serves and required on every POST: another web page
    /// cannot read it, so it cannot make the browser decide anything (no cross-site request forgery).
    let token: String
    let logger: Logger

    public init(_ options: ReviewOptions, logger: Logger = Logger(label: "imgcls.review")) throws(ReviewError) {
        guard options.isLoopback || !(options.apiKey ?? "").isEmpty else {
            throw ReviewError("--host \(options.host) serves other machines: give --api-key (or IMGCLS_API_KEY) too, or bind 127.0.0.1")
        }
        guard options.idleTimeoutSeconds > 0, options.maxConnections >= 1 else {
            throw ReviewError("--idle-timeout must be above 0 seconds and --max-connections at least 1")
        }
        let catalog: Catalog
        do { catalog = try options.workspace.requireCatalog() } catch { throw ReviewError("\(error)") }
        self.options = options
        self.logger = logger
        store = ReviewStore(catalog: catalog, workspace: options.workspace)
        thumbnails = Thumbnails(workspace: options.workspace, threads: options.thumbnailThreads)
        var generator = SystemRandomNumberGenerator()
        token = (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }

    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: APIKeyMiddleware(key: options.apiKey, browser: true))
        if options.isLoopback { router.add(middleware: LoopbackHostMiddleware()) }
        PageRoutes(server: self).add(to: router)
        BrowseRoutes(server: self).add(to: router)
        DecisionRoutes(server: self).add(to: router)
        let http1 = ConnectionGuard.http1(maxConnections: options.maxConnections, maxBodyBytes: options.maxBodyBytes,
                                          limitOption: "decisions are small", idleTimeoutSeconds: options.idleTimeoutSeconds, logger: logger)
        return Application(
            router: router,
            server: .http1(configuration: http1),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "imgcls-review"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Serves until SIGTERM or SIGINT (swift-service-lifecycle), then returns.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        // The counts behind the filters before the first page is asked for (one pass over the catalog).
        _ = await store.run { store in try? store.groups() }
        try await application(onServerRunning: onServerRunning).runService()
    }
}

/// On the loopback interface, only requests addressed to it: a web page that points its own host name at 127.0.0.1
/// (DNS rebinding) sends its name in `Host` and is refused, so it cannot read the page's token or the catalog.
struct LoopbackHostMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority ?? ""
        let name = host.hasPrefix("[") ? String(host.prefix { $0 != "]" }.dropFirst()) : String(host.prefix { $0 != ":" })
        guard ReviewOptions.isLoopback(name) else {
            return Replies.error("this server answers requests to 127.0.0.1 or localhost only, not \(host.prefix(80))", status: .misdirectedRequest)
        }
        return try await next(request, context)
    }
}
