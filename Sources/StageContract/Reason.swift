import Imaging

/// Why an item was rejected or left out: the stable codes stored in the catalog's `reason` column, printed by
/// `--json` and counted in every summary. Each family is its own enum, so every code is listed by the compiler
/// (`Reason.documentedCodes`), and the README's reason-code tables are checked against that list by a test.
/// Codes never change meaning; add new ones, never rename.
public enum Reason: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// What the decoders say of the bytes (Imaging's verdicts): `truncated`, `corrupt`, `not_an_image`, ….
    case image(RejectReason)
    /// A final HTTP status that is not a success: `http_<status>`.
    case http(status: Int)
    /// Why a URL could not be fetched or stored.
    case fetch(FetchReason)
    /// A curation decision about a usable image.
    case curation(CurationReason)
    /// A quality flag that `curate --exclude` made a reason.
    case flag(QualityFlag)

    /// The stored code.
    public var code: String {
        switch self {
        case .image(let reason): reason.rawValue
        case .http(let status): Reason.httpPrefix + String(status)
        case .fetch(let reason): reason.rawValue
        case .curation(let reason): reason.rawValue
        case .flag(let flag): flag.rawValue
        }
    }

    /// The member a stored code stands for; nil for a code this build does not know.
    public init?(code: String) {
        if let reason = RejectReason(rawValue: code) {
            self = .image(reason)
        } else if let reason = FetchReason(rawValue: code) {
            self = .fetch(reason)
        } else if let reason = CurationReason(rawValue: code) {
            self = .curation(reason)
        } else if let flag = QualityFlag(rawValue: code) {
            self = .flag(flag)
        } else if code.hasPrefix(Reason.httpPrefix), let status = Int(code.dropFirst(Reason.httpPrefix.count)), status >= 0 {
            self = .http(status: status)
        } else {
            return nil
        }
    }

    /// Every code, `http_<status>` standing for the whole family: what the README's tables must list.
    public static var documentedCodes: [String] {
        RejectReason.allCases.map(\.rawValue) + [httpPrefix + "<status>"] + FetchReason.allCases.map(\.rawValue)
            + CurationReason.allCases.map(\.rawValue) + QualityFlag.allCases.map(\.rawValue)
    }

    private static let httpPrefix = "http_"

    public var description: String { code }

    public static func < (a: Reason, b: Reason) -> Bool { a.code < b.code }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        guard let reason = Reason(code: code) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown reason code \(code)")
        }
        self = reason
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

/// Why a URL was not fetched or its download not stored (beyond the decoders' verdicts and HTTP statuses).
public enum FetchReason: String, Sendable, CaseIterable {
    /// The manifest's line is not an http or https URL.
    case invalidURL = "invalid_url"
    /// Transport failures (after the retries for the first two).
    case timeout, connectionFailed = "connection_failed", dnsError = "dns_error", tlsError = "tls_error"
    /// Redirects: too many, or to a scheme other than http or https.
    case tooManyRedirects = "too_many_redirects", redirectRefused = "redirect_refused"
    /// Over `--max-bytes`, announced or streamed.
    case tooLarge = "too_large"
    /// The host said no: `X-Robots-Tag: noai` or `noimageai`; robots.txt disallows the URL, or could not be
    /// read (so RFC 9309 says to stay off).
    case optedOut = "opted_out", robotsDisallowed = "robots_disallowed", robotsUnavailable = "robots_unavailable"
    /// Any other transfer failure libcurl reports.
    case networkError = "network_error"
    /// Storing: the resized copy could not be encoded; the workspace could not be written.
    case encodeFailed = "encode_failed", writeFailed = "write_failed"
}

/// Why curate left a usable image out.
public enum CurationReason: String, Sendable, CaseIterable {
    /// The same decoded pixels, or nearly the same picture, as the item kept in its place.
    case duplicate, nearDuplicate = "near_duplicate"
    /// The same (or nearly the same) picture under two labels.
    case labelConflict = "label_conflict"
    /// The same bytes behind many distinct URLs: a host's stand-in image.
    case placeholder
    /// Longer than `--max-aspect` times its width.
    case extremeAspect = "extreme_aspect"
    /// The same picture for the backbone (cropped, rotated, flipped, re-framed: pooled features within the cosine
    /// threshold) as the item kept in its place (`curate --semantic-duplicates`).
    case semanticDuplicate = "semantic_duplicate"
    /// Excluded by a person in the review app (`imgcls review`); the message holds their reason. Curate re-runs and
    /// `curate --reset` keep it (`--reset-manual` forgets it).
    case manual
}

/// Data-quality flags, stored in the catalog's `flags` column and always reported; one excludes an item (as
/// `Reason.flag`) only when the user asks (`curate --exclude`). Curate measures them; `label_issue` comes from
/// `curate --label-issues` (confident learning on a backbone's features), with the suggested label beside it, and
/// `off_topic` from `curate --off-topic` (far from every class in the backbone's feature space).
public enum QualityFlag: String, Sendable, CaseIterable, Codable, Comparable {
    case blurry
    case dark
    case light
    case lowInformation = "low_information"
    case grayscale
    case oddAspect = "odd_aspect"
    case oddSize = "odd_size"
    case labelIssue = "label_issue"
    case offTopic = "off_topic"
    /// open_nsfw's probability at or above `curate --nsfw-threshold`.
    case nsfw

    public static func < (a: QualityFlag, b: QualityFlag) -> Bool { a.rawValue < b.rawValue }
}
