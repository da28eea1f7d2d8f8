import ArgumentParser
import CPUExecutor
import Foundation
import GGUF

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

    func run() throws {
        do {
            let llama = try LlamaModel(path: model)
            let bench = ExecutorBenchmark(model: llama, repetitions: repetitions)
            let reference = loadReference()
            print("model: \(model)  weights streamed per token: \(String(format: "%.2f", Double(llama.weightBytes) / 1e6)) MB")
            print(row(["test", "threads", "tok/s", "llama.cpp", "ratio", "GB/s", "roofline"]))
            for t in threads {
                let measuredBandwidth = bandwidth ?? ExecutorBenchmark.measureReadBandwidth(threads: t)
                for test in tests {
                    guard let n = Int(test.dropFirst(2)), test.hasPrefix("tg") || test.hasPrefix("pp") else {
                        throw ValidationError("unknown test '\(test)' (expected tgN or ppN)")
                    }
                    let m = test.hasPrefix("tg") ? try bench.textGeneration(n, threads: t) : try bench.promptProcessing(n, threads: t)
                    let ref = reference[test]?[String(t)]
                    var gbs = "-", roof = "-"
                    if test.hasPrefix("tg") {
                        let bytes = Double(bench.decodeBytes(atPosition: n / 2))
                        gbs = String(format: "%.1f", bytes * m.median / 1e9)
                        roof = String(format: "%.0f%%", 100 * bytes * m.median / measuredBandwidth)
                    }
                    print(row([test, String(t), String(format: "%.1f", m.median), ref.map { String(format: "%.1f", $0) } ?? "-",
                               ref.map { String(format: "%.2fx", m.median / $0) } ?? "-", gbs, roof]))
                }
                print(String(format: "read bandwidth with %d thread(s): %.1f GB/s%@", t, measuredBandwidth / 1e9,
                             (bandwidth == nil ? " (measured)" : " (stated)") as NSString))
            }
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
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
