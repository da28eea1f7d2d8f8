import Foundation

extension HostCalibration {
    /// Why these figures cannot describe a real host, one phrase each; empty when they can.
    ///
    /// On a busy host a calibration once wrote an attention overhead of 1.7 ms per layer and
    /// exposed-memory samples from −56 to 89; every prediction from it was off by hundreds of
    /// percent. The bounds are loose on purpose, to catch measurements broken by contention,
    /// not to judge a slow machine:
    /// - every rate (bandwidth, kernel, attention, activation) is finite and positive;
    /// - fixed costs (per kernel, per step, per tiny layer, attention per layer and per
    ///   sequence) are in [0, 0.1 s];
    /// - the attention overhead per layer is at most 100× the attention kernel's own time for
    ///   one layer at the calibrated context (`attentionFLOPsPerLayer` / rate);
    /// - each exposed-memory sample is in [−1, 2] (the fraction of a weight stream left
    ///   exposed; noise moves it around [0, 1], contention far outside).
    public var sanityProblems: [String] {
        var problems: [String] = []
        func rate(_ name: String, _ v: Double, optional: Bool = false) {
            if optional && v == 0 { return }
            if !(v.isFinite && v > 0) { problems.append("\(name) is \(v), expected a positive rate") }
        }
        func fixed(_ name: String, _ v: Double) {
            if !(v.isFinite && v >= 0 && v <= 0.1) {
                problems.append(String(format: "%@ is %.4g s, expected 0 to 0.1 s", name, v))
            }
        }
        rate("read bandwidth (1 thread)", readBandwidthOneThread, optional: true)
        rate("read bandwidth (all threads)", readBandwidthAllThreads, optional: true)
        for k in kernels {
            rate("\(k.weightType) compute rate", k.computeFLOPsPerSecond)
            rate("\(k.weightType) small-rows rate", k.smallRowsFLOPsPerSecond)
            rate("\(k.weightType) GEMV bandwidth", k.gemvBytesPerSecond)
            rate("\(k.weightType) stream bandwidth", k.streamBytesPerSecond, optional: true)
            fixed("\(k.weightType) fixed time per stack layer", k.stackFixedSeconds)
        }
        rate("attention decode rate", attentionFLOPsPerSecond)
        rate("attention prefill rate", attentionPrefillFLOPsPerSecond)
        rate("activation rate", activationElementsPerSecond, optional: true)
        fixed("kernel overhead", kernelOverheadSeconds)
        fixed("step overhead", stepOverheadSeconds)
        fixed("tiny-layer time", tinyLayerSeconds)
        fixed("attention overhead per layer", attentionOverheadSeconds)
        fixed("attention time per sequence", attentionPerSequenceSeconds)
        if attentionFLOPsPerLayer > 0, attentionFLOPsPerSecond > 0, attentionOverheadSeconds.isFinite {
            let kernel = attentionFLOPsPerLayer / attentionFLOPsPerSecond
            if attentionOverheadSeconds > 100 * kernel {
                problems.append(String(format: "attention overhead %.4g ms per layer is %.0f× the attention kernel's %.4g ms (at most 100× expected)",
                                       attentionOverheadSeconds * 1e3, attentionOverheadSeconds / kernel, kernel * 1e3))
            }
        }
        let outside = exposedMemorySamples.filter { !($0.fraction.isFinite && $0.fraction >= -1 && $0.fraction <= 2) }
        if !outside.isEmpty {
            let values = outside.prefix(4).map { String(format: "%.3g", $0.fraction) }.joined(separator: ", ")
            problems.append("\(outside.count) exposed-memory sample(s) outside [-1, 2] (\(values))")
        }
        return problems
    }
}

/// How quiet the host is: its load average, and the run-to-run spread of repeated timings.
/// `calibrate`, `bench-executor` and `validate --model` print both and warn when either is
/// high, since every figure they measure assumes the cores are theirs.
public enum HostNoise {
    /// The 1-minute load average (`/proc/loadavg`), or nil where there is none.
    public static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }

    /// Relative spread of samples: (max − min) / median, 0 for fewer than two.
    public static func spread(_ samples: [Double]) -> Double {
        guard samples.count >= 2 else { return 0 }
        let s = samples.sorted()
        let mid = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        return mid > 0 ? (s[s.count - 1] - s[0]) / mid : 0
    }

    /// The spread above which a figure is flagged.
    public static let spreadWarning = 0.10

    /// A line on the host's load before measuring, a warning when the load average exceeds
    /// three quarters of the cores (other work is running).
    public static func loadLine(cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> String {
        guard let load = loadAverage() else { return "load average: unavailable" }
        let line = String(format: "load average %.2f on %d core(s)", load, cores)
        return load > 0.75 * Double(cores)
            ? "warning: " + line + "; other work is running, so measured figures may be slow and noisy"
            : line
    }

    /// A line on the spread of a set of figures, a warning above `spreadWarning`.
    public static func spreadLine(_ spreads: [Double], what: String) -> String {
        guard !spreads.isEmpty else { return "run-to-run spread: none measured" }
        let s = spreads.sorted()
        let line = String(format: "run-to-run spread of %@: median %.1f%%, worst %.1f%% ((max - min) / median)", what,
                          s[s.count / 2] * 100, s[s.count - 1] * 100)
        return s[s.count / 2] > spreadWarning ? "warning: " + line + "; the host is noisy, repeat on a quiet one" : line
    }
}
