/// "Did you mean" suggestions for unknown ids, keys and options.
public enum NearestName {
    /// The known name nearest to `name` by edit distance (case-insensitive), if it is close
    /// enough to be a plausible misspelling: at most a third of the longer name's length, and at
    /// least 1 edit allowed. Ties go to the name listed first.
    public static func suggestion(for name: String, among known: [String]) -> String? {
        let lower = Array(name.lowercased().utf8)
        var best: (name: String, distance: Int)?
        for candidate in known {
            let c = Array(candidate.lowercased().utf8)
            let limit = max(1, max(lower.count, c.count) / 3)
            let d = distance(lower, c, limit: limit)
            if d <= limit, d < (best?.distance ?? .max) { best = (candidate, d) }
        }
        // A name that is a prefix of exactly one known name counts too ("h100" → nothing, but "llama-3-7" → "llama-3-70b").
        if best == nil {
            let prefixed = known.filter { $0.lowercased().hasPrefix(name.lowercased()) && !name.isEmpty && name.count >= 4 }
            if prefixed.count == 1 { return prefixed[0] }
        }
        return best?.name
    }

    /// `unknown id "x"; did you mean "y"? known: a, b, c` (the suggestion only when there is one).
    public static func unknown(_ name: String, what: String = "id", known: [String]) -> String {
        let s = "unknown \(what) \"\(name)\""
        if let near = suggestion(for: name, among: known) { return s + "; did you mean \"\(near)\"? known: " + known.joined(separator: ", ") }
        return s + "; known: " + known.joined(separator: ", ")
    }

    /// Levenshtein distance between two byte strings, giving up (returning `limit + 1`) once
    /// every entry of a row exceeds `limit`.
    static func distance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMin = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMin = min(rowMin, current[j])
            }
            if rowMin > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
