/// robots.txt rules for one agent, per RFC 9309: the groups naming our product token (merged), else the `*`
/// group; the longest matching pattern decides, Allow winning ties; `*` matches any run of characters and a
/// trailing `$` anchors the end.
struct RobotsRules: Sendable {
    struct Rule: Sendable {
        let allow: Bool
        let pattern: [UInt8]
    }

    let rules: [Rule]
    let crawlDelay: Double?

    static let allowAll = RobotsRules(rules: [], crawlDelay: nil)

    /// RFC 9309 asks parsers to read at least 500 KiB; more is ignored.
    static let maximumBytes = 512 * 1024

    init(rules: [Rule], crawlDelay: Double?) {
        self.rules = rules
        self.crawlDelay = crawlDelay
    }

    init(parsing bytes: [UInt8], userAgentToken: String = "imgcls") {
        let text = String(decoding: bytes.prefix(RobotsRules.maximumBytes), as: UTF8.self)
        let token = userAgentToken.lowercased()
        var ours: [Rule] = [], anyAgent: [Rule] = []
        var ourDelay: Double?, anyDelay: Double?
        var foundOurs = false
        var groupAgents: [String] = []
        var inRules = false  // a user-agent line after rules starts a new group
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingWhitespace().lowercased()
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            switch key {
            case "user-agent":
                if inRules {
                    groupAgents = []
                    inRules = false
                }
                if !value.isEmpty { groupAgents.append(value.lowercased()) }
            case "allow", "disallow", "crawl-delay":
                inRules = true
                let forUs = groupAgents.contains { $0 != "*" && (token.hasPrefix($0) || $0.hasPrefix(token)) }
                let forAny = groupAgents.contains("*")
                if forUs { foundOurs = true }
                if key == "crawl-delay" {
                    let delay = Double(value)
                    if forUs { ourDelay = delay } else if forAny { anyDelay = delay }
                    continue
                }
                // An empty Disallow allows everything: it adds no rule.
                guard !value.isEmpty else { continue }
                let rule = Rule(allow: key == "allow", pattern: Array(RobotsRules.normalizedPath(value).utf8))
                if forUs { ours.append(rule) } else if forAny { anyAgent.append(rule) }
            default:
                continue
            }
        }
        rules = foundOurs ? ours : anyAgent
        crawlDelay = foundOurs ? ourDelay : anyDelay
    }

    func allows(_ url: String) -> Bool {
        let path = Array(RobotsRules.pathAndQuery(of: url).utf8)
        var best: (length: Int, allow: Bool)?
        for rule in rules where RobotsRules.matches(rule.pattern, path) {
            let length = rule.pattern.count
            if best == nil || length > best!.length || (length == best!.length && rule.allow) {
                best = (length, rule.allow)
            }
        }
        return best?.allow ?? true
    }

    static func robotsURL(for url: String) -> String {
        guard let start = url.range(of: "//")?.upperBound else { return url }
        let authorityEnd = url[start...].firstIndex { $0 == "/" || $0 == "?" } ?? url.endIndex
        return String(url[..<authorityEnd]) + "/robots.txt"
    }

    static func pathAndQuery(of url: String) -> String {
        guard let start = url.range(of: "//")?.upperBound else { return "/" }
        guard let pathStart = url[start...].firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let rest = String(url[pathStart...])
        return rest.hasPrefix("?") ? "/" + rest : rest
    }

    /// Patterns compare against percent-encoded paths; encode what a robots.txt author may have left raw.
    static func normalizedPath(_ pattern: String) -> String {
        var out = ""
        for scalar in pattern.unicodeScalars {
            if scalar.value > 0x7F || scalar == " " {
                for byte in String(scalar).utf8 { out += "%" + String(byte, radix: 16, uppercase: true) }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A pattern matches a prefix of the path, or (ending in `$`) all of it.
    static func matches(_ pattern: [UInt8], _ path: [UInt8]) -> Bool {
        if pattern.last == UInt8(ascii: "$") { return Glob.matches(pattern.dropLast(), path) }
        return Glob.matches(pattern, path, prefix: true)
    }
}
