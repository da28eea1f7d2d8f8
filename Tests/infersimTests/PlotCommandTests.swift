import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// `sweep --plot` and `explain --plot`: the SVG parses as XML and its points carry the run's numbers.
@Suite struct PlotCommandTests {
    /// Every element's attributes, by element name.
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append((name, attributes))
        }
    }

    static func parse(_ path: String) throws -> [(name: String, attributes: [String: String])] {
        let parser = try #require(XMLParser(contentsOf: URL(fileURLWithPath: path)))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "\(path) is not well-formed XML: \(String(describing: parser.parserError))")
        #expect(collector.elements.first?.name == "svg")
        return collector.elements
    }

    @Test func aSweepPlotCarriesEachPointsThroughputAndLatency() throws {
        let dir = try ScenarioFiles.directory()
        let file = try ScenarioFiles.write(ScenarioFiles.json(workload: ScenarioFiles.generator(requests: 60, rate: 4), extra: ["slo": #"{"ttftMs": 400}"#]), in: dir)
        let r = try CLI.run(["sweep", file, "--vary", "workload.generator.arrivals.poisson.ratePerSecond=2,8,32", "--plot", dir + "/lt.svg", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let circles = try Self.parse(dir + "/lt.svg").filter { $0.name == "circle" }
        #expect(circles.count == 2 * rows.count)
        for row in rows {
            let x = try #require(row["requests_per_s"] as? Double), ttft = try #require(row["ttft_p99_ms"] as? Double)
            let match = circles.contains { c in
                guard let cx = Double(c.attributes["data-x"] ?? ""), let cy = Double(c.attributes["data-y"] ?? "") else { return false }
                return abs(cx - x) <= 1e-3 * max(1, x) && abs(cy - ttft) <= 1e-2 * max(1, ttft)
            }
            #expect(match, "no point at \(x) req/s, TTFT p99 \(ttft) ms")
        }
        let rules = try Self.parse(dir + "/lt.svg").filter { $0.attributes["class"] == "rule" }
        #expect(rules.map { $0.attributes["data-value"] } == ["400.0"])
    }

    @Test func aRooflineMarksTheRidgeAndTheOperators() throws {
        let dir = try ScenarioFiles.directory()
        let args = ["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--batch", "4", "--input", "256", "--output", "16"]
        let r = try CLI.run(args + ["--plot", dir + "/roof.svg", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let ridge = try #require(report["ridge_flops_per_byte"] as? Double)
        let elements = try Self.parse(dir + "/roof.svg")
        let rule = try #require(elements.first { $0.attributes["class"] == "rule" })
        #expect(abs(Double(rule.attributes["data-value"]!)! - ridge) <= 1e-6 * ridge)
        let names = Set(elements.filter { $0.name == "g" }.compactMap { $0.attributes["data-name"] })
        #expect(names == ["roofline", "prefill operators", "decode operators"])
        // Every operator point lies on or under the roof.
        for c in elements where c.name == "circle" {
            let x = Double(c.attributes["data-x"]!)!, y = Double(c.attributes["data-y"]!)!
            let roofY = elements.first { $0.name == "circle" && $0.attributes["data-label"] == "ridge" }.map { Double($0.attributes["data-y"]!)! }!
            #expect(y <= min(roofY, roofY / ridge * x) * 1.0001, "\(c.attributes["data-label"] ?? ""): \(y) FLOP/s at \(x) FLOP/B")
        }
    }
}

/// `simulate --plot`, the stacked breakdown of `explain --plot` and `sweep --heatmap`.
@Suite struct RunFigureTests {
    @Test func aSimulatePlotDrawsTheRunsCDFsAndTimeline() throws {
        let dir = try ScenarioFiles.directory()
        let file = try ScenarioFiles.write(ScenarioFiles.json(workload: ScenarioFiles.generator(requests: 80, rate: 6), extra: ["slo": #"{"ttftMs": 400, "tpotMs": 60}"#]), in: dir)
        let r = try CLI.run(["simulate", file, "--exact-percentiles", "--json", "--plot", dir + "/run.svg"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let summary = try #require(report["summary"] as? [String: Any])
        let ttft = try #require(summary["ttft_ms"] as? [String: Any])
        let elements = try PlotCommandTests.parse(dir + "/run.svg")
        #expect(elements.filter { $0.attributes["class"] == "panel" }.count == 3)
        func points(_ series: String) -> [(x: Double, y: Double)] {
            // Circles follow their series' <g>; collect those after the group named `series`.
            var out: [(x: Double, y: Double)] = [], inside = false
            for e in elements {
                if e.name == "g", let name = e.attributes["data-name"] { inside = name == series; continue }
                if inside, e.name == "circle", let x = Double(e.attributes["data-x"] ?? ""), let y = Double(e.attributes["data-y"] ?? "") { out.append((x, y)) }
            }
            return out
        }
        // The CDF's p50, p99 and p100 are the report's (exact percentiles, both ways interpolated).
        let cdf = points("TTFT")
        #expect(cdf.count == 100)
        for (fraction, key) in [(0.5, "p50"), (0.99, "p99"), (1.0, "max")] {
            let expected = try #require(ttft[key] as? Double)
            let point = try #require(cdf.first { abs($0.y - fraction) < 1e-9 })
            #expect(abs(point.x - expected) <= 1e-3 * expected + 1e-3, "TTFT \(key): drawn \(point.x) ms, reported \(expected) ms")
        }
        #expect(zip(cdf, cdf.dropFirst()).allSatisfy { $0.x <= $1.x && $0.y < $1.y }, "a CDF never decreases")
        // The batch-size series' maximum is the run's largest batch.
        let batchMax = try #require(summary["batch_size_max"] as? Int)
        let batchPanelMax = elements.drop { $0.attributes["data-name"] != "max" }.prefix { !($0.name == "g" && $0.attributes["data-name"] == "mean (time-weighted)") }
            .compactMap { Double($0.attributes["data-y"] ?? "") }.max()
        #expect(batchPanelMax == Double(batchMax))
        let rules = elements.filter { $0.attributes["class"] == "rule" }.compactMap { $0.attributes["data-value"] }
        #expect(rules == ["400.0", "60.0"])
    }

    @Test func theStackedBreakdownSumsToEachStepsTime() throws {
        let dir = try ScenarioFiles.directory()
        let r = try CLI.run(["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-70b", "--tp", "4", "--batch", "8", "--input", "512", "--output", "16",
                             "--json", "--plot", dir + "/explain.svg"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let segments = try PlotCommandTests.parse(dir + "/explain.svg").filter { $0.attributes["class"] == "segment" }
        for step in ["prefill", "decode"] {
            let expected = try #require((report[step] as? [String: Any])?["time_ms"] as? Double)
            let mine = segments.filter { $0.attributes["data-bar"] == step }
            let sum = mine.compactMap { Double($0.attributes["data-value"] ?? "") }.reduce(0, +)
            #expect(abs(sum - expected) <= 1e-3 * expected, "\(step): segments sum to \(sum) ms, the step takes \(expected) ms")
            // TP 4 communicates: the communication class is drawn.
            #expect(mine.contains { $0.attributes["data-segment"] == "communication" })
        }
    }

    @Test func aHeatmapCellCarriesEachPointsValue() throws {
        let dir = try ScenarioFiles.directory()
        let file = try ScenarioFiles.write(ScenarioFiles.json(workload: ScenarioFiles.generator(requests: 40, rate: 4)), in: dir)
        let r = try CLI.run(["sweep", file, "--vary", "workload.generator.arrivals.poisson.ratePerSecond=2,8", "--vary", "scheduler.maxBatchSize=4,64",
                             "--heatmap", dir + "/heat.svg", "--heatmap-metric", "ttft-p99", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let cells = try PlotCommandTests.parse(dir + "/heat.svg").filter { $0.attributes["class"] == "cell" }
        #expect(cells.count == 4 && rows.count == 4)
        for row in rows {
            let v = try #require(row["ttft_p99_ms"] as? Double)
            #expect(cells.contains { abs((Double($0.attributes["data-value"] ?? "") ?? -1) - v) <= 0.01 }, "no cell holds TTFT p99 \(v) ms")
        }
        // One axis is not a heatmap; an unknown metric is named. Neither writes a file.
        let one = try CLI.run(["sweep", file, "--vary", "scheduler.maxBatchSize=4,64", "--heatmap", dir + "/one.svg"])
        #expect(one.status == 2 && one.stderr.contains("two sweep axes"), "\(one.stderr)")
        let bad = try CLI.run(["sweep", file, "--vary", "scheduler.maxBatchSize=4,64", "--vary", "seed=1,2", "--heatmap", dir + "/bad.svg", "--heatmap-metric", "speed"])
        #expect(bad.status == 2 && bad.stderr.contains("--heatmap-metric"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/one.svg") && !FileManager.default.fileExists(atPath: dir + "/bad.svg"))
    }
}

/// `explain --step`: one mixed step priced on its own, between its parts and their sum.
@Test func aMixedStepIsPricedBetweenItsPartsAndTheirSum() throws {
    func ms(_ step: String) throws -> Double {
        let r = try CLI.run(["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--step", step, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try #require((o["breakdown"] as? [String: Any])?["time_ms"] as? Double)
    }
    let chunk = try ms("prefill=512@1024"), decodes = try ms("decode=64@1024"), mixed = try ms("prefill=512@1024,decode=64@1024")
    // Sharing one pass over the weights, the mixed step costs more than either part and less than both.
    #expect(mixed > max(chunk, decodes) && mixed < chunk + decodes, "chunk \(chunk), decodes \(decodes), mixed \(mixed)")
    let bad = try CLI.run(["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--step", "decode=64"])
    #expect(bad.status == 2 && bad.stderr.contains("--step: expected decode=B@C"), "\(bad.stderr)")
}
