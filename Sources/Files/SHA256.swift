internal import CCrypto
import Glibc

/// SHA-256 through OpenSSL's libcrypto (hardware-accelerated where the CPU offers it).
public enum SHA256 {
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        out.withUnsafeMutableBufferPointer { digest in
            _ = CCrypto.SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, digest.baseAddress)
        }
        return out
    }

    /// The lower-case hex digest of a file's bytes, read 1 MB at a time (manifests run to hundreds of MB).
    public static func hex(file path: String) throws(FileError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, errno: errno, doing: "open it") }
        defer { close(fd) }
        guard let context = EVP_MD_CTX_new() else { throw FileError(path: path, detail: "cannot start a SHA-256 digest") }
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, errno: errno, doing: "read it")
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, n) }
        }
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return hexDigits(digest)
    }

    /// Lower-case hex, the form stored in the catalog and used in file names.
    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex($0) }
    }

    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        hexDigits(digest(bytes))
    }

    static func hexDigits(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// MD5, only because moderation hash lists still exchange exact-file digests in it (never for anything secure).
public enum MD5 {
    /// The lower-case hex digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        bytes.withUnsafeBytes { raw in
            _ = EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_md5(), nil)
        }
        return SHA256.hexDigits(digest)
    }
}
