import Catalog
import Files
import Foundation
import StageContract

/// What reading the manifests did, for the run summary and `fetch.json`.
public struct IngestSummary: Sendable, Codable, Equatable {
    /// URL records read from the manifests.
    public var records = 0
    /// New rows: URLs not in the catalog before under their label.
    public var added = 0
    /// Records whose URL was already in the catalog under the same label (repeats within the manifests and
    /// URLs an earlier run recorded).
    public var alreadyKnown = 0
    /// Malformed URLs, recorded as failed with reason `invalid_url`.
    public var invalid = 0
    /// Records in another shard.
    public var otherShards = 0
    /// Records dropped by the label map, by category: no rule matched, or the rule said "-".
    public var unmapped: [String: Int] = [:]
    public var dropped: [String: Int] = [:]
    /// Records whose label is not a usable folder name, by label.
    public var invalidLabels: [String: Int] = [:]
}

/// Streams manifests into the catalog as pending rows, one per (normalised URL, label): the catalog is the
/// fetch queue, so a run can stop anywhere and the next one takes up what is still pending.
struct ManifestIngest {
    var label: Label?
    var labelMap: LabelMap?
    var shard: Shard?
    var reader = ManifestReader()

    /// `afterEachBatch` runs after each committed batch (the fetch engine starts on rows as they land);
    /// `isCancelled` is asked now and then, and reading stops when it says so.
    ///
    /// Parsing runs here and committing on a thread of its own, so the two overlap. Batches grow from 2,000
    /// rows (downloads start at once) to 200,000: each commit writes every index page it touched, and with
    /// random URLs that is most of the index. On `nsfw_data_source_urls`' 1.13 million aggregate URLs,
    /// 2,000-row batches took 25 s, 200,000-row ones 12 s, and with the commits overlapped 10 s.
    func ingest(_ files: [ManifestFile], into catalog: Catalog, afterEachBatch: (@Sendable () -> Void)? = nil,
                isCancelled: () -> Bool = { false }) throws(FetchError) -> IngestSummary {
        var summary = IngestSummary()
        var labels = LabelCache()
        let committer = try BatchCommitter(catalog: catalog, afterEachBatch: afterEachBatch)
        var batch: [QueuedRow] = []
        var batchSize = 2000
        var stopped = false
        do throws(FetchError) {
            for file in files where !stopped {
                try reader.read(file) { entry throws(FetchError) in
                    if summary.records % 1024 == 0 && (isCancelled() || committer.failed) {
                        stopped = true
                        return false
                    }
                    summary.records += 1
                    if let item = try queued(entry, &labels, &summary) { batch.append(item) }
                    if batch.count >= batchSize {
                        committer.commit(batch)
                        batch = []
                        batchSize = min(batchSize * 2, 200_000)
                    }
                    return true
                }
            }
        } catch {
            _ = try? committer.finish()
            throw error
        }
        committer.commit(batch)
        let inserted = try committer.finish()
        let accepted = summary.records - summary.otherShards - summary.unmapped.values.reduce(0, +)
            - summary.dropped.values.reduce(0, +) - summary.invalidLabels.values.reduce(0, +)
        summary.added = inserted
        summary.alreadyKnown = accepted - inserted
        return summary
    }

    /// The catalog row an entry queues, or nil when it is skipped (counted in `summary`).
    private func queued(_ entry: ManifestEntry, _ labels: inout LabelCache,
                        _ summary: inout IngestSummary) throws(FetchError) -> QueuedRow? {
        guard let target = try labels.label(for: entry, summary: &summary, resolve: resolveLabel) else { return nil }
        let normalized = URLNormalizer.normalize(ManifestIngest.cleaned(entry.url))
        let source: String
        switch normalized {
        case .success(let url): source = url
        case .failure: source = entry.url.trimmingWhitespace()
        }
        if let shard, !shard.contains(source) {
            summary.otherShards += 1
            return nil
        }
        if case .failure(.invalid(let why)) = normalized {
            summary.invalid += 1
            return QueuedRow(source: source, label: target,
                             invalid: "\(why) (\(entry.file.path == "-" ? "stdin" : entry.file.path):\(entry.line))")
        }
        return QueuedRow(source: source, label: target, invalid: nil)
    }

    /// Undoes the damage scraped URL lists carry (seen in nsfw_data_scraper and nsfw_data_source_urls):
    /// Markdown leftovers joining two URLs with "](", HTML-escaped ampersands and backslash-escaped
    /// underscores. (Text after the URL is cut by the text reader.)
    static func cleaned(_ raw: String) -> String {
        // Most lines need none of this: look before touching them.
        guard raw.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "]") })
        else { return raw }
        var url = raw.trimmingWhitespace()
        if let markdown = url.range(of: "](") { url = String(url[..<markdown.lowerBound]) }
        return url.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "\\_", with: "_")
    }

    /// Categories repeat millions of times: decide each one once. Only the successful decisions are kept;
    /// skipped records are counted on every occurrence.
    struct LabelCache {
        private var known: [String: Label] = [:]

        mutating func label(for entry: ManifestEntry, summary: inout IngestSummary,
                            resolve: (ManifestEntry, inout IngestSummary) throws(FetchError) -> Label?) throws(FetchError) -> Label? {
            let key = entry.recordCategory ?? entry.file.folderCategory ?? ""
            if let label = known[key] { return label }
            let label = try resolve(entry, &summary)
            if let label, !key.isEmpty { known[key] = label }
            return label
        }
    }

    /// --label, else the record's label column, else the folder; then the label map.
    private func resolveLabel(_ entry: ManifestEntry, _ summary: inout IngestSummary) throws(FetchError) -> Label? {
        if let label { return label }
        guard let category = entry.recordCategory ?? entry.file.folderCategory else {
            throw FetchError("\(entry.file.path == "-" ? "standard input" : entry.file.path): no label for its URLs; give --label or a label column")
        }
        if let labelMap {
            switch labelMap.decide(category) {
            case .label(let mapped): return mapped
            case .dropped:
                summary.dropped[category, default: 0] += 1
                return nil
            case .unmapped:
                summary.unmapped[category, default: 0] += 1
                return nil
            }
        }
        do {
            return try Label(category)
        } catch {
            summary.invalidLabels[category, default: 0] += 1
            return nil
        }
    }
}

/// A row the manifest queues, as small as it can be: a batch holds 200,000 of them. With a whole `CatalogItem`
/// each, reading `nsfw_data_source_urls`' aggregate files peaked at 590 MB; with these, 200 MB.
struct QueuedRow {
    let source: String
    let label: Label
    /// Why the URL is malformed (then it is recorded as failed with `invalid_url`).
    let invalid: String?

    var item: CatalogItem {
        var item = CatalogItem(source: source, sourceKind: .url, label: label)
        if let invalid {
            item.status = .failed
            item.reason = .fetch(.invalidURL)
            item.message = invalid
        }
        return item
    }
}

/// Commits the ingest's batches on its own thread, one at a time, while the next is parsed (a queue of one:
/// parsing waits rather than piling batches up in memory). It writes through a connection of its own: a
/// 200,000-row commit takes a second or two, and on the run's connection the fetch engine, which reads the
/// pending URLs there, would wait for it with its transfers; a reader of SQLite's log does not wait for a writer.
private final class BatchCommitter: @unchecked Sendable {
    private let batches = BlockingQueue<[QueuedRow]>(capacity: 1)
    private let lock = NSLock()
    private var inserted = 0
    private var error: FetchError?
    private var thread: WorkerThread?

    init(catalog shared: Catalog, afterEachBatch: (@Sendable () -> Void)?) throws(FetchError) {
        let catalog: Catalog
        do { catalog = try Catalog(path: shared.path, create: false) } catch { throw FetchError("\(error)") }
        thread = WorkerThread(name: "manifest committer") { [self] in
            while let batch = batches.pop() {
                if failed { continue }  // drain what is queued without writing it
                do {
                    let count = try catalog.write { t throws(CatalogError) in
                        var count = 0
                        for row in batch where try t.insertIfAbsent(row.item) { count += 1 }
                        return count
                    }
                    lock.withLock { inserted += count }
                    afterEachBatch?()
                } catch {
                    lock.withLock { self.error = FetchError("\(error)") }
                    batches.close()
                }
            }
        }
    }

    /// True once a commit failed: reading stops, and `finish` throws.
    var failed: Bool { lock.withLock { error != nil } }

    func commit(_ batch: [QueuedRow]) {
        if !batch.isEmpty { batches.push(batch) }
    }

    /// Waits for the last commit; the rows inserted, or the first commit's error.
    func finish() throws(FetchError) -> Int {
        batches.close()
        thread?.join()
        let (inserted, error) = lock.withLock { (self.inserted, self.error) }
        if let error { throw error }
        return inserted
    }
}
