/// `*` wildcard matching over bytes (UTF-8 is safe: `*` never appears inside a multi-byte character).
enum Glob {
    /// True when `pattern` matches all of `text`, or (with `prefix`) a prefix of it.
    static func matches(_ pattern: some Collection<UInt8>, _ text: some Collection<UInt8>, prefix: Bool = false) -> Bool {
        let pat = Array(pattern), t = Array(text)
        let star = UInt8(ascii: "*")
        var pi = 0, ti = 0, lastStar = -1, mark = 0
        while ti < t.count {
            if pi < pat.count && pat[pi] != star && pat[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < pat.count && pat[pi] == star {
                lastStar = pi
                mark = ti
                pi += 1
            } else if pi == pat.count && prefix {
                return true
            } else if lastStar >= 0 {
                pi = lastStar + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < pat.count && pat[pi] == star { pi += 1 }
        return pi == pat.count
    }
}
