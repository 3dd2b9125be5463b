import Catalog
import Files
import Imaging

/// A grid picture of items, so a person can look instead of read: one for the largest duplicate clusters
/// (one cluster per row, the kept item first in a green frame, the others in red) and one per quality flag.
public struct ContactSheet: Sendable, Codable {
    /// Relative to the workspace.
    public var path: String
    public var fileName: String { String(path.split(separator: "/").last ?? "") }
    /// The items shown, row by row (workspace-relative paths).
    public var rows: [[String]]
    /// Their catalog ids, row by row: identical pictures share one file, so the path alone cannot say which
    /// item was kept.
    public var ids: [[Int64]]
}

struct ContactSheets {
    let workspace: Workspace
    static let cell = 96
    static let gap = 4
    static let perRow = 8

    /// Writes the sheets in `Workspace.contactSheetsFolder` and returns them (failures to decode a thumbnail leave a
    /// grey cell).
    func write(_ entries: [CurationEntry]) -> [ContactSheet] {
        let folder = workspace.path(Workspace.contactSheetsFolder.workspace)
        try? FileIO.createDirectory(folder)
        var sheets: [ContactSheet] = []
        var clusters: [Int64: [CurationEntry]] = [:]
        for e in entries { if let cluster = e.cluster { clusters[cluster, default: []].append(e) } }
        let largest = clusters.values.sorted { ($0.count, -$0[0].id) > ($1.count, -$1[0].id) }.prefix(12)
        if !largest.isEmpty {
            let rows = largest.map { members in
                members.sorted { ($0.id == $0.cluster ? 0 : 1, $0.id) < ($1.id == $1.cluster ? 0 : 1, $1.id) }
                    .prefix(ContactSheets.perRow).map { ($0.path, $0.id, $0.id == $0.cluster ? RGB(40, 170, 60) : RGB(200, 40, 40)) }
            }
            if let sheet = draw(Array(rows), name: "duplicates.jpg", folder: folder) { sheets.append(sheet) }
        }
        for flag in QualityFlag.allCases {
            let flagged = entries.filter { $0.flags.contains(flag) }.prefix(ContactSheets.perRow * 6)
            guard !flagged.isEmpty else { continue }
            let rows = stride(from: 0, to: flagged.count, by: ContactSheets.perRow).map { start in
                flagged.dropFirst(start).prefix(ContactSheets.perRow).map { ($0.path, $0.id, RGB(90, 90, 90)) }
            }
            if let sheet = draw(rows, name: "flag-\(flag.rawValue).jpg", folder: folder) { sheets.append(sheet) }
        }
        return sheets
    }

    private func draw(_ rows: [[(path: String, id: Int64, frame: RGB)]], name: String, folder: String) -> ContactSheet? {
        let step = ContactSheets.cell + ContactSheets.gap
        let columns = rows.map(\.count).max() ?? 0
        var sheet = RGBImage(width: ContactSheets.gap + columns * step, height: ContactSheets.gap + rows.count * step,
                             fill: RGB(24, 24, 24))
        for (r, row) in rows.enumerated() {
            for (c, (path, _, frame)) in row.enumerated() {
                let x = ContactSheets.gap + c * step, y = ContactSheets.gap + r * step
                sheet.fill(x: x, y: y, width: ContactSheets.cell, height: ContactSheets.cell, with: frame)
                let inner = ContactSheets.cell - 6
                if let thumbnail = ImageDecoder.thumbnail(file: workspace.path(path), side: inner) {
                    sheet.draw(thumbnail, x: x + 3 + (inner - thumbnail.width) / 2, y: y + 3 + (inner - thumbnail.height) / 2)
                } else {
                    sheet.fill(x: x + 3, y: y + 3, width: inner, height: inner, with: RGB(128, 128, 128))
                }
            }
        }
        guard let bytes = try? sheet.jpegData(quality: 85),
              (try? FileIO.writeAtomically(bytes, to: folder + "/" + name)) != nil else { return nil }
        return ContactSheet(path: Workspace.contactSheetsFolder.workspace + "/" + name, rows: rows.map { $0.map(\.path) },
                            ids: rows.map { $0.map(\.id) })
    }
}
