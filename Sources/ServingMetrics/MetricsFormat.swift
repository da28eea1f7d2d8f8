import Diagnostics

/// Column padding for the plain-text reports (numbers: `JSONText.number`).
enum MetricsFormat {
    /// Right-aligns `s` in `width` columns.
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    /// Left-aligns `s` in `width` columns.
    static func padRight(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
