import Foundation
import HardwareModel

/// Speculative decoding priced on a target deployment: a drafter proposes `k` tokens one pass at
/// a time, the target verifies the last token and the `k` drafts in one pass, and the accepted
/// prefix plus one token of the target's own comes out.
///
/// With each draft token accepted independently with probability `a`, a verification yields
/// `(1 − a^(k+1)) / (1 − a)` tokens on average (Leviathan et al., *Fast Inference from
/// Transformers via Speculative Decoding*, ICML 2023, eq. 1); `k + 1` at `a = 1`.
///
/// A round costs the drafter's `k` passes over the verifying sequences plus the target's pass
/// over `k + 1` tokens per sequence. At batch 1 the target's pass is memory-bound and checks
/// `k + 1` tokens for the price of one; at a large batch it is compute-bound and pays for every
/// rejected draft, which is where speculation stops paying.
public struct SpeculativeDecoding: Sendable {
    /// What proposes the drafts.
    public enum Drafter: Sendable {
        /// A separate small model, with its own deployment (same or other devices).
        case model(InferenceCostModel)
        /// Self-drafting heads (EAGLE style: one decoder layer plus the LM head over the
        /// target's features, run once per draft token), priced as a one-layer model of the
        /// target's shape on the target's devices, inside the target's engine step (no per-step
        /// overhead of their own). Li et al., *EAGLE: Speculative Sampling Requires Rethinking
        /// Feature Uncertainty*, ICML 2024.
        case heads(InferenceCostModel)

        var costModel: InferenceCostModel {
            switch self { case .model(let m), .heads(let m): return m }
        }
    }

    public var drafter: Drafter
    /// Draft tokens per round, `k ≥ 1`.
    public var draftTokens: Int
    /// Candidate chains per round, `w ≥ 1` (tree verification; 1 for a chain). The drafter
    /// proposes `w` candidates at each of its `k` positions, and the target verifies `1 + w·k`
    /// tokens with tree attention.
    public var treeWidth: Int

    public init(drafter: Drafter, draftTokens: Int, treeWidth: Int = 1) {
        precondition(draftTokens >= 1 && treeWidth >= 1)
        self.drafter = drafter
        self.draftTokens = draftTokens
        self.treeWidth = treeWidth
    }

    /// EAGLE-style heads for `target`: a one-layer model of the target's shape on its devices.
    /// - Throws: `Deployment.Problem` as the target's deployment would.
    public static func heads(for target: Deployment) throws -> Drafter {
        var shape = target.model
        shape.layers = 1
        shape.name = target.model.name + "-draft-heads"
        let d = try Deployment(model: shape, device: target.device, deviceClass: target.deviceClass,
                               tensorParallel: target.tensorParallel, precision: target.precision,
                               scaleUpLink: target.tensorLink, memoryUtilization: target.memoryUtilization)
        return .heads(InferenceCostModel(deployment: d))
    }

    /// Expected tokens a verification yields: `(1 − a^(k+1)) / (1 − a)` for one chain;
    /// `1 + Σ_{n=1…k} (1 − (1 − a^n)^w)` for `w` chains whose longest accepted prefix is kept
    /// (each chain accepting its drafts independently; for `w = 1` the two agree).
    public static func expectedTokens(acceptance a: Double, draftTokens k: Int, treeWidth w: Int = 1) -> Double {
        if w == 1 { return a >= 1 ? Double(k + 1) : (1 - pow(a, Double(k + 1))) / (1 - a) }
        var e = 1.0
        for n in stride(from: 1, through: k, by: 1) { e += 1 - pow(1 - pow(a, Double(n)), Double(w)) }
        return e
    }

    /// The drafter's passes for a verification step: `step.draftTokens` passes over its
    /// verifying sequences, the `j`-th at each sequence's context plus `j`; with a tree, each
    /// pass proposes `treeWidth` candidates per sequence (that many rows, which read the shared
    /// context once and their own chain's drafts).
    public func draftCost(of step: StepWorkload) -> StepCost {
        guard step.draftTokens > 0, step.decodeSequences > 0 else { return StepCost(duration: .zero, energy: .zero, boundBy: .overhead) }
        let model = drafter.costModel
        let sequences = step.decodeSequences
        let before = step.decodeContextTokens - step.decodeTokens
        var duration = 0.0, energy = 0.0
        var bound = Bound.overhead
        // A draft model is a model of its own: each pass pays its engine's per-step cost
        // (sampling, host work). Heads run inside the target's forward pass and pay only their kernels.
        let fixedPerPass: Double
        switch drafter {
        case .model: fixedPerPass = 0
        case .heads(let m): fixedPerPass = m.deployment.rates.stepOverheadSeconds
        }
        for j in 0..<step.draftTokens {
            var w = StepWorkload()
            let context = before + sequences * treeWidth * (1 + j)
            w.decodeTokens = sequences * treeWidth
            w.decodeContextTokens = context
            let c = model.cost(of: w)
            duration += c.duration.value - fixedPerPass
            energy += c.energy.value
            bound = c.boundBy
        }
        return StepCost(duration: Seconds(duration), energy: Joules(energy), boundBy: bound)
    }
}

/// A step cost model with speculative decoding: a step whose decode entries verify drafts
/// (`StepWorkload.draftTokens > 0`) also pays for the drafter's passes, one after the other
/// before the target's (the target needs the drafts).
public struct SpeculativeStepCostModel: StepCostModel {
    public let target: InferenceCostModel
    public let speculation: SpeculativeDecoding

    public init(target: InferenceCostModel, speculation: SpeculativeDecoding) {
        self.target = target
        self.speculation = speculation
    }

    public func cost(of step: StepWorkload) -> StepCost {
        let verify = target.cost(of: step)
        guard step.draftTokens > 0 else { return verify }
        let draft = speculation.draftCost(of: step)
        return StepCost(duration: verify.duration + draft.duration, energy: Joules(verify.energy.value + draft.energy.value),
                        boundBy: verify.boundBy, communication: verify.communication + draft.communication)
    }

    /// Time per output token of one round at `batch` sequences of context `context`, with
    /// acceptance `a`: `(k draft passes + a verification of k + 1 tokens) / expected tokens`,
    /// and the same without speculation (one decode pass per token).
    public func timePerOutputToken(batch: Int, context: Int, acceptance a: Double) -> (speculative: Seconds, plain: Seconds) {
        let k = speculation.draftTokens, w = speculation.treeWidth
        var verify = StepWorkload(), plain = StepWorkload()
        for _ in 0..<batch {
            verify.addVerification(tokens: 1 + w * k, contextBefore: context - 1, width: w)
            plain.addDecode(contextLength: context)
        }
        let round = cost(of: verify).duration.value
        return (Seconds(round / SpeculativeDecoding.expectedTokens(acceptance: a, draftTokens: k, treeWidth: w)), target.cost(of: plain).duration)
    }
}
