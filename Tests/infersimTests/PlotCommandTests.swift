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
