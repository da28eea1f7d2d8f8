/// Deterministic number formatting for reports: no locale, no `String(format:)`, the same
/// bytes on every run and platform.
enum MetricsFormat {
    /// `x` with exactly `decimals` digits after the point, rounded half away from zero;
    /// `null` for NaN or infinity (JSON has no such numbers).
    static func fixed(_ x: Double, decimals: Int) -> String {
        guard x.isFinite else { return "null" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(x) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9.0e18 else { return x < 0 ? "-\(abs(x).rounded())" : "\(x.rounded())" }
        let n = UInt64(scaled)
        let sign = x < 0 && n > 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(n) }
        let divisor = UInt64(scale)
        var fraction = String(n % divisor)
        fraction = String(repeating: "0", count: decimals - fraction.count) + fraction
        return "\(sign)\(n / divisor).\(fraction)"
    }

    /// A JSON string literal (escapes quotes, backslashes and control characters).
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Right-aligns `s` in `width` columns.
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    /// Left-aligns `s` in `width` columns.
    static func padRight(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
