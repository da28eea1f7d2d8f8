import Foundation
import Testing

@Suite(.serialized) struct SweepCommandTests {
    /// A small scenario: 300 Poisson requests on one H100, so each point runs in milliseconds.
    func scenarioFile() throws -> String {
        let quickstart = try String(contentsOfFile: CLI.repoRoot + "/scenarios/quickstart.json", encoding: .utf8)
        let small = quickstart.replacingOccurrences(of: "\"requests\": 3000", with: "\"requests\": 300")
        #expect(small != quickstart)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString).json").path
        try small.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func gridRowsInAxisOrderWithCSVAndJSON() throws {
        let file = try scenarioFile()
        let csv = file + ".csv"
        let r = try CLI.run(["sweep", file, "--vary", "workload.generator.arrivals.poisson.ratePerSecond=2,40",
                             "--vary", "scheduler.kind=continuousBatching,chunkedPrefill", "--csv", csv])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        // Header + 4 points (scheduler.kind slowest, sorted path order).
        #expect(lines.count >= 5)
        #expect(lines[0].contains("scheduler.kind") && lines[0].contains("TTFT p99") && lines[0].contains("goodput/s"))
        #expect(lines[1].contains("continuousBatching") && lines[3].contains("chunkedPrefill"))
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 5)
        #expect(rows[0].hasPrefix("scheduler.kind,workload.generator.arrivals.poisson.ratePerSecond,requests_completed"))
        // More load, more throughput and a longer TTFT p50 (CSV column 7).
        let low = rows[1].split(separator: ","), high = rows[2].split(separator: ",")
        #expect(Double(high[4])! > Double(low[4])!)
        #expect(Double(high[6])! > Double(low[6])!)

        let j = try CLI.run(["sweep", file, "--vary", "replicas=1,2", "--json"])
        #expect(j.status == 0, "\(j.stderr)")
        let array = try #require(JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 2)
        #expect((array[1]["point"] as? [String: Any])?["replicas"] as? Int == 2)
        #expect(array[0]["requests_completed"] as? Int == 300)
        // Deterministic: the same sweep prints the same bytes.
        #expect(try CLI.run(["sweep", file, "--vary", "replicas=1,2", "--json"]).stdout == j.stdout)
    }

    @Test func badAxesAreOneLineErrorsAndLeaveNoCSV() throws {
        let file = try scenarioFile()
        let csv = file + ".bad.csv"
        for (args, part) in [(["--vary", "scheduler.kind=fifo"], "known: staticBatching"),
                             (["--vary", "workload.generator.arrivals.poisson.rate=4"], "unknown key"),
                             (["--vary", "replicas"], "path=v1,v2"),
                             (["--vary", "replicas=1,,2"], "comma-separated")] {
            let r = try CLI.run(["sweep", file, "--csv", csv] + args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(part), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: csv))
        }
    }
}
