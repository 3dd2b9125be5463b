import Files
import Foundation
import Imaging
import StageContract

/// Thumbnails made on demand from the stored files and kept in `thumbnails/` by content hash and size, so each
/// picture is decoded once whatever page shows it (a JPEG decodes at a reduced scale: libjpeg's scaled decoding).
/// Decoding runs on threads of its own.
final class Thumbnails: Sendable {
    /// The sizes the page asks for (the longer side): the grid's and the item page's cluster.
    static let sides = [128, 256, 512]

    let workspace: Workspace
    private let threads: BlockingWorkers

    init(workspace: Workspace, threads: Int) {
        self.workspace = workspace
        self.threads = BlockingWorkers(name: "imgcls thumbnails", threads: threads)
    }

    /// The JPEG thumbnail of the file at `path` (relative to the workspace), with content hash `sha256`; or why the
    /// file cannot be shown.
    func thumbnail(path: String, sha256: String, side: Int) async -> Result<[UInt8], ImageError> {
        let workspace = workspace
        return await threads.run {
            let cached = workspace.path(Workspace.thumbnailFile(sha256: sha256, side: side))
            if let bytes = try? FileIO.read(cached, limit: 4 << 20) { return .success(bytes) }
            return Result { () throws(ImageError) in
                let bytes = try ImageDecoder.readFile(workspace.path(path))
                let info = try ImageProbe.probe(bytes)
                let image = try ImageDecoder.decode(bytes, options: .thumbnail(of: info, minimumSide: side))
                let jpeg = try image.resized(mode: .keepRatioLargest, size: min(side, max(image.width, image.height))).jpegData(quality: 82)
                // A cache: when it cannot be written, the next request makes the picture again.
                try? FileIO.createDirectory(FileIO.parentFolder(of: cached))
                try? FileIO.writeAtomically(jpeg, to: cached)
                return jpeg
            }
        }
    }

    /// The stored file's bytes and media type, for the browser to show at full size (formats a browser cannot show
    /// are sent as PNG).
    func original(path: String) async -> Result<(bytes: [UInt8], type: String), ImageError> {
        let workspace = workspace
        return await threads.run {
            Result { () throws(ImageError) in
                let bytes = try ImageDecoder.readFile(workspace.path(path))
                let format = try ImageFormat.sniff(bytes)
                switch format {
                case .jpeg, .png, .gif, .webp, .bmp: return (bytes, "image/\(format.rawValue)")
                case .pnm: return (try ImageDecoder.decode(bytes).pngData(), "image/png")
                }
            }
        }
    }

    /// A path from the catalog that stays inside the workspace (relative, no `..`), or nil.
    static func safe(_ path: String?) -> String? {
        guard let path, !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        return path
    }

    /// A content hash usable as a file name (64 hex digits), or nil.
    static func safeHash(_ sha256: String?) -> String? {
        guard let sha256, sha256.utf8.count == 64, sha256.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return sha256
    }
}
