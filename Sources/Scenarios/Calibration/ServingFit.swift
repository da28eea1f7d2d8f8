import CostModel
import Diagnostics
import Foundation
import HardwareModel
import Serving
import ServingMetrics

/// The result file of vLLM's serving benchmark (`vllm bench serve --save-result`): per-request
/// prompt and output lengths, TTFTs and inter-token latencies, and the request rate.
///
/// Read from the keys InferSim needs (`input_lens`, `output_lens`, `ttfts`, `itls`,
/// `request_rate`; `max_concurrency` and `burstiness` are checked); vLLM's other keys (texts,
/// summary statistics, and those later versions add) are not used. Requests that failed (an
/// empty output with a zero TTFT, as vLLM records them) are dropped.
public struct VLLMResult: Sendable {
    public var file: String
    public var inputLens: [Int]
    public var outputLens: [Int]
    public var ttfts: [Double]
    public var itls: [[Double]]
    /// Requests per second; `.infinity` for vLLM's "inf" (every request at once).
    public var requestRate: Double

    public static let maximumRequests = 100_000

    public init(file: String, inputLens: [Int], outputLens: [Int], ttfts: [Double], itls: [[Double]], requestRate: Double) {
        self.file = file
        self.inputLens = inputLens
        self.outputLens = outputLens
        self.ttfts = ttfts
        self.itls = itls
        self.requestRate = requestRate
    }

    public static func read(_ path: String) throws -> VLLMResult {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, "file not found or not readable") }
        try JSONSyntax.check(data, file: path)
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw InputError(file: path, jsonPath: "$", "expected a JSON object (vllm bench serve --save-result)")
        }
        func bad(_ key: String, _ message: String) -> InputError { InputError(file: path, jsonPath: "$.\(key)", message) }
        func numbers(_ key: String) throws -> [Double] {
            guard let raw = o[key] else { throw bad(key, "missing field (expected a list with one number per request)") }
            guard let list = raw as? [Any] else { throw bad(key, "expected a list of numbers, found \(type(of: raw))") }
            guard list.count <= maximumRequests else { throw bad(key, "expected at most \(maximumRequests) requests, found \(list.count)") }
            return try list.enumerated().map { i, v in
                guard let n = v as? NSNumber, n.doubleValue.isFinite else { throw bad("\(key)[\(i)]", "expected a finite number, found \(v)") }
                return n.doubleValue
            }
        }
        let inputs = try numbers("input_lens"), outputs = try numbers("output_lens"), ttfts = try numbers("ttfts")
        guard let rawITLs = o["itls"] else { throw bad("itls", "missing field (expected a list of inter-token latency lists, one per request)") }
        guard let itlLists = rawITLs as? [Any] else { throw bad("itls", "expected a list of lists of seconds") }
        for (key, n) in [("output_lens", outputs.count), ("ttfts", ttfts.count), ("itls", itlLists.count)] where n != inputs.count {
            throw bad(key, "expected \(inputs.count) entries (one per request, as input_lens), found \(n)")
        }
        var itls: [[Double]] = []
        var total = 0
        for (i, v) in itlLists.enumerated() {
            guard let list = v as? [Any] else { throw bad("itls[\(i)]", "expected a list of seconds, found \(v)") }
            total += list.count
            guard total <= 100 * maximumRequests * 10 else { throw bad("itls", "expected at most \(1000 * maximumRequests) latencies in all") }
            itls.append(try list.enumerated().map { j, x in
                guard let n = x as? NSNumber, n.doubleValue.isFinite, n.doubleValue >= 0, n.doubleValue < 1e4 else {
                    throw bad("itls[\(i)][\(j)]", "expected seconds in [0, 10000), found \(x)")
                }
                return n.doubleValue
            })
        }
        let rate: Double
        switch o["request_rate"] {
        case let s as String where s == "inf": rate = .infinity
        case let n as NSNumber where n.doubleValue.isFinite && n.doubleValue > 0 && n.doubleValue <= 1e6: rate = n.doubleValue
        case nil: throw bad("request_rate", "missing field (expected requests per second, or \"inf\")")
        case let v?: throw bad("request_rate", "expected requests per second in (0, 1e6] or \"inf\", found \(v)")
        }
        if let c = o["max_concurrency"], !(c is NSNull) {
            throw bad("max_concurrency", "expected null: a run with a concurrency limit is not replayed (InferSim replays open-loop arrivals), found \(c)")
        }
        if let b = o["burstiness"] as? NSNumber, b.doubleValue != 1 {
            throw bad("burstiness", "expected 1 (Poisson arrivals, the only ones replayed), found \(b)")
        }
        var result = VLLMResult(file: path, inputLens: [], outputLens: [], ttfts: [], itls: [], requestRate: rate)
        for i in inputs.indices {
            guard inputs[i] >= 1, inputs[i] <= 10_000_000, inputs[i] == inputs[i].rounded() else { throw bad("input_lens[\(i)]", "expected a whole number of tokens in 1...10000000, found \(inputs[i])") }
            guard outputs[i] >= 0, outputs[i] <= 10_000_000, outputs[i] == outputs[i].rounded() else { throw bad("output_lens[\(i)]", "expected a whole number of tokens in 0...10000000, found \(outputs[i])") }
            guard ttfts[i] >= 0, ttfts[i] < 1e5 else { throw bad("ttfts[\(i)]", "expected seconds in [0, 100000), found \(ttfts[i])") }
            if outputs[i] == 0 || ttfts[i] == 0 { continue }  // a failed request
            result.inputLens.append(Int(inputs[i]))
            result.outputLens.append(Int(outputs[i]))
            result.ttfts.append(ttfts[i])
            result.itls.append(itls[i])
        }
        guard result.ttfts.count >= 10 else {
            throw bad("ttfts", "expected at least 10 completed requests to fit percentiles, found \(result.ttfts.count)")
        }
        return result
    }

    /// The run as vLLM's result JSON (the keys `read` uses), for synthetic round trips.
    public func renderedJSON() -> String {
        func list(_ v: [Double]) -> String { "[" + v.map { JSONText.number($0, decimals: 9) }.joined(separator: ", ") + "]" }
        let rate = requestRate.isFinite ? JSONText.shortNumber(requestRate) : "\"inf\""
        return """
        {"backend": "infersim-synthetic", "request_rate": \(rate), "burstiness": 1.0, "max_concurrency": null, "completed": \(ttfts.count),
         "input_lens": [\(inputLens.map(String.init).joined(separator: ", "))],
         "output_lens": [\(outputLens.map(String.init).joined(separator: ", "))],
         "ttfts": \(list(ttfts)),
         "itls": [\(itls.map(list).joined(separator: ", "))]}

        """
    }

    /// TTFT mean, p50, p90 and ITL mean, p50, p90 (the ITLs of all requests pooled), seconds.
    /// The means move smoothly with step times where a percentile jumps as requests swap places.
    public var percentiles: [Double] {
        let t = ttfts.sorted(), i = itls.flatMap { $0 }.sorted()
        func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
        return [mean(t), Self.quantile(t, 0.5), Self.quantile(t, 0.9), mean(i), Self.quantile(i, 0.5), Self.quantile(i, 0.9)]
    }

    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let x = q * Double(sorted.count - 1)
        let lo = Int(x.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - Double(lo))
    }
}

extension EngineStepFitter {
    /// Replays `run`'s requests through the simulator with `engine` and returns what vLLM would
    /// have recorded: each request's TTFT and its output's gaps (each the request's mean gap,
    /// the simulator's per-request time per output token).
    ///
    /// Arrivals: all at 0 for rate "inf", else a Poisson process at the run's rate from a fixed
    /// seed (vLLM's own draws are not in its result file). One replica, chunked prefill with the
    /// engine's usual limits (256 sequences, 8,192 tokens per step: vLLM's defaults).
    public func replay(_ run: VLLMResult, engine e: EngineProfile, directory: String) throws -> VLLMResult {
        var rng = SeededGenerator(seed: 0x5eed)
        var t = 0.0
        var trace = "arrival_s,prompt_tokens,output_tokens\n"
        for i in run.inputLens.indices {
            if run.requestRate.isFinite { t += -log(max(rng.nextUnitInterval(), 1e-300)) / run.requestRate }
            trace += "\(JSONText.number(t, decimals: 9)),\(run.inputLens[i]),\(run.outputLens[i])\n"
        }
        let tracePath = directory + "/trace.csv"
        try trace.write(toFile: tracePath, atomically: true, encoding: .utf8)
        let key = "calibration-candidate"
        var catalog = self.catalog
        catalog.engineOverrides[key] = e
        let scenarioPath = directory + "/scenario.json"
        let scenario = """
        {"name": "vllm-replay", "hardware": "\(device.name)", "model": "\(modelID)", "engine": "\(key)",
         "parallelism": {"tp": 1, "pp": 1}, "replicas": 1,
         "precision": {"weights": "\(precision.weights.rawValue)", "activations": "\(precision.activations.rawValue)", "kv": "\(precision.kvCache.rawValue)"},
         "scheduler": {"kind": "chunkedPrefill", "maxBatchSize": 256, "maxTokensPerStep": 8192},
         "kvCache": {"kind": "paged", "blockSize": 16, "watermark": 0.01, "preemption": "recompute"},
         "router": "leastOutstanding", "workload": {"trace": {"format": "csv", "path": "trace.csv"}}, "seed": 1}
        """
        try scenario.write(toFile: scenarioPath, atomically: true, encoding: .utf8)
        var runner = SimulationRunner(resolve: ReplicaResolvers.catalog(catalog))
        runner.percentiles = .exact
        let requests = directory + "/requests.csv"
        _ = try runner.run(file: scenarioPath, outputs: RunOutputs(requestsCSV: requests))
        let text = try String(contentsOfFile: requests, encoding: .utf8)
        var out = VLLMResult(file: run.file, inputLens: [], outputLens: [], ttfts: [], itls: [], requestRate: run.requestRate)
        var rows: [(id: Int, ttft: Double, tpot: Double, input: Int, output: Int)] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count >= 13, let id = Int(f[0]), let input = Int(f[6]), let output = Int(f[7]), let ttft = Double(f[10]) else { continue }
            rows.append((id, ttft / 1000, (Double(f[11]) ?? 0) / 1000, input, output))
        }
        rows.sort { $0.id < $1.id }
        for r in rows {
            out.inputLens.append(r.input)
            out.outputLens.append(r.output)
            out.ttfts.append(r.ttft)
            out.itls.append([Double](repeating: r.tpot, count: max(0, r.output - 1)))
        }
        return out
    }

    /// Fits the decode bandwidth (GEMM, attention and streaming kernels together) and the GEMM
    /// rate to vLLM serving results by replaying each run and matching TTFT and ITL means, p50 and p90
    /// (by compass search: a replay's percentiles move in steps as requests swap batches).
    public func fitServing(_ runs: [VLLMResult], inputs: [String]) throws -> Result {
        let directory = NSTemporaryDirectory() + "/infersim-calibrate-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let measured = runs.map(\.percentiles)
        let ranges = KernelFit.FitRange(gemmRows: [1, 8192], attentionSequences: [1, 256],
                                        attentionContext: [Double(runs.flatMap(\.inputLens).min()!), Double(zip(runs.flatMap(\.inputLens), runs.flatMap(\.outputLens)).map { $0 + $1 }.max()!)])
        let start = try start(ranges: ranges)
        let d = device.name
        // One knob scales every bandwidth of the fit together (decode), one the GEMM rates (prefill).
        let bandwidth = Knob(name: "bandwidthScale", get: { _, _ in 1 }, set: { e, dev, v in
            let s = start.kernels![dev]!
            e.kernels![dev]!.gemm.bandwidthBytesPerSecond = s.gemm.bandwidthBytesPerSecond * v
            e.kernels![dev]!.decodeAttention.bandwidthBytesPerSecond = s.decodeAttention.bandwidthBytesPerSecond * v
            e.kernels![dev]!.streamBytesPerSecond = s.streamBytesPerSecond * v
        })
        let compute = Knob(name: "gemmRateScale", get: { _, _ in 1 }, set: { e, dev, v in
            for (type, rate) in start.kernels![dev]!.gemm.flopsPerSecond { e.kernels![dev]!.gemm.flopsPerSecond[type] = rate * v }
        })
        var result = try fit([bandwidth, compute], from: start, points: 6 * runs.count, inputs: inputs, what: "serving",
                             tooFew: InputError(file: runs[0].file, "expected enough requests to fit"), differenceStep: 1e-2, search: true) { e in
            var r: [Double] = []
            for (run, m) in zip(runs, measured) {
                let p = try replay(run, engine: e, directory: directory).percentiles
                r += zip(p, m).map { log(max($0, 1e-9) / max($1, 1e-9)) }
            }
            return r
        }
        // Record the scaled figures themselves in the provenance.
        let fit = result.engine.kernels![d]!
        var provenance = fit.provenance
        for name in ["bandwidthScale", "gemmRateScale"] {
            guard let v = result.fitted[name] else { continue }
            provenance.parameters[name] = .init(v.value, .fitted, relativeStandardError: v.relativeError,
                                                note: name == "bandwidthScale" ? "multiplies the GEMM, decode-attention and streaming bandwidths of the starting fit; fitted on \(inputs.joined(separator: ", "))"
                                                    : "multiplies every GEMM rate of the starting fit; fitted on \(inputs.joined(separator: ", "))")
        }
        result.engine.kernels![d]!.provenance = provenance
        return result
    }
}

