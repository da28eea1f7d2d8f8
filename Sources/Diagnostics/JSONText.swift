import Foundation

/// Hand-written JSON output shared by every report and profile writer, so that escaping is
/// defined once and output is byte-identical across runs.
public enum JSONText {
    /// `s` as a JSON string literal: quotes, backslashes and control characters escaped.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }

    /// `x` with exactly `decimals` digits after the point, rounded half away from zero, without
    /// locale or `String(format:)`, so reports are the same bytes on every run and platform;
    /// `null` for NaN or infinity (JSON has no such numbers), and never `-0`.
    public static func number(_ x: Double, decimals: Int) -> String {
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

    /// A number as a person writes it in a message: integers plainly, others in `%g` style
    /// (`1e+30` as `1e30`).
    public static func shortNumber(_ x: Double) -> String {
        if x.isFinite && x == x.rounded() && abs(x) < 1e15 {
            let n = Int64(x)
            // Round powers of ten and the like read better as 1e9 than 1000000000.
            if abs(n) >= 1_000_000 && n % 1_000_000 == 0 {
                var mantissa = n, exponent = 0
                while mantissa % 10 == 0 { mantissa /= 10; exponent += 1 }
                return "\(mantissa)e\(exponent)"
            }
            return String(n)
        }
        var s = String(describing: x)
        if let e = s.firstIndex(of: "e") {
            var exponent = String(s[s.index(after: e)...])
            let sign = exponent.hasPrefix("-") ? "-" : ""
            exponent = String(exponent.drop { $0 == "+" || $0 == "-" || $0 == "0" })
            s = String(s[..<e]) + "e" + sign + (exponent.isEmpty ? "0" : exponent)
        }
        return s
    }
}
