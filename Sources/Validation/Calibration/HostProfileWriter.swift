import Diagnostics
import Foundation
import HardwareModel

/// Turns a `HostCalibration` into a device profile in the same schema as every file under
/// `hardware-profiles/devices/` (`DeviceProfile`), and writes it atomically.
///
/// Which measured figure becomes which profile number:
/// - `memoryTiers[0].bandwidthBytesPerSecond` = streaming read bandwidth with all threads;
/// - `peakFLOPsPerSecond.q4_1` and `.q8_0` = the Q4_1 × Q8 and Q8_0 × Q8 matmul rates (the
///   better of many and few rows), `.int8` = the Q4_1 rate (for other block formats),
///   `.fp32` = the F32 matmul rate, `.fp16` = the attention kernel over an F16 KV cache;
/// - `fixedCosts` = the empty fork-join time per kernel and the fixed time per step;
/// - `weightStreamBytesPerSecond.q4_1` and `.q8_0` = weight bytes over the time of one activation
///   row through the flushed layer stack of each format (how fast a decode step streams weights);
/// - `exposedMemoryFraction` = the median share of the layer stack's weight stream left exposed
///   at 2-16 rows (only when bandwidth was measured).
/// These are measured ceilings of this executor on this host, not datasheet peaks: the "cpu"
/// device class's fractions say how much of them a real step reaches (see
/// `hardware-profiles/README.md`, "Calibrated host profiles").
public enum HostProfileWriter {
    public static let defaultID = "host-calibrated"

    /// The profile JSON (keys in schema order, `schemaVersion` and `name` first).
    public static func json(_ c: HostCalibration, id: String = defaultID) -> String {
        let note = "measured by infersim calibrate on \(c.cpuModel)"
        let q4 = c.kernel("Q4_1"), q8 = c.kernel("Q8_0"), f32 = c.kernel("F32")
        // The compute ceiling of a kernel: its rate with many activation rows, the regime where
        // compute bounds (prefill). The one-row rate, on a cache-resident matrix, is in `notes`;
        // decode streams its weights from memory and is priced by bandwidth.
        func ceiling(_ k: HostCalibration.KernelRate) -> Double { k.computeFLOPsPerSecond }
        func n(_ v: Double) -> String { String(format: "%.6g", v) }
        func g(_ v: Double?) -> String { v.map { String(format: "%.1f", $0 / 1e9) } ?? "-" }
        var details = "Calibration with \(c.threads) thread(s). Read bandwidth: \(g(c.readBandwidthOneThread)) GB/s with 1 thread, "
            + "\(g(c.readBandwidthAllThreads)) GB/s with \(c.threads). "
        for k in c.kernels {
            details += "\(k.weightType) kernel: \(g(k.computeFLOPsPerSecond)) GFLOP/s at \(c.computeRows) rows, "
                + "\(g(k.smallRowsFLOPsPerSecond)) GFLOP/s at \(c.smallRows) rows, GEMV \(g(k.gemvBytesPerSecond)) GB/s, "
                + "one row through the flushed layer stack \(g(k.streamBytesPerSecond)) GB/s beside "
                + String(format: "%.1f us of fixed time per stack layer. ", k.stackFixedSeconds * 1e6)
        }
        details += "Attention (F16 cache, flushed): decode \(g(c.attentionFLOPsPerSecond)) GFLOP/s (per position, \(c.attentionPositions / 16) to \(c.attentionPositions) positions) "
            + String(format: "+ %.1f us per layer + %.1f us per sequence, ", c.attentionOverheadSeconds * 1e6, c.attentionPerSequenceSeconds * 1e6)
            + "prefill \(g(c.attentionPrefillFLOPsPerSecond)) GFLOP/s (a \(c.attentionPrefillRows)-row causal chunk). "
        details += String(format: "SwiGLU activation: %.0f M elements/s. ", c.activationElementsPerSecond / 1e6)
        details += String(format: "Fixed costs: %.2f us per kernel (empty fork-join), %.1f us per tiny layer, %.1f us per step outside layers.",
                          c.kernelOverheadSeconds * 1e6, c.tinyLayerSeconds * 1e6, c.stepOverheadSeconds * 1e6)
        if !c.exposedMemorySamples.isEmpty {
            details += " Exposed memory fraction \(String(format: "%.2f", c.exposedMemoryFraction)) (median of "
                + c.exposedMemorySamples.map { "\($0.weightType) \($0.rows) rows \(String(format: "%.2f", $0.fraction))" }.joined(separator: ", ") + ")."
        }
        details += " These are achieved ceilings, not datasheet peaks; see hardware-profiles/README.md (Calibrated host profiles)."
        let exposed: (value: String, source: String) = c.exposedMemorySamples.isEmpty ? ("", "") : (
            "\n  \"exposedMemoryFraction\": \(n(c.exposedMemoryFraction)),",
            "\n    \"exposedMemoryFraction\": { \"kind\": \"measured\", \"reference\": \(quoted(note + ": the flushed layer stack of peakFLOPsPerSecond at \(Set(c.exposedMemorySamples.map(\.rows)).sorted().map(String.init).joined(separator: ", ")) rows (Q4_1 and Q8_0): fraction = (t_flushed(rows) - rows x t_row) / (weight bytes / measured bandwidth) per stack layer, t_row = 2 x weights / the same round's 128-row rate (the cost model's compute term), median of all runs, clamped to [0, 1]")) },")
        return """
        {
          "schemaVersion": 1,
          "name": \(quoted(id)),
          "displayName": \(quoted("This host (\(c.cpuModel)), calibrated with \(c.threads) thread(s)")),
          "deviceClass": "cpu",
          "executionModel": "measuredKernels",
          "peakFLOPsPerSecond": {
            "fp32": \(n(f32.map(ceiling) ?? 1)),
            "fp16": \(n(max(c.attentionFLOPsPerSecond, 1))),
            "int8": \(n((q4 ?? q8).map(ceiling) ?? 1)),
            "q4_1": \(n((q4 ?? q8).map(ceiling) ?? 1)),
            "q8_0": \(n((q8 ?? q4).map(ceiling) ?? 1))
          },
          "memoryTiers": [
            { "name": "DRAM (measured streaming read)", "kind": "ddr", "capacityBytes": \(n(c.memoryCapacityBytes)), "bandwidthBytesPerSecond": \(n(max(c.readBandwidthAllThreads, 1))), "holdsWeights": true }
          ],
          "power": { "idleWatts": 2, "peakWatts": 8 },
          "interconnect": { "devicesPerNode": 1 },
          "fixedCosts": { "kernelOverheadSeconds": \(n(perOperatorSeconds(c))), "stepOverheadSeconds": \(n(c.stepOverheadSeconds)) },
          "activationElementsPerSecond": \(n(max(c.activationElementsPerSecond, 1))),
          "weightStreamBytesPerSecond": { "q4_1": \(n(max((q4 ?? q8)?.streamBytesPerSecond ?? 1, 1))), "q8_0": \(n(max((q8 ?? q4)?.streamBytesPerSecond ?? 1, 1))) },
          "attentionKernel": { "decodeFLOPsPerSecond": \(n(max(c.attentionFLOPsPerSecond, 1))), "prefillFLOPsPerSecond": \(n(max(c.attentionPrefillFLOPsPerSecond, 1))), "overheadSeconds": \(n(c.attentionOverheadSeconds)), "perSequenceSeconds": \(n(c.attentionPerSequenceSeconds)) },\(exposed.value)
          "sources": {\(exposed.source)
            "peakFLOPsPerSecond": { "kind": "measured", "reference": \(quoted(note + ": q4_1 (and int8) = 2 x rows x weights / median time of the Q4_1-weight x Q8-activation matmuls of a stack of synthetic decoder layers (hidden 576, FFN 1536, 9/3 heads of 64) with \(c.computeRows) rows, activation quantisation included, the last-level cache flushed before each pass and its first layer untimed; q8_0 = the same for Q8_0 weights; fp32 = the same for the F32 matmul; fp16 = the decode attention rate (attentionKernel)")) },
            "activationElementsPerSecond": { "kind": "measured", "reference": \(quoted(note + ": elements / median time of SwiGLU's silu(gate) x up (the executor's siluMultiply, a libm expf each) over 16 rows of 1536, split among \(c.threads) thread(s) as a step runs it")) },
            "weightStreamBytesPerSecond": { "kind": "measured", "reference": \(quoted(note + ": weight bytes / median time of one activation row through the Q4_1 (q4_1) and Q8_0 (q8_0) stacks of peakFLOPsPerSecond, activation quantisation and fork-joins included, the last-level cache flushed before each pass")) },
            "attentionKernel": { "kind": "measured", "reference": \(quoted(note + ": the executor's attention block (RoPE, F16 cache write, attention: the session's AttentionStep) over its own F16 KV cache of 30 layers (9 query heads, 3 KV heads, headDim 64), the last-level cache flushed before each timed run; decode: per layer t = overhead + sequences x (perSequence + positions x c), from one query row of 1 sequence at \(c.attentionPositions / 16) and \(c.attentionPositions) positions and of \(c.attentionSequences) sequences at \(c.attentionPositions / 16), rate = 4 x headDim x heads / c; prefill: a \(c.attentionPrefillRows)-row causal chunk from an empty context, rate = FLOPs / (time - layers x (overhead + perSequence))")) },
            "fixedCosts": { "kind": "measured", "reference": \(quoted(note + ": one-token forwards of tiny 1- and 8-layer models (work negligible, time all fixed cost): per layer t(8)/7 - t(1)/7, less the attention kernel's overhead and per-sequence time, spread over the \(operatorsPerLayer) other operators the cost model prices per dense layer = kernel (at least one empty fork-join); step = t(1) - per layer")) },
            "memoryTiers": { "kind": "measured", "reference": \(quoted(note + ": bandwidth = 256 MB / median time of 5 streaming-read passes with \(c.threads) x 1 thread(s); capacity = MemTotal of /proc/meminfo")) },
            "power": { "kind": "estimated", "reference": "estimated: not measurable inside a VM; a 2-core share of a server socket, as host-cpu-zen5-2vcpu" },
            "interconnect": { "kind": "estimated", "reference": "estimated: a single host with no device links, one device per node" }
          },
          "notes": \(quoted(details))
        }

        """
    }

    /// Decodes `json` with the strict `DeviceProfile` decoder (the round trip every profile must pass).
    /// - Throws: `InputError` naming `file` and the JSON path.
    public static func decode(_ json: String, file: String = "host-calibrated.json") throws -> DeviceProfile {
        try StrictJSON.decode(DeviceProfile.self, from: Data(json.utf8), file: file)
    }

    /// Writes the profile to `path` through a temporary file in the same directory and a rename,
    /// after checking that it decodes. Returns the decoded profile.
    /// - Throws: `InputError` if the figures fail `HostCalibration.sanityProblems` (nothing is
    ///   written), or if the directory is missing or not writable.
    @discardableResult
    public static func write(_ c: HostCalibration, to path: String) throws -> DeviceProfile {
        let problems = c.sanityProblems
        guard problems.isEmpty else {
            throw InputError(file: path, "calibration refused, nothing written: " + problems.joined(separator: "; ")
                             + " (the host was probably busy; calibrate again on a quiet one)")
        }
        let id = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let text = json(c, id: id)
        let profile = try decode(text, file: path)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(file: path, "directory \(directory) does not exist")
        }
        let temporary = directory + "/." + URL(fileURLWithPath: path).lastPathComponent + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
            throw InputError(file: path, "cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw InputError(file: path, "cannot rename \(temporary) to \(path): errno \(errno)")
        }
        return profile
    }

    static func quoted(_ s: String) -> String { JSONText.quoted(s) }

    /// Operators the cost model prices per dense layer of a decode step with the kernel overhead
    /// (two norms, QKV, output projection, FFN, activation + residual); attention carries the
    /// measured attention kernel's own fixed times.
    static let operatorsPerLayer = 6

    /// The fixed cost per priced operator: a tiny layer's time (fork-joins, activation preparation,
    /// norms, bookkeeping) less its attention block's fixed time (the attention kernel's overhead
    /// and one sequence's time, which the attention operator carries), over the other operators the
    /// cost model counts in a layer; at least one empty fork-join. The weight GEMMs' streaming
    /// rates exclude their stack's fixed time (`KernelRate.stackFixedSeconds`), so that the
    /// fork-joins a GEMM pays are counted here once. (Until 2026-11-30 the whole tiny layer was
    /// spread over 7 operators while the stack's streaming rate also carried its fork-joins: a
    /// decode step priced ~0.3 ms of fixed time twice.)
    static func perOperatorSeconds(_ c: HostCalibration) -> Double {
        let attentionFixed = c.attentionOverheadSeconds + c.attentionPerSequenceSeconds
        return max((c.tinyLayerSeconds - attentionFixed) / Double(operatorsPerLayer), c.kernelOverheadSeconds)
    }
}
