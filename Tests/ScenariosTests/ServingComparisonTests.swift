import Diagnostics
import Foundation
import Scenarios
import Testing

/// Serving comparisons (issue 14): two scenarios replayed on one trace, the highest rate each
/// serves within an SLO. The Splitwise case is checked by `validate --published`
/// (PublishedValidationTests); these check the DistServe pair and the file's bad input.
@Suite struct ServingComparisonTests {
    func run(_ id: String) throws -> ServingComparison.Outcome {
        let catalog = try ProfileCatalog.locate(explicit: CLIRoot.path)
        let path = CLIRoot.path + "/scenarios/comparisons/\(id).json"
        return try ServingComparison.load(path).run(catalog: catalog, file: path)
    }

    @Test func disaggregationRaisesGoodputUnderATightSLOAndNotUnderALooseOne() throws {
        // Tight TTFT + TPOT: co-located prompt steps stall every decode and break the TPOT
        // bound; separate pools keep decode steps short.
        let tight = try run("distserve-goodput-tight-slo")
        #expect(tight.predictedRatio > 1.3, "\(tight.predictedRatio)")
        #expect(tight.withinTolerance)
        #expect(tight.system.summary.timePerOutputToken.p90 < tight.baseline.summary.timePerOutputToken.p90)
        // Loose SLO, same GPUs and trace: co-location decodes on all four GPUs and wins.
        let loose = try run("distserve-loose-slo")
        #expect(loose.predictedRatio < 1, "\(loose.predictedRatio)")
        // The rate each side sustains was searched, not assumed.
        #expect(loose.baseline.simulations >= 5 && loose.system.simulations >= 5)
    }

    /// Mooncake: long prompts prefilled beside running decodes stall them; each request's mean of
    /// its longest 10% of gaps (Mooncake's TBT) breaks 100 ms at a lower rate co-located than
    /// with separate pools, which win in direction and within the stated tolerance.
    @Test func separatePoolsServeMoreOfTheMooncakeTraceWithinItsTBTLimit() throws {
        let m = try run("mooncake-conversation")
        #expect(m.predictedRatio > 1.2, "\(m.predictedRatio)")
        #expect(m.withinTolerance)
        #expect(m.baseline.summary.tailTimeBetweenTokens.count > 0)
        // The tail of a request's gaps, not its mean, is what stalls break: TBT p90 above TPOT p90.
        #expect(m.baseline.summary.tailTimeBetweenTokens.p90 > m.baseline.summary.timePerOutputToken.p90)
    }

    @Test func badServingComparisonsAreOneLineWithTheirPath() throws {
        let good = try String(contentsOfFile: CLIRoot.path + "/scenarios/comparisons/distserve-loose-slo.json", encoding: .utf8)
            .replacingOccurrences(of: "../../data/traces", with: CLIRoot.path + "/data/traces")
        for (edit, path, message) in [
            ({ (s: String) in s.replacingOccurrences(of: "\"slo\": \"", with: "\"sloReference\": {\"hardware\": \"nvidia-a100-sxm-80gb\", \"tp\": 1, \"factors\": \"ttft_p50=2\"}, \"slo\": \"") },
             "$.slo", "exactly one of slo and sloReference"),
            ({ (s: String) in s.replacingOccurrences(of: "\"requests\": 1000", with: "\"requests\": 0") }, "$.requests", "expected 1...100000"),
            ({ (s: String) in s.replacingOccurrences(of: "ttft_p90_ms=5000", with: "ttft_p91_ms=5000") }, "$.slo", "unknown SLO key"),
            ({ (s: String) in s.replacingOccurrences(of: "\"kind\": \"serving\",", with: "\"kind\": \"serving\", \"speed\": 2,") }, "$.speed", "unknown key"),
        ] {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("cmp-\(UUID().uuidString).json").path
            try edit(good).write(toFile: file, atomically: true, encoding: .utf8)
            do { _ = try ServingComparison.load(file); Issue.record("accepted: \(path)") } catch let e as InputError {
                #expect(e.description.contains(file) && e.description.contains(path) && e.description.contains(message), "\(e)")
                #expect(!e.description.contains("\n"))
            }
        }
    }
}

/// The repository root (tests run from it).
enum CLIRoot {
    static var path: String { FileManager.default.currentDirectoryPath }
}
