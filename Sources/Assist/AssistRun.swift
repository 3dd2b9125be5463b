// Assist: curation decisions that need a model (issue 15). Entry: `AssistRun` (an `AssistRequest` in, an
// `AssistSummary` out): the kept images' backbone features, once, for three analyses. Files in reading order:
//   AssistRun.swift           features in, decisions into the catalog, the report out (this file)
//   FeatureMatrix.swift       unit-length features and class centroids, shared by the analyses
//   CrossValidation.swift     out-of-sample probabilities from a k-fold linear head
//   ConfidentLearning.swift   label issues from those probabilities
//   SemanticIndex.swift       pairs within a cosine threshold: exact, or a k-means partition searched exactly
//   Verification/             those pairs checked with local features: corners that agree on one transform
//                             (LocalFeatures.swift the oriented corners, PairVerification.swift the RANSAC fit)
//   OffTopic.swift            images far from every class
//   AssistReport.swift        assist.json, assist.md and the contact sheets
//   Relabel.swift             corrections a person accepted, back into the catalog (`imgcls relabel`)

import Catalog
import Console
import Engine
import Files
import Foundation
import StageContract

/// What `imgcls curate --label-issues / --semantic-duplicates / --off-topic` asks for.
public struct AssistRequest: Sendable {
    /// The backbones whose features the label-issue and off-topic analyses read (several: side by side,
    /// `BackboneFeatures.views`).
    public var backbones: [BackboneReference]
    /// The backbones whose features the semantic-duplicate search reads: its threshold was measured on one
    /// backbone's cosine similarities, which several side by side change.
    public var semanticBackbones: [BackboneReference]
    public var labelIssues = false
    public var semanticDuplicates = false
    public var offTopic = false
    public var crossValidation = CrossValidation()
    /// Cosine similarity of pooled features at or above which two images are candidates for the same picture.
    public var semanticThreshold: Float = SemanticIndex.defaultThreshold
    /// Search with each image's quarter-turned view too, so copies turned 90° are candidates (features twice).
    public var semanticQuarterTurns = true
    /// The check of each candidate pair with local features; nil: the cosine alone decides.
    public var semanticVerification: PairVerification? = PairVerification()
    /// Keep semantic duplicates (still clustered, so the split keeps them on one side), as --keep-near-duplicates.
    public var keepSemanticDuplicates = false
    public var offTopicRule = OffTopic.Rule()
    /// `curate --nsfw`: open_nsfw's probability for every kept image, flagged `nsfw` at or above the threshold.
    public var nsfw: NSFWCheck?
    /// Flags that exclude what they mark: `label_issue`, `off_topic`, `nsfw`.
    public var exclude: Set<QualityFlag> = []
    public var showProgress = false

    public init(backbones: [BackboneReference], semanticBackbones: [BackboneReference]? = nil) {
        self.backbones = backbones
        self.semanticBackbones = semanticBackbones ?? backbones
    }

    /// Whether an analysis on the backbone's features is asked (not only the nsfw scores).
    var needsFeatures: Bool { labelIssues || semanticDuplicates || offTopic }
}

/// The moderation check: a classifier with an `nsfw` label (open_nsfw, `imgcls backbone install open-nsfw`) run
/// on every kept image.
public struct NSFWCheck: Sendable {
    public var backbone: BackboneReference
    /// Probabilities at or above this are flagged `nsfw` (excluded only with `--exclude nsfw`).
    public var threshold = 0.8

    public init(backbone: BackboneReference) { self.backbone = backbone }
}

/// What one pass found; written to `data/reports/assist.json` (and `.md`).
public struct AssistSummary: Sendable, Codable {
    /// One image named in the summary.
    public struct Image: Sendable, Codable {
        public var id: Int64
        public var source: String
        public var path: String
        public var label: String
    }

    public struct LabelIssues: Sendable, Codable {
        public struct Found: Sendable, Codable {
            public var image: Image
            public var suggested: String
            /// The probability a held-out model gave the given label.
            public var selfConfidence: Double
        }
        public var folds = 0
        /// C[given][confident], in `classes` order.
        public var confidentJoint: [[Int]] = []
        /// Lowest self-confidence first.
        public var found: [Found] = []
        public var excluded = 0
    }

    public struct SemanticDuplicates: Sendable, Codable {
        public struct Cluster: Sendable, Codable {
            /// The kept image first.
            public var images: [Image]
            /// The lowest cosine similarity of the pairs that joined it.
            public var similarity: Double
            public var labelConflict: Bool
        }
        public var threshold = 0.0
        /// Candidate pairs at the threshold, and those the local-feature check confirmed (all when unchecked).
        public var candidates = 0
        public var pairs = 0
        /// The least matching corners that confirm a pair (0: unchecked).
        public var minimumInliers = 0
        /// Whether each image's quarter-turned view was searched too.
        public var quarterTurns = false
        /// Largest first.
        public var clusters: [Cluster] = []
        public var excluded = 0
        /// "exact" or "partitioned": how the pairs were searched.
        public var search = ""
    }

    public struct OffTopic: Sendable, Codable {
        public struct Found: Sendable, Codable {
            public var image: Image
            /// Robust standard deviations below the nearest class's typical similarity to its centroid.
            public var score: Double
            public var centroidSimilarity: Double
            public var bestProbability: Double
        }
        public var rule: Assist.OffTopic.Rule
        /// Most off-topic first.
        public var found: [Found] = []
        public var excluded = 0
    }

    public struct NSFW: Sendable, Codable {
        public struct Found: Sendable, Codable {
            public var image: Image
            public var score: Double
        }
        public var backbone = ""
        public var threshold = 0.0
        public var scored = 0
        /// Highest score first.
        public var found: [Found] = []
        public var excluded = 0
    }

    public var backbone = ""
    public var items = 0
    public var classes: [String] = []
    public var labelIssues: LabelIssues?
    public var semanticDuplicates: SemanticDuplicates?
    public var offTopic: OffTopic?
    public var nsfw: NSFW?
    public var contactSheets: [ContactSheet] = []
    public var featureSeconds = 0.0
    public var seconds = 0.0
}

/// Model-assisted curation of the workspace's kept images, after curate (which decides what is kept): label
/// issues (`label_issue` with the suggested label), semantic duplicates (excluded as `semantic_duplicate` and
/// clustered with curate's near duplicates, so the split keeps them together), off-topic images (`off_topic`) and
/// open_nsfw's probability (`nsfw` above a threshold).
/// Flags exclude only when asked. A plain `curate` or `curate --reset` clears every decision.
public struct AssistRun {
    let workspace: Workspace
    let request: AssistRequest

    public init(workspace: Workspace, request: AssistRequest) {
        self.workspace = workspace
        self.request = request
    }

    public func run() throws -> AssistSummary {
        let started = monotonicSeconds()
        let catalog = try workspace.requireCatalog()
        var items: [CatalogItem] = []
        try catalog.forEachItem(status: .ok) { item in if item.path != nil { items.append(item) } }
        let classes = Array(Set(items.map(\.label.name))).sorted()
        guard request.needsFeatures else {
            // The nsfw scores alone: the moderation model's own features, nothing else.
            var summary = AssistSummary(backbone: "", items: items.count, classes: classes)
            var decisions = Decisions(items: items)
            if let check = request.nsfw { summary.nsfw = try nsfw(check, &decisions) }
            // Its features are the pass's work: the reports say "features from open-nsfw (N s)".
            summary.featureSeconds = monotonicSeconds() - started
            return try finish(summary, decisions, catalog: catalog, started: started)
        }
        let needsProbabilities = request.labelIssues || request.offTopic
        if needsProbabilities, classes.count < 2 || items.count < request.crossValidation.folds * classes.count {
            throw AssistError("\(workspace.catalogPath): label issues and off-topic images need at least 2 labels and \(request.crossValidation.folds) kept images per label (\(items.count) kept, \(classes.count) labels); run `imgcls curate` first")
        }
        // One pass of features when one list of backbones serves every analysis asked, else one per list.
        let files = items.map { workspace.path($0.path!) }
        let turns = request.semanticDuplicates && request.semanticQuarterTurns
        let names = { (list: [BackboneReference]) in list.map(\.name).joined(separator: ",") }
        let oneList = !needsProbabilities || !request.semanticDuplicates || names(request.backbones) == names(request.semanticBackbones)
        let classifying = try features(files, needsProbabilities ? request.backbones : request.semanticBackbones, quarterTurned: turns && oneList)
        let semantic = oneList ? classifying : try features(files, request.semanticBackbones, quarterTurned: turns)
        // Images a backbone could not read take no part (curate has decoded every kept one, so there are few).
        let usable = items.indices.filter { classifying[$0] != nil && semantic[$0] != nil }
        items = usable.map { items[$0] }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let labels = items.map { index[$0.label.name]! }
        let features = FeatureMatrix(rows: usable.map { classifying[$0]!.plain }, labels: labels, classes: classes.count)
        let semanticFeatures = oneList ? features : FeatureMatrix(rows: usable.map { semantic[$0]!.plain }, labels: labels, classes: classes.count)
        let turned = usable.compactMap { semantic[$0]!.quarterTurned }
        let used = needsProbabilities ? names(request.backbones) : names(request.semanticBackbones)
        var summary = AssistSummary(backbone: oneList ? used : "\(used) (semantic duplicates: \(names(request.semanticBackbones)))",
                                    items: items.count, classes: classes)
        summary.featureSeconds = monotonicSeconds() - started
        BLAS.threads = ProcessInfo.processInfo.activeProcessorCount

        var decisions = Decisions(items: items)
        let probabilities = needsProbabilities
            ? request.crossValidation.probabilities(features: features.raw, width: features.width, labels: features.labels, classes: classes.count)
            : []
        if request.labelIssues { summary.labelIssues = labelIssues(probabilities, features, classes, &decisions) }
        if request.offTopic { summary.offTopic = offTopic(probabilities, features, &decisions) }
        if request.semanticDuplicates { summary.semanticDuplicates = semanticDuplicates(semanticFeatures, turned: turned, &decisions) }
        if let check = request.nsfw { summary.nsfw = try nsfw(check, &decisions) }
        return try finish(summary, decisions, catalog: catalog, started: started)
    }

    /// The files' features from `backbones` (side by side when several), cached in the workspace.
    private func features(_ files: [String], _ backbones: [BackboneReference], quarterTurned: Bool) throws -> [(plain: [Float], quarterTurned: [Float]?)?] {
        let showProgress = request.showProgress, several = backbones.count > 1
        return try BackboneFeatures.views(
            files, backbones: backbones, cacheFolder: workspace.featuresFolder,
            progress: { LoopProgress(display: ProgressBar(title: several ? "features (\($0))" : "features", total: nil, unit: "images", enabled: showProgress)) },
            quarterTurned: quarterTurned)
    }

    /// The decisions into the catalog in one transaction, the report out.
    private func finish(_ summary: AssistSummary, _ decisions: Decisions, catalog: Catalog, started: Double) throws -> AssistSummary {
        var summary = summary
        try decisions.record(in: catalog)
        summary.seconds = monotonicSeconds() - started
        summary.contactSheets = AssistReport.sheets(summary, workspace: workspace)
        try AssistReport.write(summary, to: workspace)
        return summary
    }

    /// The moderation model's nsfw probability for each image: its features (cached like any backbone's), then
    /// its own classifier. Every score is recorded; those at or above the threshold are flagged.
    private func nsfw(_ check: NSFWCheck, _ decisions: inout Decisions) throws -> AssistSummary.NSFW {
        let model = try ModelFile.load(check.backbone.modelFile).model
        guard let nsfwClass = model.labels.firstIndex(of: "nsfw") else {
            throw AssistError("\(check.backbone.name) has no nsfw label (its labels: \(labelList(model.labels))); `curate --nsfw` runs open_nsfw: imgcls backbone install open-nsfw")
        }
        let bar = ProgressBar(title: "nsfw", total: nil, unit: "images", enabled: request.showProgress)
        let extracted = try BackboneFeatures.views(decisions.items.map { workspace.path($0.path!) }, backbone: check.backbone,
                                                   cacheFolder: workspace.featuresFolder, progress: LoopProgress(display: bar), quarterTurned: false)
        // Its own classifier on all the features at once.
        let scored = extracted.indices.filter { extracted[$0] != nil }
        let features = Tensor(shape: [scored.count, model.featureWidth], data: scored.flatMap { extracted[$0]!.plain })
        let probabilities = softmax(model.head.forward(features, training: false))
        let classes = model.labels.count
        var result = AssistSummary.NSFW(backbone: check.backbone.name, threshold: check.threshold)
        for (row, index) in scored.enumerated() {
            let score = Double(probabilities.data[row * classes + nsfwClass])
            decisions.items[index].nsfwScore = score
            result.scored += 1
            guard score >= check.threshold else { continue }
            decisions.flag(index, .nsfw, exclude: request.exclude.contains(.nsfw),
                           message: String(format: "excluded by --exclude nsfw (%@'s nsfw probability %.3f)", check.backbone.name, score))
            result.found.append(.init(image: image(decisions.items[index]), score: score))
        }
        result.found.sort { ($0.score, -$0.image.id) > ($1.score, -$1.image.id) }
        result.excluded = request.exclude.contains(.nsfw) ? result.found.count : 0
        return result
    }

    private func image(_ item: CatalogItem) -> AssistSummary.Image {
        AssistSummary.Image(id: item.id!, source: item.source, path: item.path ?? "", label: item.label.name)
    }

    private func labelIssues(_ probabilities: [[Double]], _ features: FeatureMatrix, _ classes: [String],
                             _ decisions: inout Decisions) -> AssistSummary.LabelIssues {
        let learning = ConfidentLearning(probabilities: probabilities, labels: features.labels, classes: classes.count)
        var result = AssistSummary.LabelIssues(folds: request.crossValidation.folds, confidentJoint: learning.confidentJoint)
        // A label set or confirmed by hand is not an issue any more.
        for issue in learning.issues where !decisions.items[issue.index].manualLabel {
            let suggested = classes[issue.suggestedLabel]
            decisions.flag(issue.index, .labelIssue, exclude: request.exclude.contains(.labelIssue),
                           message: "excluded by --exclude label_issue (suggested label: \(suggested))")
            decisions.items[issue.index].suggestedLabel = suggested
            decisions.items[issue.index].labelScore = issue.selfConfidence
            result.found.append(.init(image: image(decisions.items[issue.index]), suggested: suggested, selfConfidence: issue.selfConfidence))
        }
        result.excluded = request.exclude.contains(.labelIssue) ? result.found.count : 0
        return result
    }

    private func offTopic(_ probabilities: [[Double]], _ features: FeatureMatrix, _ decisions: inout Decisions) -> AssistSummary.OffTopic {
        var result = AssistSummary.OffTopic(rule: request.offTopicRule)
        let offTopic = OffTopic(features: features, probabilities: probabilities)
        // Every score is kept (the review app sorts by it); those within the rule are flagged.
        for (i, score) in offTopic.scores.enumerated() { decisions.items[i].offTopicScore = score }
        for found in offTopic.ranked(by: request.offTopicRule) {
            decisions.flag(found.index, .offTopic, exclude: request.exclude.contains(.offTopic),
                           message: String(format: "excluded by --exclude off_topic (%.1f robust deviations from every class)", found.score))
            result.found.append(.init(image: image(decisions.items[found.index]), score: found.score,
                                      centroidSimilarity: found.centroidSimilarity, bestProbability: found.bestProbability))
        }
        result.excluded = request.exclude.contains(.offTopic) ? result.found.count : 0
        return result
    }

    private func semanticDuplicates(_ features: FeatureMatrix, turned: [[Float]], _ decisions: inout Decisions) -> AssistSummary.SemanticDuplicates {
        let withTurns = !turned.isEmpty && turned.count == features.count
        let search = withTurns
            ? SemanticIndex(unitRows: features.unit, quarterTurnedRows: FeatureMatrix.unitRows(turned.flatMap { $0 }, width: features.width),
                            count: features.count, width: features.width)
            : SemanticIndex(unitRows: features.unit, count: features.count, width: features.width)
        let candidates = search.pairs(threshold: request.semanticThreshold)
        // Each kept pair with its agreeing corners (0: unchecked, on its cosine alone).
        let confirmed = request.semanticVerification.map {
            $0.confirmed(candidates, files: decisions.items.map { workspace.path($0.path!) }, threads: ProcessInfo.processInfo.activeProcessorCount)
        } ?? candidates.map { (pair: $0, inliers: 0) }
        let pairs = confirmed.map(\.pair)
        var result = AssistSummary.SemanticDuplicates(threshold: Double(request.semanticThreshold), candidates: candidates.count,
                                                      pairs: pairs.count, minimumInliers: request.semanticVerification?.minimumInliers ?? 0,
                                                      quarterTurns: withTurns, search: search.isPartitioned ? "partitioned" : "exact")
        var sets = UnionFind(count: features.count)
        for pair in pairs { sets.union(pair.a, pair.b) }
        // Kept members of one of curate's clusters (--keep-near-duplicates) stay together: one cluster, one id.
        var firstOfCluster: [Int64: Int] = [:]
        for (i, item) in decisions.items.enumerated() {
            guard let cluster = item.cluster else { continue }
            if let first = firstOfCluster[cluster] { sets.union(first, i) } else { firstOfCluster[cluster] = i }
        }
        var weakest: [Int: Float] = [:], fewestInliers: [Int: Int] = [:], clusters: [Int: Set<Int>] = [:]
        for (pair, inliers) in confirmed {
            let root = sets.find(pair.a)
            weakest[root] = min(weakest[root] ?? 1, pair.similarity)
            if inliers > 0 { fewestInliers[root] = min(fewestInliers[root] ?? .max, inliers) }
            clusters[root, default: []].formUnion([pair.a, pair.b])
        }
        for i in decisions.items.indices where decisions.items[i].cluster != nil {
            let root = sets.find(i)
            if clusters[root] != nil { clusters[root]!.insert(i) }
        }
        for (root, members) in clusters {
            var evidence = String(format: "cosine similarity %.3f of the backbone's features", weakest[root] ?? request.semanticThreshold)
            if let inliers = fewestInliers[root] { evidence += ", \(inliers) corners agreeing on one crop, turn or mirror" }
            let cluster = decisions.cluster(members.sorted(), exclude: !request.keepSemanticDuplicates, evidence: evidence)
            result.clusters.append(.init(images: cluster.members.map { image(decisions.items[$0]) },
                                         similarity: Double(weakest[root] ?? 0), labelConflict: cluster.conflict))
            result.excluded += cluster.excluded
        }
        result.clusters.sort { ($0.images.count, -$0.images[0].id) > ($1.images.count, -$1.images[0].id) }
        return result
    }
}

/// The decisions of one pass, on copies of the catalog rows, written at the end in one transaction.
struct Decisions {
    var items: [CatalogItem]
    /// The rows as read, so only the ones a decision changed are written back.
    let original: [CatalogItem]
    /// Curate's clusters that semantic duplicates joined: old cluster id -> new (each old one in one new one).
    var movedClusters: [Int64: Int64] = [:]

    init(items: [CatalogItem]) {
        self.items = items
        original = items
    }

    /// Flags an item, and excludes it when asked, unless a person kept it by hand in the review app.
    mutating func flag(_ index: Int, _ flag: QualityFlag, exclude: Bool, message: String) {
        items[index].flags = Set(items[index].flags).union([flag]).sorted()
        if exclude && items[index].status == .ok && items[index].manualStatus != .ok {
            items[index].status = .excluded
            items[index].reason = .flag(flag)
            items[index].message = message
        }
    }

    /// One keeper (a kept item, the largest picture, then the largest file, then the first seen, as curate's near duplicates)
    /// and the rest its semantic duplicates; a cluster across labels is a label conflict, every member left out.
    /// Returns the members, keeper first.
    mutating func cluster(_ members: [Int], exclude: Bool, evidence: String) -> (members: [Int], conflict: Bool, excluded: Int) {
        let cluster = DuplicateCluster(members.map { i in
            DuplicateCluster.Member(id: items[i].id!, label: items[i].label.name, isKept: items[i].status == .ok,
                                    pixels: (items[i].width ?? 0) * (items[i].height ?? 0), bytes: items[i].bytes ?? 0)
        })
        let keeper = members[cluster.keeper]
        let keeperID = items[keeper].id!
        var excluded = 0
        for m in members {
            if let old = items[m].cluster, old != keeperID { movedClusters[old] = keeperID }
            items[m].cluster = keeperID
            if items[m].manualStatus == .ok {
                continue  // kept by hand: it stays, in the cluster
            }
            if let labels = cluster.conflictingLabels {
                if items[m].status == .ok { excluded += 1 }
                items[m].status = .excluded
                items[m].reason = .curation(.labelConflict)
                items[m].message = "the same picture for the backbone is labelled \(labels.joined(separator: " and ")) (\(evidence))"
            } else if m != keeper {
                items[m].duplicateOf = keeperID
                if exclude && items[m].status == .ok {
                    excluded += 1
                    items[m].status = .excluded
                    items[m].reason = .curation(.semanticDuplicate)
                    items[m].message = "the same picture for the backbone as item \(keeperID) (\(items[keeper].path ?? "")): \(evidence)"
                }
            }
        }
        return ([keeper] + members.filter { $0 != keeper }, cluster.conflictingLabels != nil, excluded)
    }

    func record(in catalog: Catalog) throws(CatalogError) {
        try catalog.write { t throws(CatalogError) in
            // By id, and only rows no one changed meanwhile (a person in the review app): theirs stands.
            for (item, before) in zip(items, original) where item != before { try t.update(item) }
            // Curate's excluded near duplicates follow their keeper into the new cluster (after the updates: a move
            // changes the rows' revisions).
            for (old, new) in movedClusters { try t.moveCluster(old, to: new) }
        }
    }
}

public typealias AssistError = ErrorMessage
