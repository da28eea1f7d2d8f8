import ArgumentParser
import CostModel
import Foundation
import HardwareModel
import Scenarios

struct Speculate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Speculative decoding on a deployment: time per output token with and without it, over batch sizes, and where it stops paying.")

    @OptionGroup var deployment: DeploymentOptions
    @Option(help: "Draft model id (same vocabulary as --model); runs on the same hardware unless --draft-hardware.")
    var draftModel: String?
    @Option(help: "Hardware of the draft model (default: --hardware).")
    var draftHardware: String?
    @Flag(help: "Self-drafting heads (EAGLE style: one decoder layer and the LM head of the target per draft token) instead of a draft model.")
    var draftHeads = false
    @Option(help: "Draft tokens per round (k).")
    var draftTokens: Int = 4
    @Option(help: "Candidate chains verified per round (tree verification, w); 1 for a chain.")
    var treeWidth: Int = 1
    @Option(help: "Probability that a draft token is accepted (a), in [0, 1].")
    var acceptance: Double = 0.8
    @Option(help: "Context length of every sequence.")
    var context: Int = 512
    @Option(help: "Batch sizes to price, comma-separated.")
    var batches: String = "1,2,4,8,16,32,64,128,256,512"
    @Flag(help: "Print one JSON object (schema: schemas/speculate.schema.json).")
    var json = false

    func validate() throws {
        guard draftTokens >= 1 && draftTokens <= 64 else { throw ValidationError("--draft-tokens must be in 1...64, got \(draftTokens)") }
        guard treeWidth >= 1 && treeWidth <= 16 else { throw ValidationError("--tree-width must be in 1...16, got \(treeWidth)") }
        guard acceptance.isFinite, acceptance >= 0, acceptance <= 1 else { throw ValidationError("--acceptance must be in [0, 1], got \(acceptance)") }
        guard context >= 1 && context <= 10_000_000 else { throw ValidationError("--context must be in 1...10000000, got \(context)") }
        guard (draftModel != nil) != draftHeads else { throw ValidationError("give exactly one of --draft-model ID and --draft-heads") }
        guard batchList != nil else { throw ValidationError("--batches: expected comma-separated integers in 1...65536, found \"\(batches)\"") }
    }

    var batchList: [Int]? {
        let values = batches.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && (1...65_536).contains($0!) }) else { return nil }
        return values.map { $0! }
    }

    func run() throws {
        let target = try deployment.makeDeployment()
        let catalog = try ProfileCatalog.locate(explicit: deployment.profiles)
        let drafter = try SpeculationSetup.drafter(catalog: catalog, target: target, draftModel: draftModel, draftHardware: draftHardware,
                                                   label: "--draft-model")
        let model = SpeculativeStepCostModel(target: InferenceCostModel(deployment: target),
                                             speculation: SpeculativeDecoding(drafter: drafter, draftTokens: draftTokens, treeWidth: treeWidth))
        let expected = SpeculativeDecoding.expectedTokens(acceptance: acceptance, draftTokens: draftTokens, treeWidth: treeWidth)
        if !json {
        print(PredictReport.header(target))
        print(String(format: "drafter: %@, k = %d%@, a = %.2f: %.3f tokens per verification, context %d", draftHeads ? "EAGLE-style heads" : draftModel!,
                     draftTokens, treeWidth > 1 ? ", tree width \(treeWidth)" : "", acceptance, expected, context))
        }
        var rows: [String] = []
        var t = TextTable(["batch", "TPOT plain ms", "TPOT speculative ms", "speed-up", "verify bound"], leftAligned: [])
        var crossover: (batch: Int, bound: String)?
        var largestFitting: Int?
        var skipped: [Int] = []
        for b in batchList! {
            // The target's KV for the batch at this context plus each round's drafts must fit.
            let width = 1 + treeWidth * draftTokens
            let plan = target.memoryPlan(maxStepTokens: b * width, maxLogitRows: b * width)
            let (kvTokens, overflow) = b.multipliedReportingOverflow(by: context + treeWidth * draftTokens)
            guard !overflow, plan.fits(kvTokens: kvTokens) else {
                skipped.append(b)
                t.add(["\(b)", "-", "-", "-", "does not fit"])
                var o = JSONWriter()
                o.add("batch", b)
                o.add("fits", false)
                rows.append(o.rendered(indent: "  "))
                continue
            }
            largestFitting = b
            let (spec, plain) = model.timePerOutputToken(batch: b, context: context, acceptance: acceptance)
            var verify = StepWorkload()
            for _ in 0..<b { verify.addVerification(tokens: 1 + treeWidth * draftTokens, contextBefore: context - 1, width: treeWidth) }
            let speedup = plain.value / spec.value
            let bound = model.target.cost(of: verify).boundBy.rawValue
            if speedup < 1 && crossover == nil { crossover = (b, bound) }
            t.add(["\(b)", Format.fixed(plain.value * 1e3, 3), Format.fixed(spec.value * 1e3, 3), Format.fixed(speedup, 2) + "×", bound])
            var o = JSONWriter()
            o.add("batch", b)
            o.add("fits", true)
            o.add("tpot_plain_ms", plain.value * 1e3)
            o.add("tpot_speculative_ms", spec.value * 1e3)
            o.add("speedup", speedup)
            o.add("verify_bound", bound)
            rows.append(o.rendered(indent: "  "))
        }
        if json {
            var w = JSONWriter()
            w.add("hardware", deployment.hardware)
            w.add("model", target.model.name)
            w.add("drafter", draftHeads ? "heads" : draftModel!)
            w.add("draft_tokens", draftTokens)
            w.add("tree_width", treeWidth)
            w.add("acceptance", acceptance)
            w.add("expected_tokens_per_verification", expected)
            w.add("context", context)
            w.addRaw("batches", JSONWriter.array(rows))
            if let crossover { w.add("stops_paying_at_batch", crossover.batch) } else { w.add("stops_paying_at_batch", nil as String?) }
            print(w.rendered())
            return
        }
        print(t.rendered())
        if let c = crossover {
            let why = c.bound == "compute" ? "the verification pass turns compute-bound and pays for every rejected draft"
                                           : "the drafter's rounds cost more than the accepted drafts save"
            print("Speculation stops paying at batch \(c.batch): \(why).")
        } else if let largest = largestFitting {
            print("Speculation pays at every batch listed that fits (up to \(largest)).")
        } else {
            print("No batch listed fits: the KV cache of one batch at context \(context) exceeds the device's memory.")
        }
        if !skipped.isEmpty {
            print("Not priced: batch \(skipped.map(String.init).joined(separator: ", ")), whose KV cache at context \(context) (plus the drafts) does not fit.")
        }
    }
}

