import Files
import StageContract

/// Maps manifest categories (folder names, label columns) onto the labels a user trains on, e.g. 159
/// `nsfw_data_source_urls` categories onto porn / neutral / …. One rule per line:
///
///     # category pattern: label     (also "pattern,label", "pattern = label" or tab-separated)
///     hentai*: porn
///     cats: neutral
///     gore: -                       # "-" drops the category explicitly
///
/// Patterns match whole category names, case-sensitively; `*` matches any run of characters. The first
/// matching rule wins. Categories no rule matches are skipped and counted.
public struct LabelMap: Sendable {
    struct Rule: Sendable {
        let pattern: String
        let label: Label?   // nil: drop
    }

    let rules: [Rule]

    /// The rules as one text, the same for files that differ only in comments and spacing (part of a shard's
    /// manifest identity).
    var canonicalText: String {
        rules.map { "\($0.pattern)\t\($0.label?.name ?? "-")" }.joined(separator: "\n")
    }

    public enum Decision: Equatable, Sendable {
        case label(Label)
        case dropped
        case unmapped
    }

    public init(contentsOf path: String) throws(FetchError) {
        let text: String
        do { text = String(decoding: try FileIO.read(path), as: UTF8.self) } catch {
            throw FetchError("\(error); give --label-map a readable file")
        }
        try self.init(text: text, name: path)
    }

    public init(text: String, name: String = "label map") throws(FetchError) {
        var rules: [Rule] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingWhitespace() ?? ""
            if line.isEmpty { continue }
            guard let separator = line.firstIndex(where: { $0 == ":" || $0 == "," || $0 == "=" || $0 == "\t" }) else {
                throw FetchError("\(name):\(index + 1): expected \"category: label\", found \"\(line)\"")
            }
            let pattern = line[..<separator].trimmingWhitespace()
            let target = line[line.index(after: separator)...].trimmingWhitespace()
            guard !pattern.isEmpty, !target.isEmpty else {
                throw FetchError("\(name):\(index + 1): both a category and a label are needed in \"\(line)\"")
            }
            if target == "-" {
                rules.append(Rule(pattern: pattern, label: nil))
                continue
            }
            do {
                rules.append(Rule(pattern: pattern, label: try Label(target)))
            } catch {
                throw FetchError("\(name):\(index + 1): \(error)")
            }
        }
        guard !rules.isEmpty else { throw FetchError("\(name): no rules (lines like \"category: label\")") }
        self.rules = rules
    }

    public func decide(_ category: String) -> Decision {
        for rule in rules where Glob.matches(rule.pattern.utf8, category.utf8) {
            return rule.label.map(Decision.label) ?? .dropped
        }
        return .unmapped
    }
}
