import Engine
import Foundation
import StageContract

/// The report's pictures as SVG, which any browser shows (no Python needed).
enum ReportCharts {
    /// The confusion matrix as a heat map with counts; rows true labels, columns predicted.
    static func confusionMatrix(_ matrix: [[Int]], labels: [String]) -> String {
        let k = labels.count
        let cell = max(28, min(60, 600 / max(1, k)))
        let longest = labels.map(\.count).max() ?? 4
        let margin = 12 + 7 * longest
        let size = margin + k * cell + 20
        // The column names are turned 45°: the last reaches about 5 px a character right of its column's centre
        // (a width of `size` cut "transportation" to "transportatio").
        let width = margin + k * cell - cell / 2 + max(cell / 2 + 20, 5 * longest + 16)
        var svg = header(width: width, height: size + 30)
        svg += text(x: margin + k * cell / 2, y: 16, "predicted", anchor: "middle")
        for (r, row) in matrix.enumerated() {
            let total = max(1, row.reduce(0, +))
            for (c, count) in row.enumerated() {
                // Shade by the share of the true class: the diagonal reads as recall.
                let share = Double(count) / Double(total)
                let shade = Int(255 - share * 200)
                let (x, y) = (margin + c * cell, 30 + margin + r * cell)
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(shade),\(shade),255)\" stroke=\"#fff\"/>\n"
                svg += text(x: x + cell / 2, y: y + cell / 2 + 4, "\(count)", anchor: "middle", color: share > 0.6 ? "#fff" : "#000")
            }
            svg += text(x: margin - 6, y: 30 + margin + r * cell + cell / 2 + 4, escape(labels[r]), anchor: "end")
        }
        for (c, label) in labels.enumerated() {
            let (x, y) = (margin + c * cell + cell / 2, 30 + margin - 6)
            svg += "<text x=\"\(x)\" y=\"\(y)\" font-size=\"11\" font-family=\"sans-serif\" transform=\"rotate(-45 \(x) \(y))\">\(escape(label))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// Loss and accuracy per epoch, training and validation, side by side.
    static func trainingCurves(_ history: [EpochRecord]) -> String {
        let (panelWidth, panelHeight) = (420, 260)
        var svg = header(width: 2 * panelWidth + 30, height: panelHeight + 40)
        let losses: [(String, String, [Float?])] = [(Split.train.rawValue, "#1f77b4", history.map { Optional($0.trainLoss) }),
                                                    (Split.validation.rawValue, "#d62728", history.map(\.validationLoss))]
        let accuracies: [(String, String, [Float?])] = [(Split.train.rawValue, "#1f77b4", history.map { Optional($0.trainAccuracy) }),
                                                        (Split.validation.rawValue, "#d62728", history.map(\.validationAccuracy))]
        svg += panel("loss", losses, x: 10, width: panelWidth, height: panelHeight, range: nil)
        svg += panel("accuracy", accuracies, x: panelWidth + 20, width: panelWidth, height: panelHeight, range: (0, 1))
        return svg + "</svg>\n"
    }

    private static func panel(_ title: String, _ series: [(String, String, [Float?])], x: Int, width: Int, height: Int,
                              range: (Float, Float)?) -> String {
        let values = series.flatMap { $0.2.compactMap { $0 } }
        let (low, high) = range ?? (0, max(1e-6, values.max() ?? 1))
        let count = series.map(\.2.count).max() ?? 0
        let (left, top, plotWidth, plotHeight) = (x + 40, 30, width - 50, height - 40)
        var svg = text(x: x + width / 2, y: 18, title, anchor: "middle")
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#888\"/>\n"
        for tick in 0...4 {
            let value = low + (high - low) * Float(tick) / 4
            let y = top + plotHeight - plotHeight * tick / 4
            svg += text(x: left - 4, y: y + 4, String(format: "%.2f", value), anchor: "end")
        }
        svg += text(x: left + plotWidth / 2, y: top + plotHeight + 16, "epoch (1–\(count))", anchor: "middle")
        for (index, (name, color, points)) in series.enumerated() {
            let coordinates = points.enumerated().compactMap { i, v -> String? in
                guard let v else { return nil }
                let px = Double(left) + Double(plotWidth) * (count > 1 ? Double(i) / Double(count - 1) : 0.5)
                let py = Double(top + plotHeight) - Double(plotHeight) * Double((v - low) / max(1e-9, high - low))
                return String(format: "%.1f,%.1f", px, py)
            }
            guard !coordinates.isEmpty else { continue }
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coordinates.joined(separator: " "))\"/>\n"
            // A dot per epoch: a run of one epoch has no line to draw.
            for point in coordinates {
                let xy = point.split(separator: ",")
                svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(color)\"/>\n"
            }
            svg += text(x: left + 8, y: top + 14 + 14 * index, name, anchor: "start", color: color)
        }
        return svg
    }

    private static func header(width: Int, height: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
    }

    private static func text(x: Int, y: Int, _ content: String, anchor: String, color: String = "#000") -> String {
        "<text x=\"\(x)\" y=\"\(y)\" font-size=\"11\" font-family=\"sans-serif\" text-anchor=\"\(anchor)\" fill=\"\(color)\">\(content)</text>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
