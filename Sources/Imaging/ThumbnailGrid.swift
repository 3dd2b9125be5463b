/// A grid of thumbnails, each in a coloured frame on a dark ground, one row per group: the picture behind the
/// contact sheets a person looks at instead of reading lists. A file that cannot be decoded leaves a grey cell.
public enum ThumbnailGrid {
    /// A cell's side and the gap between cells, in pixels.
    public static let cell = 96, gap = 4

    public struct Cell: Sendable {
        public var file: String
        public var frame: RGB

        public init(file: String, frame: RGB) {
            (self.file, self.frame) = (file, frame)
        }
    }

    public static func draw(_ rows: [[Cell]]) -> RGBImage {
        let step = cell + gap
        let columns = rows.map(\.count).max() ?? 0
        var grid = RGBImage(width: gap + columns * step, height: gap + rows.count * step, fill: RGB(24, 24, 24))
        for (r, row) in rows.enumerated() {
            for (c, item) in row.enumerated() {
                let x = gap + c * step, y = gap + r * step
                grid.fill(x: x, y: y, width: cell, height: cell, with: item.frame)
                let inner = cell - 6
                if let thumbnail = ImageDecoder.thumbnail(file: item.file, side: inner) {
                    grid.draw(thumbnail, x: x + 3 + (inner - thumbnail.width) / 2, y: y + 3 + (inner - thumbnail.height) / 2)
                } else {
                    grid.fill(x: x + 3, y: y + 3, width: inner, height: inner, with: RGB(128, 128, 128))
                }
            }
        }
        return grid
    }
}
