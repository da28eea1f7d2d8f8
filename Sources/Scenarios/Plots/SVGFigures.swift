import Diagnostics
import Foundation

/// Stacked horizontal bars: one bar per item (a step), one coloured segment per part (an
/// operator class), each segment carrying its value (`data-bar`, `data-segment`, `data-value`).
public struct SVGStackedBars: Sendable {
    public struct Bar: Sendable {
        public var label: String
        public var segments: [(name: String, value: Double)]
        public init(label: String, segments: [(name: String, value: Double)]) {
            self.label = label
            self.segments = segments
        }
    }
    public var title: String
    public var valueLabel: String
    public var bars: [Bar]
    public var width = 720.0
    public var height: Double { 42 + max(Double(bars.count) * 46 + 40, Double(legendNames.count) * 18 + 20) + 10 }

    var legendNames: [String] { bars.flatMap { $0.segments.filter { $0.value > 0 }.map(\.name) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } } }

    public init(title: String, valueLabel: String, bars: [Bar]) {
        self.title = title
        self.valueLabel = valueLabel
        self.bars = bars
    }

    public func rendered() -> String {
        let left = 120.0, right = 250.0, top = 42.0
        let plotW = width - left - right
        let names = legendNames
        // Each bar is drawn as shares of its own total, so a 50 ms prefill and a 20 ms decode
        // are both readable; the totals are printed beside the bars.
        var out = SVGText.header(width: width, height: height, title: title)
        for (i, bar) in bars.enumerated() {
            let y = top + 10 + Double(i) * 46
            let total = bar.segments.reduce(0) { $0 + max($1.value, 0) }
            out += "<text x=\"\(SVGText.n(left - 8))\" y=\"\(SVGText.n(y + 19))\" text-anchor=\"end\">\(SVGText.escape(bar.label))</text>\n"
            var x = left
            for s in bar.segments where s.value > 0 {
                let w = total > 0 ? s.value / total * plotW : 0
                let color = SVGText.palette[(names.firstIndex(of: s.name) ?? 0) % SVGText.palette.count]
                out += "<rect class=\"segment\" x=\"\(SVGText.n(x))\" y=\"\(SVGText.n(y))\" width=\"\(SVGText.n(w))\" height=\"28\" fill=\"\(color)\" data-bar=\"\(SVGText.escape(bar.label))\" data-segment=\"\(SVGText.escape(s.name))\" data-value=\"\(SVGText.data(s.value))\"><title>\(SVGText.escape("\(bar.label): \(s.name) \(JSONText.number(s.value, decimals: 3)) (\(JSONText.number(total > 0 ? 100 * s.value / total : 0, decimals: 1))%)"))</title></rect>\n"
                if w > 34 {
                    out += "<text x=\"\(SVGText.n(x + w / 2))\" y=\"\(SVGText.n(y + 18))\" text-anchor=\"middle\" fill=\"white\" font-size=\"11\">\(JSONText.number(100 * s.value / total, decimals: 0))%</text>\n"
                }
                x += w
            }
            out += "<text x=\"\(SVGText.n(left + plotW + 6))\" y=\"\(SVGText.n(y + 19))\" font-size=\"11\" data-total=\"\(SVGText.data(total))\">\(SVGText.short(total)) \(SVGText.escape(valueLabel))</text>\n"
        }
        let axisY = top + 10 + Double(bars.count) * 46 + 4
        out += "<text x=\"\(SVGText.n(left + plotW / 2))\" y=\"\(SVGText.n(axisY + 12))\" text-anchor=\"middle\">share of each step's time (total beside each bar)</text>\n"
        out += SVGText.legend(names, x: width - 150, top: top + 18)
        return out + "</svg>\n"
    }
}

/// A heatmap over two axes: one cell per (x, y) value pair, coloured by its value on a
/// sequential scale, the value printed in the cell, each cell carrying `data-x`, `data-y` and
/// `data-value`. Missing cells are left grey.
public struct SVGHeatmap: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var valueLabel: String
    public var xValues: [String]
    public var yValues: [String]
    /// `values[y][x]`, nil where no point was run.
    public var values: [[Double?]]
    /// Whether a higher value is better (colour scale reversed so that good is always dark).
    public var higherIsBetter: Bool
    public var width = 720.0
    public var height = 440.0

    public init(title: String, xLabel: String, yLabel: String, valueLabel: String, xValues: [String], yValues: [String],
                values: [[Double?]], higherIsBetter: Bool) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.valueLabel = valueLabel
        self.xValues = xValues
        self.yValues = yValues
        self.values = values
        self.higherIsBetter = higherIsBetter
    }

    /// A colour on a five-stop sequential scale (light yellow to dark blue) at `t` in 0...1.
    static func color(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [(255, 255, 204), (161, 218, 180), (65, 182, 196), (44, 127, 184), (37, 52, 148)]
        let u = min(max(t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(u), stops.count - 2), f = u - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        func c(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * f).rounded()) }
        return String(format: "#%02x%02x%02x", c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
    }

    public func rendered() -> String {
        let left = 110.0, right = 150.0, top = 42.0, bottom = 58.0
        let plotW = width - left - right, plotH = height - top - bottom
        let nx = max(xValues.count, 1), ny = max(yValues.count, 1)
        let cw = plotW / Double(nx), ch = plotH / Double(ny)
        let finite = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        // A log colour scale when the values are positive and span more than 10x (an overloaded
        // point's TTFT would otherwise wash every other cell into one colour).
        let logScale = lo > 0 && hi / lo > 10
        func position(_ v: Double) -> Double {
            guard hi > lo else { return 0.5 }
            return logScale ? (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) : (v - lo) / (hi - lo)
        }
        var out = SVGText.header(width: width, height: height, title: title)
        for (yi, row) in values.enumerated() {
            // The first y value at the bottom, as on a chart.
            let y = top + plotH - Double(yi + 1) * ch
            for (xi, v) in row.enumerated() {
                let x = left + Double(xi) * cw
                guard let v, v.isFinite else {
                    out += "<rect x=\"\(SVGText.n(x))\" y=\"\(SVGText.n(y))\" width=\"\(SVGText.n(cw))\" height=\"\(SVGText.n(ch))\" fill=\"#dddddd\" stroke=\"white\"/>\n"
                    continue
                }
                var t = position(v)
                if !higherIsBetter { t = 1 - t }
                out += "<rect class=\"cell\" x=\"\(SVGText.n(x))\" y=\"\(SVGText.n(y))\" width=\"\(SVGText.n(cw))\" height=\"\(SVGText.n(ch))\" fill=\"\(Self.color(t))\" stroke=\"white\" data-x=\"\(SVGText.escape(xValues[xi]))\" data-y=\"\(SVGText.escape(yValues[yi]))\" data-value=\"\(SVGText.data(v))\"><title>\(SVGText.escape("\(xLabel)=\(xValues[xi]), \(yLabel)=\(yValues[yi]): \(SVGText.short(v)) \(valueLabel)"))</title></rect>\n"
                if cw > 36, ch > 16 {
                    out += "<text x=\"\(SVGText.n(x + cw / 2))\" y=\"\(SVGText.n(y + ch / 2 + 4))\" text-anchor=\"middle\" font-size=\"11\" fill=\"\(t > 0.55 ? "white" : "black")\">\(SVGText.escape(SVGText.short(v)))</text>\n"
                }
            }
        }
        for (xi, label) in xValues.enumerated() {
            out += "<text x=\"\(SVGText.n(left + (Double(xi) + 0.5) * cw))\" y=\"\(SVGText.n(top + plotH + 16))\" text-anchor=\"middle\">\(SVGText.escape(label))</text>\n"
        }
        for (yi, label) in yValues.enumerated() {
            out += "<text x=\"\(SVGText.n(left - 6))\" y=\"\(SVGText.n(top + plotH - (Double(yi) + 0.5) * ch + 4))\" text-anchor=\"end\">\(SVGText.escape(label))</text>\n"
        }
        out += "<text x=\"\(SVGText.n(left + plotW / 2))\" y=\"\(SVGText.n(height - 14))\" text-anchor=\"middle\">\(SVGText.escape(xLabel))</text>\n"
        out += "<text x=\"16\" y=\"\(SVGText.n(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(SVGText.n(top + plotH / 2)))\">\(SVGText.escape(yLabel))</text>\n"
        // Colour key: the range of values.
        let kx = width - right + 24
        for i in 0..<10 {
            let t = Double(i) / 9
            let ky = top + 20 + Double(9 - i) * 16
            out += "<rect x=\"\(SVGText.n(kx))\" y=\"\(SVGText.n(ky))\" width=\"16\" height=\"16\" fill=\"\(Self.color(higherIsBetter ? t : 1 - t))\"/>\n"
        }
        out += "<text x=\"\(SVGText.n(kx + 22))\" y=\"\(SVGText.n(top + 32))\" font-size=\"11\">\(SVGText.escape(SVGText.short(hi)))</text>\n"
        out += "<text x=\"\(SVGText.n(kx + 22))\" y=\"\(SVGText.n(top + 20 + 9 * 16 + 12))\" font-size=\"11\">\(SVGText.escape(SVGText.short(lo) + (logScale ? " (log scale)" : "")))</text>\n"
        out += "<text x=\"\(SVGText.n(kx))\" y=\"\(SVGText.n(top + 12))\" font-size=\"11\">\(SVGText.escape(valueLabel))</text>\n"
        return out + "</svg>\n"
    }
}

/// Several figures one above the other in one SVG document.
public enum SVGPanels {
    /// `panels` (each a complete `<svg>` document of the given height), stacked vertically.
    public static func stacked(_ panels: [(svg: String, height: Double)], width: Double = 720) -> String {
        let total = panels.reduce(0) { $0 + $1.height }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVGText.n(width))\" height=\"\(SVGText.n(total))\" viewBox=\"0 0 \(SVGText.n(width)) \(SVGText.n(total))\">\n"
        var y = 0.0
        for p in panels {
            out += "<g class=\"panel\" transform=\"translate(0 \(SVGText.n(y)))\">\n" + p.svg + "</g>\n"
            y += p.height
        }
        return out + "</svg>\n"
    }
}

/// Formatting shared by the figures.
enum SVGText {
    static let palette = SVGChart.palette
    static func n(_ x: Double) -> String { JSONText.number(x, decimals: 1) }
    static func data(_ x: Double) -> String { SVGChart.data(x) }
    static func escape(_ s: String) -> String { SVGChart.escape(s) }

    /// Three significant digits, with k/M above 10,000 (16424.9 → "16.4k", 0.2473 → "0.247").
    static func short(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        let a = abs(v)
        if a >= 1e7 { return JSONText.number(v / 1e6, decimals: 1) + "M" }
        if a >= 1e4 { return JSONText.number(v / 1e3, decimals: 1) + "k" }
        if a >= 100 || a == 0 { return JSONText.number(v, decimals: 0) }
        let decimals = a >= 10 ? 1 : a >= 1 ? 2 : min(6, 2 - Int(floor(log10(a))))
        return JSONText.number(v, decimals: decimals)
    }

    static func header(width: Double, height: Double, title: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect x="0" y="0" width="\(n(width))" height="\(n(height))" fill="white"/>
        <text x="\(n(width / 2))" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(escape(title))</text>

        """
    }

    static func legend(_ names: [String], x: Double, top: Double) -> String {
        var out = ""
        for (i, name) in names.enumerated() {
            let ly = top + Double(i) * 18
            out += "<rect x=\"\(n(x - 16))\" y=\"\(n(ly - 8))\" width=\"10\" height=\"10\" fill=\"\(palette[i % palette.count])\"/>\n"
            out += "<text x=\"\(n(x))\" y=\"\(n(ly + 1))\">\(escape(name))</text>\n"
        }
        return out
    }
}
