import Engine

/// The kept images' backbone features as one row-major matrix, as they came (for the linear head, which
/// standardises them) and scaled to unit length (cosine similarity is then a dot product), with their labels.
struct FeatureMatrix {
    let count: Int
    let width: Int
    let raw: [Float]
    let unit: [Float]
    let labels: [Int]
    let classes: Int

    init(rows: [[Float]], labels: [Int], classes: Int) {
        count = rows.count
        width = rows.first?.count ?? BackboneFeatures.width
        raw = rows.flatMap { $0 }
        unit = Self.unitRows(raw, width: width)
        self.labels = labels
        self.classes = classes
    }

    static func unitRows(_ rows: [Float], width: Int) -> [Float] {
        var unit = rows
        for start in stride(from: 0, to: unit.count, by: width) {
            var square: Float = 0
            for j in start..<(start + width) { square += unit[j] * unit[j] }
            let scale = 1 / max(square.squareRoot(), 1e-12)
            for j in start..<(start + width) { unit[j] *= scale }
        }
        return unit
    }

    /// Each class's mean direction (the unit-length mean of its unit rows), `classes` rows.
    func centroids() -> [Float] {
        var sums = [Float](repeating: 0, count: classes * width)
        for (i, label) in labels.enumerated() {
            for j in 0..<width { sums[label * width + j] += unit[i * width + j] }
        }
        return Self.unitRows(sums, width: width)
    }
}
