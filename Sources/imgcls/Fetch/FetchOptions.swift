import ArgumentParser
import Fetch
import Foundation
import Imaging
import StageContract

/// How downloads are made: the engine's limits and politeness (shared by fetch and scrape).
struct EngineOptions: ParsableArguments {
    @Option(help: "Transfers in flight at once.") var concurrency = 64
    @Option(name: .customLong("per-host"), help: "Transfers in flight per host.") var perHost = 8
    @Option(help: "Requests per second per host (default: no limit).") var rate: Double?
    @Option(help: "Seconds a whole transfer may take.") var timeout = 60.0
    @Option(help: "Seconds to connect.") var connectTimeout = 10.0
    @Option(help: "Seconds below 1 KB/s after which a transfer counts as stalled.") var stallTimeout = 15
    @Option(help: "Largest response accepted, e.g. 20MB, 500KB.") var maxBytes = ByteCount(20 * 1024 * 1024)
    @Option(help: "Redirects followed (http and https only).") var maxRedirects = 5
    @Option(help: "Retries after a timeout, connection error, 5xx or 429.") var retries = 2
    @Option(help: "Longest Retry-After (seconds) waited for; a longer one fails the URL.") var maxRetryAfter = 300.0
    @Option(help: "The User-Agent header.") var userAgent: String?
    @Flag(help: "Fetch images even when X-Robots-Tag says noai or noimageai.") var ignoreOptOut = false
    @Flag(help: "Read each host's robots.txt and obey it.") var respectRobots = false

    func validate() throws {
        if concurrency < 1 || perHost < 1 { throw ValidationError("--concurrency and --per-host must be at least 1") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if timeout <= 0 || connectTimeout <= 0 || stallTimeout < 1 { throw ValidationError("timeouts must be positive") }
        if retries < 0 || maxRedirects < 0 { throw ValidationError("--retries and --max-redirects cannot be negative") }
    }

    var settings: EngineSettings {
        var s = EngineSettings()
        s.concurrency = concurrency
        s.perHostConnections = perHost
        s.requestsPerSecond = rate
        s.totalTimeout = timeout
        s.connectTimeout = connectTimeout
        s.lowSpeedSeconds = stallTimeout
        s.maxBytes = maxBytes.bytes
        s.maxRedirects = maxRedirects
        s.retry.maxAttempts = retries + 1
        s.retry.maxRetryAfter = maxRetryAfter
        if let userAgent { s.userAgent = userAgent }
        s.respectOptOut = !ignoreOptOut
        s.respectRobots = respectRobots
        return s
    }
}

/// What happens to each downloaded image.
struct ProcessingOptions: ParsableArguments {
    @Flag(name: .customLong("validate"), help: "Decode every image fully and reject those that fail (default: header check only).")
    var fullDecode = false
    @Option(help: "Largest accepted image, in pixels.") var maxPixels = DecodeOptions().maxPixels
    @Option(help: "Smallest accepted side, in pixels.") var minSide = 1
    @Option(help: "Store a copy whose longer side is at most this (never enlarged).") var maxSide: Int?
    @Option(help: "Store a resized copy: keep-ratio, keep-ratio-largest, center-crop or border (with --size).")
    var resize: ResizeMode?
    @Option(help: "The size for --resize, in pixels.") var size: Int?
    @Option(help: "JPEG quality of resized copies.") var quality = 95
    @Flag(help: "With --resize or --max-side: keep only the resized copy, not the bytes as received.")
    var discardOriginals = false
    @Option(help: "Threads that check and store images.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if resize != nil && size == nil { throw ValidationError("--resize needs --size") }
        if size != nil && resize == nil { throw ValidationError("--size needs --resize") }
        if maxSide != nil && resize != nil { throw ValidationError("use --max-side or --resize, not both") }
        if let size, size < 1 { throw ValidationError("--size must be at least 1") }
        if let maxSide, maxSide < 1 { throw ValidationError("--max-side must be at least 1") }
        if !(1...100).contains(quality) { throw ValidationError("--quality must be between 1 and 100") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var settings: ProcessingSettings {
        var s = ProcessingSettings()
        s.validate = fullDecode
        s.decodeOptions.maxPixels = maxPixels
        s.decodeOptions.minSide = minSide
        if let maxSide { s.resize = .maxSide(maxSide) }
        if let resize, let size { s.resize = .mode(resize, size: size) }
        s.jpegQuality = quality
        s.keepOriginals = !discardOriginals
        return s
    }
}

/// How far scraping goes.
struct PageOptions: ParsableArguments {
    @Option(help: "Follow same-host links this many levels deep.") var depth = 0
    @Option(help: "Visit at most this many pages.") var maxPages = 100

    func validate() throws {
        if depth < 0 || maxPages < 1 { throw ValidationError("--depth cannot be negative and --max-pages must be at least 1") }
    }
}

/// What the manifests hold and which share of them this process takes.
struct ManifestOptions: ParsableArguments {
    @Option(help: "The label for every URL (instead of folder names or a label column).") var label: String?
    @Option(help: "A file mapping categories to labels, lines like \"hentai*: porn\" (unmapped categories are skipped).")
    var labelMap: String?
    @Option(help: "Manifest format when the file name does not say: text, csv, tsv, jsonl.") var format: ManifestFormat?
    @Option(help: "CSV/TSV/JSON Lines: the column holding URLs.") var urlColumn = "url"
    @Option(help: "CSV/TSV/JSON Lines: the column holding labels.") var labelColumn = "label"
    @Option(help: "Take share K of N of the manifest (by URL hash), as in --shard 2/8.") var shard: String?
    @Option(help: "With --shard: hash each url, or each host (one process then owns each host's politeness).")
    var shardBy: ShardKey = .url

    func validate() throws {
        if label != nil && labelMap != nil { throw ValidationError("use --label or --label-map, not both") }
    }
}

extension FetchRequest {
    mutating func apply(_ manifest: ManifestOptions) throws {
        label = try manifest.label.map { try Label($0) }
        labelMap = try manifest.labelMap.map { try LabelMap(contentsOf: $0) }
        (format, urlColumn, labelColumn) = (manifest.format, manifest.urlColumn, manifest.labelColumn)
        shard = try manifest.shard.map { try Shard(parsing: $0, by: manifest.shardBy) }
    }

    mutating func apply(_ pages: PageOptions, _ engine: EngineOptions, _ processing: ProcessingOptions) {
        depth = pages.depth
        maxPages = pages.maxPages
        self.engine = engine.settings
        self.processing = processing.settings
        threads = processing.threads
    }
}

extension ResizeMode: ExpressibleByArgument {}
extension ManifestFormat: ExpressibleByArgument {}
extension ShardKey: ExpressibleByArgument {}

/// A byte count with an optional unit: 20MB, 512KB, 1GB, 1000.
struct ByteCount: ExpressibleByArgument {
    let bytes: Int

    init(_ bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.uppercased().replacingOccurrences(of: "IB", with: "B")
        let units: [(String, Int)] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value > 0 else { return nil }
            bytes = Int(value * Double(scale))
            return
        }
        guard let value = Int(text), value > 0 else { return nil }
        bytes = value
    }

    var defaultValueDescription: String { "\(bytes / (1 << 20))MB" }
}
