import Diagnostics
import Foundation

/// A deterministic split of a sweep's points over `count` workers: worker `index` (0-based, as a
/// Slurm array task id from 0 or a Kubernetes indexed Job's `JOB_COMPLETION_INDEX`) runs the
/// points whose grid index `k` has `k % count == index`. No coordination is needed beyond
/// giving every worker the same scenario and its own index.
public struct SweepShard: Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `I/N` with `0 ≤ I < N ≤ 100000`.
    /// - Throws: `InputError` at `option`.
    public static func parse(_ text: String, option: String = "--shard") throws -> SweepShard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw InputError(option: option, "expected I/N (this worker's index from 0 and the number of workers, e.g. 0/4), found \"\(text)\"")
        }
        guard (1...100_000).contains(n) else { throw InputError(option: option, "expected 1 to 100000 workers, found \(n) in \"\(text)\"") }
        guard (0..<n).contains(i) else {
            throw InputError(option: option, "expected a worker index from 0 to \(n - 1) for \(n) workers, found \(i) in \"\(text)\"")
        }
        return SweepShard(index: i, count: n)
    }

    public func contains(_ point: Int) -> Bool { point % count == index }

    public var description: String { "\(index)/\(count)" }
}

/// A shard's CSV file: a first line `# infersim sweep shard I/N of P points`, then the sweep
/// table's header and rows, each prefixed by the point's grid index (`point,…`). `merge` joins the
/// shards of a sweep into exactly the CSV an unsharded run writes.
public struct SweepShardFile: Sendable {
    public var shard: SweepShard
    public var points: Int
    /// The sweep table's header (without the `point` column).
    public var header: String
    /// Grid index → CSV record (without the `point` column).
    public var records: [Int: String]

    public init(shard: SweepShard, points: Int, header: String, records: [Int: String]) {
        self.shard = shard
        self.points = points
        self.header = header
        self.records = records
    }

    public func rendered() -> String {
        var out = "# infersim sweep shard \(shard) of \(points) points\n" + "point," + header + "\n"
        for k in records.keys.sorted() { out += "\(k),\(records[k]!)\n" }
        return out
    }

    /// Reads a shard file.
    /// - Throws: `InputError` naming the file and line.
    public static func read(_ path: String) throws -> SweepShardFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, "file not found or not readable") }
        let records = csvRecords(String(decoding: data, as: UTF8.self))
        guard let first = records.first, first.hasPrefix("# infersim sweep shard ") else {
            throw InputError(file: path, line: 1, "expected \"# infersim sweep shard I/N of P points\" (a file written by sweep --shard), found \(quoted(records.first ?? ""))")
        }
        let words = first.split(separator: " ")
        guard words.count == 8, words[5] == "of", words[7] == "points", let points = Int(words[6]), points >= 1 else {
            throw InputError(file: path, line: 1, "expected \"# infersim sweep shard I/N of P points\", found \(quoted(first))")
        }
        let shard = try SweepShard.parse(String(words[4]), option: path + ": line 1")
        guard records.count >= 2, records[1].hasPrefix("point,") else {
            throw InputError(file: path, line: 2, "expected the header \"point,…\", found \(quoted(records.count >= 2 ? records[1] : ""))")
        }
        var rows: [Int: String] = [:]
        for (i, record) in records.enumerated().dropFirst(2) {
            guard let comma = record.firstIndex(of: ","), let k = Int(record[..<comma]), (0..<points).contains(k) else {
                throw InputError(file: path, line: i + 1, "expected a point index from 0 to \(points - 1) before the first comma, found \(quoted(record))")
            }
            guard shard.contains(k) else { throw InputError(file: path, line: i + 1, "point \(k) does not belong to shard \(shard)") }
            guard rows[k] == nil else { throw InputError(file: path, line: i + 1, "point \(k) appears twice") }
            rows[k] = String(record[record.index(after: comma)...])
        }
        return SweepShardFile(shard: shard, points: points, header: String(records[1].dropFirst("point,".count)), records: rows)
    }

    /// Joins the shards of one sweep into the CSV an unsharded `sweep --csv` writes.
    /// - Throws: `InputError` for shards of different sweeps, a point given twice or missing.
    public static func merge(_ files: [(path: String, file: SweepShardFile)]) throws -> String {
        guard let (firstPath, first) = files.first else { throw InputError(file: "merge", "expected at least one shard file") }
        var owner: [Int: String] = [:]
        var records: [Int: String] = [:]
        for (path, f) in files {
            guard f.points == first.points, f.shard.count == first.shard.count, f.header == first.header else {
                throw InputError(file: path, "is a shard of a different sweep than \(firstPath) (\(f.shard.count) workers and \(f.points) points, against \(first.shard.count) and \(first.points), or another header)")
            }
            for (k, r) in f.records {
                if let other = owner[k] { throw InputError(file: path, "point \(k) is also in \(other); each point must come from one shard") }
                owner[k] = path
                records[k] = r
            }
        }
        let missing = (0..<first.points).filter { records[$0] == nil }
        if !missing.isEmpty {
            let shards = Set(missing.map { $0 % first.shard.count }).sorted().map { "\($0)/\(first.shard.count)" }
            throw InputError(file: "merge", "\(missing.count) of \(first.points) points are missing (first: \(missing.prefix(5).map(String.init).joined(separator: ", "))); run or rerun shard\(shards.count == 1 ? "" : "s") \(shards.joined(separator: ", "))")
        }
        return ([first.header] + (0..<first.points).map { records[$0]! }).joined(separator: "\n") + "\n"
    }

    /// Splits CSV text into records at newlines outside double quotes (the trailing newline ends the last).
    static func csvRecords(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        for c in text {
            if c == "\"" { quoted.toggle() }
            if c == "\n" && !quoted {
                out.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    static func quoted(_ s: String) -> String { JSONText.quoted(s.count > 60 ? String(s.prefix(60)) + "…" : s) }
}
