/// Two fixes to how the command line is read, applied before and after ArgumentParser.
enum ArgumentRepair {
    /// `--batch -4` becomes `--batch=-4`, so that a negative number reaches the option's range
    /// check ("--batch must be at least 1, got -4") instead of being read as an option and
    /// reported as a missing value. Only a `--long` option followed by a token that parses as a
    /// negative number is joined.
    static func joinNegativeValues(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a.hasPrefix("--"), !a.contains("="), a != "--", i + 1 < arguments.count,
               arguments[i + 1].hasPrefix("-"), Double(arguments[i + 1]) != nil {
                out.append(a + "=" + arguments[i + 1])
                i += 2
            } else {
                out.append(a)
                i += 1
            }
        }
        return out
    }

    /// The option a "missing expected argument" message names (`--hardware` from
    /// `Missing expected argument '--hardware <hardware>'`), or nil. ArgumentParser reports a
    /// missing required option before an unknown one, so a misspelled `--hardwre` reads as
    /// "missing --hardware"; the caller fills the missing option with a placeholder and parses
    /// again, to let ArgumentParser report the unknown option with its nearest known one.
    static func missingOption(in message: String) -> String? {
        let marker = "Missing expected argument '"
        guard let start = message.range(of: marker) else { return nil }
        let rest = message[start.upperBound...]
        guard rest.hasPrefix("--") else { return nil }
        let name = rest.prefix { $0 != " " && $0 != "'" }
        return name.count > 2 ? String(name) : nil
    }
}
