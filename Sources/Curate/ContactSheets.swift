import StageContract

/// Curate's contact sheets: one for the largest duplicate clusters (one cluster per row, the kept item first in a
/// green frame, the others in red) and one per quality flag.
struct ContactSheets {
    let workspace: Workspace

    /// Writes the sheets in `Workspace.contactSheetsFolder` and returns them.
    func write(_ entries: [CurationEntry]) -> [ContactSheet] {
        let folder = Workspace.contactSheetsFolder.workspace
        var sheets: [ContactSheet] = []
        var clusters: [Int64: [CurationEntry]] = [:]
        for e in entries { if let cluster = e.cluster { clusters[cluster, default: []].append(e) } }
        let largest = clusters.values.sorted { ($0.count, -$0[0].id) > ($1.count, -$1[0].id) }.prefix(12)
        if !largest.isEmpty {
            let rows = largest.map { members in
                members.sorted { ($0.id == $0.cluster ? 0 : 1, $0.id) < ($1.id == $1.cluster ? 0 : 1, $1.id) }
                    .prefix(ContactSheet.perRow)
                    .map { ContactSheet.Cell(path: $0.path, id: $0.id, frame: $0.id == $0.cluster ? ContactSheet.kept : ContactSheet.leftOut) }
            }
            if let sheet = ContactSheet.draw(Array(rows), name: "duplicates.jpg", folder: folder, in: workspace) { sheets.append(sheet) }
        }
        for flag in QualityFlag.allCases {
            let flagged = entries.filter { $0.flags.contains(flag) }.map { ContactSheet.Cell(path: $0.path, id: $0.id, frame: ContactSheet.flagged) }
            guard !flagged.isEmpty else { continue }
            if let sheet = ContactSheet.draw(ContactSheet.rows(flagged), name: "flag-\(flag.rawValue).jpg", folder: folder, in: workspace) {
                sheets.append(sheet)
            }
        }
        return sheets
    }
}
