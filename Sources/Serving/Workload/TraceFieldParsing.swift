/// Hand-written number parsers over raw bytes for the trace readers.
///
/// Parsing from bytes (no `String`, no `Double` round trip) keeps the readers fast and makes
/// time stamps exact: a decimal such as `3.9799600` s becomes `3_979_960_000` ns by integer
/// arithmetic, so replaying a trace never accumulates floating-point drift.
enum FieldParsing {
    enum Number: Equatable {
        case value(Int64)
        case negative
        case invalid
    }

    static let digit0: UInt8 = 0x30
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- digit0 < 10 }

    /// Trims ASCII spaces and tabs from both ends of `lo..<hi`.
    @inline(__always)
    static func trim(_ p: UnsafeRawBufferPointer, _ lo: inout Int, _ hi: inout Int) {
        while lo < hi, p[lo] == space || p[lo] == tab { lo += 1 }
        while hi > lo, p[hi - 1] == space || p[hi - 1] == tab { hi -= 1 }
    }

    /// Parses a base-10 integer (optional leading `+`; at most 18 digits).
    /// A leading `-` followed by digits reports `.negative`.
    static func integer(_ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int) -> Number {
        var i = lo
        var negative = false
        if i < hi, p[i] == minus { negative = true; i += 1 } else if i < hi, p[i] == plus { i += 1 }
        guard i < hi, hi - i <= 18 else { return .invalid }
        var value: Int64 = 0
        while i < hi {
            let d = p[i] &- digit0
            guard d < 10 else { return .invalid }
            value = value * 10 + Int64(d)
            i += 1
        }
        if negative { return value == 0 ? .value(0) : .negative }
        return .value(value)
    }

    /// Parses a non-negative decimal `123.456` into an integer scaled by `10^scaleDigits`,
    /// exactly, rounding half up at the first dropped digit (`scaleDigits` ≤ 9).
    /// Scientific notation (`1.5e-3`) falls back to `Double` and rounds to the nearest unit.
    static func scaledDecimal(_ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int, scaleDigits: Int) -> Number {
        var i = lo
        var negative = false
        if i < hi, p[i] == minus { negative = true; i += 1 } else if i < hi, p[i] == plus { i += 1 }
        let numberStart = i
        var whole: Int64 = 0
        var wholeDigits = 0
        // At most 18 − scaleDigits whole digits, so `whole · 10^scaleDigits` fits in Int64.
        while i < hi, isDigit(p[i]) {
            guard wholeDigits < 18 - scaleDigits else { return .invalid }
            whole = whole * 10 + Int64(p[i] - digit0)
            wholeDigits += 1
            i += 1
        }
        var fraction: Int64 = 0
        var fractionDigits = 0
        var roundUp = false
        var sawFraction = false
        if i < hi, p[i] == dot {
            i += 1
            while i < hi, isDigit(p[i]) {
                sawFraction = true
                if fractionDigits < scaleDigits {
                    fraction = fraction * 10 + Int64(p[i] - digit0)
                    fractionDigits += 1
                } else if fractionDigits == scaleDigits {
                    roundUp = p[i] >= digit0 + 5
                    fractionDigits += 1
                }
                i += 1
            }
        }
        if i < hi, p[i] == 0x65 || p[i] == 0x45 { // e / E
            return scientific(p, numberStart, hi, negative: negative, scaleDigits: scaleDigits)
        }
        guard i == hi, wholeDigits > 0 || sawFraction else { return .invalid }
        var scale: Int64 = 1
        for _ in 0..<scaleDigits { scale *= 10 }
        var padded = fraction
        for _ in min(fractionDigits, scaleDigits)..<scaleDigits { padded *= 10 }
        var value = whole * scale + padded
        if roundUp { value += 1 }
        if negative { return value == 0 ? .value(0) : .negative }
        return .value(value)
    }

    private static func scientific(_ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int, negative: Bool, scaleDigits: Int) -> Number {
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: p[lo..<hi]), as: UTF8.self)
        guard let parsed = Double(text), parsed.isFinite else { return .invalid }
        var scale = 1.0
        for _ in 0..<scaleDigits { scale *= 10 }
        let scaled = (parsed * scale).rounded()
        guard scaled < 9.0e18 else { return .invalid }
        if negative { return scaled == 0 ? .value(0) : .negative }
        return .value(Int64(scaled))
    }

    /// The bytes `lo..<hi` as a short quoted string for error messages (at most 40 bytes).
    static func quoted(_ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int) -> String {
        let cut = min(hi, lo + 40)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: p[lo..<cut]), as: UTF8.self)
        return "\"\(text)\(cut < hi ? "…" : "")\""
    }

    /// Whether bytes `lo..<hi` equal `literal` (ASCII), ignoring ASCII case if asked.
    static func equals(_ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int, _ literal: StaticString, ignoringCase: Bool = false) -> Bool {
        guard hi - lo == literal.utf8CodeUnitCount else { return false }
        let bytes = literal.utf8Start
        for k in 0..<(hi - lo) {
            var a = p[lo + k]
            var b = bytes[k]
            if ignoringCase {
                if a >= 0x41 && a <= 0x5A { a += 0x20 }
                if b >= 0x41 && b <= 0x5A { b += 0x20 }
            }
            if a != b { return false }
        }
        return true
    }

    /// Nanoseconds since 1970-01-01 00:00:00 of a wall-clock time stamp
    /// `YYYY-MM-DD HH:MM:SS[.fffffffff]` (a `T` may replace the space; no time zone).
    /// Days are counted with Howard Hinnant's `days_from_civil` (proleptic Gregorian).
    static func timestampNanoseconds(_ p: UnsafeRawBufferPointer, _ lo: Int, _ hi: Int) -> Int64? {
        var i = lo
        func number(maxDigits: Int, terminator: UInt8?) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while i < hi, isDigit(p[i]), count < maxDigits {
                value = value * 10 + Int64(p[i] - digit0)
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            if let terminator {
                guard i < hi, p[i] == terminator else { return nil }
                i += 1
            }
            return value
        }
        // Years 1970-2200: nanoseconds since 1970 and any difference of two stay inside Int64.
        guard let year = number(maxDigits: 4, terminator: minus), (1970...2200).contains(year),
              let month = number(maxDigits: 2, terminator: minus), (1...12).contains(month) else { return nil }
        guard let day = number(maxDigits: 2, terminator: nil), (1...31).contains(day),
              i < hi, p[i] == space || p[i] == 0x54 else { return nil }
        i += 1
        guard let hour = number(maxDigits: 2, terminator: 0x3A), hour < 24,
              let minute = number(maxDigits: 2, terminator: 0x3A), minute < 60,
              let second = number(maxDigits: 2, terminator: nil), second < 61 else { return nil }
        var nanos: Int64 = 0
        if i < hi, p[i] == dot {
            guard case .value(let fraction) = scaledDecimal(p, i, hi, scaleDigits: 9) else { return nil }
            nanos = fraction
            i = hi
        }
        guard i == hi else { return nil }
        // days_from_civil (http://howardhinnant.github.io/date_algorithms.html)
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
        return seconds * 1_000_000_000 + nanos
    }
}
