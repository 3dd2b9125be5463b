// Files: the lowest module, what every other one may use. Entry: `FileIO` (reads within limits, atomic writes).
// Files in reading order:
//   FileIO.swift           reading and writing files (this file); DirectoryWalker.swift folders in name order
//   ErrorMessage.swift     the one refusal type every module throws under its own name
//   SHA256.swift           content hashes (libcrypto); Deterministic.swift hashes and random numbers that never vary
//   ParallelMap.swift      blocking work on threads of its own; WorkerThread.swift one such thread;
//                          BlockingWorkers.swift threads that run async code's blocking calls (a server's)
//   LineReader.swift       lines of a (gzipped) file or standard input, streamed
//   MonotonicClock.swift   seconds for timing; CSV.swift RFC 4180 fields; UnionFind.swift disjoint sets
//   JSONText.swift         JSON as the tool writes it; ProgressDisplay.swift what long loops report progress to
//   Version.swift          the tool's version

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file, folder or database that cannot be used: its path, and what the system (or SQLite) said or what is wrong.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let detail: String

    public init(path: String, detail: String) {
        self.path = path
        self.detail = detail
    }

    init(path: String, errno code: Int32, doing action: String) {
        self.init(path: path, detail: "cannot \(action): \(String(cString: strerror(code)))")
    }

    public var description: String { "\(path): \(detail)" }
}

/// Whole-file reads and atomic writes over POSIX calls (cheaper than Foundation's for many small files).
public enum FileIO {
    /// Reads a whole regular file. `limit` refuses files larger than that many bytes before reading them.
    public static func read(_ path: String, limit: Int = Int.max) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, errno: errno, doing: "open it") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(path: path, errno: errno, doing: "stat it") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw FileError(path: path, detail: "not a regular file") }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw FileError(path: path, detail: "file is \(size) bytes, over the limit of \(limit)")
        }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            while count < size {
                let n = Glibc.read(fd, buffer.baseAddress! + count, size - count)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { break }  // the file shrank while we read it
                count += n
            }
        }
        if failure != 0 { throw FileError(path: path, errno: failure, doing: "read it") }
        return bytes
    }

    /// Writes through a temporary file and renames it into place, so a reader (or a run killed halfway)
    /// sees the old file or the new one, never part of one. The temporary file goes in `temporaryFolder`
    /// (which must be on the same file system) or else next to `path`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String,
                                       temporaryFolder: String? = nil) throws(FileError) {
        let folder = temporaryFolder ?? parentFolder(of: path)
        let temporary = folder + "/" + temporaryName(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, errno: errno, doing: "create a temporary file") }
        var failure = writeAll(fd, bytes) ?? 0
        close(fd)
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw FileError(path: path, errno: failure, doing: "write it")
        }
    }

    /// Creates `path` with `bytes` unless it exists (returns false then), atomically: readers and a run killed
    /// halfway see no file or the whole file. On Linux the data goes into an unnamed file (O_TMPFILE) that is
    /// linked into place at the end, so a killed writer leaves nothing behind; elsewhere, or where the file
    /// system lacks O_TMPFILE, through a named temporary file in `temporaryFolder` and a rename.
    /// The parent folder must exist.
    @discardableResult
    public static func createOnce(_ bytes: [UInt8], at path: String, temporaryFolder: String? = nil) throws(FileError) -> Bool {
        #if os(Linux)
        let fd = open(parentFolder(of: path), unnamedFileFlags, 0o644)
        if fd >= 0 {
            defer { close(fd) }
            if let failure = writeAll(fd, bytes) { throw FileError(path: path, errno: failure, doing: "write it") }
            if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 { return true }
            if errno == EEXIST { return false }
            if errno == ENOENT && kind(of: parentFolder(of: path)) != .directory {
                throw FileError(path: path, errno: ENOENT, doing: "create it")
            }
            // No /proc, or a sandbox refusing the link: fall through to a named temporary file.
        } else if errno == ENOENT || errno == EACCES || errno == EROFS {
            throw FileError(path: path, errno: errno, doing: "create it")
        }
        #endif
        // Write a named temporary file, then hard-link it into place: link() refuses an existing name, which
        // keeps "create once" true even with two writers.
        let folder = temporaryFolder ?? parentFolder(of: path)
        let temporary = folder + "/" + temporaryName(for: path)
        let named = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard named >= 0 else { throw FileError(path: path, errno: errno, doing: "create a temporary file") }
        let failure = writeAll(named, bytes)
        close(named)
        defer { unlink(temporary) }
        if let failure { throw FileError(path: path, errno: failure, doing: "write it") }
        if link(temporary, path) == 0 { return true }
        if errno == EEXIST { return false }
        throw FileError(path: path, errno: errno, doing: "create it")
    }

    #if os(Linux)
    /// O_TMPFILE | O_WRONLY: glibc's O_TMPFILE macro does not reach Swift.
    private static let unnamedFileFlags: Int32 = 0o20000000 | O_DIRECTORY | O_WRONLY | O_CLOEXEC
    #endif

    /// Writes every byte, retrying short writes; the errno on failure.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { raw -> Int32? in
            var written = 0
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += n
            }
            return nil
        }
    }

    /// Temporary files start with this prefix and the writer's process id, so a later run can find and
    /// remove those a killed run left.
    public static let temporaryPrefix = ".imgcls-tmp-"

    /// The folder part of a path ("." for a bare name), without Foundation's slower path machinery.
    public static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func temporaryName(for path: String) -> String {
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        return "\(temporaryPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
    }

    /// Removes the temporary files in `folder` whose writing process is gone (killed runs); returns how many.
    @discardableResult
    public static func removeStaleTemporaryFiles(in folder: String) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(temporaryPrefix) {
            let pid = name.dropFirst(temporaryPrefix.count).prefix { $0.isNumber }
            guard let owner = Int32(pid), owner != getpid(), kill(owner, 0) != 0, errno == ESRCH else { continue }
            if unlink(folder + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    /// Creates a folder and its parents; succeeds when it already exists.
    public static func createDirectory(_ path: String) throws(FileError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: path, detail: "cannot create the folder: \(error.localizedDescription)")
        }
    }

    /// Makes `target` a hard link to `source`; false where that is impossible (another file system, no
    /// permission, an existing `target`).
    public static func hardLink(_ source: String, at target: String) -> Bool {
        link(source, target) == 0
    }

    /// The absolute path with symbolic links, `.` and `..` resolved; for a path that does not exist (yet), its
    /// absolute, standardised form.
    public static func canonicalPath(_ path: String) -> String {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    public enum Kind: Sendable { case missing, file, directory, other }

    public static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }
}
