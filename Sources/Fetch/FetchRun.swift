// Fetch: URL lists and web pages into the workspace. Entry: `FetchRun` (a `FetchRequest` in, a `FetchSummary`
// out). Files in reading order:
//   FetchRun.swift         the run: manifests into the catalog, pending URLs through the engine, results committed
//   Manifest.swift         finding manifests and their formats (Files' LineReader streams their gzipped lines)
//   ManifestIngest.swift   manifest entries to catalog rows (LabelMap.swift, Shard.swift, Glob.swift, URLNormalizer.swift;
//                          ShardMarker.swift the completion marker of a shard)
//   CurlEngine.swift       the libcurl multi loop; Transfer.swift is one transfer, FetchJob.swift its job and response
//   HostScheduler.swift    politeness per host, with RobotsRules.swift
//   RetryPolicy.swift      a finished transfer to an outcome: success, retry or a failure `Reason`
//   ImageProcessing.swift  checking and storing a downloaded image (ImageProcessor)
//   PageScraper.swift      image and page links in HTML (libxml2)
//   BlockingQueue.swift    the hand-offs between the engine, workers and the catalog writer; FetchError.swift
//   SummaryText.swift      the summary as the command line prints it

import Catalog
import Console
import Files
import Foundation
import Imaging
import Logging
import StageContract

let log = Logger(label: "imgcls.fetch")

/// Everything a fetch or scrape run is asked to do.
public struct FetchRequest: Sendable {
    /// Manifest files or folders (`-` for standard input).
    public var manifests: [String] = []
    /// HTML pages to scrape for images (needs `label`).
    public var pages: [String] = []
    public var label: Label?
    public var labelMap: LabelMap?
    public var format: ManifestFormat?
    public var urlColumn = "url"
    public var labelColumn = "label"
    public var shard: Shard?
    /// Set failed URLs back to pending first (except malformed ones).
    public var retryFailed = false
    /// Read the manifests into the catalog, fetch nothing.
    public var dryRun = false
    /// Scrape: follow same-host links this many levels deep, visiting at most `maxPages` pages.
    public var depth = 0
    public var maxPages = 100
    public var engine = EngineSettings()
    public var processing = ProcessingSettings()
    /// Threads that check and store responses.
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    /// A progress line on standard error while it runs.
    public var showProgress = false

    public init() {}
}

/// What a run did: written to `data/reports/fetch.json` and printed at the end.
public struct FetchSummary: Sendable, Codable {
    public var ingest = IngestSummary()
    /// Items finished in this run, by status, by reason and by label (label -> status -> count).
    public var byStatus: [String: Int] = [:]
    public var byReason: [String: Int] = [:]
    public var byLabel: [String: [String: Int]] = [:]
    public var bytesDownloaded = 0
    public var pagesScraped = 0
    public var pagesFailed = 0
    public var seconds = 0.0
    public var imagesPerSecond = 0.0
    public var megabytesPerSecond = 0.0
    /// Items still pending (a stopped run, or a dry run).
    public var pending = 0
    public var stoppedEarly = false
    /// The workspace already held this shard of these manifests, completed: nothing was read or fetched.
    public var alreadyComplete = false
    /// Every manifest was read and every URL tried: the completion marker was written (or already there).
    public var completed = false

    public var finished: Int { byStatus.values.reduce(0, +) }

    /// Its file in the workspace's reports folder.
    public static let reportFileName = Workspace.ReportFile.fetch
}

/// One fetch (or scrape) run: manifests into the catalog, then every pending URL through the curl engine,
/// the checks and the store, with results committed in batches. Threads: the caller's runs the engine;
/// `threads` workers check and store; one writes the catalog.
public final class FetchRun: @unchecked Sendable {
    private let workspace: Workspace
    private let request: FetchRequest
    private var progress: ProgressBar?
    private let engine: CurlEngine
    private let lock = NSLock()
    private var summary = FetchSummary()
    private var visitedPages = Set<String>()
    private let started = monotonicSeconds()
    private let ingestion = IngestionState()
    private var runError: FetchError?

    public init(workspace: Workspace, request: FetchRequest) {
        self.workspace = workspace
        self.request = request
        engine = CurlEngine(settings: request.engine)
    }

    /// Stops starting transfers; the run finishes those in flight, commits, and returns (pending URLs stay
    /// pending for the next run). Safe from a signal handler's queue.
    public func stop() {
        lock.lock()
        summary.stoppedEarly = true
        lock.unlock()
        ingestion.cancel()
        engine.stop()
    }

    /// A failure that ends the run early (the catalog cannot be read or written); reported after shutdown.
    private func fail(_ error: FetchError) {
        lock.lock()
        if runError == nil { runError = error }
        lock.unlock()
        engine.stop()
    }

    /// Opens the catalog, clears what killed runs left, and resets failures when asked.
    private func openWorkspace() throws(FetchError) -> Catalog {
        let catalog: Catalog
        do { catalog = try workspace.openCatalog() } catch { throw FetchError("\(error)") }
        do { try workspace.prepareTemporaryFolder() } catch { throw FetchError("\(error)") }
        if request.retryFailed {
            do { _ = try catalog.write { t throws(CatalogError) in try t.resetFailed(keeping: [.fetch(.invalidURL)]) } } catch {
                throw FetchError("\(error)")
            }
        }
        return catalog
    }

    private func ingest(_ files: [ManifestFile], into catalog: Catalog,
                        afterEachBatch: (@Sendable () -> Void)? = nil) throws(FetchError) -> IngestSummary {
        let ingester = ManifestIngest(label: request.label, labelMap: request.labelMap, shard: request.shard,
                                      reader: ManifestReader(urlColumn: request.urlColumn, labelColumn: request.labelColumn))
        return try ingester.ingest(files, into: catalog, afterEachBatch: afterEachBatch) { [ingestion] in ingestion.isCancelled }
    }

    /// The whole fetch, as a recipe: the manifests found (a wrong path fails before anything starts), a completed
    /// shard's rerun answered at once, then the downloads: workers that check and store images, one thread that
    /// writes the catalog, one that reads the manifests while the engine already fetches what is pending, and at
    /// the end the summary, the report and the completion marker, written last.
    public func run() throws(FetchError) -> FetchSummary {
        let catalog = try openWorkspace()
        let files = request.manifests.isEmpty ? [] : try ManifestDiscovery.files(for: request.manifests, format: request.format)
        let marker = request.pages.isEmpty ? try ShardMarker(files: files, request: request) : nil
        if let marker, !request.retryFailed, try marker.isComplete(in: workspace, catalog: catalog) {
            (summary.alreadyComplete, summary.completed) = (true, true)
            return summary
        }
        do { try workspace.removeShardCompletion() } catch { throw FetchError("\(error)") }
        if request.dryRun {
            summary.ingest = try ingest(files, into: catalog)
            summary.pending = (try? catalog.count(status: .pending)) ?? 0
            return summary
        }
        let seeds = try pageSeeds()
        progress = ProgressBar(title: request.pages.isEmpty ? "fetch" : "scrape", total: nil, unit: "images", enabled: request.showProgress)
        let pipeline = startPipeline(catalog)
        let manifestReader = startManifestReader(files, catalog)
        engine.submit(seeds)
        engine.run(source: pendingURLs(catalog))
        try finish(pipeline, manifestReader)
        return try summarize(catalog, marker: marker)
    }

    /// The pages to scrape, as the engine's first jobs.
    private func pageSeeds() throws(FetchError) -> [FetchJob] {
        var seeds: [FetchJob] = []
        for page in request.pages {
            guard case .success(let url) = URLNormalizer.normalize(page) else {
                throw FetchError("\(page): not an http or https URL; give the full address of the page")
            }
            if visitedPages.insert(url).inserted { seeds.append(FetchJob(url: url, label: request.label, kind: .page(depth: 0))) }
        }
        return seeds
    }

    /// The threads behind the engine: workers check and store each finished transfer, one writer commits results.
    private struct Pipeline {
        let work: BlockingQueue<(FetchResponse, Outcome)>
        let results: BlockingQueue<CatalogItem>
        let workers: [WorkerThread]
        let writer: WorkerThread
    }

    private func startPipeline(_ catalog: Catalog) -> Pipeline {
        let processor = ImageProcessor(workspace: workspace, settings: request.processing)
        let work = BlockingQueue<(FetchResponse, Outcome)>(capacity: request.engine.concurrency * 4)
        let results = BlockingQueue<CatalogItem>(capacity: 50_000)
        engine.deliver = { response, outcome in work.push((response, outcome)) }
        let writer = WorkerThread(name: "catalog writer") { [self] in writeResults(results, catalog) }
        let workers = (0..<max(1, request.threads)).map { i in
            WorkerThread(name: "fetch worker \(i)") { [self] in
                while let (response, outcome) = work.pop() {
                    handle(response, outcome, processor, catalog, results)
                    engine.recycle(response.body)
                    engine.processed()
                }
            }
        }
        return Pipeline(work: work, results: results, workers: workers, writer: writer)
    }

    /// The manifests are read on their own thread while downloads start on what is already pending: a list of
    /// millions does not wait for its last line to start.
    private func startManifestReader(_ files: [ManifestFile], _ catalog: Catalog) -> WorkerThread {
        WorkerThread(name: "manifest reader") { [self] in
            do throws(FetchError) {
                let ingestSummary = try ingest(files, into: catalog) { [engine] in engine.wake() }
                ingestion.finish(ingestSummary, error: nil)
            } catch {
                ingestion.finish(nil, error: error)
                engine.stop()
            }
            let pending = (try? catalog.count(status: .pending)) ?? 0
            progress?.setTotal((progress?.count ?? 0) + pending)
            engine.wake()
            log.debug("manifests read after \(String(format: "%.3f", monotonicSeconds() - started)) s")
        }
    }

    /// The engine's source of jobs: the catalog's pending URLs, a thousand at a time, until the manifests are read
    /// and none is left.
    private func pendingURLs(_ catalog: Catalog) -> CurlEngine.JobSource {
        var lastID: Int64 = 0
        var sourceFailures = 0
        return { [self] () -> CurlEngine.SourceChunk in
            let finished = ingestion.isFinished  // read before the query: rows committed later are seen next time
            let rows: [(id: Int64, source: String, label: Label, attempts: Int)]
            do {
                rows = try catalog.pending(afterID: lastID, limit: 1000)
                sourceFailures = 0
            } catch {
                // Another process may hold the catalog for a while: try again, but not for ever.
                sourceFailures += 1
                log.warning("cannot read pending URLs: \(error)")
                if sourceFailures >= 20 { fail(FetchError("cannot read the catalog: \(error)")) }
                return .nothingYet
            }
            lastID = rows.last?.id ?? lastID
            if rows.isEmpty { return finished ? .exhausted : .nothingYet }
            return .jobs(rows.map { FetchJob(url: $0.source, label: $0.label, kind: .image, earlierAttempts: $0.attempts) })
        }
    }

    /// Waits for the threads in order (reader, workers, writer), so every result is committed.
    private func finish(_ pipeline: Pipeline, _ manifestReader: WorkerThread) throws(FetchError) {
        log.debug("transfers done after \(String(format: "%.3f", monotonicSeconds() - started)) s")
        // Stopped early, the manifest reader may be blocked on a slow input (a terminal on stdin): give it a
        // moment to notice, then go on without it.
        if !manifestReader.finished(within: ingestion.isCancelled ? 2 : 1e9) {
            log.warning("stopped while still reading the manifests")
        }
        pipeline.work.close()
        pipeline.workers.forEach { $0.join() }
        pipeline.results.close()
        pipeline.writer.join()
        progress?.finish()
        log.debug("results committed after \(String(format: "%.3f", monotonicSeconds() - started)) s")
        if let error = ingestion.error ?? runError { throw error }
    }

    /// The summary, the report, and last the completion marker: its presence says the rest is done.
    private func summarize(_ catalog: Catalog, marker: ShardMarker?) throws(FetchError) -> FetchSummary {
        lock.lock()
        defer { lock.unlock() }
        summary.ingest = ingestion.summary ?? IngestSummary()
        summary.seconds = monotonicSeconds() - started
        summary.imagesPerSecond = Double(summary.finished) / max(summary.seconds, 1e-9)
        summary.megabytesPerSecond = Double(summary.bytesDownloaded) / 1e6 / max(summary.seconds, 1e-9)
        do { summary.pending = try catalog.count(status: .pending) } catch { throw FetchError("\(error)") }
        summary.completed = marker != nil && !summary.stoppedEarly && summary.pending == 0
        try writeReport(summary)
        if summary.completed { try marker?.write(in: workspace, catalog: catalog) }
        return summary
    }

    private func handle(_ response: FetchResponse, _ outcome: Outcome, _ processor: ImageProcessor, _ catalog: Catalog,
                        _ results: BlockingQueue<CatalogItem>) {
        switch response.job.kind {
        case .image:
            results.push(processor.process(response, outcome))
        case .page(let depth):
            scrape(response, outcome, depth: depth, catalog)
        case .robots:
            break
        }
    }

    /// A fetched page: its images become pending catalog rows (committed before the engine asks its source
    /// again), its same-host links further pages while depth and the page budget allow.
    private func scrape(_ response: FetchResponse, _ outcome: Outcome, depth: Int, _ catalog: Catalog) {
        guard outcome == .success, let label = response.job.label else {
            lock.lock()
            summary.pagesFailed += 1
            lock.unlock()
            return
        }
        let links = PageScraper.links(in: response.body, pageURL: response.finalURL ?? response.job.url)
        do {
            try catalog.write { t throws(CatalogError) in
                for url in links.images { try t.insertIfAbsent(CatalogItem(source: url, sourceKind: .url, label: label)) }
            }
        } catch {
            log.error("\(response.job.url): cannot record its images: \(error)")
        }
        lock.lock()
        summary.pagesScraped += 1
        var next: [FetchJob] = []
        if depth < request.depth {
            for url in links.pages where visitedPages.count < request.maxPages && visitedPages.insert(url).inserted {
                next.append(FetchJob(url: url, label: label, kind: .page(depth: depth + 1)))
            }
        }
        lock.unlock()
        engine.submit(next)
    }

    /// The catalog writer: every 50 ms it takes what has arrived and commits it in one transaction, so a
    /// killed run loses only its last moments (those URLs are fetched again) and the workers never wait for
    /// it; it also keeps the counters.
    private func writeResults(_ results: BlockingQueue<CatalogItem>, _ catalog: Catalog) {
        let writer = CatalogBatchWriter(catalog: catalog, batchSize: 5000)
        var failures = 0
        func flush() {
            do {
                try writer.flush()
                failures = 0
            } catch {
                // A busy catalog gets a few more tries; a full disk or a broken file ends the run (what is not
                // committed stays pending and is fetched again next time).
                failures += 1
                log.error("cannot write the catalog: \(error)")
                if failures >= 5 { fail(FetchError("cannot write the catalog: \(error)")) }
            }
        }
        while true {
            let done = results.isClosedAndEmpty
            while let item = results.tryPop() {
                do { try writer.add(item) } catch { log.error("cannot write the catalog: \(error)") }
                count(item)
            }
            flush()
            if done { return }
            for _ in 0..<10 where !results.isClosedAndEmpty { usleep(5000) }  // 50 ms, or until the run ends
        }
    }

    private func count(_ item: CatalogItem) {
        lock.lock()
        summary.byStatus[item.status.rawValue, default: 0] += 1
        if let reason = item.reason { summary.byReason[reason.code, default: 0] += 1 }
        summary.byLabel[item.label.name, default: [:]][item.status.rawValue, default: 0] += 1
        summary.bytesDownloaded += item.bytes ?? 0
        let ok = summary.byStatus["ok"] ?? 0, failed = summary.byStatus["failed"] ?? 0
        let megabytes = Double(summary.bytesDownloaded) / 1e6
        lock.unlock()
        progress?.advance()
        progress?.setDetail("ok \(ok)  failed \(failed)  "
                            + String(format: "%.1f MB/s", megabytes / max(1e-3, monotonicSeconds() - started)))
    }

    private func writeReport(_ summary: FetchSummary) throws(FetchError) {
        do {
            try FileIO.createDirectory(workspace.reportsFolder)
            let json = try Output.jsonString(summary)
            try FileIO.writeAtomically(Array(json.utf8), to: workspace.report(FetchSummary.reportFileName))
        } catch {
            throw FetchError("cannot write \(workspace.report(FetchSummary.reportFileName)): \(error)")
        }
    }
}

/// The manifest reader's result, read by the engine's source and by the run from other threads: every access
/// takes the lock, since a reader that did not stop in time may still be writing it.
private final class IngestionState: @unchecked Sendable {
    private let lock = NSLock()
    private var finished = false
    private var cancelled = false
    private var result: (summary: IngestSummary?, error: FetchError?) = (nil, nil)

    var isCancelled: Bool { locked { cancelled } }
    var isFinished: Bool { locked { finished } }
    var summary: IngestSummary? { locked { result.summary } }
    var error: FetchError? { locked { result.error } }

    func cancel() { locked { cancelled = true } }

    func finish(_ summary: IngestSummary?, error: FetchError?) {
        locked {
            result = (summary, error)
            finished = true
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }
}
