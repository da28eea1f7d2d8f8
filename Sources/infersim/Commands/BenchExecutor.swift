import Diagnostics
import ArgumentParser
import CPUExecutor
import Foundation
import GGUF
import HardwareModel
import Validation

/// `infersim bench-executor`: llama-bench-style tg/pp throughput beside llama.cpp's figures.
struct BenchExecutor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-executor",
        abstract: "Measure CPU executor decode (tg128) and prompt (pp128, pp512) tokens/s with 1 and 2 threads.")

    @Option(help: "Path to a GGUF model file.") var model: String
    @Option(help: "llama.cpp reference JSON (llama_cpp_speed.medians_of_15_runs_tokens_per_s).")
    var references: String = "data/references/smollm2.json"
    @Option(help: "Runs per figure (median reported).") var repetitions: Int = 5
    @Option(parsing: .upToNextOption, help: "Thread counts.") var threads: [Int] = [1, 2]
    @Option(parsing: .upToNextOption, help: "Tests, e.g. tg128 pp128 pp512.") var tests: [String] = ["tg128", "pp128", "pp512"]
    @Option(help: "Memory bandwidth in bytes/s for the roofline (default: measured).") var bandwidth: Double?
    @Flag(help: "Print one JSON object (schema: schemas/bench-executor.schema.json).") var json = false

    func validate() throws {
        guard (1...1_000).contains(repetitions) else { throw ValidationError("--repetitions must be in 1...1000, got \(repetitions)") }
        guard threads.allSatisfy({ (1...1_024).contains($0) }) else { throw ValidationError("--threads must each be in 1...1024, got \(threads)") }
        for test in tests {
            guard test.hasPrefix("tg") || test.hasPrefix("pp"), let n = Int(test.dropFirst(2)), (1...65_536).contains(n) else {
                throw ValidationError("--tests: unknown test \"\(test)\" (expected tgN or ppN, N in 1...65536)")
            }
        }
        if let bandwidth { guard bandwidth.isFinite && bandwidth > 0 else { throw ValidationError("--bandwidth must be > 0, got \(bandwidth)") } }
    }

    struct Row {
        var test: String, threads: Int, tokensPerSecond: Double, spread: Double
        var reference: Double?, gigabytesPerSecond: Double?, roofline: Double?
    }

    func run() throws {
        let llama: LlamaModel
        do { llama = try LlamaModel(path: model) } catch { throw ValidationInputs.inputError(error, model: model) }
        let bench = ExecutorBenchmark(model: llama, repetitions: repetitions)
        let reference = loadReference()
        let load = HostNoise.loadLine()
        FileHandle.standardError.write(Data((load + "\n").utf8))
        if !json {
            print("model: \(model)  weights streamed per token: \(String(format: "%.2f", Double(llama.weightBytes) / 1e6)) MB")
            print(row(["test", "threads", "tok/s", "spread", "llama.cpp", "ratio", "GB/s", "roofline"]))
        }
        var rows: [Row] = []
        var bandwidths: [(threads: Int, bytesPerSecond: Double)] = []
        for t in threads {
            let measuredBandwidth = bandwidth ?? ExecutorBenchmark.measureReadBandwidth(threads: t)
            bandwidths.append((t, measuredBandwidth))
            for test in tests {
                let n = Int(test.dropFirst(2))!
                let m: ExecutorBenchmark.Measurement
                do {
                    m = test.hasPrefix("tg") ? try bench.textGeneration(n, threads: t) : try bench.promptProcessing(n, threads: t)
                } catch { throw InputError(file: model, "\(test): \(error)") }
                var r = Row(test: test, threads: t, tokensPerSecond: m.median, spread: HostNoise.spread(m.tokensPerSecond),
                            reference: reference[test]?[String(t)])
                if test.hasPrefix("tg") {
                    let bytes = Double(bench.decodeBytes(atPosition: n / 2))
                    r.gigabytesPerSecond = bytes * m.median / 1e9
                    r.roofline = bytes * m.median / measuredBandwidth
                }
                rows.append(r)
                if !json {
                    print(row([test, String(t), String(format: "%.1f", r.tokensPerSecond), String(format: "%.1f%%", r.spread * 100),
                               r.reference.map { String(format: "%.1f", $0) } ?? "-",
                               r.reference.map { String(format: "%.2fx", r.tokensPerSecond / $0) } ?? "-",
                               r.gigabytesPerSecond.map { String(format: "%.1f", $0) } ?? "-",
                               r.roofline.map { String(format: "%.0f%%", $0 * 100) } ?? "-"]))
                }
            }
            if !json {
                print(String(format: "read bandwidth with %d thread(s): %.1f GB/s%@", t, measuredBandwidth / 1e9,
                             (bandwidth == nil ? " (measured)" : " (stated)") as NSString))
            }
        }
        let spread = HostNoise.spreadLine(rows.map(\.spread), what: "\(rows.count) figures")
        FileHandle.standardError.write(Data((spread + "\n").utf8))
        guard json else { return }
        var w = JSONWriter()
        w.add("model", model)
        w.add("weight_bytes_per_token", Double(llama.weightBytes))
        w.add("repetitions", repetitions)
        w.add("load_average", HostNoise.loadAverage())
        w.add("noisy", load.hasPrefix("warning") || spread.hasPrefix("warning"))
        w.addRaw("results", JSONWriter.array(rows.map { r in
            var o = JSONWriter()
            o.add("test", r.test)
            o.add("threads", r.threads)
            o.add("tokens_per_s", r.tokensPerSecond)
            o.add("spread", r.spread)
            o.add("llama_cpp_tokens_per_s", r.reference)
            o.add("ratio_to_llama_cpp", r.reference.map { r.tokensPerSecond / $0 })
            o.add("weight_gb_per_s", r.gigabytesPerSecond)
            o.add("roofline_fraction", r.roofline)
            return o.rendered(indent: "  ")
        }))
        w.addRaw("read_bandwidth", JSONWriter.array(bandwidths.map { b in
            var o = JSONWriter()
            o.add("threads", b.threads)
            o.add("bytes_per_s", b.bytesPerSecond)
            o.add("measured", bandwidth == nil)
            return o.rendered(indent: "  ")
        }))
        print(w.rendered())
    }

    /// Right-aligned columns of width 10 (the first left-aligned).
    private func row(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in
            let pad = String(repeating: " ", count: max(0, 10 - c.count))
            return i == 0 ? c + pad : pad + c
        }.joined(separator: " ")
    }

    /// `test -> threads -> tokens/s` from the reference file, or empty when it is absent.
    private func loadReference() -> [String: [String: Double]] {
        guard let data = FileManager.default.contents(atPath: references),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let speed = root["llama_cpp_speed"] as? [String: Any],
              let medians = speed["medians_of_15_runs_tokens_per_s"] as? [String: [String: Double]] else { return [:] }
        return medians
    }
}
