/// Confident learning (Northcutt, Jiang and Chuang, JAIR 2021), from the paper's definitions: the images whose
/// given label disagrees with the class a held-out model is confident about.
///
/// - Each class's threshold is the mean probability of that class over the images labelled with it (its
///   average self-confidence).
/// - An image's confident class is, among the classes whose probability reaches their threshold, the most
///   probable one; an image with none is counted nowhere.
/// - The confident joint C[given][confident] counts the images.
/// - `.offDiagonal`: the images off its diagonal are the issues. `.pruneByNoiseRate` (cleanlab's default, and
///   ours: on 5% flipped labels of a real set it finds more of them at the same precision; README): C calibrated
///   to the given labels' counts estimates how many images of given class i truly belong to j; of the images
///   labelled i, that many with the largest margin p(j) - p(i) are the issues. Either way, an image whose given
///   label is the most probable is never one.
/// Issues are ranked by self-confidence (the probability of the given label), lowest first.
public struct ConfidentLearning: Sendable {
    public enum Method: String, Sendable, Codable, CaseIterable {
        case pruneByNoiseRate = "prune_by_noise_rate", offDiagonal = "confident_learning"
    }

    public struct Issue: Sendable, Equatable {
        public let index: Int
        public let givenLabel: Int
        /// The most probable other class.
        public let suggestedLabel: Int
        /// The probability of the given label.
        public let selfConfidence: Double
    }

    public let classes: Int
    /// Per class: the mean probability of the class over the images labelled with it (1 for an empty class,
    /// so nothing is confidently put in it).
    public let thresholds: [Double]
    /// C[given][confident]: counts of images by given label and confident class.
    public let confidentJoint: [[Int]]
    /// The label issues, lowest self-confidence first (ties by index).
    public let issues: [Issue]

    /// `probabilities`: one row of `classes` values per image, from a model that did not train on it;
    /// `labels`: each image's given class, in 0..<classes.
    public init(probabilities: [[Double]], labels: [Int], classes: Int, method: Method = .pruneByNoiseRate) {
        precondition(probabilities.count == labels.count, "one probability row per label")
        self.classes = classes
        var sums = [Double](repeating: 0, count: classes), counts = [Int](repeating: 0, count: classes)
        for (row, label) in zip(probabilities, labels) {
            sums[label] += row[label]
            counts[label] += 1
        }
        // A hair below the mean, so an image at exactly the mean (a class of one, or ties) counts as confident.
        let thresholds = (0..<classes).map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) - 1e-9 : 1 }
        var joint = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var offDiagonal: [Int] = []
        for (index, (row, label)) in zip(probabilities, labels).enumerated() {
            var confident = -1
            for k in 0..<classes where row[k] >= thresholds[k] && (confident < 0 || row[k] > row[confident]) { confident = k }
            guard confident >= 0 else { continue }
            joint[label][confident] += 1
            if confident != label { offDiagonal.append(index) }
        }
        let found = method == .offDiagonal ? offDiagonal
            : Self.pruneByNoiseRate(probabilities, labels, classes: classes, joint: joint, counts: counts)
        var issues = found.compactMap { index -> Issue? in
            let row = probabilities[index], label = labels[index]
            // The given label the most probable (within cleanlab's 1e-6): no issue, whatever the counts said.
            var best = label
            for k in 0..<classes where k != label && row[k] > row[best] + (best == label ? 1e-6 : 0) { best = k }
            return best == label ? nil : Issue(index: index, givenLabel: label, suggestedLabel: best, selfConfidence: row[label])
        }
        issues.sort { $0.selfConfidence != $1.selfConfidence ? $0.selfConfidence < $1.selfConfidence : $0.index < $1.index }
        self.thresholds = thresholds
        confidentJoint = joint
        self.issues = issues
    }

    /// Of the images labelled i, the round(Q[i][j]) with the largest p(j) - p(i), for every j != i, where Q is the
    /// confident joint calibrated so that row i sums to the count of label i and the whole to n; every class keeps
    /// at least one image (the paper's section 3.2, with cleanlab's rounding).
    static func pruneByNoiseRate(_ p: [[Double]], _ labels: [Int], classes k: Int, joint: [[Int]], counts: [Int]) -> [Int] {
        var q = (0..<k).map { i -> [Double] in
            let total = Double(max(1, joint[i].reduce(0, +)))
            return joint[i].map { Double($0) / total * Double(counts[i]) }
        }
        let sum = q.joined().reduce(0, +), n = Double(labels.count)
        q = roundedKeepingRowTotals(q.map { $0.map { $0 / max(sum, 1e-300) * n } })
        // Counts to prune, by true class j (rows) and given class i (columns); each diagonal at least 1, the
        // rise taken evenly from the column's other non-zero counts.
        var prune = (0..<k).map { j in (0..<k).map { i in q[i][j] } }
        for i in 0..<k {
            let rise = max(prune[i][i], 1) - prune[i][i]
            let nonZero = max(Double((0..<k).filter { prune[$0][i] != 0 }.count) - 1, 1)
            for j in 0..<k where j != i { prune[j][i] = max(0, prune[j][i] - rise / nonZero) }
            prune[i][i] += rise
        }
        prune = roundedKeepingRowTotals(prune)
        var members = [[Int]](repeating: [], count: k)
        for (index, label) in labels.enumerated() { members[label].append(index) }
        var found = Set<Int>()
        for i in 0..<k where members[i].count > 1 {
            for j in 0..<k where j != i && prune[j][i] > 0 {
                let byMargin = members[i].sorted { a, b in
                    let (x, y) = (p[a][j] - p[a][i], p[b][j] - p[b][i])
                    return x != y ? x > y : a < b
                }
                found.formUnion(byMargin.prefix(Int(prune[j][i])))
            }
        }
        return found.sorted()
    }

    /// Each row rounded to whole numbers that keep its rounded total: the entries furthest below (or above) their
    /// value move by one until the total is right. Halves round to even, as NumPy's do (a calibrated count of
    /// 7.5 is common, and cleanlab's counts are NumPy's).
    static func roundedKeepingRowTotals(_ rows: [[Double]]) -> [[Double]] {
        rows.map { row in
            var ints = row.map { $0.rounded(.toNearestOrEven) }
            let target = row.reduce(0, +).rounded(.toNearestOrEven)
            var total = ints.reduce(0, +)
            while abs(total - target) > 1e-6 {
                let step: Double = target > total ? 1 : -1
                let order = row.indices.sorted { a, b in
                    let (x, y) = ((row[a] - ints[a]) * step, (row[b] - ints[b]) * step)
                    return x != y ? x > y : a < b
                }
                for i in order.prefix(min(Int(abs(target - total)), row.count)) { ints[i] += step }
                total = ints.reduce(0, +)
            }
            return ints
        }
    }
}
