import StageContract

/// One URL to download, and why.
struct FetchJob: Sendable {
    enum Kind: Sendable, Equatable {
        /// An image for the catalog.
        case image
        /// An HTML page to scrape for image links; `depth` 0 is a page the user named.
        case page(depth: Int)
        /// A host's robots.txt.
        case robots
    }

    var url: String {
        didSet { host = URLNormalizer.hostKey(url) }
    }
    var label: Label?
    var kind: Kind
    /// 1 for the first try.
    var attempt = 1
    /// The catalog row's attempts before this run (so the total is kept across runs).
    var earlierAttempts = 0
    /// Monotonic time before which a retry must not start.
    var notBefore: Double = 0
    /// The politeness key, computed once (the scheduler asks for it often).
    private(set) var host: String

    init(url: String, label: Label?, kind: Kind, earlierAttempts: Int = 0) {
        self.url = url
        self.label = label
        self.kind = kind
        self.earlierAttempts = earlierAttempts
        host = URLNormalizer.hostKey(url)
    }
}

/// What a transfer produced: the server's answer, or why there was none.
struct FetchResponse: Sendable {
    var job: FetchJob
    /// libcurl's result code (0 = the transfer completed) and its words.
    var curlCode: Int32
    var curlMessage: String
    var httpStatus: Int
    var finalURL: String?
    var contentType: String?
    var body: [UInt8]
    /// The body passed the byte cap and was cut off.
    var tooLarge: Bool
    /// The final response carried `X-Robots-Tag: noai` or `noimageai`.
    var optedOut: Bool
    /// Seconds the server asked to wait (429/503 `Retry-After`).
    var retryAfter: Double?
    /// Wall-clock seconds the transfer took.
    var elapsed: Double
}

extension FetchResponse {
    /// A response for a job that was never sent (robots.txt forbade it).
    init(job: FetchJob) {
        self.init(job: job, curlCode: 0, curlMessage: "", httpStatus: 0, finalURL: nil, contentType: nil, body: [],
                  tooLarge: false, optedOut: false, retryAfter: nil, elapsed: 0)
    }
}
