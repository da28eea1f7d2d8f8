import Diagnostics
import HardwareModel
import Foundation

/// Deterministic number formatting for reports.
enum Format {
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        return JSONText.number(x, decimals: digits)
    }
    static func ms(_ seconds: Double) -> String { fixed(seconds * 1e3, seconds * 1e3 < 10 ? 3 : 2) + " ms" }
    static func gb(_ bytes: Double) -> String { fixed(bytes / 1e9, 2) + " GB" }
    static func percent(_ x: Double) -> String { fixed(x * 100, 1) + "%" }
    static func signedPercent(_ x: Double) -> String { (x >= 0 ? "+" : "") + percent(x) }
    /// 1234567 -> "1,234,567".
    static func grouped(_ n: Int) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }
    /// A compact engineering rendering: 1.23e9 -> "1.23 G".
    static func si(_ x: Double) -> String {
        let a = abs(x)
        let (scale, suffix): (Double, String) =
            a >= 1e15 ? (1e15, "P") : a >= 1e12 ? (1e12, "T") : a >= 1e9 ? (1e9, "G") : a >= 1e6 ? (1e6, "M") : a >= 1e3 ? (1e3, "k") : (1, "")
        return fixed(x / scale, 2) + (suffix.isEmpty ? "" : " " + suffix)
    }
}

/// A JSON object written by hand so that key order and number formatting are fixed:
/// the same input gives byte-identical output.
struct JSONWriter {
    private var parts: [String] = []
    mutating func add(_ key: String, _ value: Double?) {
        guard let value, value.isFinite else { parts.append("\"\(key)\": null"); return }
        parts.append("\"\(key)\": \(Self.number(value))")
    }
    mutating func add(_ key: String, _ value: Int) { parts.append("\"\(key)\": \(value)") }
    mutating func add(_ key: String, _ value: Bool) { parts.append("\"\(key)\": \(value)") }
    mutating func add(_ key: String, _ value: String?) {
        guard let value else { parts.append("\"\(key)\": null"); return }
        parts.append("\"\(key)\": \(Self.string(value))")
    }
    mutating func addRaw(_ key: String, _ json: String) { parts.append("\"\(key)\": \(json)") }
    /// An array of already-rendered JSON values.
    mutating func addArray(_ key: String, _ elements: [String]) {
        parts.append("\"\(key)\": [" + elements.joined(separator: ", ") + "]")
    }
    /// `[elements]` with one element per line, for arrays of objects.
    static func array(_ elements: [String]) -> String {
        elements.isEmpty ? "[]" : "[\n" + elements.joined(separator: ",\n") + "\n]"
    }
    func rendered(indent: String = "") -> String {
        "{\n" + parts.map { indent + "  " + $0 }.joined(separator: ",\n") + "\n" + indent + "}"
    }
    static func number(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return String(format: "%.6g", x)
    }
    static func string(_ s: String) -> String { JSONText.quoted(s) }
}
