/// A plain-text table with right-aligned numeric columns, for terminal output.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns aligned left (the rest align right).
    var leftAligned: Set<Int> = [0]

    init(_ headers: [String], leftAligned: Set<Int> = [0]) {
        self.headers = headers
        self.leftAligned = leftAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func rendered() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return leftAligned.contains(i) ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        var out = [line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        return out.joined(separator: "\n")
    }
}
