import Diagnostics
import Foundation

/// A small, dependency-free SVG chart: lines and points on linear or log axes, reference lines
/// (an SLO, a ridge point), a legend. The output is self-contained text, byte-identical for the
/// same data (fixed number formatting, no clock), and every plotted point carries its data values
/// (`data-x`, `data-y`, `data-label`) so that tests and readers can check what was drawn.
public struct SVGChart: Sendable {
    public enum Scale: Sendable { case linear, log }

    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double, label: String)]
        /// Joined by a line (in the order given) or drawn as markers only.
        public var line: Bool
        /// Marker radius in pixels (small for dense series such as a CDF).
        public var markerRadius: Double
        public init(name: String, points: [(x: Double, y: Double, label: String)], line: Bool = true, markerRadius: Double = 4) {
            self.name = name
            self.points = points
            self.line = line
            self.markerRadius = markerRadius
        }
    }

    public struct Rule: Sendable {
        public enum Axis: Sendable { case horizontal, vertical }
        public var axis: Axis
        public var value: Double
        public var label: String
        public init(_ axis: Axis, at value: Double, label: String) {
            self.axis = axis
            self.value = value
            self.label = label
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: Scale = .linear
    public var yScale: Scale = .linear
    public var series: [Series] = []
    public var rules: [Rule] = []
    public var width = 720.0
    public var height = 440.0

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]
    let left = 78.0, right = 170.0, top = 42.0, bottom = 58.0

    /// The chart as an SVG document.
    public func rendered() -> String {
        let xs = series.flatMap { $0.points.map(\.x) } + rules.filter { $0.axis == .vertical }.map(\.value)
        let ys = series.flatMap { $0.points.map(\.y) } + rules.filter { $0.axis == .horizontal }.map(\.value)
        let (x0, x1) = Self.range(xs, xScale)
        let (y0, y1) = Self.range(ys, yScale)
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + Self.fraction(x, x0, x1, xScale) * plotW }
        func py(_ y: Double) -> Double { top + (1 - Self.fraction(y, y0, y1, yScale)) * plotH }

        var out = SVGText.header(width: width, height: height, title: title)
        // Grid and ticks.
        for t in Self.ticks(x0, x1, xScale) {
            let x = px(t)
            out += "<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(top + plotH))\" stroke=\"#e5e5e5\"/>\n"
            out += "<text x=\"\(n(x))\" y=\"\(n(top + plotH + 16))\" text-anchor=\"middle\">\(Self.tickText(t))</text>\n"
        }
        for t in Self.ticks(y0, y1, yScale) {
            let y = py(t)
            out += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotW))\" y2=\"\(n(y))\" stroke=\"#e5e5e5\"/>\n"
            out += "<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(Self.tickText(t))</text>\n"
        }
        out += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotW))\" height=\"\(n(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(n(left + plotW / 2))\" y=\"\(n(height - 14))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        out += "<text x=\"16\" y=\"\(n(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(n(top + plotH / 2)))\">\(Self.escape(yLabel))</text>\n"
        // Reference lines.
        for r in rules {
            switch r.axis {
            case .horizontal:
                let y = py(r.value)
                out += "<line class=\"rule\" data-value=\"\(Self.data(r.value))\" x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotW))\" y2=\"\(n(y))\" stroke=\"#555\" stroke-dasharray=\"6 4\"/>\n"
                out += "<text x=\"\(n(left + plotW - 4))\" y=\"\(n(y - 5))\" text-anchor=\"end\" fill=\"#555\">\(Self.escape(r.label))</text>\n"
            case .vertical:
                let x = px(r.value)
                out += "<line class=\"rule\" data-value=\"\(Self.data(r.value))\" x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(top + plotH))\" stroke=\"#555\" stroke-dasharray=\"6 4\"/>\n"
                out += "<text x=\"\(n(x + 4))\" y=\"\(n(top + plotH - 8))\" fill=\"#555\">\(Self.escape(r.label))</text>\n"
            }
        }
        // Series, then the legend.
        for (i, s) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            out += "<g class=\"series\" data-name=\"\(Self.escape(s.name))\">\n"
            if s.line, s.points.count > 1 {
                let path = s.points.map { "\(n(px($0.x))),\(n(py($0.y)))" }.joined(separator: " ")
                out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
            for p in s.points {
                out += "<circle cx=\"\(n(px(p.x)))\" cy=\"\(n(py(p.y)))\" r=\"\(n(s.markerRadius))\" fill=\"\(color)\" data-x=\"\(Self.data(p.x))\" data-y=\"\(Self.data(p.y))\" data-label=\"\(Self.escape(p.label))\"><title>\(Self.escape(p.label))</title></circle>\n"
            }
            out += "</g>\n"
            let ly = top + 10 + Double(i) * 18
            out += "<rect x=\"\(n(width - right + 12))\" y=\"\(n(ly - 8))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>\n"
            out += "<text x=\"\(n(width - right + 28))\" y=\"\(n(ly + 1))\">\(Self.escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    func n(_ x: Double) -> String { JSONText.number(x, decimals: 1) }

    /// A data value as written into attributes: shortest round-trip text.
    static func data(_ x: Double) -> String { "\(x)" }

    static func range(_ values: [Double], _ scale: Scale) -> (Double, Double) {
        let usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        guard var lo = usable.min(), var hi = usable.max() else { return scale == .log ? (1, 10) : (0, 1) }
        switch scale {
        case .linear:
            lo = min(lo, 0)
            if hi <= lo { hi = lo + 1 }
            return (lo, hi * 1.05)
        case .log:
            lo = pow(10, floor(log10(lo)))
            hi = pow(10, ceil(log10(hi)))
            if hi <= lo { hi = lo * 10 }
            return (lo, hi)
        }
    }

    static func fraction(_ v: Double, _ lo: Double, _ hi: Double, _ scale: Scale) -> Double {
        switch scale {
        case .linear: return (v - lo) / (hi - lo)
        case .log: return v > 0 ? (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) : 0
        }
    }

    static func ticks(_ lo: Double, _ hi: Double, _ scale: Scale) -> [Double] {
        switch scale {
        case .log:
            var out: [Double] = []
            var t = lo
            while t <= hi * 1.0001 && out.count < 40 { out.append(t); t *= 10 }
            return out
        case .linear:
            let raw = (hi - lo) / 6
            let magnitude = pow(10, floor(log10(raw)))
            let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
            var out: [Double] = []
            var t = (lo / step).rounded(.up) * step
            while t <= hi + step * 1e-9 && out.count < 40 { out.append(t); t += step }
            return out
        }
    }

    static func tickText(_ t: Double) -> String {
        let a = abs(t)
        if a >= 1e15 { return JSONText.shortNumber(t / 1e15) + "P" }
        if a >= 1e12 { return JSONText.shortNumber(t / 1e12) + "T" }
        if a >= 1e9 { return JSONText.shortNumber(t / 1e9) + "G" }
        if a >= 1e6 { return JSONText.shortNumber(t / 1e6) + "M" }
        if a >= 1e4 { return JSONText.shortNumber(t / 1e3) + "k" }
        return JSONText.shortNumber((t * 1e6).rounded() / 1e6)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
