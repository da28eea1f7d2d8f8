/// One parsed trace row before ids and ordering checks; what every format parser yields.
struct TraceRow {
    /// Arrival in nanoseconds: relative to the trace start, or (Azure) absolute wall clock,
    /// which the reader turns into an offset from the first row.
    var arrivalNanoseconds: Int64
    var promptTokens: Int
    var outputTokens: Int
    var session: Int? = nil
    var priority: Int = 0
    var acceptanceRate: Double? = nil
    var prefixHashes: [UInt64] = []
    var prefixBlockTokens: Int = 0
}

/// Why one line could not be used. `fatal` problems (a wrong header) are never skippable.
struct RowProblem: Error {
    var message: String
    var fatal = false
    /// The 1-based byte column in the line, where the parser knows it.
    var column: Int? = nil
}

/// Splits a CSV line at commas without allocating (no quoting: none of the supported
/// formats quotes its fields).
struct CSVFieldCursor {
    let line: UnsafeRawBufferPointer
    private var position = 0
    private var finished = false

    init(_ line: UnsafeRawBufferPointer) { self.line = line }

    /// The next field's byte range, trimmed of spaces, or `nil` after the last field.
    mutating func next() -> (lo: Int, hi: Int)? {
        guard !finished else { return nil }
        var lo = position
        var hi = lo
        while hi < line.count, line[hi] != 0x2C { hi += 1 }
        if hi >= line.count { finished = true } else { position = hi + 1 }
        FieldParsing.trim(line, &lo, &hi)
        return (lo, hi)
    }
}

/// Field validation shared by the format parsers; every message names the field and says
/// what was expected versus what was found.
enum RowFields {
    static func count(_ name: String, _ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int, atLeast minimum: Int) throws(RowProblem) -> Int {
        if lo == hi { throw RowProblem(message: "field '\(name)': expected an integer >= \(minimum), found an empty field") }
        switch FieldParsing.integer(p, lo, hi) {
        case .value(let v) where v >= minimum && v <= Int64(Int32.max):
            return Int(v)
        case .value, .negative:
            throw RowProblem(message: "field '\(name)': expected an integer >= \(minimum), found \(FieldParsing.quoted(p, lo, hi))")
        case .invalid:
            throw RowProblem(message: "field '\(name)': expected an integer >= \(minimum), found non-numeric \(FieldParsing.quoted(p, lo, hi))")
        }
    }

    static func optionalInt(_ name: String, _ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int) throws(RowProblem) -> Int? {
        if lo == hi { return nil }
        switch FieldParsing.integer(p, lo, hi) {
        case .value(let v) where v <= Int64(Int32.max): return Int(v)
        case .value, .negative:
            throw RowProblem(message: "field '\(name)': expected a non-negative integer, found \(FieldParsing.quoted(p, lo, hi))")
        case .invalid:
            throw RowProblem(message: "field '\(name)': expected a non-negative integer, found non-numeric \(FieldParsing.quoted(p, lo, hi))")
        }
    }

    /// A non-negative decimal number of units scaled to nanoseconds (`scaleDigits` 9 for
    /// seconds, 6 for milliseconds).
    static func time(_ name: String, unit: String, _ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int, scaleDigits: Int) throws(RowProblem) -> Int64 {
        if lo == hi { throw RowProblem(message: "field '\(name)': expected a non-negative number of \(unit), found an empty field") }
        switch FieldParsing.scaledDecimal(p, lo, hi, scaleDigits: scaleDigits) {
        case .value(let v): return v
        case .negative:
            throw RowProblem(message: "field '\(name)': expected a non-negative number of \(unit), found \(FieldParsing.quoted(p, lo, hi))")
        case .invalid:
            throw RowProblem(message: "field '\(name)': expected a non-negative number of \(unit), found non-numeric \(FieldParsing.quoted(p, lo, hi))")
        }
    }

    /// An optional rate in [0, 1] (empty: none), read exactly as a decimal.
    static func optionalRate(_ name: String, _ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int) throws(RowProblem) -> Double? {
        if lo == hi { return nil }
        switch FieldParsing.scaledDecimal(p, lo, hi, scaleDigits: 9) {
        case .value(let v) where v <= 1_000_000_000: return Double(v) * 1e-9
        case .value, .negative:
            throw RowProblem(message: "field '\(name)': expected a rate in [0, 1], found \(FieldParsing.quoted(p, lo, hi))")
        case .invalid:
            throw RowProblem(message: "field '\(name)': expected a rate in [0, 1], found non-numeric \(FieldParsing.quoted(p, lo, hi))")
        }
    }

    static func missing(_ name: String, expectedFields: Int, found: Int) -> RowProblem {
        RowProblem(message: "field '\(name)' missing: expected \(expectedFields) comma-separated fields, found \(found)")
    }
}
