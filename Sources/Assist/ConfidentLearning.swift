// Assist: curation decisions that need a model (issue 15). Entry: `LabelIssueRun` (LabelIssueRun.swift: a
// `LabelIssueRequest` in, a `LabelIssueSummary` out). Files in reading order:
//   LabelIssueRun.swift       the kept images' backbone features, probabilities, issues into the catalog
//   CrossValidation.swift     out-of-sample probabilities from a k-fold linear head
//   ConfidentLearning.swift   label issues from those probabilities (this file)
// Semantic near-duplicates and off-topic images are to follow.

/// Confident learning (Northcutt, Jiang and Chuang, JAIR 2021), from the paper's definitions: the images whose
/// given label disagrees with the class a held-out model is confident about.
///
/// - Each class's threshold is the mean probability of that class over the images labelled with it (its
///   average self-confidence).
/// - An image's confident class is, among the classes whose probability reaches their threshold, the most
///   probable one; an image with none is counted nowhere.
/// - The confident joint C[given][confident] counts the images; those off its diagonal are the label issues,
///   ranked by self-confidence (the probability of the given label), lowest first.
public struct ConfidentLearning: Sendable {
    public struct Issue: Sendable, Equatable {
        public let index: Int
        public let givenLabel: Int
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
    public init(probabilities: [[Double]], labels: [Int], classes: Int) {
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
        var issues: [Issue] = []
        for (index, (row, label)) in zip(probabilities, labels).enumerated() {
            var confident = -1
            for k in 0..<classes where row[k] >= thresholds[k] && (confident < 0 || row[k] > row[confident]) { confident = k }
            guard confident >= 0 else { continue }
            joint[label][confident] += 1
            if confident != label {
                issues.append(Issue(index: index, givenLabel: label, suggestedLabel: confident, selfConfidence: row[label]))
            }
        }
        issues.sort { $0.selfConfidence != $1.selfConfidence ? $0.selfConfidence < $1.selfConfidence : $0.index < $1.index }
        self.thresholds = thresholds
        confidentJoint = joint
        self.issues = issues
    }
}
