internal import CLibz
import Foundation

/// Reads lines from a file or standard input in 64 KiB blocks, inflating gzip on the fly (detected from the
/// bytes), so a manifest or hash list of millions of lines never sits in memory. Lines end at LF; a trailing CR
/// is dropped.
public final class LineReader {
    public let name: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var raw = [UInt8](repeating: 0, count: 1 << 16)
    private var decoded: [UInt8] = []
    private var position = 0
    /// Where the search for the next line end resumes (bytes before it hold none).
    private var scanned = 0
    /// Set while skipping the rest of an over-long line.
    private var discarding = false
    private var endOfInput = false
    private var inflater: Inflater?
    private var sniffed = false
    /// Lines longer than this are cut (a manifest line is a URL or a short record, never megabytes).
    public let maximumLineLength = 1 << 20
    public private(set) var lineNumber = 0

    /// `path` "-" reads standard input.
    public init(path: String) throws(FileError) {
        name = path == "-" ? "standard input" : path
        if path == "-" {
            fd = STDIN_FILENO
            ownsDescriptor = false
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FileError(path: path, detail: "cannot open it: \(String(cString: strerror(errno)))") }
            ownsDescriptor = true
        }
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// The next line without its terminator, or nil at the end.
    public func nextLine() throws(FileError) -> ArraySlice<UInt8>? {
        while true {
            if let newline = decoded[max(position, scanned)...].firstIndex(of: 0x0A) {
                let line = lineSlice(position..<newline)
                position = newline + 1
                scanned = position
                if discarding {
                    discarding = false
                    continue  // the tail of a line already returned cut short
                }
                lineNumber += 1
                return line
            }
            scanned = decoded.count
            if endOfInput {
                guard position < decoded.count else { return nil }
                let line = lineSlice(position..<decoded.count)
                position = decoded.count
                if discarding { return nil }
                lineNumber += 1
                return line
            }
            if !discarding && decoded.count - position > maximumLineLength {
                // No line end within the limit: return the start, and skip the rest of the line as it comes.
                let line = lineSlice(position..<position + maximumLineLength)
                lineNumber += 1
                position = decoded.count
                scanned = position
                discarding = true
                return line
            }
            if discarding {
                position = decoded.count
                scanned = position
            }
            try refill()
        }
    }

    private func lineSlice(_ range: Range<Int>) -> ArraySlice<UInt8> {
        var end = min(range.upperBound, range.lowerBound + maximumLineLength)
        if end > range.lowerBound && decoded[end - 1] == 0x0D { end -= 1 }
        return decoded[range.lowerBound..<end]
    }

    private func refill() throws(FileError) {
        if position > 0 {
            decoded.removeFirst(position)
            scanned -= position
            position = 0
        }
        let n = raw.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { return }
            throw FileError(path: name, detail: "cannot read it: \(String(cString: strerror(errno)))")
        }
        if n == 0 {
            endOfInput = true
            if let inflater, !inflater.finished {
                throw FileError(path: name, detail: "the gzip data ends early")
            }
            return
        }
        let block = raw[0..<n]
        if !sniffed {
            sniffed = true
            if n >= 2 && block[0] == 0x1F && block[1] == 0x8B { inflater = try Inflater(name: name) }
        }
        if let inflater {
            try inflater.inflate(block, into: &decoded)
        } else {
            decoded.append(contentsOf: block)
        }
    }
}

/// Streaming gzip decompression (also concatenated gzip members, as `cat a.gz b.gz` makes).
final class Inflater {
    private var stream = z_stream()
    private let name: String
    private(set) var finished = false

    init(name: String) throws(FileError) {
        self.name = name
        guard imgcls_inflate_init2(&stream, 15 + 32) == Z_OK else {
            throw FileError(path: name, detail: "cannot start gzip decompression")
        }
    }

    deinit { inflateEnd(&stream) }

    func inflate(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) throws(FileError) {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var failure: String?
        input.withUnsafeBufferPointer { inBuffer in
            stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
            stream.avail_in = UInt32(inBuffer.count)
            while stream.avail_in > 0 {
                if finished {
                    // Another gzip member follows: start over.
                    inflateReset(&stream)
                    finished = false
                }
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return CLibz.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END {
                    finished = true
                } else if status != Z_OK && status != Z_BUF_ERROR {
                    failure = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    return
                } else if status == Z_BUF_ERROR && produced == 0 {
                    break
                }
            }
        }
        if let failure { throw FileError(path: name, detail: "the gzip data is damaged: \(failure)") }
    }
}
