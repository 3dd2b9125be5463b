import Catalog
import Files
import Foundation
import Train

/// What `imgcls curate --label-issues` asks for.
public struct LabelIssueRequest: Sendable {
    public var backbone: BackboneReference
    public var crossValidation = CrossValidation()
    /// Exclude the items found (`--exclude label_issue`) instead of only flagging them.
    public var exclude = false
    public var showProgress = false

    public init(backbone: BackboneReference) {
        self.backbone = backbone
    }
}

/// What it found.
public struct LabelIssueSummary: Sendable, Codable {
    public struct Found: Sendable, Codable {
        public var source: String
        public var path: String
        public var label: String
        public var suggested: String
        public var selfConfidence: Double
    }

    public var items = 0
    public var classes: [String] = []
    /// C[given][confident], in `classes` order.
    public var confidentJoint: [[Int]] = []
    /// The label issues, lowest self-confidence first.
    public var issues: [Found] = []
    public var excluded = 0
    public var seconds = 0.0
}

/// Label issues in the workspace's kept images: the backbone's features of each (cached), out-of-sample
/// probabilities from a cross-validated linear head, then confident learning. Each issue gets the flag
/// `label_issue`, its suggested label and its self-confidence in the catalog, and is excluded only when asked;
/// `curate --reset` (or a plain `curate`) clears them. Run after curate, which decides what is kept.
public struct LabelIssueRun {
    let workspace: Workspace
    let request: LabelIssueRequest

    public init(workspace: Workspace, request: LabelIssueRequest) {
        self.workspace = workspace
        self.request = request
    }

    public func run() throws -> LabelIssueSummary {
        let started = monotonicSeconds()
        let catalog = try workspace.requireCatalog()
        var items: [CatalogItem] = []
        try catalog.forEachItem(status: .ok) { item in if item.path != nil { items.append(item) } }
        let classes = Array(Set(items.map(\.label.name))).sorted()
        guard classes.count >= 2, items.count >= request.crossValidation.folds * classes.count else {
            throw AssistError("\(workspace.catalogPath): label issues need at least 2 labels and \(request.crossValidation.folds) kept images per label; run `imgcls curate` first")
        }
        let features = try BackboneFeatures.of(items.map { workspace.path($0.path!) }, backbone: request.backbone,
                                               workspace: workspace, showProgress: request.showProgress)
        // Images the backbone could not read take no part (curate has decoded every kept one, so there are few).
        let usable = items.indices.filter { features[$0] != nil }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let labels = usable.map { index[items[$0].label.name]! }
        let probabilities = request.crossValidation.probabilities(features: usable.flatMap { features[$0]! },
                                                                  width: BackboneFeatures.width, labels: labels, classes: classes.count)
        let learning = ConfidentLearning(probabilities: probabilities, labels: labels, classes: classes.count)
        var summary = LabelIssueSummary(items: usable.count, classes: classes, confidentJoint: learning.confidentJoint)
        try catalog.write { t throws(CatalogError) in
            for issue in learning.issues {
                var item = items[usable[issue.index]]
                item.flags = (Set(item.flags).union([.labelIssue])).sorted()
                item.suggestedLabel = classes[issue.suggestedLabel]
                item.labelScore = issue.selfConfidence
                if request.exclude {
                    item.status = .excluded
                    item.reason = .flag(.labelIssue)
                    item.message = "excluded by --exclude label_issue (suggested label: \(classes[issue.suggestedLabel]))"
                    summary.excluded += 1
                }
                _ = try t.upsert(item)
                summary.issues.append(.init(source: item.source, path: item.path ?? "", label: item.label.name,
                                            suggested: classes[issue.suggestedLabel], selfConfidence: issue.selfConfidence))
            }
        }
        summary.seconds = monotonicSeconds() - started
        return summary
    }
}

public struct AssistError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
