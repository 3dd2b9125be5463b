import Foundation

/// The real test files in `../shared/data` next to the checkout (or `$IMGCLS_SHARED_DATA`), when present:
/// tests that need them skip when this is nil, as on a user's clone.
public enum SharedTestData {
    public static var folder: String? {
        let fromEnvironment = ProcessInfo.processInfo.environment["IMGCLS_SHARED_DATA"]
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidate = fromEnvironment ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) && isDirectory.boolValue
            ? candidate : nil
    }

    /// `folder/relative` when it exists.
    public static func path(_ relative: String) -> String? {
        guard let folder else { return nil }
        let path = folder + "/" + relative
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

/// A fresh folder under the system temporary directory, removed when this object goes away.
public final class TemporaryFolder: @unchecked Sendable {
    public let path: String

    public init(_ prefix: String = "imgcls-test") {
        let base = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }
}

/// Gradient checks: a derivative by central differences, and how far an analytic derivative is from it.
public enum CentralDifference {
    /// d loss / d one number saved as `saved`: `set` puts a value in its place (the saved one back at the end).
    public static func derivative(at saved: Float, h: Float, set: (Float) -> Void, loss: () -> Double) -> Double {
        set(saved + h)
        let up = loss()
        set(saved - h)
        let down = loss()
        set(saved)
        return (up - down) / Double(2 * h)
    }

    /// |analytic - numeric| over their sizes (at least 1e-2, so that gradients near zero compare absolutely).
    public static func relativeError(_ analytic: Float, _ numeric: Double) -> Float {
        Float(abs(Double(analytic) - numeric) / max(1e-2, abs(Double(analytic)) + abs(numeric)))
    }
}
