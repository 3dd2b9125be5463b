import ArgumentParser
import Assist
import Backbone
import Catalog
import Console
import Curate
import Engine
import Files
import Foundation
import Imaging
import SampleImages
import StageContract
import Train

/// The measurement behind `--semantic-threshold` and `--semantic-inliers`: cosine similarity of the backbone's
/// pooled features between real pictures and their planted copies (crops of 2-5% per side, 90° and 5°
/// rotations, a flip, a re-framing), how many each threshold finds, how many pairs of distinct pictures it
/// would merge, and the same for curate's pHash rule on the same files; then the candidates (with quarter-turned
/// views) checked with local features, found and merged by agreeing corners and by their share of the matches.
struct SemanticStudy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "semantic-study", abstract: "Planted copies of real pictures: backbone cosine and local features vs pHash.")

    @Option(help: "A folder of real pictures (searched recursively; exact duplicates skipped).") var from: String
    @Option(help: "Originals to use (the rest of the folder is left out).") var originals = 1000
    @Option(help: "A workspace folder for the pictures written and the feature cache.") var workspace: String
    @Option(help: "The installed backbone.") var backbone = "efficientnet-lite0"
    @Option(help: "Smallest side of an original, in pixels.") var minSide = 96
    @Option(help: "Also write the features (float32 rows: originals, then each original's copies) to this file.") var dump: String?
    @Option(help: "Cosine at or above which a pair is checked with local features.") var candidateThreshold: Float = SemanticIndex.defaultThreshold
    @Flag(inversion: .prefixedNo, help: "Search each picture's quarter-turned view too, as curate does.") var quarterTurns = true
    @OptionGroup var output: MeasuredValues

    func run() throws {
        let root = Workspace(root: workspace)
        let folder = root.path("study")
        try FileIO.createDirectory(folder)
        var seen = Set<String>(), files: [String] = []
        for file in DirectoryWalker(root: from).sorted() where [".jpg", ".jpeg", ".png", ".webp"].contains(where: file.lowercased().hasSuffix) {
            guard let bytes = try? FileIO.read(file), seen.insert(SHA256.hex(bytes)).inserted else { continue }
            files.append(file)
        }
        var random = SplitMix64(seed: 1)
        files.stableShuffle(using: &random)
        var originalFiles: [String] = [], copyFiles: [[String]] = [], sources: [String] = []
        for file in files where originalFiles.count < originals {
            guard var image = try? ImageDecoder.decode(file: file), min(image.width, image.height) >= minSide else { continue }
            image = image.fitting(maxSide: 512)
            let name = "\(folder)/\(originalFiles.count)"
            try FileIO.writeAtomically(try image.jpegData(quality: 90), to: name + ".jpg")
            originalFiles.append(name + ".jpg")
            sources.append(file)
            copyFiles.append(try Transformation.planted.enumerated().map { t, transformation in
                let path = "\(name)-copy\(t).jpg"
                try FileIO.writeAtomically(try transformation.apply(to: image).jpegData(quality: 90), to: path)
                return path
            })
        }
        print("\(originalFiles.count) distinct real pictures from \(from) (of \(files.count) files), \(Transformation.planted.count) copies each")
        let reference = BackboneReference(name: backbone, modelFile: try BackboneStore().installedModel(backbone))
        let all = originalFiles + copyFiles.flatMap { $0 }
        let extracted = try BackboneFeatures.views(all, backbone: reference, cacheFolder: root.featuresFolder, progress: LoopProgress(display: ProgressBar(title: "features", total: nil, unit: "images")),
                                                   quarterTurned: quarterTurns)
        let width = BackboneFeatures.width, zero = [Float](repeating: 0, count: width)
        if let dump {
            let rows = extracted.flatMap { $0?.plain ?? zero }
            try FileIO.writeAtomically(rows.withUnsafeBytes { Array($0) }, to: dump)
        }
        let unit = SemanticIndex.unitRows(extracted.flatMap { $0?.plain ?? zero }, width: width)
        let turned = quarterTurns ? SemanticIndex.unitRows(extracted.flatMap { $0?.quarterTurned ?? zero }, width: width) : nil
        func cosine(_ a: Int, _ b: Int) -> Float { (0..<width).reduce(0) { $0 + unit[a * width + $1] * unit[b * width + $1] } }
        let hashes = try all.map { try ItemAnalysis.analyze(try FileIO.read($0)).hashes }
        let rule = CurateRequest()
        let thresholds: [Float] = [0.80, 0.85, 0.90, 0.92, 0.94, 0.95]
        let n = originalFiles.count
        print("\ntransformation     cosine median / 5th pct / min   found at cosine " + thresholds.map { String(format: "%.2f", $0) }.joined(separator: "  ")
              + "   pHash (--near \(rule.near) --verify \(rule.verify))")
        var foundAll = [Int](repeating: 0, count: thresholds.count), phashAll = 0
        for (t, transformation) in Transformation.planted.enumerated() {
            let similarities = (0..<n).map { cosine($0, n + $0 * Transformation.planted.count + t) }.sorted()
            let found = thresholds.map { threshold in similarities.filter { $0 >= threshold }.count }
            for (i, f) in found.enumerated() { foundAll[i] += f }
            let phash = (0..<n).filter { i in
                let (a, b) = (hashes[i], hashes[n + i * Transformation.planted.count + t])
                return hammingDistance(a.phash, b.phash) <= rule.near && a.detail.distance(to: b.detail) <= rule.verify
            }.count
            phashAll += phash
            print(transformation.description.padding(toLength: 19, withPad: " ", startingAt: 0)
                  + String(format: "%.3f / %.3f / %.3f", similarities[n / 2], similarities[n / 20], similarities[0]).padding(toLength: 32, withPad: " ", startingAt: 0)
                  + found.map { String(format: "%5.1f%%", Double($0) * 100 / Double(n)) }.joined(separator: " ")
                  + String(format: "   %5.1f%%", Double(phash) * 100 / Double(n)))
        }
        let planted = n * Transformation.planted.count
        print("all planted".padding(toLength: 51, withPad: " ", startingAt: 0)
              + foundAll.map { String(format: "%5.1f%%", Double($0) * 100 / Double(planted)) }.joined(separator: " ")
              + String(format: "   %5.1f%%", Double(phashAll) * 100 / Double(planted)))
        // Distinct pictures merged: pairs of originals.
        let pairs = SemanticIndex(unitRows: Array(unit[0..<(n * width)]), count: n, width: width).pairs(threshold: min(thresholds[0], candidateThreshold))
        // The candidates as curate searches them: with each picture's quarter-turned view too.
        let candidatePairs = turned.map {
            SemanticIndex(unitRows: Array(unit[0..<(n * width)]), quarterTurnedRows: Array($0[0..<(n * width)]), count: n, width: width)
                .pairs(threshold: candidateThreshold)
        } ?? pairs.filter { $0.similarity >= candidateThreshold }
        let phashPairs = NearDuplicateIndex(hashes: hashes.prefix(n).map(\.phash), threshold: rule.near)
        var phashFalse = 0
        phashPairs.forEachPair { a, b in if hashes[a].detail.distance(to: hashes[b].detail) <= rule.verify { phashFalse += 1 } }
        // The "distinct" originals are distinct files: the packages hold some pictures at several sizes, which both
        // rules rightly merge; the pairs printed below show which.
        print("\npairs of distinct pictures merged (per 10,000 pictures):")
        for t in thresholds where t >= min(thresholds[0], candidateThreshold) {
            let count = pairs.filter { $0.similarity >= t }.count
            print(String(format: "  cosine %.2f: %d (%.1f)", t, count, Double(count) * 10_000 / Double(n)))
        }
        print(String(format: "  pHash rule: %d (%.1f)", phashFalse, Double(phashFalse) * 10_000 / Double(n)))
        for pair in pairs.sorted(by: { $0.similarity > $1.similarity }).prefix(12) { print(String(format: "  %.3f  %@  %@", pair.similarity, originalFiles[pair.a], originalFiles[pair.b])) }
        let checked = try verificationStudy(all: all, sources: sources, unit: unit, turned: turned, n: n, candidates: candidatePairs)
        // For scripts/bench-assist.sh. The merged pairs are every pair of distinct files, the packages' own copies
        // among them (the list above says which).
        let phashFound = Double(phashAll) * 100 / Double(planted)
        output.report(String(format: "planted copies found: %.1f%% (pHash rule %.1f%%); distinct files merged per 10,000: %.1f (pHash rule %.1f)",
                             checked.found * 100, phashFound, Double(checked.merged) * 10_000 / Double(n), Double(phashFalse) * 10_000 / Double(n)),
                      ["found_percent": checked.found * 100, "phash_found_percent": phashFound,
                       "merged_per_10000": Double(checked.merged) * 10_000 / Double(n), "phash_merged_per_10000": Double(phashFalse) * 10_000 / Double(n)])
    }

    /// Candidates at `candidateThreshold`, then the local-feature check: the inliers of planted copies and of
    /// distinct pairs, and what each minimum finds and merges.
    /// Returns the share of planted copies confirmed and the pairs of distinct files merged, at the defaults.
    private func verificationStudy(all: [String], sources: [String], unit: [Float], turned: [Float]?, n: Int,
                                   candidates: [SemanticIndex.Pair]) throws -> (found: Double, merged: Int) {
        let width = BackboneFeatures.width, copies = Transformation.planted.count
        func dot(_ x: [Float], _ a: Int, _ y: [Float], _ b: Int) -> Float { (0..<width).reduce(0) { $0 + x[a * width + $1] * y[b * width + $1] } }
        // As the search meets a pair: as they are, or one of them turned a quarter.
        func cosine(_ a: Int, _ b: Int) -> Float {
            guard let turned else { return dot(unit, a, unit, b) }
            return max(dot(unit, a, unit, b), dot(turned, a, unit, b), dot(unit, a, turned, b))
        }
        let started = monotonicSeconds()
        var local = [LocalFeatures?](repeating: nil, count: all.count)
        var index = 0
        parallelMap(all, threads: ProcessInfo.processInfo.activeProcessorCount, { file in
            (try? ImageDecoder.decode(file: file)).map { LocalFeatures(image: $0) }
        }) { local[index] = $0; index += 1 }
        let featureSeconds = monotonicSeconds() - started
        let keypoints = local.compactMap { $0?.keypoints.count }.sorted()
        print(String(format: "\nlocal features of %d pictures in %.1f s; keypoints median %d, 5th pct %d",
                     all.count, featureSeconds, keypoints[keypoints.count / 2], keypoints[keypoints.count / 20]))
        let verification = PairVerification()
        // The same check but for the share of agreeing matches, which the second table measures.
        var loose = verification
        loose.minimumShare = 0
        let verifyStarted = monotonicSeconds()
        var plantedInliers: [[Int]] = Array(repeating: [], count: copies)  // -1: below the candidate threshold
        var plantedShare: [[Float]] = Array(repeating: [], count: copies)
        for t in 0..<copies {
            for i in 0..<n {
                let copy = n + i * copies + t
                guard cosine(i, copy) >= candidateThreshold, let a = local[i], let b = local[copy] else {
                    plantedInliers[t].append(-1)
                    plantedShare[t].append(-1)
                    continue
                }
                let result = verification.verify(a, b)
                plantedInliers[t].append(result.inliers)
                plantedShare[t].append(loose.accepts(result) ? result.share : -1)
            }
        }
        var distinctInliers: [(SemanticIndex.Pair, Int)] = [], distinctShare: [(SemanticIndex.Pair, Float)] = []
        for pair in candidates {
            guard let a = local[pair.a], let b = local[pair.b] else { continue }
            let result = verification.verify(a, b)
            distinctInliers.append((pair, result.inliers))
            distinctShare.append((pair, loose.accepts(result) ? result.share : -1))
        }
        let checked = plantedInliers.joined().filter { $0 >= 0 }.count + distinctInliers.count
        print(String(format: "%d pairs checked in %.1f s (%.2f ms each)", checked, monotonicSeconds() - verifyStarted,
                     (monotonicSeconds() - verifyStarted) * 1000 / Double(max(1, checked))))
        func table(_ title: String, _ thresholds: [Float], planted: [[Float]], distinct: [Float]) {
            print("\n" + title + thresholds.map { String(format: "%g", $0) }.joined(separator: "      "))
            for (t, transformation) in Transformation.planted.enumerated() {
                print(transformation.description.padding(toLength: 19, withPad: " ", startingAt: 0)
                      + thresholds.map { c in String(format: "%6.1f%%", Double(planted[t].filter { $0 >= c }.count) * 100 / Double(n)) }.joined(separator: " "))
            }
            print("all planted".padding(toLength: 19, withPad: " ", startingAt: 0)
                  + thresholds.map { c in String(format: "%6.1f%%", Double(planted.joined().filter { $0 >= c }.count) * 100 / Double(n * copies)) }.joined(separator: " "))
            print("distinct merged".padding(toLength: 19, withPad: " ", startingAt: 0)
                  + thresholds.map { c in String(format: "%7d", distinct.filter { $0 >= c }.count) }.joined(separator: " "))
        }
        table("candidates at cosine \(candidateThreshold)\(turned == nil ? "" : " (with quarter turns)") found with at least this many inliers (0: all candidates): ",
              [0, 6, 8, 10, 12, 15, 20, 25], planted: plantedInliers.map { $0.map(Float.init) }, distinct: distinctInliers.map { Float($0.1) })
        table("and with at least \(verification.minimumInliers) inliers, the share of matches agreeing at least: ", [0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
              planted: plantedShare, distinct: distinctShare.map(\.1))
        // Every merged pair, weakest first, and a sheet of them (4 pairs a row) to look at.
        let merged = zip(distinctInliers, distinctShare).filter { $0.1.1 >= verification.minimumShare }.map { $0.0 }.sorted { $0.1 < $1.1 }
        for (r, (pair, inliers)) in merged.enumerated() {
            print(String(format: "  %3d  inliers %3d  cosine %.3f  %@ (%@)  %@ (%@)", r, inliers, pair.similarity,
                         all[pair.a], sources[pair.a], all[pair.b], sources[pair.b]))
        }
        let root = Workspace(root: workspace)
        let cells = merged.prefix(120).flatMap { pair, _ in
            [pair.a, pair.b].map { ContactSheet.Cell(path: "study/" + URL(fileURLWithPath: all[$0]).lastPathComponent, id: Int64($0), frame: ContactSheet.flagged) }
        }
        if let sheet = ContactSheet.draw(ContactSheet.rows(cells, maxRows: 30), name: "merged-distinct.jpg", folder: "study-sheets", in: root) {
            print("  sheet of them, 4 pairs a row: \(root.path(sheet.path))")
        }
        let found = plantedShare.joined().filter { $0 >= verification.minimumShare }.count
        return (Double(found) / Double(n * copies), merged.count)
    }
}

/// The pair search at scale: synthetic unit vectors (clustered, as pooled features are) with planted near
/// copies, searched with the k-means partition; prints the time and the share of planted pairs found.
struct BenchSemanticSearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-semantic-search", abstract: "Time the semantic pair search on synthetic vectors.")

    @Option(help: "Vectors.") var vectors = 1_000_000
    @Option(help: "Their width.") var width = 1280
    @Option(help: "Near copies planted among them.") var planted = 1000
    @Option(help: "Cosine threshold.") var threshold: Float = SemanticIndex.defaultThreshold
    @OptionGroup var output: MeasuredValues

    func run() throws {
        var random = SplitMix64(seed: 7)
        let started = monotonicSeconds()
        let centres = (0..<1000).map { _ in (0..<width).map { _ in Float(random.nextGaussian()) } }
        let distinct = vectors - planted
        var rows = [Float](repeating: 0, count: vectors * width)
        for i in 0..<distinct {
            let centre = centres[random.next(below: centres.count)]
            // Cosine between two members of a cluster about 0.5, between clusters about 0: like pooled features.
            for j in 0..<width { rows[i * width + j] = centre[j] + Float(random.nextGaussian()) }
        }
        var truth: [(Int, Int)] = []
        for p in 0..<planted {
            let original = random.next(below: distinct), copy = distinct + p
            for j in 0..<width { rows[copy * width + j] = rows[original * width + j] + Float(random.nextGaussian()) * 0.35 }
            truth.append((original, copy))
        }
        let unit = SemanticIndex.unitRows(rows, width: width)
        rows = []
        print(String(format: "%d vectors of %d (%d planted copies) generated in %.1f s", vectors, width, planted, monotonicSeconds() - started))
        BLAS.threads = ProcessInfo.processInfo.activeProcessorCount
        let searchStarted = monotonicSeconds()
        let index = SemanticIndex(unitRows: unit, count: vectors, width: width)
        let pairs = index.pairs(threshold: threshold)
        let seconds = monotonicSeconds() - searchStarted
        let found = Set(pairs.map { Int64($0.a) * Int64(vectors) + Int64($0.b) })
        let recall = truth.filter { found.contains(Int64($0.0) * Int64(vectors) + Int64($0.1)) }.count
        output.report(String(format: "search (%@, %d threads): %.1f s; %d pairs at cosine >= %.2f; planted found %d of %d (%.1f%%)",
                             index.isPartitioned ? "k-means partition" : "exact", BLAS.threads, seconds, pairs.count, threshold, recall, planted,
                             Double(recall) * 100 / Double(planted)),
                      ["search_seconds": seconds, "planted_found": Double(recall), "planted": Double(planted)])
    }
}

/// The label-issue benchmark's imgcls side: the workspace's kept images' features (cached), 5% of labels
/// flipped (seeded), the imgcls pass timed (cross-validated head + confident learning), and the files
/// scripts/reference/label-issues-cleanlab.py reads to run cleanlab on the same input.
struct LabelIssueBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label-issue-bench", abstract: "Flip labels, find them, write the input for cleanlab.")

    @Option(help: "A curated workspace.") var workspace: String
    @Option(help: "The folder for the files cleanlab's script reads.") var out: String
    @Option(help: "Share of labels flipped.") var flip = 0.05
    @Option(help: "Seed of the flips and the folds.") var seed: UInt64 = 1
    @Option(help: "Cross-validation folds.") var folds = 5
    @Option(help: "The installed backbone.") var backbone = "efficientnet-lite0"

    func run() throws {
        let root = Workspace(root: workspace)
        var items: [CatalogItem] = []
        try root.requireCatalog().forEachItem(status: .ok) { if $0.path != nil { items.append($0) } }
        let classes = Array(Set(items.map(\.label.name))).sorted()
        let reference = BackboneReference(name: backbone, modelFile: try BackboneStore().installedModel(backbone))
        let cacheStarted = monotonicSeconds()
        let extracted = try BackboneFeatures.of(items.map { root.path($0.path!) }, backbone: reference, cacheFolder: root.featuresFolder,
                                                progress: LoopProgress(display: ProgressBar(title: "features", total: nil, unit: "images")))
        let cacheSeconds = monotonicSeconds() - cacheStarted
        let usable = items.indices.filter { extracted[$0] != nil }
        let features = usable.flatMap { extracted[$0]! }
        let truth = usable.map { classes.firstIndex(of: items[$0].label.name)! }
        var random = SplitMix64(seed: seed)
        var labels = truth, flipped = [Int](repeating: 0, count: truth.count)
        var order = Array(truth.indices)
        order.stableShuffle(using: &random)
        for i in order.prefix(Int((Double(truth.count) * flip).rounded())) {
            labels[i] = (truth[i] + 1 + random.next(below: classes.count - 1)) % classes.count
            flipped[i] = 1
        }
        BLAS.threads = ProcessInfo.processInfo.activeProcessorCount
        var cv = CrossValidation()
        cv.folds = folds
        cv.seed = seed
        let started = monotonicSeconds()
        let probabilities = cv.probabilities(features: features, width: BackboneFeatures.width, labels: labels, classes: classes.count)
        let cvSeconds = monotonicSeconds() - started
        let issues = ConfidentLearning(probabilities: probabilities, labels: labels, classes: classes.count).issues
        let seconds = monotonicSeconds() - started
        try FileIO.createDirectory(out)
        let meta = "{\"n\": \(truth.count), \"width\": \(BackboneFeatures.width), \"classes\": \(classes.count), \"folds\": \(folds), \"seed\": \(seed), "
            + String(format: "\"imgclsSeconds\": %.4f, \"imgclsCVSeconds\": %.4f, \"cachedFeatureSeconds\": %.4f}", seconds, cvSeconds, cacheSeconds)
        try FileIO.writeAtomically(Array(meta.utf8), to: out + "/meta.json")
        try FileIO.writeAtomically(features.withUnsafeBytes { Array($0) }, to: out + "/features.f32")
        try FileIO.writeAtomically(Array(labels.map(String.init).joined(separator: "\n").appending("\n").utf8), to: out + "/labels.txt")
        try FileIO.writeAtomically(Array(flipped.map(String.init).joined(separator: "\n").appending("\n").utf8), to: out + "/flipped.txt")
        try FileIO.writeAtomically(Array(probabilities.map { $0.map { String(format: "%.8g", $0) }.joined(separator: ",") }.joined(separator: "\n").appending("\n").utf8),
                                   to: out + "/probabilities.csv")
        try FileIO.writeAtomically(Array(issues.map { String($0.index) }.joined(separator: "\n").appending(issues.isEmpty ? "" : "\n").utf8),
                                   to: out + "/imgcls-issues.txt")
        print(String(format: "%d images, %d classes, %d flipped; imgcls pass %.3f s (cross-validation %.3f s), cached features read in %.2f s; %d issues",
                     truth.count, classes.count, flipped.reduce(0, +), seconds, cvSeconds, cacheSeconds, issues.count))
    }
}
