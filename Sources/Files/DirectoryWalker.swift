#if canImport(Glibc)
import Glibc
#endif

/// The regular files under a folder, depth first in name order (so every run sees the same order), read one
/// folder at a time with `readdir` so a folder of a million files costs no more than its names.
/// Hidden entries (names starting with `.`) are skipped: they are editor, OS or temporary files.
public struct DirectoryWalker: Sequence, IteratorProtocol {
    private var pendingFolders: [String]
    private var files: [String] = []
    /// Canonical paths of folders not to enter.
    private let skipped: Set<String>
    /// Folders that could not be read, with the reason; the walk goes on past them.
    public private(set) var unreadable: [FileError] = []

    /// `skipping`: folders left out wherever they appear below `root` (however they are spelled).
    public init(root: String, skipping: [String] = []) {
        pendingFolders = [root]
        skipped = Set(skipping.map(FileIO.canonicalPath))
    }

    public mutating func next() -> String? {
        while files.isEmpty {
            guard let folder = pendingFolders.popLast() else { return nil }
            expand(folder)
        }
        return files.removeLast()
    }

    private mutating func expand(_ folder: String) {
        guard let dir = opendir(folder) else {
            unreadable.append(FileError(path: folder, detail: "cannot read the folder: \(String(cString: strerror(errno)))"))
            return
        }
        defer { closedir(dir) }
        var subfolders: [String] = []
        var found: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasPrefix(".") { continue }
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): subfolders.append(path)
            case Int32(DT_REG): found.append(path)
            default:
                // DT_UNKNOWN (some file systems) and symlinks: ask stat, which follows links.
                switch FileIO.kind(of: path) {
                case .directory: subfolders.append(path)
                case .file: found.append(path)
                default: break
                }
            }
        }
        // Stacks are popped from the end: store in reverse so names come out in ascending order, and files of
        // a folder before its subfolders.
        files = found.sorted(by: >)
        if !skipped.isEmpty { subfolders.removeAll { skipped.contains(FileIO.canonicalPath($0)) } }
        pendingFolders.append(contentsOf: subfolders.sorted(by: >))
    }
}
