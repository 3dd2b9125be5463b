import Files
import Imaging

/// A grid picture of items, so a person can look instead of read: curate's duplicate clusters and quality flags,
/// Assist's label issues, semantic duplicates and off-topic images. One row of cells per group; each cell is a
/// thumbnail in a coloured frame (green kept, red left out, grey flagged).
public struct ContactSheet: Sendable, Codable {
    /// Relative to the workspace.
    public var path: String
    public var fileName: String { String(path.split(separator: "/").last ?? "") }
    /// The items shown, row by row (workspace-relative paths).
    public var rows: [[String]]
    /// Their catalog ids, row by row: identical pictures share one file, so the path alone cannot say which
    /// item was kept.
    public var ids: [[Int64]]

    public struct Cell: Sendable {
        public var path: String
        public var id: Int64
        public var frame: RGB
        public init(path: String, id: Int64, frame: RGB) {
            self.path = path
            self.id = id
            self.frame = frame
        }
    }

    public static let kept = RGB(40, 170, 60), leftOut = RGB(200, 40, 40), flagged = RGB(90, 90, 90)
    /// Cells per row of a sheet.
    public static let perRow = 8

    /// Draws `rows` (`ThumbnailGrid`) into `folder` (workspace-relative) as `name` (a JPEG); nil when it cannot be
    /// written.
    public static func draw(_ rows: [[Cell]], name: String, folder: String, in workspace: Workspace) -> ContactSheet? {
        let grid = ThumbnailGrid.draw(rows.map { $0.map { ThumbnailGrid.Cell(file: workspace.path($0.path), frame: $0.frame) } })
        guard (try? FileIO.createDirectory(workspace.path(folder))) != nil, let bytes = try? grid.jpegData(quality: 85),
              (try? FileIO.writeAtomically(bytes, to: workspace.path(folder) + "/" + name)) != nil else { return nil }
        return ContactSheet(path: folder + "/" + name, rows: rows.map { $0.map(\.path) }, ids: rows.map { $0.map(\.id) })
    }

    /// `cells` dealt into rows of `perRow`, at most `maxRows` rows.
    public static func rows(_ cells: [Cell], maxRows: Int = 6) -> [[Cell]] {
        let shown = Array(cells.prefix(perRow * maxRows))
        return stride(from: 0, to: shown.count, by: perRow).map { Array(shown[$0..<min(shown.count, $0 + perRow)]) }
    }
}
