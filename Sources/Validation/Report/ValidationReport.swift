import Foundation

/// Predicted versus measured quantities, as `infersim validate --model` prints them.
public struct ValidationReport: Sendable {
    public struct Row: Sendable, Equatable {
        /// What is compared, e.g. `decode ms/token @ ctx 128`.
        public var quantity: String
        public var unit: String
        public var predicted: Double
        public var measured: Double
        /// Goal on |error| for this row, if it has one (e.g. 0.10).
        public var goal: Double?
        /// `(predicted − measured) / measured`.
        public var relativeError: Double { measured != 0 ? (predicted - measured) / measured : .nan }
        public var meetsGoal: Bool? { goal.map { abs(relativeError) <= $0 } }
    }

    public var rows: [Row]
    /// Hardware profile id, model id, precision, threads and similar context.
    public var setup: [(String, String)]
    /// Every step of the served trace, measured and predicted (empty without a trace).
    public var steps: [StepComparison]

    public init(rows: [Row], setup: [(String, String)], steps: [StepComparison] = []) {
        self.rows = rows
        self.setup = setup
        self.steps = steps
    }

    public func row(_ quantity: String) -> Row? { rows.first { $0.quantity == quantity } }

    /// An aligned text table: quantity, predicted, measured, % error, goal.
    public var text: String {
        var lines = setup.map { "\($0.0): \($0.1)" }
        let header = ["quantity", "predicted", "measured", "error", "goal"]
        var table = [header]
        for r in rows {
            table.append([r.quantity + " (" + r.unit + ")", Self.number(r.predicted), Self.number(r.measured),
                          String(format: "%+.1f%%", r.relativeError * 100),
                          r.goal.map { String(format: "±%.0f%% %@", $0 * 100, (r.meetsGoal == true ? "met" : "missed") as NSString) } ?? ""])
        }
        let widths = (0 ..< header.count).map { c in table.map { $0[c].count }.max()! }
        lines.append("")
        for (i, row) in table.enumerated() {
            let cells = row.enumerated().map { c, cell in
                c == 0 || c == 4 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }
            lines.append(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            if i == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object: `setup` and `rows` (quantity, unit, predicted, measured, relativeError, goal).
    public var json: String {
        func q(_ s: String) -> String { HostProfileWriter.quoted(s) }
        func n(_ v: Double) -> String { v.isFinite ? String(format: "%.6g", v) : "null" }
        let setupText = setup.map { "\(q($0.0)): \(q($0.1))" }.joined(separator: ", ")
        let rowText = rows.map { r in
            "    {\"quantity\": \(q(r.quantity)), \"unit\": \(q(r.unit)), \"predicted\": \(n(r.predicted)), \"measured\": \(n(r.measured)), "
                + "\"relativeError\": \(n(r.relativeError)), \"goal\": \(r.goal.map(n) ?? "null")}"
        }.joined(separator: ",\n")
        return "{\n  \"setup\": {\(setupText)},\n  \"rows\": [\n\(rowText)\n  ]\n}"
    }

    static func number(_ v: Double) -> String {
        abs(v) >= 100 ? String(format: "%.1f", v) : abs(v) >= 1 ? String(format: "%.2f", v) : String(format: "%.3f", v)
    }
}
