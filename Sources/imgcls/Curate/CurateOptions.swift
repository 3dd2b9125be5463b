import ArgumentParser
import Assist
import Backbone
import Curate
import Engine
import Foundation
import StageContract

/// What curate accepts: sizes, the quality flags that exclude, and how it decodes.
struct AcceptanceOptions: ParsableArguments {
    @Option(help: "Quality flags that exclude, comma-separated (e.g. blurry,dark).") var exclude: String?
    @Option(help: "Smallest accepted side, in pixels.") var minSide = 1
    @Option(help: "Largest accepted ratio of longer to shorter side.") var maxAspect: Double?
    @Option(help: "Largest accepted image, in pixels.") var maxPixels = CurateRequest().maxPixels
    @Option(help: "Files decoded in parallel.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Decode every file again, even those measured by an earlier run.") var reanalyze = false

    func validate() throws {
        if let maxAspect, maxAspect < 1 { throw ValidationError("--max-aspect must be at least 1") }
        _ = try flags()
    }

    /// The flags of --exclude.
    func flags() throws -> Set<QualityFlag> {
        guard let exclude else { return [] }
        return Set(try exclude.split(separator: ",").map { name in
            guard let flag = QualityFlag(rawValue: String(name).trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--exclude: unknown flag \(name); the flags are \(QualityFlag.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return flag
        })
    }
}

/// Exact and near duplicates, placeholders.
struct DuplicateOptions: ParsableArguments {
    @Option(help: "Near-duplicate candidates: pHash distance (of 64 bits).") var near = CurateRequest().near
    @Option(help: "Near-duplicate confirmation: detail-hash distance (of 256 bits).") var verify = CurateRequest().verify
    @Option(help: "Identical bytes behind this many URLs are a placeholder.") var placeholderSources = CurateRequest().placeholderSources
    @Flag(help: "Keep near duplicates (clustered, so the split keeps them together).") var keepNearDuplicates = false

    func validate() throws {
        if !(0...32).contains(near) { throw ValidationError("--near must be between 0 and 32") }
        if !(0...128).contains(verify) { throw ValidationError("--verify must be between 0 and 128") }
        if placeholderSources < 2 { throw ValidationError("--placeholder-sources must be at least 2") }
    }
}

extension CurateRequest {
    /// Curate's request from its two option groups.
    init(_ acceptance: AcceptanceOptions, _ duplicates: DuplicateOptions) throws {
        self.init()
        (near, verify, placeholderSources, keepNearDuplicates) = (duplicates.near, duplicates.verify, duplicates.placeholderSources,
                                                                   duplicates.keepNearDuplicates)
        (exclude, minSide, maxAspect, maxPixels) = (try acceptance.flags(), acceptance.minSide, acceptance.maxAspect, acceptance.maxPixels)
        (threads, reanalyze) = (acceptance.threads, acceptance.reanalyze)
    }
}

/// Model-assisted curation on an installed backbone's features.
struct AssistOptions: ParsableArguments {
    @Flag(help: "Also find images whose label looks wrong (confident learning on a backbone's features): flag label_issue, with a suggested label.")
    var labelIssues = false
    @Flag(help: "Also exclude pictures the backbone sees as the same as a kept one (crops, rotations, flips): semantic_duplicate.")
    var semanticDuplicates = false
    @Flag(help: "Also flag images far from every class (banners, logos, text): off_topic.") var offTopic = false
    @Option(help: "With --label-issues, --semantic-duplicates or --off-topic: the installed backbone (see `imgcls backbone list`), or several side by side, comma-separated (default: efficientnet-lite0,efficientnet-lite2 when both are installed, else efficientnet-lite0; semantic duplicates on efficientnet-lite0).")
    var backbone: String?
    @Option(help: "With --label-issues or --off-topic: cross-validation folds.") var folds = 5
    @Option(help: "With --semantic-duplicates: the cosine similarity of pooled features at which two pictures are checked with local features.")
    var semanticThreshold = Double(SemanticIndex.defaultThreshold)
    @Option(help: "With --semantic-duplicates: corners that must agree on one transform (crop, scale, turn, mirror) to confirm a pair; 0: the cosine alone decides (then use --semantic-threshold 0.95).")
    var semanticInliers = PairVerification().minimumInliers
    @Flag(inversion: .prefixedNo, help: "With --semantic-duplicates: search each picture turned a quarter too, to find copies turned 90° (features computed twice).")
    var semanticQuarterTurns = true
    @Option(help: "With --off-topic: robust deviations below every class's typical similarity to its centre.")
    var offTopicScore = OffTopic.Rule().minimumScore
    @Option(help: "With --off-topic: only images whose best held-out class probability is at most this.")
    var offTopicProbability = OffTopic.Rule().maximumProbability
    @Flag(help: "Also score every kept image with open_nsfw (imgcls backbone install open-nsfw): the probability goes in the catalog, and those at --nsfw-threshold or above are flagged nsfw.")
    var nsfw = false
    @Option(help: "With --nsfw: the probability at or above which an image is flagged nsfw (excluded only with --exclude nsfw).")
    var nsfwThreshold = NSFWCheck(backbone: BackboneReference(name: "", modelFile: "")).threshold

    var isAsked: Bool { labelIssues || semanticDuplicates || offTopic || nsfw }
    /// Whether the features of --backbone are needed (not only --nsfw's own model).
    var needsBackbone: Bool { labelIssues || semanticDuplicates || offTopic }

    func validate() throws {
        if let backbone, let problem = BackboneStore.problem(inNames: backbone) { throw ValidationError("--backbone: \(problem)") }
        if folds < 2 { throw ValidationError("--folds must be at least 2") }
        if !(0.5...1).contains(semanticThreshold) { throw ValidationError("--semantic-threshold must be between 0.5 and 1") }
        if semanticInliers < 0 { throw ValidationError("--semantic-inliers must be 0 (no check) or more") }
        if !(0...1).contains(offTopicProbability) { throw ValidationError("--off-topic-probability must be between 0 and 1") }
        if !(0...1).contains(nsfwThreshold) { throw ValidationError("--nsfw-threshold must be between 0 and 1") }
    }

    /// The request, nil when no analysis is asked for; curate's own request says what is excluded and kept.
    func request(after curate: CurateRequest, showProgress: Bool, note: (String) -> Void) throws -> AssistRequest? {
        guard isAsked else { return nil }
        let store = BackboneStore()
        var assist = AssistRequest(backbones: [])
        if needsBackbone {
            assist = try backbone.map { AssistRequest(backbones: try store.references($0)) } ?? chosenBackbones(store, note: note)
        }
        return try finished(assist, curate: curate, showProgress: showProgress, store: store)
    }

    /// Not told (--backbone): label issues and off-topic images on the best measured combination installed,
    /// semantic duplicates on Lite0 (the backbone their threshold was measured on); the choice is printed.
    private func chosenBackbones(_ store: BackboneStore, note: (String) -> Void) throws -> AssistRequest {
        let semantic = try semanticDuplicates ? [DefaultBackbone.choose(store: store).get()].map { BackboneReference(name: $0.name, modelFile: $0.modelFile) } : []
        guard labelIssues || offTopic else {
            note("semantic duplicates on \(semantic[0].name) (--backbone chooses another)")
            return AssistRequest(backbones: semantic)
        }
        let (names, reason) = try CurationBackbones.choose(store: store).get()
        note("label issues and off-topic images on \(names): \(reason)" + (semanticDuplicates ? "; semantic duplicates on \(semantic[0].name)" : "")
             + " (--backbone chooses)")
        return AssistRequest(backbones: try store.references(names), semanticBackbones: semanticDuplicates ? semantic : nil)
    }

    /// The request's analyses and their settings.
    private func finished(_ request: AssistRequest, curate: CurateRequest, showProgress: Bool, store: BackboneStore) throws -> AssistRequest {
        var assist = request
        if nsfw {
            assist.nsfw = NSFWCheck(backbone: BackboneReference(name: "open-nsfw", modelFile: try store.installedModel("open-nsfw")))
            assist.nsfw!.threshold = nsfwThreshold
        }
        (assist.labelIssues, assist.semanticDuplicates, assist.offTopic) = (labelIssues, semanticDuplicates, offTopic)
        (assist.crossValidation.folds, assist.semanticThreshold, assist.semanticQuarterTurns) = (folds, Float(semanticThreshold), semanticQuarterTurns)
        if semanticInliers == 0 { assist.semanticVerification = nil } else { assist.semanticVerification?.minimumInliers = semanticInliers }
        (assist.offTopicRule.minimumScore, assist.offTopicRule.maximumProbability) = (offTopicScore, offTopicProbability)
        assist.keepSemanticDuplicates = curate.keepNearDuplicates
        assist.exclude = curate.exclude.intersection([.labelIssue, .offTopic, .nsfw])
        assist.showProgress = showProgress
        return assist
    }
}
