import HardwareModel

/// What a static batch does: `batch` requests of `inputTokens` prompt tokens and
/// `outputTokens` output tokens, all starting together (`infersim predict`).
///
/// The batch's prompts are prefilled in one step, which also yields every request's first
/// token, so `TTFT = prefill step`. Then `outputTokens − 1` decode steps follow, step `j`
/// (1-based) at context `inputTokens + j`; `TPOT` is their mean and
/// `E2E = TTFT + Σ decode steps`. Output throughput = `batch × outputTokens / E2E`.
public struct StaticBatchPrediction: Sendable {
    public var batch: Int
    public var inputTokens: Int
    public var outputTokens: Int
    public var prefill: StepBreakdown
    /// The first and last decode steps (contexts `input + 1` and `input + output − 1`); nil when `outputTokens == 1`.
    public var firstDecode: StepBreakdown?
    public var lastDecode: StepBreakdown?
    public var timeToFirstToken: Seconds
    /// Mean over the decode steps; nil when `outputTokens == 1`.
    public var timePerOutputToken: Seconds?
    public var endToEnd: Seconds
    public var energy: Joules
    public var memory: MemoryPlan
    /// Whether weights, workspace and the batch's KV cache fit.
    public var fits: Bool
    /// The largest batch of this shape that fits (0 when not even one does).
    public var maxBatch: Int

    public var outputTokensPerSecond: Double { Double(batch * outputTokens) / endToEnd.value }
    /// Mean decode MFU/MBU over the first and last decode steps.
    public var decodeMFU: Double { ((firstDecode?.mfu ?? 0) + (lastDecode?.mfu ?? 0)) / 2 }
    public var decodeMBU: Double { ((firstDecode?.mbu ?? 0) + (lastDecode?.mbu ?? 0)) / 2 }
    public var decodeBound: Bound? { lastDecode?.cost.boundBy }
    /// KV tokens the batch needs at its end.
    public var kvTokens: Int { batch * (inputTokens + outputTokens) }
}

extension InferenceCostModel {
    /// Predicts a static batch.
    /// - Precondition: `batch`, `inputTokens`, `outputTokens` ≥ 1 (the CLI validates them).
    public func predictStaticBatch(batch: Int, inputTokens: Int, outputTokens: Int) -> StaticBatchPrediction {
        precondition(batch >= 1 && inputTokens >= 1 && outputTokens >= 1)
        var prefillStep = StepWorkload()
        for _ in 0..<batch { prefillStep.addPrefillChunk(tokens: inputTokens, contextBefore: 0) }
        let prefill = breakdown(of: prefillStep)
        var decodeTime = 0.0
        var energy = prefill.cost.energy.value
        func decodeStep(_ j: Int) -> StepWorkload {
            var s = StepWorkload()
            for _ in 0..<batch { s.addDecode(contextLength: inputTokens + j) }
            return s
        }
        if outputTokens > 1 {
            for j in 1..<outputTokens {
                let c = cost(of: decodeStep(j))
                decodeTime += c.duration.value
                energy += c.energy.value
            }
        }
        let first = outputTokens > 1 ? breakdown(of: decodeStep(1)) : nil
        let last = outputTokens > 1 ? breakdown(of: decodeStep(outputTokens - 1)) : nil
        let plan = deployment.memoryPlan(maxStepTokens: batch * inputTokens, maxLogitRows: batch)
        let ttft = prefill.cost.duration
        return StaticBatchPrediction(
            batch: batch, inputTokens: inputTokens, outputTokens: outputTokens, prefill: prefill,
            firstDecode: first, lastDecode: last, timeToFirstToken: ttft,
            timePerOutputToken: outputTokens > 1 ? Seconds(decodeTime / Double(outputTokens - 1)) : nil,
            endToEnd: ttft + Seconds(decodeTime), energy: Joules(energy), memory: plan,
            fits: plan.fits(kvTokens: batch * (inputTokens + outputTokens)),
            maxBatch: maxBatch(inputTokens: inputTokens, outputTokens: outputTokens))
    }

    /// The largest static batch of this shape whose weights, prefill workspace and KV cache
    /// fit (binary search; the need grows monotonically with the batch).
    public func maxBatch(inputTokens: Int, outputTokens: Int) -> Int {
        func fits(_ b: Int) -> Bool {
            deployment.memoryPlan(maxStepTokens: b * inputTokens, maxLogitRows: b).fits(kvTokens: b * (inputTokens + outputTokens))
        }
        guard fits(1) else { return 0 }
        var lo = 1, hi = 2
        while fits(hi) && hi < 1 << 24 { lo = hi; hi *= 2 }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if fits(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }
}
