import Catalog
import Console
import Files
import Foundation
import Imaging
import StageContract

/// How files land in the split folders.
public enum LinkMode: String, Sendable, CaseIterable {
    /// Hard links to the stored files (no extra space; a copy where links are impossible).
    case hardlink
    case copy
    /// Relative symbolic links into `raw/`.
    case symlink
}

/// What `imgcls split` asks for.
public struct SplitRequest: Sendable {
    /// Fractions for train, validation and (when three are given) test.
    public var ratios: [Double] = [0.8, 0.2]
    /// Fixed counts per class for validation (and test); the rest goes to train. Overrides `ratios`.
    public var fixed: [Int]?
    /// K folds instead of one split (`Workspace.splitFolder(_:label:fold:)`).
    public var kfold: Int?
    /// Use at most this many items per class.
    public var maxPerClass: Int?
    /// Repeat items of smaller classes in train (only) until every class has as many as the largest.
    public var oversample = false
    public var seed: UInt64 = 1
    public var mode = LinkMode.hardlink
    /// Classes with fewer items than this are warned about.
    public var minClass = 10
    /// The near-duplicate thresholds of the leakage check (curate's defaults).
    public var near = 10
    public var verify = 32

    public init() {}
}

public struct SplitSummary: Sendable, Codable {
    /// split name (or "fold K split") -> label -> files (including oversampled copies).
    public var counts: [String: [String: Int]] = [:]
    /// label -> extra copies added to train by --oversample.
    public var oversampled: [String: Int] = [:]
    /// Near-duplicate pairs whose members sit in different splits (or folds): 0 when curate's clusters held.
    public var crossSplitPairs = 0
    /// Classes below --min-class, with their size.
    public var smallClasses: [String: Int] = [:]
    /// Items left out (not ok after fetch/import/curate).
    public var leftOut = 0
    public var folders: [String] = []

    /// Its file in the workspace's reports folder.
    public static let reportFileName = Workspace.ReportFile.split
}

/// One item going into the split.
struct SplitItem {
    let id: Int64
    let label: String
    let group: Int64
    let path: String
    let phash: UInt64
    let detail: DetailHash
}

/// Splits the kept items per label (stratified), keeping each near-duplicate cluster on one side, and
/// materialises `train/`, `validation/`, `test/` (or `folds/`) in the Keras flow_from_directory layout, plus
/// `splits.csv` and the catalog's split column. The same items and seed give byte-identical results.
public struct SplitRun {
    public let workspace: Workspace
    public let request: SplitRequest

    public init(workspace: Workspace, request: SplitRequest) {
        self.workspace = workspace
        self.request = request
    }

    public func run() throws(CatalogError) -> SplitSummary {
        let catalog = try workspace.requireCatalog()
        var items: [SplitItem] = []
        var uncurated = 0, leftOut = 0
        try catalog.forEachItem { item in
            guard item.status == .ok, let path = item.path, let id = item.id else {
                leftOut += 1
                return
            }
            guard let phash = item.phash, let detail = item.detailHash.flatMap(DetailHash.init(hex:)) else {
                uncurated += 1
                return
            }
            items.append(SplitItem(id: id, label: item.label.name, group: item.cluster ?? id, path: path, phash: phash, detail: detail))
        }
        guard uncurated == 0 else {
            throw CatalogError(path: workspace.catalogPath, detail: "\(uncurated) items were not curated; run `imgcls curate` first")
        }
        guard !items.isEmpty else {
            throw CatalogError(path: workspace.catalogPath, detail: "no items to split; fetch or import images, then curate them")
        }
        var summary = SplitSummary()
        summary.leftOut = leftOut
        let assignment = assign(items, &summary)
        try materialize(assignment, &summary)
        try catalog.write { t throws(CatalogError) in
            try t.clearSplits()
            for placed in assignment where placed.copy == 0 { try t.updateSplit(id: placed.item.id, split: placed.split, fold: placed.fold) }
        }
        summary.crossSplitPairs = leakage(assignment)
        do {
            try FileIO.createDirectory(workspace.reportsFolder)
            try FileIO.writeAtomically(Array(try Output.jsonString(summary).utf8), to: workspace.report(SplitSummary.reportFileName))
        } catch {
            throw CatalogError(path: workspace.report(SplitSummary.reportFileName), detail: "cannot write the split report: \(error)")
        }
        return summary
    }

    /// An item in a split folder; `copy` > 0 for the extra copies of --oversample.
    struct Placement {
        let item: SplitItem
        let split: Split
        let fold: Int?
        let copy: Int

        /// Where it goes, relative to the workspace.
        var folder: String { Workspace.splitFolder(split, label: item.label, fold: fold) }
        var fileName: String {
            let name = (item.path as NSString).lastPathComponent
            guard copy > 0 else { return name }
            let ext = (name as NSString).pathExtension, stem = (name as NSString).deletingPathExtension
            return "\(stem)-copy\(copy).\(ext)"
        }
    }

    /// Decides every placement: per label, clusters are shuffled with a generator seeded from the seed and
    /// the label, then dealt to the split (or fold) furthest below its share.
    func assign(_ items: [SplitItem], _ summary: inout SplitSummary) -> [Placement] {
        var byLabel: [String: [Int64: [SplitItem]]] = [:]
        for item in items { byLabel[item.label, default: [:]][item.group, default: []].append(item) }
        var placements: [Placement] = []
        var trainByLabel: [String: [SplitItem]] = [:]
        for (label, groups) in byLabel.sorted(by: { $0.key < $1.key }) {
            var random = SplitMix64(seed: request.seed ^ stableHash(label))
            var ordered = groups.values.map { $0.sorted { $0.id < $1.id } }.sorted { $0[0].id < $1[0].id }
            ordered.stableShuffle(using: &random)
            if let cap = request.maxPerClass {
                var taken = 0
                ordered = ordered.filter { group in
                    guard taken + group.count <= cap else { return false }
                    taken += group.count
                    return true
                }
            }
            let total = ordered.reduce(0) { $0 + $1.count }
            if total < request.minClass { summary.smallClasses[label] = total }
            if let k = request.kfold {
                var sizes = [Int](repeating: 0, count: k)
                for group in ordered {
                    let fold = sizes.indices.min { (sizes[$0], $0) < (sizes[$1], $1) }!
                    sizes[fold] += group.count
                    for item in group {
                        // In fold f, the fold's items validate and every other fold trains.
                        for f in 0..<k { placements.append(Placement(item: item, split: f == fold ? .validation : .train, fold: f, copy: 0)) }
                    }
                }
                continue
            }
            let names = Split.allCases
            var targets: [Double]
            if let fixed = request.fixed {
                targets = [Double(max(0, total - fixed.reduce(0, +)))] + fixed.map(Double.init)
            } else {
                targets = request.ratios.map { $0 * Double(total) }
            }
            var filled = [Int](repeating: 0, count: targets.count)
            for group in ordered {
                // The split furthest below its target takes the cluster (the first one on ties).
                let s = targets.indices.max { (targets[$0] - Double(filled[$0]), -$0) < (targets[$1] - Double(filled[$1]), -$1) }!
                filled[s] += group.count
                for item in group { placements.append(Placement(item: item, split: names[s], fold: nil, copy: 0)) }
                if s == 0 { trainByLabel[label, default: []] += group }
            }
        }
        if request.oversample && request.kfold == nil {
            let largest = trainByLabel.values.map(\.count).max() ?? 0
            for (label, train) in trainByLabel.sorted(by: { $0.key < $1.key }) where !train.isEmpty && train.count < largest {
                for extra in 0..<(largest - train.count) {
                    placements.append(Placement(item: train[extra % train.count], split: .train, fold: nil, copy: 1 + extra / train.count))
                }
                summary.oversampled[label] = largest - train.count
            }
        }
        for p in placements { summary.counts[p.fold.map { "fold \($0) \(p.split.rawValue)" } ?? p.split.rawValue, default: [:]][p.item.label, default: 0] += 1 }
        return placements
    }

    /// Builds the folders in a staging folder, then swaps them in, so a re-split leaves no stale file and a
    /// killed one leaves the old split in place.
    private func materialize(_ placements: [Placement], _ summary: inout SplitSummary) throws(CatalogError) {
        let staging = workspace.path(".split-staging-\(getpid())")
        let fm = FileManager.default
        try? fm.removeItem(atPath: staging)
        do {
            var made = Set<String>()
            for p in placements {
                let folder = staging + "/" + p.folder
                if made.insert(folder).inserted { try FileIO.createDirectory(folder) }
                try place(workspace.path(p.item.path), at: folder + "/" + p.fileName, relativeDepth: p.folder.split(separator: "/").count)
            }
            var csv = request.kfold == nil ? "path,label,split\n" : "path,label,fold,split\n"
            let rows = placements.map { p in
                CSV.row(["\(p.folder)/\(p.fileName)", "\(p.item.label)"] + (p.fold.map { ["\($0)"] } ?? []) + [p.split.rawValue])
            }.sorted()
            csv += rows.map { $0 + "\n" }.joined()
            for name in Workspace.splitFolderNames {
                let target = workspace.path(name)
                try? fm.removeItem(atPath: target)
                if FileIO.kind(of: staging + "/" + name) == .directory {
                    try fm.moveItem(atPath: staging + "/" + name, toPath: target)
                    summary.folders.append(name)
                }
            }
            try FileIO.writeAtomically(Array(csv.utf8), to: workspace.splitListPath)
            try? fm.removeItem(atPath: staging)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw CatalogError(path: workspace.root, detail: "cannot write the split folders: \(error)")
        }
    }

    private func place(_ source: String, at target: String, relativeDepth: Int) throws {
        switch request.mode {
        case .hardlink:
            if FileIO.hardLink(source, at: target) { return }
            try FileIO.writeAtomically(try FileIO.read(source), to: target)
        case .copy:
            try FileIO.writeAtomically(try FileIO.read(source), to: target)
        case .symlink:
            // From <split>/<label>/ back to the workspace root, then into raw/.
            let up = String(repeating: "../", count: relativeDepth)
            let relative = up + String(source.dropFirst(workspace.root.count + 1))
            guard symlink(relative, target) == 0 else { throw FileError(path: target, detail: "cannot create the link") }
        }
    }

    /// Near-duplicate pairs (curate's thresholds) with members in different splits or folds.
    private func leakage(_ placements: [Placement]) -> Int {
        // One entry per item: its split, or its validation fold.
        var side: [Int64: String] = [:]
        var items: [SplitItem] = []
        for p in placements where p.copy == 0 && (p.fold == nil || p.split == .validation) {
            if side[p.item.id] == nil { items.append(p.item) }
            side[p.item.id] = p.fold.map { "fold \($0)" } ?? p.split.rawValue
        }
        let index = NearDuplicateIndex(hashes: items.map(\.phash), threshold: request.near)
        var crossing = 0
        index.forEachPair { a, b in
            if side[items[a].id] != side[items[b].id] && items[a].detail.distance(to: items[b].detail) <= request.verify {
                crossing += 1
            }
        }
        return crossing
    }
}
