import Dispatch
import Foundation
import Files

/// The verdict on one file: what it is and whether it decodes.
public struct Inspection: Sendable, Codable, Equatable {
    public var path: String
    public var bytes: Int?
    public var format: ImageFormat?
    /// Size as displayed (after EXIF orientation).
    public var width: Int?
    public var height: Int?
    /// nil when the file is valid.
    public var reason: RejectReason?
    /// What is wrong, in words (the file is named by `path`).
    public var message: String?
    /// With `inspect --pdq`: the PDQ hash (hex) and its quality, of the pixels as stored (EXIF orientation not
    /// applied, as ThreatExchange's tools hash files, so the hex compares with lists they made).
    public var pdq: String?
    public var pdqQuality: Int?

    public var isValid: Bool { reason == nil }
}

/// Counts over inspected files, by verdict, reason code and format: what `imgcls inspect` prints last.
public struct InspectionSummary: Sendable, Codable, Equatable {
    public var total = 0
    public var valid = 0
    public var rejected = 0
    public var byReason: [String: Int] = [:]
    public var byFormat: [String: Int] = [:]

    public init() {}

    public mutating func add(_ result: Inspection) {
        total += 1
        if let reason = result.reason {
            rejected += 1
            byReason[reason.rawValue, default: 0] += 1
        } else {
            valid += 1
        }
        if let format = result.format { byFormat[format.rawValue, default: 0] += 1 }
    }

    /// "399 files: 348 valid, 51 rejected (corrupt 30, …)".
    public var line: String {
        var line = "\(total) files: \(valid) valid, \(rejected) rejected"
        if !byReason.isEmpty {
            line += " (" + byReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        return line
    }
}

/// Classifies files: sniff, header probe and (unless `headerOnly`) a full decode under `options`.
public struct ImageInspector: Sendable {
    public var options: DecodeOptions
    public var headerOnly: Bool
    /// Also hash each valid file with PDQ.
    public var pdq: Bool

    public init(options: DecodeOptions = DecodeOptions(), headerOnly: Bool = false, pdq: Bool = false) {
        self.options = options
        self.headerOnly = headerOnly
        self.pdq = pdq
    }

    public func inspect(file path: String) -> Inspection {
        var result = Inspection(path: path)
        let bytes: [UInt8]
        do {
            bytes = try ImageDecoder.readFile(path)
        } catch {
            result.reason = error.reason
            result.message = error.detail
            return result
        }
        result.bytes = bytes.count
        bytes.withUnsafeBytes { raw in
            do throws(ImageError) {
                result.format = try ImageFormat.sniff(raw)
                let info = try ImageDecoder.checkedInfo(raw, options: options)
                result.width = info.orientedWidth
                result.height = info.orientedHeight
                if pdq {
                    var stored = options
                    stored.applyOrientation = false
                    let hashed = PDQ.hash(try ImageDecoder.decode(raw, options: stored))
                    (result.pdq, result.pdqQuality) = (hashed.hash.hex, hashed.quality)
                } else if !headerOnly {
                    let image = try ImageDecoder.decode(raw, options: options)
                    result.width = image.width
                    result.height = image.height
                }
            } catch {
                result.reason = error.reason
                result.message = error.detail
            }
        }
        return result
    }

    /// Inspects `paths` on `threads` threads (decoding blocks, so this stays off Swift concurrency) and hands
    /// the results to `report` in input order as they come, so memory stays flat on any number of files.
    public func inspect(paths: some Sequence<String>, threads: Int, report: (Inspection) -> Void) {
        let inspector = self
        parallelMap(paths, threads: threads) { inspector.inspect(file: $0) } consume: { report($0) }
    }
}

extension Inspection {
    /// What `imgcls inspect` prints for one file: verdict, format, size, path and the decoder's message.
    public var line: String {
        let status = reason?.rawValue ?? "ok"
        let size = width.map { "\($0)x\(height ?? 0)" } ?? "-"
        let pad = { (text: String, width: Int) in text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        var line = [pad(status, 18), pad(format?.rawValue ?? "-", 5), pad(size, 11), path].joined(separator: " ")
        if let pdq, let pdqQuality { line += "  pdq \(pdq) quality \(pdqQuality)" }
        if let message { line += "  (\(message))" }
        return line
    }
}
