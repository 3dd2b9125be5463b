// Curate: import, curation and the split, each a request, a run and a summary. Entry: `CurateRun` (a
// `CurateRequest` in, a `CurateSummary` out); beside it `ImportRun` (ImportRun.swift) and `SplitRun`
// (SplitRun.swift). Files in reading order:
//   ImportRun.swift          a <label>/<files> folder into the catalog
//   CurateRun.swift          measuring and deciding: invalid, placeholder, conflict, duplicate, near duplicate, flags
//   ItemAnalysis.swift       one file's decode, pixel hash, perceptual hashes and statistics
//   NearDuplicateIndex.swift the pair search (multi-index hashing); Files' UnionFind clusters the pairs
//   QualityFlags.swift       the thresholds behind the catalog's quality flags
//   CurateReport.swift       curate.json and curate.md; ContactSheets.swift the pictures
//   SummaryText.swift        import's, curate's and split's summaries as the command line prints them
//   SplitRun.swift           the stratified, leak-free split into the Keras folder layout

import Catalog
import Console
import Dispatch
import Files
import Foundation
import Imaging
import Logging
import StageContract

let log = Logger(label: "imgcls.curate")

/// What `imgcls curate` asks for.
public struct CurateRequest: Sendable {
    /// pHash distance (of 64 bits) under which two images are near-duplicate candidates.
    public var near = 10
    /// Detail-hash distance (of 256 bits) under which a candidate pair is confirmed.
    public var verify = 32
    /// Identical bytes behind at least this many distinct URLs are a placeholder ("image removed").
    public var placeholderSources = 5
    /// Quality flags that exclude an item (they are always reported).
    public var exclude: Set<QualityFlag> = []
    /// Keep near duplicates in the data (still clustered, so the split keeps each cluster on one side).
    public var keepNearDuplicates = false
    public var minSide = 1
    /// Longer side over shorter side above this is excluded as `extreme_aspect` (nil: no limit).
    public var maxAspect: Double?
    public var maxPixels = DecodeOptions().maxPixels
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Decode every file again, even those measured by an earlier run.
    public var reanalyze = false
    /// A progress line on standard error while it runs.
    public var showProgress = false

    public init() {}
}

/// What a curate run found: printed, written to `data/reports/curate.json` (and `.md`).
public struct CurateSummary: Sendable, Codable {
    public struct Thresholds: Sendable, Codable {
        public var near: Int
        public var verify: Int
        public var placeholderSources: Int
        public var excludedFlags: [String]
    }

    /// Items considered (those with a stored file that fetch or import kept).
    public var items = 0
    /// Items decoded this run (the others were measured before).
    public var analyzed = 0
    public var kept = 0
    public var excluded = 0
    /// Excluded items by reason code (duplicate, near_duplicate, label_conflict, placeholder, truncated, …).
    public var byReason: [String: Int] = [:]
    /// label -> ("kept" or a reason code) -> items.
    public var byLabel: [String: [String: Int]] = [:]
    /// Quality flag -> items carrying it (excluded or not).
    public var flags: [String: Int] = [:]
    public var duplicateGroups = 0
    public var nearDuplicateClusters = 0
    public var largestCluster = 0
    public var thresholds: Thresholds
    public var contactSheets: [ContactSheet] = []
    public var seconds = 0.0
    public var imagesPerSecond = 0.0

    /// Its files in the workspace's reports folder.
    public static let reportFiles = (json: Workspace.ReportFile.curate, markdown: Workspace.ReportFile.curateMarkdown)
}

/// One candidate item, in memory for the decisions (a slim copy of its catalog row).
struct CurationEntry {
    let id: Int64
    let label: String
    let source: String
    let isURL: Bool
    let sha256: String?
    let path: String
    let bytes: Int
    var format: String?
    var width = 0
    var height = 0
    var pixelSHA256: String?
    var phash: UInt64 = 0
    var detail: DetailHash?
    var statistics: ImageStatistics?
    // The decision.
    var reason: Reason?
    var message: String?
    var flags: [QualityFlag] = []
    var cluster: Int64?
    var duplicateOf: Int64?
    /// A person's decision in the review app, and its message: it stands over curate's (see `decide`).
    let manualStatus: ItemStatus?
    let manualMessage: String?
    /// The row's revision when read: the decision is written only if no one changed the row since.
    let revision: Int64

    var isAnalyzed: Bool { pixelSHA256 != nil && detail != nil && statistics != nil }
    var pixels: Int { width * height }

    init(_ item: CatalogItem) {
        id = item.id!
        label = item.label.name
        source = item.source
        isURL = item.sourceKind == .url
        sha256 = item.sha256
        path = item.path!
        bytes = item.bytes ?? 0
        format = item.format
        manualStatus = item.manualStatus
        manualMessage = item.message
        revision = item.revision
        width = item.width ?? 0
        height = item.height ?? 0
        pixelSHA256 = item.pixelSHA256
        phash = item.phash ?? 0
        detail = item.detailHash.flatMap(DetailHash.init(hex:))
        if let b = item.brightness, let s = item.sharpness, let e = item.entropy, let c = item.colorfulness {
            statistics = ImageStatistics(brightness: b, sharpness: s, entropy: e, colorfulness: c)
        }
    }
}

/// Validates, measures and de-duplicates the items of a workspace and flags quality problems, deciding for
/// each item to keep it or to exclude it with a reason. Nothing is deleted: decisions are catalog columns,
/// a re-run starts from scratch (idempotent), and `reset` undoes them.
public final class CurateRun {
    private let workspace: Workspace
    private let request: CurateRequest

    public init(workspace: Workspace, request: CurateRequest) {
        self.workspace = workspace
        self.request = request
    }

    /// Undoes curation: every excluded item is kept again, except those a person excluded in the review app (unless
    /// `manual`, which forgets a person's keep and exclude decisions too). Returns how many were restored.
    public static func reset(_ workspace: Workspace, manual: Bool = false) throws(CatalogError) -> Int {
        let restored = try workspace.requireCatalog().write { t throws(CatalogError) in try t.resetCuration(manual: manual) }
        // Their summaries describe the curation and split just undone.
        for file in [Workspace.ReportFile.curate, Workspace.ReportFile.curateMarkdown, Workspace.ReportFile.split] {
            try? FileManager.default.removeItem(atPath: workspace.report(file))
        }
        try? FileManager.default.removeItem(atPath: workspace.path(Workspace.contactSheetsFolder.workspace))
        workspace.removeAssistReports()
        return restored
    }

    public func run() throws(CatalogError) -> CurateSummary {
        let started = monotonicSeconds()
        let catalog = try workspace.requireCatalog()
        var entries = try loadEntries(catalog)
        // This run's decisions replace model-assisted ones too (updateCuration clears them), and their report.
        workspace.removeAssistReports()
        var summary = CurateSummary(thresholds: .init(near: request.near, verify: request.verify,
                                                      placeholderSources: request.placeholderSources,
                                                      excludedFlags: request.exclude.map(\.rawValue).sorted()))
        summary.items = entries.count
        summary.analyzed = try analyze(&entries, catalog)
        decide(&entries, &summary)
        try record(entries, catalog)
        summarize(entries, &summary)
        summary.seconds = monotonicSeconds() - started
        summary.imagesPerSecond = Double(entries.count) / max(summary.seconds, 1e-9)
        summary.contactSheets = ContactSheets(workspace: workspace).write(entries)
        try CurateReport.write(summary, to: workspace)
        return summary
    }

    /// Items fetch or import kept (or an earlier curate excluded), with a stored file.
    private func loadEntries(_ catalog: Catalog) throws(CatalogError) -> [CurationEntry] {
        var entries: [CurationEntry] = []
        for status in [ItemStatus.ok, .excluded] {
            try catalog.forEachItem(status: status) { item in
                if item.path != nil { entries.append(CurationEntry(item)) }
            }
        }
        entries.sort { $0.id < $1.id }
        return entries
    }

    /// Decodes and measures what no run has measured yet, `threads` files at a time; results are committed
    /// batch by batch, so an interrupted run keeps its progress.
    private func analyze(_ entries: inout [CurationEntry], _ catalog: Catalog) throws(CatalogError) -> Int {
        let todo = entries.indices.filter { request.reanalyze || !entries[$0].isAnalyzed }
        guard !todo.isEmpty else { return 0 }
        let progress = ProgressBar(title: "curate", total: todo.count, unit: "images", enabled: request.showProgress)
        let decodeOptions = { var o = DecodeOptions(); o.maxPixels = request.maxPixels; return o }()
        let threads = max(1, request.threads)
        let root = workspace
        // Results are recorded while the next files decode; a commit every 1024 keeps an interrupted run's work.
        for batchStart in stride(from: 0, to: todo.count, by: 1024) {
            let batch = Array(todo[batchStart..<min(todo.count, batchStart + 1024)])
            let paths = batch.map { root.path(entries[$0].path) }
            var k = 0
            try catalog.write { t throws(CatalogError) in
                try parallelMap(paths, threads: threads) { path -> Result<ItemAnalysis, ImageError> in
                    Result { () throws(ImageError) in try ItemAnalysis.analyze(try ImageDecoder.readFile(path), options: decodeOptions) }
                } consume: { result throws(CatalogError) in
                    let index = batch[k]
                    k += 1
                    switch result {
                    case .success(let a):
                        entries[index].format = a.format.rawValue
                        entries[index].width = a.width
                        entries[index].height = a.height
                        entries[index].pixelSHA256 = a.pixelSHA256
                        entries[index].phash = a.hashes.phash
                        entries[index].detail = a.hashes.detail
                        entries[index].statistics = a.statistics
                        let s = a.statistics
                        try t.updateAnalysis(id: entries[index].id, format: a.format.rawValue, width: a.width, height: a.height,
                                             phash: a.hashes.phash, dhash: a.hashes.dhash, pixelSHA256: a.pixelSHA256,
                                             detailHash: a.hashes.detail.hex, brightness: s.brightness, sharpness: s.sharpness,
                                             entropy: s.entropy, colorfulness: s.colorfulness)
                    case .failure(let error):
                        entries[index].pixelSHA256 = nil
                        entries[index].reason = .image(error.reason)
                        entries[index].message = error.detail
                    }
                    progress.advance(by: 1)
                }
            }
        }
        progress.finish()
        return todo.count
    }

    /// Every decision, in order of precedence: invalid, placeholder, label conflict, duplicate, near duplicate,
    /// excluded quality flag.
    private func decide(_ entries: inout [CurationEntry], _ summary: inout CurateSummary) {
        // Invalid: failed to decode (set by analyze) or outside the size limits.
        for i in entries.indices where entries[i].reason == nil {
            guard entries[i].isAnalyzed else {
                entries[i].reason = .image(.corrupt)
                entries[i].message = "no measurements"
                continue
            }
            let (w, h) = (entries[i].width, entries[i].height)
            if min(w, h) < request.minSide {
                entries[i].reason = .image(.tooSmall)
                entries[i].message = "\(w)x\(h) has a side shorter than \(request.minSide)"
            } else if w * h > request.maxPixels {
                entries[i].reason = .image(.tooManyPixels)
                entries[i].message = "\(w)x\(h) is over the pixel limit"
            } else if let maxAspect = request.maxAspect, Double(max(w, h)) / Double(max(1, min(w, h))) > maxAspect {
                entries[i].reason = .curation(.extremeAspect)
                entries[i].message = "\(w)x\(h) is more than \(maxAspect) times longer than wide"
            }
        }
        // Excluded by hand: out before any cluster forms, so it keeps no other item out.
        for i in entries.indices where entries[i].reason == nil && entries[i].manualStatus == .excluded {
            entries[i].reason = .curation(.manual)
            entries[i].message = entries[i].manualMessage
        }
        markPlaceholders(&entries)
        markExactDuplicates(&entries, &summary)
        var duplicates: [Int64: [Int]] = [:]  // keeper id -> its exact duplicates
        for i in entries.indices { if let keeper = entries[i].duplicateOf { duplicates[keeper, default: []].append(i) } }
        markNearDuplicates(&entries, duplicates, &summary)
        // Quality flags, on every valid item.
        let sizes = entries.filter { $0.isAnalyzed }.map(\.pixels).sorted()
        let median = sizes.isEmpty ? 0 : Double(sizes[sizes.count / 2])
        for i in entries.indices where entries[i].isAnalyzed {
            entries[i].flags = QualityFlag.flags(width: entries[i].width, height: entries[i].height,
                                                 statistics: entries[i].statistics!, medianPixels: median)
            if entries[i].reason == nil, let flag = entries[i].flags.filter(request.exclude.contains).min() {
                entries[i].reason = .flag(flag)
                entries[i].message = "excluded by --exclude \(flag.rawValue)"
            }
        }
        // Kept by hand: kept whatever curate found, unless the file no longer decodes. It stays in its cluster, beside
        // the keeper (which stays kept: keeping one item by hand does not push another out).
        for i in entries.indices where entries[i].manualStatus == .ok && entries[i].isAnalyzed {
            entries[i].reason = nil
            entries[i].message = entries[i].manualMessage
        }
    }

    /// The same bytes behind many distinct URLs is a host's stand-in ("this image was removed"), not data.
    private func markPlaceholders(_ entries: inout [CurationEntry]) {
        var sources: [String: Set<String>] = [:]
        for e in entries where e.reason == nil && e.isURL { if let sha = e.sha256 { sources[sha, default: []].insert(e.source) } }
        for i in entries.indices where entries[i].reason == nil && entries[i].isURL {
            if let sha = entries[i].sha256, let count = sources[sha]?.count, count >= request.placeholderSources {
                entries[i].reason = .curation(.placeholder)
                entries[i].message = "the same bytes come from \(count) different URLs (a host's placeholder image?)"
            }
        }
    }

    /// Items with the same decoded pixels: one keeper per group; a group across labels is a conflict.
    private func markExactDuplicates(_ entries: inout [CurationEntry], _ summary: inout CurateSummary) {
        var groups: [String: [Int]] = [:]
        for i in entries.indices where entries[i].reason == nil { groups[entries[i].pixelSHA256!, default: []].append(i) }
        for members in groups.values where members.count > 1 {
            summary.duplicateGroups += 1
            resolve(members, in: &entries, duplicates: [:], reason: .duplicate, exclude: true, keepFirst: true)
        }
    }

    /// Pairs within `near` bits of pHash, confirmed within `verify` bits of the detail hash, clustered.
    private func markNearDuplicates(_ entries: inout [CurationEntry], _ duplicates: [Int64: [Int]],
                                    _ summary: inout CurateSummary) {
        // Exact duplicates are represented by their keeper.
        let candidates = entries.indices.filter { entries[$0].reason == nil }
        let index = NearDuplicateIndex(hashes: candidates.map { entries[$0].phash }, threshold: request.near)
        var sets = UnionFind(count: candidates.count)
        index.forEachPair { a, b in
            let x = entries[candidates[a]], y = entries[candidates[b]]
            if x.detail!.distance(to: y.detail!) <= request.verify { sets.union(a, b) }
        }
        var clusters: [Int: [Int]] = [:]
        for k in candidates.indices { clusters[sets.find(k), default: []].append(candidates[k]) }
        for members in clusters.values where members.count > 1 {
            summary.nearDuplicateClusters += 1
            // A cluster's size includes the exact duplicates its members stand for.
            let size = members.reduce(0) { total, m in total + 1 + (duplicates[entries[m].id]?.count ?? 0) }
            summary.largestCluster = max(summary.largestCluster, size)
            resolve(members, in: &entries, duplicates: duplicates, reason: .nearDuplicate, exclude: !request.keepNearDuplicates)
        }
    }

    /// One keeper and the rest marked with `reason`; or, when the group spans labels, every member marked as
    /// a label conflict. The keeper is the first seen when all have the same pixels (`keepFirst`), otherwise the
    /// largest picture, then the largest file (the least compressed), then the first seen. `duplicates`: the
    /// exact duplicates each member stands for (they follow it into a conflict).
    private func resolve(_ members: [Int], in entries: inout [CurationEntry], duplicates: [Int64: [Int]], reason: CurationReason,
                         exclude: Bool, keepFirst: Bool = false) {
        let cluster = DuplicateCluster(members.map { m in
            DuplicateCluster.Member(id: entries[m].id, label: entries[m].label, pixels: entries[m].pixels, bytes: entries[m].bytes)
        }, samePixels: keepFirst)
        let keeper = members[cluster.keeper]
        let keeperID = entries[keeper].id
        for m in members {
            entries[m].cluster = keeperID
            if let labels = cluster.conflictingLabels {
                entries[m].reason = .curation(.labelConflict)
                entries[m].message = "the same picture is labelled \(labels.joined(separator: " and "))"
                // Exact duplicates excluded earlier for this member share its conflict.
                for d in duplicates[entries[m].id] ?? [] {
                    entries[d].reason = .curation(.labelConflict)
                    entries[d].message = entries[m].message
                }
            } else if m != keeper {
                entries[m].duplicateOf = keeperID
                if exclude {
                    entries[m].reason = .curation(reason)
                    entries[m].message = "\(reason == .duplicate ? "the same pixels" : "nearly the same picture") as item \(keeperID) (\(entries[keeper].path))"
                }
            }
        }
    }

    /// Writes every decision in batched transactions; a row a person changed in the review app while this run
    /// worked keeps their change (the next run decides on it).
    private func record(_ entries: [CurationEntry], _ catalog: Catalog) throws(CatalogError) {
        var changedMeanwhile = 0
        for start in stride(from: 0, to: entries.count, by: 2000) {
            changedMeanwhile += try catalog.write { t throws(CatalogError) in
                var skipped = 0
                for e in entries[start..<min(entries.count, start + 2000)] {
                    let written = try t.updateCuration(id: e.id, status: e.reason == nil ? .ok : .excluded, reason: e.reason, message: e.message,
                                                       flags: e.flags, cluster: e.cluster, duplicateOf: e.duplicateOf, revision: e.revision)
                    if !written { skipped += 1 }
                }
                return skipped
            }
        }
        if changedMeanwhile > 0 {
            log.warning("\(changedMeanwhile) items changed while curate ran (decided on in imgcls review?): they keep that change; run curate again to decide on them")
        }
    }

    private func summarize(_ entries: [CurationEntry], _ summary: inout CurateSummary) {
        for e in entries {
            if let reason = e.reason {
                summary.excluded += 1
                summary.byReason[reason.code, default: 0] += 1
            } else {
                summary.kept += 1
            }
            summary.byLabel[e.label, default: [:]][e.reason?.code ?? "kept", default: 0] += 1
            for flag in e.flags { summary.flags[flag.rawValue, default: 0] += 1 }
        }
    }
}
