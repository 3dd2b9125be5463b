import Files
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Progress for long work: count, rate and ETA. On a terminal it redraws one line in place (at most ten
/// times a second); otherwise (a log file, CI) it prints a plain line every `plainInterval` seconds, so logs
/// stay readable. Safe to advance from any thread.
public final class ProgressBar: ProgressDisplay, @unchecked Sendable {
    public let title: String
    private var total: Int?
    private let unit: String
    private var enabled: Bool
    private let isTerminal: Bool
    private let plainInterval: Double
    private var startDate = Date()
    private let lock = NSLock()
    private var completed = 0
    private var detail = ""
    private var lastDraw = Date.distantPast
    private var finished = false

    /// `enabled: false` (for `--quiet` or `--json`) makes every call a no-op.
    public init(title: String, total: Int?, unit: String = "files", enabled: Bool = true,
                isTerminal: Bool = isatty(STDERR_FILENO) != 0, plainInterval: Double = 10) {
        self.title = title
        self.total = total
        self.unit = unit
        self.enabled = enabled
        self.isTerminal = isTerminal
        self.plainInterval = plainInterval
    }

    public func advance(by count: Int = 1) {
        update { $0.completed += count }
    }

    /// Sets the total once it is known (work may start before it is counted).
    public func setTotal(_ total: Int) {
        update { $0.total = total }
    }

    /// Starts the clock again with the total of work counted at last (for a bar made before the counting);
    /// a bar with nothing to do stays hidden.
    public func start(total: Int) {
        lock.lock()
        defer { lock.unlock() }
        (self.total, startDate) = (total, Date())
        if total == 0 { enabled = false }
    }

    /// The count so far.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return completed
    }

    /// Extra text after the rate, such as "ok 120, failed 3" (built only when the bar is shown).
    public func setDetail(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        let value = text()
        update { $0.detail = value }
    }

    /// Draws the final state and ends the line.
    public func finish() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        // Off a terminal, a run short enough to have printed nothing stays quiet.
        guard isTerminal || lastDraw != .distantPast else { return }
        write(render(final: true) + "\n", replacingLine: isTerminal)
    }

    private func update(_ change: (ProgressBar) -> Void) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        change(self)
        let now = Date()
        let interval = isTerminal ? 0.1 : plainInterval
        guard !finished, now.timeIntervalSince(lastDraw) >= interval else { return }
        if !isTerminal && now.timeIntervalSince(startDate) < plainInterval { return }
        lastDraw = now
        write(isTerminal ? render(final: false) : render(final: false) + "\n", replacingLine: isTerminal)
    }

    func render(final: Bool) -> String {
        let elapsed = max(Date().timeIntervalSince(startDate), 1e-6)
        let rate = Double(completed) / elapsed
        var parts: [String] = []
        if let total, total > 0 {
            let fraction = min(1, Double(completed) / Double(total))
            if isTerminal {
                let width = 24, filled = Int(fraction * Double(width))
                parts.append("[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]")
            }
            parts.append("\(completed)/\(total) \(unit) (\(Int(fraction * 100))%)")
        } else {
            parts.append("\(completed) \(unit)")
        }
        parts.append(String(format: "%.1f", rate) + " \(unit)/s")
        if final {
            parts.append("in \(ProgressBar.duration(elapsed))")
        } else if let total, rate > 0, completed < total {
            parts.append("ETA \(ProgressBar.duration(Double(total - completed) / rate))")
        }
        if !detail.isEmpty { parts.append(detail) }
        return "\(title): " + parts.joined(separator: "  ")
    }

    private func write(_ text: String, replacingLine: Bool) {
        let line = replacingLine ? "\r\u{1B}[K" + text : text
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// "0:42", "12:05", "3:02:10".
    public static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}
