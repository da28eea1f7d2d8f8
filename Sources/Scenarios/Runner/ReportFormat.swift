import HardwareModel
import Foundation

/// Fixed-decimal numbers and escaped strings for reports, so the same run prints the same bytes.
enum ReportFormat {
    static func fixed(_ x: Double, decimals: Int) -> String {
        guard x.isFinite else { return "null" }
        let s = String(format: "%.\(decimals)f", x)
        return s == "-0" || s.hasPrefix("-0.") && Double(s) == 0 ? String(s.dropFirst()) : s
    }

    static func jsonString(_ s: String) -> String { JSONText.quoted(s) }
}
