import Catalog
import Files
import Foundation
import Imaging
import StageContract

/// What to do with a downloaded image besides storing it.
public struct ProcessingSettings: Sendable {
    /// Decode every image fully (not only its header) and reject those that fail.
    public var validate = false
    /// Pixel limit and minimum side, checked from the header.
    public var decodeOptions = DecodeOptions()
    /// Store a resized JPEG copy as the file later stages use.
    public var resize: ResizeRequest?
    public var jpegQuality = 95
    /// With `resize`: also keep the bytes as received (under `raw/`).
    public var keepOriginals = true

    public init() {}
}

public enum ResizeRequest: Sendable, Equatable {
    /// Shrink so the longer side is at most this; never enlarge.
    case maxSide(Int)
    case mode(ResizeMode, size: Int)

    /// The shorter side a decode must keep for the resize to lose nothing (for libjpeg's scaled decode).
    func minimumDecodedSide(width: Int, height: Int) -> Int {
        switch self {
        case .maxSide(let side):
            return Int((Double(side) * Double(min(width, height)) / Double(max(width, height))).rounded(.up))
        case .mode(let mode, let size):
            switch mode {
            case .keepRatio, .centerCrop: return size
            case .keepRatioLargest, .border:
                return Int((Double(size) * Double(min(width, height)) / Double(max(width, height))).rounded(.up))
            }
        }
    }
}

/// Turns a final image response into its catalog row: checks the bytes (sniff, header, optional full decode),
/// stores them content-addressed under `raw/<label>/` (and a resized copy under `resized/<label>/`), and
/// records everything the response told. Runs on worker threads.
struct ImageProcessor: Sendable {
    let workspace: Workspace
    let settings: ProcessingSettings

    func process(_ response: FetchResponse, _ outcome: Outcome) -> CatalogItem {
        let job = response.job
        var item = CatalogItem(source: job.url, sourceKind: .url, label: job.label!)
        item.attempts = job.earlierAttempts + job.attempt
        item.elapsedMilliseconds = (response.elapsed * 1000).rounded()
        item.httpStatus = response.httpStatus == 0 ? nil : response.httpStatus
        item.finalURL = response.finalURL.flatMap { $0 == job.url ? nil : $0 }
        item.contentType = response.contentType
        item.bytes = response.body.isEmpty ? nil : response.body.count
        switch outcome {
        case .failure(let reason, let message):
            item.status = .failed
            item.reason = reason
            item.message = message
            return item
        case .retry:
            preconditionFailure("retries never reach processing")
        case .success:
            break
        }
        do {
            try store(response.body, into: &item)
            item.status = .ok
        } catch let error as ImageError {
            item.status = .failed
            item.reason = .image(error.reason)
            item.message = error.detail
        } catch let error as StoreError {
            item.status = .failed
            item.reason = error.reason
            item.message = error.message
        } catch {
            item.status = .failed
            item.reason = .fetch(.writeFailed)
            item.message = "\(error)"
        }
        return item
    }

    private func store(_ body: [UInt8], into item: inout CatalogItem) throws {
        guard !body.isEmpty else { throw ImageError(.empty, "the server sent an empty body") }
        let info = try body.withUnsafeBytes { raw throws(ImageError) in
            try ImageDecoder.checkedInfo(raw, options: settings.decodeOptions)
        }
        let digest = SHA256.hex(body)
        item.sha256 = digest
        item.format = info.format.rawValue
        item.width = info.orientedWidth
        item.height = info.orientedHeight
        var decoded: RGBImage?
        if settings.validate || settings.resize != nil {
            var options = settings.decodeOptions
            if let resize = settings.resize, !settings.validate {
                // Only the resized copy is needed: let libjpeg skip the detail the resize would drop, with
                // its faster IDCT (the difference vanishes in the downscale).
                let side = resize.minimumDecodedSide(width: info.orientedWidth, height: info.orientedHeight)
                options = DecodeOptions.thumbnail(of: info, minimumSide: side, base: options)
            }
            decoded = try ImageDecoder.decode(body, options: options)
        }
        let original = Workspace.rawFile(label: item.label, sha256: digest, fileExtension: info.format.fileExtension)
        if let resize = settings.resize, let image = decoded {
            let small: RGBImage
            switch resize {
            case .maxSide(let side):
                small = image.fitting(maxSide: side)
            case .mode(let mode, let size):
                // keep-ratio scales the shorter side up or down to `size`: a 5000x1 strip would become enormous.
                let target = image.resizedSize(mode: mode, size: size)
                guard target.width * target.height <= settings.decodeOptions.maxPixels,
                      max(target.width, target.height) <= 65_500 else {
                    throw ImageError(.tooManyPixels, "\(mode.rawValue) \(size) would make this \(image.width)x\(image.height) image \(target.width)x\(target.height); use --resize center-crop or border")
                }
                small = image.resized(mode: mode, size: size, background: settings.decodeOptions.background)
            }
            let encoded: [UInt8]
            do { encoded = try small.jpegData(quality: settings.jpegQuality) } catch {
                throw StoreError(reason: .fetch(.encodeFailed), message: "the resized copy could not be encoded: \(error.detail)")
            }
            let resized = Workspace.resizedFile(label: item.label, sha256: digest)
            try workspace.storeOnce(encoded, at: resized)
            item.path = resized
            item.width = small.width
            item.height = small.height
            if settings.keepOriginals {
                try workspace.storeOnce(body, at: original)
                item.originalPath = original
            }
        } else {
            try workspace.storeOnce(body, at: original)
            item.path = original
        }
    }

}

/// A failure to produce or store the files of a good download.
struct StoreError: Error {
    let reason: Reason
    let message: String
}
