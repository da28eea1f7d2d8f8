import Foundation
import Testing

/// `sweep --shard I/N` and `infersim merge`: a 4-way sharded sweep, merged, is the unsharded
/// sweep's CSV byte for byte; a shard resumes from its file; bad shards and merges are one line.
@Suite(.serialized) struct ShardedSweepTests {
    static func scenario(in dir: String) throws -> String {
        try ScenarioFiles.write(ScenarioFiles.json(workload: ScenarioFiles.generator(requests: 40, rate: 4),
                                                   extra: ["sweep": #"{"replicas": [1, 2], "workload.generator.arrivals.poisson.ratePerSecond": [2, 4, 8]}"#]),
                                in: dir)
    }

    @Test func aFourWayShardedSweepMergesToTheUnshardedCSV() throws {
        let dir = try ScenarioFiles.directory()
        let file = try Self.scenario(in: dir)
        let whole = try CLI.run(["sweep", file, "--csv", dir + "/whole.csv"])
        #expect(whole.status == 0, "\(whole.stderr)")
        var shards: [String] = []
        for i in [2, 0, 3, 1] {
            let path = dir + "/shard-\(i).csv"
            let r = try CLI.run(["sweep", file, "--shard", "\(i)/4", "--csv", path])
            #expect(r.status == 0, "\(r.stderr)")
            shards.append(path)
        }
        let merged = try CLI.run(["merge"] + shards + ["--csv", dir + "/merged.csv"])
        #expect(merged.status == 0, "\(merged.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/whole.csv"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/merged.csv"))
        #expect(a == b, "merged:\n\(String(decoding: b, as: UTF8.self))\nwhole:\n\(String(decoding: a, as: UTF8.self))")
        #expect(String(decoding: a, as: UTF8.self).split(separator: "\n").count == 7)

        // Resuming a complete shard runs nothing and leaves the same bytes.
        let before = try Data(contentsOf: URL(fileURLWithPath: shards[1]))
        let resumed = try CLI.run(["sweep", file, "--shard", "0/4", "--csv", shards[1], "--resume"])
        #expect(resumed.status == 0 && resumed.stdout.contains("(0 run now, 2 kept)"), "\(resumed.stdout) \(resumed.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: shards[1])) == before)

        // A missing shard, a doubled one, a shard of another sweep: one line each, exit 2.
        func refused(_ args: [String], _ parts: [String]) throws {
            let r = try CLI.run(args)
            #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
            for p in parts { #expect(r.stderr.contains(p), "missing \(p): \(r.stderr)") }
        }
        try refused(["merge"] + shards.dropLast(), ["points are missing", "rerun shard 1/4"])
        try refused(["merge"] + shards + [shards[0]], ["is also in"])
        try refused(["sweep", file, "--shard", "5/4", "--csv", dir + "/x.csv"], ["--shard", "from 0 to 3", "found 5"])
        try refused(["sweep", file, "--shard", "1/0", "--csv", dir + "/x.csv"], ["--shard", "workers"])
        try refused(["merge", dir + "/whole.csv"], ["whole.csv", "line 1", "sweep --shard"])
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.csv"))
    }
}
