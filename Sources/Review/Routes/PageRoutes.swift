import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The single page and what it loads, from the binary (Assets/, embedded at build time: no files to install, no
/// network). The page carries the session's token; every answer forbids framing and outside scripts.
struct PageRoutes {
    let server: ReviewServer

    /// Only this server's own script, style and pictures; no framing by another site (clickjacking).
    static let policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

    func add(to router: Router<BasicRequestContext>) {
        let page = String(decoding: PackageResources.index_html, as: UTF8.self)
            .replacingOccurrences(of: "{{TOKEN}}", with: server.token)
        let pageBytes = Array(page.utf8)
        router.get("/") { _, _ in Self.asset(pageBytes, type: "text/html; charset=utf-8", cache: "no-store") }
        router.get("app.js") { _, _ in Self.asset(PackageResources.app_js, type: "text/javascript; charset=utf-8", cache: "no-cache") }
        router.get("app.css") { _, _ in Self.asset(PackageResources.app_css, type: "text/css; charset=utf-8", cache: "no-cache") }
    }

    static func asset(_ bytes: [UInt8], type: String, cache: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: cache, .contentSecurityPolicy: policy,
                                        HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Referrer-Policy")!: "no-referrer"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
