import Foundation
import Imaging

/// The report page being written: every text that goes in is escaped here, every picture is inlined.
struct HTMLPage {
    /// A picture with what a person needs to tell it apart: its file name, then lines such as its label and
    /// whether it was kept.
    struct Thumbnail {
        var file: String
        /// Where it came from (a URL or a file), shown when the pointer rests on it.
        var source: String
        var title: String
        var lines: [String]
        var good: Bool
    }

    private let title: String
    private var body: [String] = []

    init(title: String) { self.title = title }

    var html: String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
        <style>\(Self.style)</style></head>
        <body>
        \(body.joined(separator: "\n"))
        </body></html>

        """
    }

    mutating func heading(_ level: Int, _ text: String) { body.append("<h\(level)>\(Self.escape(text))</h\(level)>") }

    /// A paragraph of HTML the caller built (its texts escaped).
    mutating func paragraph(_ html: String) { body.append("<p>\(html)</p>") }

    mutating func table(_ header: [String], _ rows: [[String]], caption: String) {
        var html = "<table><caption>\(Self.escape(caption))</caption><tr>" + header.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr>"
        for row in rows {
            html += "<tr>" + row.enumerated().map { $0.offset == 0 ? "<th>\(Self.escape($0.element))</th>" : "<td>\(Self.escape($0.element))</td>" }.joined() + "</tr>"
        }
        body.append(html + "</table>")
    }

    /// Rows of counts (row -> column -> count), `columnOrder` first, the other columns by total; with `shares`,
    /// each count with its share of the column.
    mutating func countTable(corner: String, rows: [String: [String: Int]], columnOrder: [String], caption: String, shares: Bool = false) {
        guard !rows.isEmpty else { return }
        var totals: [String: Int] = [:]
        for counts in rows.values { for (column, count) in counts { totals[column, default: 0] += count } }
        let columns = columnOrder.filter { totals[$0] != nil }
            + totals.keys.filter { !columnOrder.contains($0) }.sorted { (totals[$0]!, $1) > (totals[$1]!, $0) }
        var lines = rows.keys.sorted().map { name in
            [name] + columns.map { column in
                let count = rows[name]?[column] ?? 0
                return shares ? String(format: "%d (%.0f%%)", count, 100 * Double(count) / Double(max(1, totals[column]!))) : String(count)
            } + [String(rows[name]!.values.reduce(0, +))]
        }
        lines.append(["all"] + columns.map { String(totals[$0]!) } + [String(totals.values.reduce(0, +))])
        table([corner] + columns + ["all"], lines, caption: caption)
    }

    /// Horizontal bars, largest first, each with its name and count.
    mutating func bars(title: String, _ counts: [String: Int]) {
        guard let largest = counts.values.max(), largest > 0 else { return }
        var html = "<div class=bars><div class=caption>\(Self.escape(title))</div>"
        for (name, count) in counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            let width = max(1, 100 * count / largest)
            html += "<div class=bar><span class=name>\(Self.escape(name))</span><span class=fill style=\"width:\(width * 3)px\"></span><span>\(count)</span></div>"
        }
        body.append(html + "</div>")
    }

    /// An SVG chart, inlined as an image: a file copied in from elsewhere cannot run a script there.
    mutating func figure(svg: [UInt8], caption: String) {
        body.append("<figure><img src=\"data:image/svg+xml;base64,\(Data(svg).base64EncodedString())\" alt=\"\(Self.escape(caption))\">"
                    + "<figcaption>\(Self.escape(caption))</figcaption></figure>")
    }

    /// Pictures side by side, each with its file name and lines under it (a missing or unreadable file shows
    /// as a grey box, still labelled).
    mutating func thumbnailRow(_ thumbnails: [Thumbnail]) {
        var html = "<div class=row>"
        for t in thumbnails {
            let side = WorkspaceReport.thumbnailSide
            let picture = Self.dataURI(t.file, side: side).map { "<img src=\"\($0)\" alt=\"\(Self.escape(t.title))\">" }
                ?? "<div class=missing style=\"width:\(side)px;height:\(side)px\">no picture</div>"
            html += "<figure class=\"thumb \(t.good ? "good" : "bad")\" title=\"\(Self.escape(t.source))\">\(picture)<figcaption><b>\(Self.escape(t.title))</b>"
                + t.lines.filter { !$0.isEmpty }.map { "<br>\(Self.escape($0))" }.joined() + "</figcaption></figure>"
        }
        body.append(html + "</div>")
    }

    // MARK: Pieces

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// The last two parts of a path or URL (without its query and host), which tell a person which file it is:
    /// `circles/0.jpg` and `mirror/circles-0.jpg`, not both `0.jpg`.
    static func fileName(_ pathOrURL: String) -> String {
        let withoutQuery = pathOrURL.split(separator: "?", maxSplits: 1).first.map(String.init) ?? pathOrURL
        var parts = withoutQuery.split(separator: "/")
        if withoutQuery.contains("://") { parts = Array(parts.dropFirst(2)) }  // the scheme and the host
        let name = parts.suffix(2).joined(separator: "/")
        return name.count > 40 ? String(name.prefix(18)) + "…" + String(name.suffix(18)) : name.isEmpty ? pathOrURL : name
    }

    /// A URL's host (empty for a file path).
    static func host(_ source: String) -> String {
        guard let scheme = source.range(of: "://") else { return "" }
        return String(source[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" })
    }

    /// The file as an inline JPEG thumbnail, or nil when it cannot be read.
    static func dataURI(_ file: String, side: Int) -> String? {
        guard let thumbnail = ImageDecoder.thumbnail(file: file, side: side),
              let jpeg = try? thumbnail.jpegData(quality: 80) else { return nil }
        return "data:image/jpeg;base64," + Data(jpeg).base64EncodedString()
    }

    private static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
        h2{border-bottom:1px solid #ccc;margin-top:32px}
        table{border-collapse:collapse;margin:12px 0}caption{text-align:left;font-weight:bold;padding:4px 0}
        th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th:first-child{text-align:left}
        .bars{margin:12px 0}.bars .caption{font-weight:bold}.bar{display:flex;align-items:center;gap:8px;margin:2px 0}
        .bar .name{width:180px;text-align:right}.bar .fill{height:12px;background:#5577cc}
        .row{display:inline-flex;flex-wrap:wrap;gap:8px;margin:8px 24px 8px 0;vertical-align:top}
        .thumb{margin:0;width:112px;padding:4px;border:3px solid #999;font-size:11px;overflow-wrap:anywhere}
        .thumb.good{border-color:#2a2}.thumb.bad{border-color:#c33}.thumb img{display:block;margin:auto}
        .missing{background:#bbb;color:#444;display:flex;align-items:center;justify-content:center;margin:auto}
        figure{margin:12px 0}figcaption{color:#444}.good{color:#181}.bad{color:#b22}code{background:#f3f3f3;padding:0 3px}
        """
}
