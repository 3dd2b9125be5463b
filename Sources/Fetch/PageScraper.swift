internal import CXML2
import Foundation

/// Image and page links found in an HTML page, resolved to absolute, normalised URLs.
struct PageLinks: Equatable {
    var images: [String] = []
    /// Links to other pages on the same host (for `--depth`).
    var pages: [String] = []
}

/// Reads HTML with libxml2's tolerant parser (real pages are rarely valid) and collects what a person would
/// call the page's images: `<img src>`, the largest `srcset` candidate, lazy-loading attributes, `<a href>`
/// to image files, `og:image` / `twitter:image`, `<link rel=image_src>`; relative URLs resolve against the
/// page or its `<base href>`.
enum PageScraper {
    static let imageExtensions: Set = ["jpg", "jpeg", "png", "gif", "webp", "bmp", "jfif", "pjpeg", "avif"]

    static func links(in html: [UInt8], pageURL: String) -> PageLinks {
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)
        let parsed = html.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                htmlReadMemory($0.baseAddress, Int32($0.count), pageURL, nil, options)
            }
        }
        guard let document = parsed else { return PageLinks() }
        defer { xmlFreeDoc(document) }
        var base = pageURL
        var imageRefs: [String] = [], pageRefs: [String] = []
        var stack: [xmlNodePtr] = []
        if let root = xmlDocGetRootElement(document) { stack.append(root) }
        while let node = stack.popLast() {
            if let next = node.pointee.next { stack.append(next) }
            guard node.pointee.type == XML_ELEMENT_NODE else { continue }
            if let child = node.pointee.children { stack.append(child) }
            let name = String(cString: node.pointee.name).lowercased()
            switch name {
            case "base":
                if let href = attribute(node, "href"), case .success(let resolved) = URLNormalizer.resolve(href, against: pageURL) {
                    base = resolved
                }
            case "img", "source":
                for key in ["src", "data-src", "data-original", "data-lazy-src", "data-url"] {
                    if let value = attribute(node, key) { imageRefs.append(value) }
                }
                for key in ["srcset", "data-srcset"] {
                    if let value = attribute(node, key), let largest = largestCandidate(value) { imageRefs.append(largest) }
                }
            case "a":
                if let href = attribute(node, "href") {
                    if looksLikeImage(href) { imageRefs.append(href) } else { pageRefs.append(href) }
                }
            case "meta":
                let key = (attribute(node, "property") ?? attribute(node, "name") ?? "").lowercased()
                if ["og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"].contains(key),
                   let content = attribute(node, "content") {
                    imageRefs.append(content)
                }
            case "link":
                if attribute(node, "rel")?.lowercased() == "image_src", let href = attribute(node, "href") {
                    imageRefs.append(href)
                }
            default:
                break
            }
        }
        let pageHost = URLNormalizer.hostKey(pageURL)
        var links = PageLinks()
        var seen = Set<String>()
        for ref in imageRefs {
            if case .success(let url) = URLNormalizer.resolve(ref, against: base), seen.insert(url).inserted {
                links.images.append(url)
            }
        }
        for ref in pageRefs {
            if case .success(let url) = URLNormalizer.resolve(ref, against: base), URLNormalizer.hostKey(url) == pageHost,
               seen.insert(url).inserted {
                links.pages.append(url)
            }
        }
        return links
    }

    private static func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
        guard let value = xmlGetProp(node, name) else { return nil }
        defer { imgcls_xml_free(value) }
        let text = String(cString: value).trimmingWhitespace()
        let lowered = text.lowercased()
        if text.isEmpty || lowered.hasPrefix("data:") || lowered.hasPrefix("javascript:") || lowered.hasPrefix("mailto:")
            || text.hasPrefix("#") {
            return nil
        }
        return text
    }

    /// The candidate with the largest width (`640w`) or density (`2x`) descriptor; without descriptors, the
    /// last one.
    static func largestCandidate(_ srcset: String) -> String? {
        var best: (url: String, size: Double)?
        for candidate in srcset.split(separator: ",") {
            let parts = candidate.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            guard let url = parts.first else { continue }
            var size = 1.0
            if parts.count > 1, let descriptor = parts.last, let unit = descriptor.last, unit == "w" || unit == "x" {
                size = Double(descriptor.dropLast()) ?? 1
                if unit == "x" { size *= 1e-6 }  // any width descriptor beats a density one
            }
            if best == nil || size >= best!.size { best = (String(url), size) }
        }
        return best?.url
    }

    static func looksLikeImage(_ href: String) -> Bool {
        let path = href.split(separator: "?", maxSplits: 1).first.map(String.init) ?? href
        let ext = (path.split(separator: "#").first.map(String.init) ?? path).split(separator: ".").last.map { $0.lowercased() } ?? ""
        return path.contains(".") && imageExtensions.contains(ext)
    }
}
