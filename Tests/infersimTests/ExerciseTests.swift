import Foundation
import Testing

/// The classroom exercises of `docs/exercises/` (issue 13): each test runs one exercise's commands
/// and checks that every figure its answer key quotes as the tool's is the one the tool prints (at
/// the quote's rounding), and that the key quotes it, so that the text and the cost model cannot
/// drift apart. Exercise 4's 3,000-request serving sweep (half a minute) is the one command not re-run.
@Suite struct ExerciseTests {
    // MARK: - Exercises 1-6, docs/exercises/memory-wall.md

    @Test func exercise1KVBytesOfLlama3_70B() throws {
        let key = try Self.exercise(1, in: "memory-wall.md")
        let explain = try Self.output(["explain", "--hardware", "dgx-h100", "--model", "llama-3-70b", "--tp", "2"])
        Self.expectLine("KV cache: 327,680 B per token (0.3125 MiB) = 2 × 80 layers × 8 KV heads × 128 × 2.000 B", in: explain, key: key)
        let full = try Self.output(["predict", "--hardware", "dgx-h100", "--model", "llama-3-70b", "--tp", "2", "--input", "8191", "--output", "1"])
        for line in ["  weights             70.56 GB",
                     "  activations         1.09 GB (prefill workspace of 8,191 tokens)",
                     "  KV cache            1.34 GB for 8,192 tokens; 327,680 B/token (0.3125 MiB) for the model, 163,840 B/token on each device",
                     "  free                -0.99 GB",
                     "  largest batch that fits: 0",
                     "DOES NOT FIT: the batch's KV cache needs 0.99 GB more per device; the largest batch that fits is 0"] {
            Self.expectLine(line, in: full, key: key)
        }
        let long = try CLI.run(["predict", "--hardware", "dgx-h100", "--model", "llama-3-70b", "--tp", "2", "--input", "32768", "--output", "1"])
        #expect(long.status == 2)
        Self.expectLine("error: --input/--output: expected a prompt plus output of at most 8192 tokens (llama-3-70b's context), found 32768 + 1 = 32769",
                        in: long.stderr, key: key)
        let mla = try Self.output(["explain", "--hardware", "dgx-h100", "--model", "deepseek-v3", "--tp", "8"])
        Self.expectLine("KV cache: 70,272 B per token (0.0670 MiB) = 61 layers × 576 latent elements (MLA) × 2.000 B", in: mla, key: key)
    }

    /// The serving sweep of exercises 1 (TP 2) and 5 (TP 4 and 8): one run of the scenario.
    @Test func exercises1And5ServeLlama3_70BAtTP2To8() throws {
        let one = try Self.exercise(1, in: "memory-wall.md")
        let five = try Self.exercise(5, in: "memory-wall.md")
        let out = try Self.output(["simulate", "scenarios/examples/llama-70b-tp-sweep.json", "--json"])
        let points = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
        func report(_ tp: Int) throws -> [String: Any] {
            let point = try #require(points.first { $0["point"] as? String == "parallelism.tp=\(tp)" })
            return try #require(point["report"] as? [String: Any])
        }
        let tp2 = try report(2), tp4 = try report(4), tp8 = try report(8)
        let s2 = try #require(tp2["summary"] as? [String: Any])
        let r2 = try #require((tp2["replicas"] as? [[String: Any]])?.first)
        let r4 = try #require((tp4["replicas"] as? [[String: Any]])?.first)
        Self.expectQuote("992", is: Self.number(s2, "requests_completed"), in: one, phrase: "992 completed, 8 rejected (exceedsKVCapacity 8)")
        Self.expectQuote("8", is: Self.number(s2, "requests_rejected"), in: one, phrase: "(8 rejections)")
        Self.expectQuote("422", is: Self.number(r2, "kv_blocks_total"), in: one, phrase: "**422 blocks of 16 tokens**")
        Self.expectQuote("422", is: Self.number(r2, "kv_blocks_peak"), in: one, phrase: "peak 422/422 blocks of 16 tokens")
        Self.expectQuote("107", is: Self.number(r2, "preemptions_recompute"), in: one, phrase: "preemptions 107/0")
        Self.expectQuote("3.67", is: Self.number(s2, "batch_size_mean"), in: one, phrase: "(mean batch 3.67)")
        Self.expectQuote("27,835", is: Self.number(r4, "kv_blocks_total"), in: one, phrase: "TP 4 in the same sweep has 27,835 blocks")
        let reason = try #require(s2["overload_reason"] as? String)
        #expect(one.contains("overloaded: YES — " + reason), "the key lacks the overload line: \(reason)")

        let s4 = try #require(tp4["summary"] as? [String: Any]), s8 = try #require(tp8["summary"] as? [String: Any])
        for (summary, ttft, tpot, joules) in [(s4, "98.70", "22.18", "2.51"), (s8, "59.44", "13.19", "3.73")] {
            Self.expectQuote(ttft, is: Self.number(summary, "ttft_ms.p50"), in: five)
            Self.expectQuote(tpot, is: Self.number(summary, "tpot_ms.p50"), in: five)
            Self.expectQuote(joules, is: Self.number(summary, "energy_joules_per_output_token"), in: five)
        }
    }

    @Test func exercise2TheBatch1DecodeFloor() throws {
        let key = try Self.exercise(2, in: "memory-wall.md")
        let explain = try Self.output(["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b"])
        // The decode table, quoted whole.
        let decode = try #require(explain.range(of: "Decode step:"))
        let floorLine = try #require(explain.range(of: "bandwidth floor:", range: decode.upperBound..<explain.endIndex))
        let table = explain[decode.lowerBound..<floorLine.lowerBound].split(separator: "\n").map(String.init)
        #expect(table.count == 15)
        for line in table { Self.expectLine(line, in: explain, key: key) }
        Self.expectLine("bandwidth floor: 15.04 GB per device / 3.35 TB/s = 4.489 ms (no step can be faster than reading its bytes at peak bandwidth)",
                        in: explain, key: key)
        Self.expectLine("Weights: 16.06 GB held per device; a decode step streams 15.01 GB, which at peak bandwidth takes 4.480 ms: the floor of every decode step (223.2 tokens/s per sequence at most)",
                        in: explain, key: key)
        for (hardware, tpot, mbu) in [("nvidia-a100-sxm-80gb", "11.12", "66.3"), ("nvidia-h100-sxm", "7.624", "58.9"),
                                      ("nvidia-h200", "5.980", "52.4"), ("nvidia-b200", "4.460", "42.2"),
                                      ("nvidia-rtx-4090", "20.50", "72.8"), ("apple-m2-max", "53.04", "70.9")] {
            let o = try Self.json(["predict", "--hardware", hardware, "--model", "llama-3-8b"])
            Self.expectRow("| \(tpot) ms | \(mbu) % |", [(tpot, Self.number(o, "tpot_ms")), (mbu, Self.percent(o, "decode_mbu"))], in: key)
        }
    }

    @Test func exercise3TheRidgePoint() throws {
        let key = try Self.exercise(3, in: "memory-wall.md")
        for (batch, tpot, bound, mfu, tokens) in [(1, "7.624", "memory", "0.2", "131.1"), (8, "7.712", "memory", "1.6", "1,018.2"),
                                                  (32, "8.012", "memory", "6.1", "3,683.8"), (64, "8.413", "memory", "11.6", "6,535.3"),
                                                  (128, "9.215", "memory", "21.2", "10,661.6"), (195, "10.05", "memory", "29.7", "13,615.3"),
                                                  (212, "10.27", "memory", "31.6", "14,212.4"), (256, "11.62", "compute", "33.8", "14,860.6"),
                                                  (512, "19.93", "compute", "39.5", "16,441.4")] {
            let o = try Self.json(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--batch", "\(batch)"])
            #expect(o["decode_bound"] as? String == bound, "batch \(batch)")
            Self.expectRow("| \(batch) | \(tpot) ms | \(bound) | \(mfu) % | \(tokens) |",
                           [(tpot, Self.number(o, "tpot_ms")), (mfu, Self.percent(o, "decode_mfu")), (tokens, Self.number(o, "output_tokens_per_s"))],
                           in: key)
        }
        let at200 = try Self.output(["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--batch", "200"])
        Self.expectLine("Decode turns compute-bound at batch 212 (context 129); below it, each step is paced by memory traffic.", in: at200, key: key)
        let at212 = try Self.output(["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--batch", "212"])
        Self.expectLine("FFN                    32  2390.149  11968.97   199.7    4.328  compute   44.8%", in: at212, key: key)
        Self.expectLine("step: 9.660 ms, compute-bound; MFU 33.4%, MBU 64.3%; ridge point 295.3 FLOP/B (operators above it are compute-bound at peak)",
                        in: at212, key: key)
        for (hardware, ridge) in [("nvidia-a100-sxm-80gb", "153"), ("nvidia-h200", "206"), ("apple-m2-max", "27")] {
            let o = try Self.json(["explain", "--hardware", hardware, "--model", "llama-3-8b"])
            #expect(abs((Self.number(o, "ridge_flops_per_byte") ?? 0) - (Double(ridge) ?? 0)) <= 0.5, "\(hardware)")
            #expect(key.contains(ridge), "the key lacks the ridge point \(ridge)")
        }
    }

    @Test func exercise4GQAvsMHA() throws {
        let key = try Self.exercise(4, in: "memory-wall.md")
        for (model, line) in [("llama-2-7b", "KV cache: 524,288 B per token (0.5000 MiB) = 2 × 32 layers × 32 KV heads × 128 × 2.000 B"),
                              ("llama-3-8b", "KV cache: 131,072 B per token (0.1250 MiB) = 2 × 32 layers × 8 KV heads × 128 × 2.000 B")] {
            let explain = try Self.output(["explain", "--hardware", "nvidia-h100-sxm", "--model", model])
            Self.expectLine(line, in: explain, key: key)
        }
        // The static-batch remark; the serving sweep itself is not re-run (3,000 requests × 4 points).
        let request = ["--hardware", "nvidia-h100-sxm", "--batch", "1", "--input", "3584", "--output", "512"]
        let mha = try Self.json(["predict", "--model", "llama-2-7b"] + request)
        let gqa = try Self.json(["predict", "--model", "llama-3-8b"] + request)
        Self.expectQuote("23", is: Self.number(mha, "max_batch"), in: key, phrase: "23 for Llama-2-7B")
        Self.expectQuote("61", is: Self.number(gqa, "max_batch"), in: key, phrase: "61 for Llama-3-8B")
        Self.expectQuote("0.37", is: Self.gigabytes(gqa, "activation_bytes_per_device"), in: key, phrase: "0.37 GB per 3,584-token prompt")
        Self.expectQuote("0.54", is: Self.gigabytes(gqa, "kv_bytes_per_device"), in: key, phrase: "(0.54 GB)")
        Self.expectQuote("2.15", is: Self.gigabytes(mha, "kv_bytes_per_device"), in: key, phrase: "(2.15 GB)")
        Self.expectQuote("0.36", is: Self.gigabytes(mha, "activation_bytes_per_device"), in: key, phrase: "(2.15 + 0.36)")
    }

    @Test func exercise5ThePriceOfTensorParallelism() throws {
        let key = try Self.exercise(5, in: "memory-wall.md")
        for (tp, decodeComm, decodeStep, ttft, prefillComm, perGPU) in [(2, "0.615", "28.63", "242.62", "15.16", "16.4"),
                                                                         (4, "0.875", "16.68", "141.88", "22.69", "14.1"),
                                                                         (8, "1.388", "11.08", "91.90", "26.84", "10.6"),
                                                                         (16, "3.060", "9.762", "81.91", "43.41", "6.0")] {
            let hardware = tp == 16 ? "nvidia-h100-sxm" : "dgx-h100"
            let base = ["--hardware", hardware, "--model", "llama-3-70b", "--tp", "\(tp)"]
            let decode = try Self.json(["explain"] + base)
            let prefill = try Self.json(["explain"] + base + ["--input", "2048"])
            let predict = try Self.json(["predict"] + base + ["--input", "2048"])
            Self.expectQuote(decodeComm, is: Self.number(decode, "decode.communication_ms"), in: key, phrase: decodeComm + " ms")
            Self.expectQuote(decodeStep, is: Self.number(decode, "decode.time_ms"), in: key, phrase: decodeStep + " ms")
            Self.expectQuote(prefillComm, is: Self.number(prefill, "prefill.communication_ms"), in: key, phrase: prefillComm + " ms")
            Self.expectQuote(ttft, is: Self.number(predict, "ttft_ms"), in: key, phrase: ttft + " ms")
            let tokens = Self.number(predict, "output_tokens_per_s").flatMap { t in Self.number(predict, "devices").map { t / $0 } }
            Self.expectQuote(perGPU, is: tokens, in: key, phrase: "| \(perGPU) |")
            #expect(predict["prefill_bound"] as? String == (tp == 16 ? "communication" : "compute"), "TP \(tp)")
        }
        let tp8 = try Self.output(["explain", "--hardware", "dgx-h100", "--model", "llama-3-70b", "--tp", "8"])
        for line in ["all-reduce (attention)  80   0.000      1.31       -    0.694  communication   6.3%",
                     "all-reduce (FFN)        80   0.000      1.31       -    0.694  communication   6.3%",
                     "step: 11.08 ms, memory-bound; MFU 0.2%, MBU 46.9%; ridge point 295.3 FLOP/B (operators above it are compute-bound at peak)",
                     "  in all: 1.388 ms a step (12.5% of 11.08 ms)",
                     "    all-reduce (attention): 80 × 8.7 µs (0.029 MB sent per device each) — ring all-reduce of 8 ranks on NVLink 4 (H100/H200 SXM: 18 links, NVSwitch)"] {
            Self.expectLine(line, in: tp8, key: key)
        }
        let refused = try CLI.run(["explain", "--hardware", "dgx-h100", "--model", "llama-3-70b", "--tp", "16"])
        #expect(refused.status == 2 && refused.stderr.contains("exceeds the 8 devices of dgx-h100"), "\(refused.stderr)")
        #expect(key.contains("is refused, since the system has 8 GPUs"))
    }

    @Test func exercise6TheBandwidthLadder() throws {
        let key = try Self.exercise(6, in: "memory-wall.md")
        let groqArguments = ["--hardware", "groq-rack", "--model", "llama-3-8b", "--weights", "int8", "--activations", "int8", "--kv", "int8"]
        for (arguments, label, tpot, bound, tokens) in [(["--hardware", "cerebras-cs3", "--model", "llama-3-8b"], "Cerebras CS-3 (1 wafer)", "0.986", "compute", "968.4"),
                                                        (groqArguments, "GroqRack, 40 of its 64 LPUs, INT8", "0.730", "compute", "1,320.2"),
                                                        (["--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b"], "H100 SXM", "7.624", "memory", "131.1")] {
            let o = try Self.json(["predict"] + arguments)
            #expect(o["decode_bound"] as? String == bound, "\(label)")
            if arguments == groqArguments { #expect(Self.number(o, "devices") == 40) }
            Self.expectRow("| \(label) | \(tpot) ms | \(bound) | \(tokens) |",
                           [(tpot, Self.number(o, "tpot_ms")), (tokens, Self.number(o, "output_tokens_per_s"))], in: key)
        }
        let cerebras = try Self.output(["explain", "--hardware", "cerebras-cs3", "--model", "llama-3-8b"])
        for line in ["FFN                    32  11.274  11277.57     1.0    0.650  compute   66.0%",
                     "step overhead           1                              0.100  overhead  10.1%",
                     "step: 0.985 ms, compute-bound; MFU 0.1%, MBU 0.1%; ridge point 0.8 FLOP/B (operators above it are compute-bound at peak)",
                     "Execution model wafer: 16.06 GB weights + 0.03 GB KV (256 tokens) + 0.16 GB workspace = 16.25 GB / 39600.0 MB usable SRAM per wafer = 1 wafers; 0.03 wafers per layer, 32 pipeline stages, 0 hops per token.",
                     "  1 sequence(s) fill 1 of the 32 stages: 0.985 ms per step, 1015.0 tokens/s in all, 1015.0 per sequence; bound by compute"] {
            Self.expectLine(line, in: cerebras, key: key)
        }
        let groq = try Self.output(["explain"] + groqArguments)
        for line in ["FFN                     32  11.274  5638.78     2.0    0.344  compute        47.1%",
                     "all-reduce (FFN)        32   0.000     0.26       -    0.068  communication   9.4%",
                     "pipeline transfer       31   0.000     0.13       -    0.032  communication   4.3%",
                     "step: 0.729 ms, compute-bound; MFU 0.1%, MBU 0.3%; ridge point 9.4 FLOP/B (operators above it are compute-bound at peak)",
                     "  in all: 0.168 ms a step (23.1% of 0.729 ms)",
                     "Execution model sramPipeline: 8.03 GB weights + 0.02 GB KV (256 tokens) + 0.14 GB workspace = 8.19 GB / 207.6 MB usable SRAM per chip = 40 chips; 1.25 chips per layer, 32 pipeline stages, 31 hops per token."] {
            Self.expectLine(line, in: groq, key: key)
        }
        let refused = try CLI.run(["predict"] + groqArguments + ["--tp", "8", "--pp", "8"])
        #expect(refused.status == 2)
        Self.expectLine("give a chip count instead of tensor/pipeline parallelism", in: refused.stderr, key: key)
        // The predictions `validate --published` makes for the published SRAM figures.
        let wafer = try Self.json(["predict", "--hardware", "cerebras-wse-3", "--model", "llama-3.1-8b", "--input", "1", "--output", "128"])
        Self.expectQuote("1015.6", is: Self.number(wafer, "output_tokens_per_s"), in: key)
        let chips = try Self.json(["predict", "--hardware", "groq-lpu", "--model", "llama-2-7b", "--input", "1", "--output", "128"])
        Self.expectQuote("785.6", is: Self.number(chips, "output_tokens_per_s"), in: key)
        Self.expectQuote("66", is: Self.number(chips, "devices"), in: key, phrase: "66 chips")
    }

    // MARK: - Exercises 7-10, docs/exercises/beyond-the-memory-wall.md

    @Test func exercise7KVBudgetOfMHAGQAAndMLA() throws {
        let key = try Self.exercise(7, in: "beyond-the-memory-wall.md")
        for (deployment, line) in [(["--hardware", "nvidia-h100-sxm", "--model", "llama-2-7b"],
                                    "KV cache: 524,288 B per token (0.5000 MiB) = 2 × 32 layers × 32 KV heads × 128 × 2.000 B"),
                                   (["--hardware", "nvidia-h100-sxm", "--model", "llama-3.1-8b"],
                                    "KV cache: 131,072 B per token (0.1250 MiB) = 2 × 32 layers × 8 KV heads × 128 × 2.000 B"),
                                   (["--hardware", "hgx-h200", "--model", "llama-3.1-405b", "--tp", "8", "--weights", "fp8"],
                                    "KV cache: 516,096 B per token (0.4922 MiB) = 2 × 126 layers × 8 KV heads × 128 × 2.000 B"),
                                   (["--hardware", "hgx-h200", "--model", "deepseek-v3", "--tp", "8", "--weights", "fp8"],
                                    "KV cache: 70,272 B per token (0.0670 MiB) = 61 layers × 576 latent elements (MLA) × 2.000 B")] {
            let explain = try Self.output(["explain"] + deployment)
            Self.expectLine(line, in: explain, key: key)
        }
        typealias Row = (label: String, deployment: [String], perToken: String, perGPU: String, weights: String,
                         kv32k: String, batch32k: String, kv128k: String, batch128k: String)
        let rows: [Row] = [
            ("Llama-3.1-8B, 1 × H100", ["--hardware", "nvidia-h100-sxm", "--model", "llama-3.1-8b"],
             "131,072", "131,072", "16.06", "4.29", "12", "17.18", "3"),
            ("Llama-3.1-405B FP8, 8 × H200", ["--hardware", "hgx-h200", "--model", "llama-3.1-405b", "--tp", "8", "--weights", "fp8"],
             "516,096", "64,512", "50.74", "2.11", "35", "8.46", "8"),
            ("DeepSeek-V3 FP8, 8 × H200", ["--hardware", "hgx-h200", "--model", "deepseek-v3", "--tp", "8", "--weights", "fp8"],
             "70,272", "70,272", "84.78", "2.30", "18", "9.21", "4"),
        ]
        for r in rows {
            let short = try Self.json(["predict"] + r.deployment + ["--input", "128", "--output", "32640"])
            let long = try Self.json(["predict"] + r.deployment + ["--input", "128", "--output", "130944"])
            Self.expectRow("| \(r.label) | \(r.perToken) B | \(r.perGPU) B | \(r.weights) GB | \(r.kv32k) GB | \(r.batch32k) | \(r.kv128k) GB | \(r.batch128k) |",
                           [(r.perToken, Self.number(short, "kv_bytes_per_token")), (r.perGPU, Self.number(short, "kv_bytes_per_token_per_device")),
                            (r.weights, Self.gigabytes(short, "weights_bytes_per_device")),
                            (r.kv32k, Self.gigabytes(short, "kv_bytes_per_device")), (r.batch32k, Self.number(short, "max_batch")),
                            (r.kv128k, Self.gigabytes(long, "kv_bytes_per_device")), (r.batch128k, Self.number(long, "max_batch"))],
                           in: key)
        }
        let mha = try CLI.run(["predict", "--hardware", "nvidia-h100-sxm", "--model", "llama-2-7b", "--input", "128", "--output", "32640"])
        #expect(mha.status == 2)
        Self.expectLine("error: --input/--output: expected a prompt plus output of at most 4096 tokens (llama-2-7b's context), found 128 + 32640 = 32768",
                        in: mha.stderr, key: key)
    }

    @Test func exercise8TheCommunicationWall() throws {
        let key = try Self.exercise(8, in: "beyond-the-memory-wall.md")
        typealias Row = (tp: Int, pp: Int, label: String, weights: String, floor: String, allReduces: String, step: String,
                         tpot: String, tokens: String, perGPU: String)
        let rows: [Row] = [
            (1, 1, "| 1 | 1 |", "16.06", "4.480", "–", "7.621", "7.624", "131.1", "131.1"),
            (2, 1, "| 2 | 2 |", "8.03", "2.240", "0.245", "5.226", "5.227", "191.2", "95.6"),
            (4, 1, "| 4 | 4 |", "4.02", "1.120", "0.348", "4.009", "4.010", "249.1", "62.3"),
            (8, 1, "| 8 | 8 |", "2.01", "0.560", "0.553", "3.554", "3.555", "281.0", "35.1"),
            (16, 1, "| 16 | 16 |", "1.04", "0.290", "1.220", "3.904", "3.904", "255.8", "16.0"),
            (8, 2, "| 8 × 2 | 16 |", "1.00", "0.560", "0.557", "3.559", "3.559", "280.7", "17.5"),
        ]
        for r in rows {
            let deployment = ["--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--tp", "\(r.tp)", "--pp", "\(r.pp)"]
            let explain = try Self.json(["explain"] + deployment)
            let predict = try Self.json(["predict"] + deployment)
            let allReduces = r.tp == 1 ? "–" : r.pp == 1 ? "\(r.allReduces) ms" : "\(r.allReduces) ms (with the pipeline hop)"
            var cells: [(String, Double?)] = [(r.weights, Self.gigabytes(explain, "weights_bytes_per_device")),
                                              (r.floor, Self.number(explain, "decode_weight_floor_ms")),
                                              (r.step, Self.number(explain, "decode.time_ms")), (r.tpot, Self.number(predict, "tpot_ms")),
                                              (r.tokens, Self.number(predict, "output_tokens_per_s")),
                                              (r.perGPU, Self.number(predict, "output_tokens_per_s").map { $0 / Double(r.tp * r.pp) })]
            if r.tp == 1 { #expect(Self.number(explain, "decode.communication_ms") == 0) } else {
                cells.append((r.allReduces, Self.number(explain, "decode.communication_ms")))
            }
            Self.expectRow("\(r.label) \(r.weights) GB | \(r.floor) ms | \(allReduces) | \(r.step) ms | \(r.tpot) ms | \(r.tokens) | \(r.perGPU) |",
                           cells, in: key)
        }
        let tp16 = try Self.output(["explain", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--tp", "16"])
        for line in ["step: 3.904 ms, overhead-bound; MFU 0.0%, MBU 7.5%; ridge point 295.3 FLOP/B (operators above it are compute-bound at peak)",
                     "  in all: 1.220 ms a step (31.3% of 3.904 ms)",
                     "Weights: 1.04 GB held per device; a decode step streams 0.97 GB, which at peak bandwidth takes 0.290 ms: the floor of every decode step (3447.8 tokens/s per sequence at most)"] {
            Self.expectLine(line, in: tp16, key: key)
        }
    }

    @Test func exercise9SpeculationsBreakEvenBatch() throws {
        let key = try Self.exercise(9, in: "beyond-the-memory-wall.md")
        let heads = ["speculate", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-8b", "--draft-heads", "--context", "128",
                     "--batches", "1,32,64,128,160,192,224,256,512"]
        // The a = 0.8 table, quoted whole (all but the deployment line).
        let table = try Self.output(heads).split(separator: "\n").dropFirst().map(String.init)
        #expect(table.count == 13)
        for line in table { #expect(key.contains(line), "the key lacks \"\(line)\"") }
        for (acceptance, tokens, first, stops, last) in [("0.6", "2.306", "1.78", "128", "0.59"), ("0.8", "3.362", "2.59", "224", "0.86"),
                                                         ("0.9", "4.095", "3.16", nil, "1.04")] as [(String, String, String, String?, String)] {
            let o = try Self.json(heads + ["--acceptance", acceptance])
            let batches = try #require(o["batches"] as? [[String: Any]])
            let row = "| \(acceptance) | \(tokens) | \(first)× | \(stops ?? "pays at every batch listed") | \(last)× |"
            var cells = [(tokens, Self.number(o, "expected_tokens_per_verification")), (first, Self.number(batches.first ?? [:], "speedup")),
                         (last, Self.number(batches.last ?? [:], "speedup"))]
            if let stops { cells.append((stops, Self.number(o, "stops_paying_at_batch"))) } else { #expect(o["stops_paying_at_batch"] is NSNull) }
            Self.expectRow(row, cells, in: key)
        }
        let draft = try Self.json(["speculate", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-70b", "--tp", "4",
                                   "--draft-model", "llama-3-8b", "--batches", "1,32,48,56,64"])
        let draftBatches = try #require(draft["batches"] as? [[String: Any]])
        let at56 = try #require(draftBatches.first { Self.number($0, "batch") == 56 })
        Self.expectQuote("1.19", is: Self.number(draftBatches.first ?? [:], "speedup"), in: key, phrase: "speed-up 1.19× at batch 1")
        Self.expectQuote("56", is: Self.number(draft, "stops_paying_at_batch"), in: key, phrase: "stops paying at batch 56")
        Self.expectQuote("18.613", is: Self.number(at56, "tpot_speculative_ms"), in: key)
        Self.expectQuote("18.552", is: Self.number(at56, "tpot_plain_ms"), in: key)
        let headsOn70B = try Self.json(["speculate", "--hardware", "nvidia-h100-sxm", "--model", "llama-3-70b", "--tp", "4", "--draft-heads"])
        let headsBatches = try #require(headsOn70B["batches"] as? [[String: Any]])
        Self.expectQuote("3.07", is: Self.number(headsBatches.first ?? [:], "speedup"), in: key, phrase: "gains 3.07× at batch 1")
        Self.expectQuote("256", is: Self.number(headsOn70B, "stops_paying_at_batch"), in: key, phrase: "stops paying only at batch 256")
    }

    @Test func exercise10GPUvsPIMvsSRAM() throws {
        let key = try Self.exercise(10, in: "beyond-the-memory-wall.md")
        typealias Row = (label: String, hardware: [String], devices: String, tpot: String, bound: String, tokens: String, joules: String)
        let batch1: [Row] = [
            ("H100 SXM", ["nvidia-h100-sxm"], "1", "7.055", "memory", "141.7", "1.651"),
            ("MI100 + HBM-PIM, placement none", ["amd-mi100-hbm-pim", "--pim-placement", "none"], "1", "16.86", "memory", "59.3", "3.516"),
            ("MI100 + HBM-PIM, decodeInMemory", ["amd-mi100-hbm-pim", "--pim-placement", "decodeInMemory"], "1", "5.893", "memory", "169.0", "0.968"),
            ("A100-HBM3 + AttAcc, placement none", ["attacc-a100-hbm3", "--pim-placement", "none"], "1", "7.052", "memory", "141.6", "1.220"),
            ("A100-HBM3 + AttAcc, attentionInMemory", ["attacc-a100-hbm3", "--pim-placement", "attentionInMemory"], "1", "6.966", "memory", "143.3", "1.211"),
            ("Groq LPU", ["groq-lpu"], "68 chips", "1.257", "compute", "786.5", "6.526"),
            ("Cerebras WSE-3", ["cerebras-wse-3"], "1 wafer", "0.893", "compute", "1,106.8", "7.244"),
        ]
        for r in batch1 {
            let o = try Self.json(["predict", "--hardware"] + r.hardware + ["--model", "llama-2-7b", "--input", "128", "--output", "512"])
            #expect(o["decode_bound"] as? String == r.bound, "\(r.label)")
            Self.expectRow("| \(r.label) | \(r.devices) | \(r.tpot) ms | \(r.bound) | \(r.tokens) | \(r.joules) |",
                           [(r.devices, Self.number(o, "devices")), (r.tpot, Self.number(o, "tpot_ms")),
                            (r.tokens, Self.number(o, "output_tokens_per_s")), (r.joules, Self.number(o, "joules_per_output_token"))],
                           in: key)
        }
        let pim = try Self.output(["explain", "--hardware", "amd-mi100-hbm-pim", "--model", "llama-2-7b", "--pim-placement", "decodeInMemory"])
        Self.expectLine("Execution model pimHybrid, placement decodeInMemory: memory computes at 4.92 TB/s inside the banks (4.0× the 1.229 TB/s the host reads) with 4.80 TFLOP/s of MACs",
                        in: pim, key: key)
        // MBU and the floors count the in-memory operators' bytes at the banks' bandwidth.
        let pimJSON = try Self.json(["explain", "--hardware", "amd-mi100-hbm-pim", "--model", "llama-2-7b", "--pim-placement", "decodeInMemory"])
        Self.expectQuote("2.686", is: Self.number(pimJSON, "decode_weight_floor_ms"), in: key, phrase: "2.686 ms")
        Self.expectQuote("46.2", is: Self.number(pimJSON, "decode.mbu").map { $0 * 100 }, in: key, phrase: "46.2 %")

        typealias LongRow = (label: String, hardware: [String], devices: String, tpot: String, tokens: String, joules: String, largest: String)
        let batch16: [LongRow] = [
            ("H100 SXM", ["nvidia-h100-sxm"], "1", "16.09", "974.7", "0.299", "24"),
            ("A100-HBM3 + AttAcc, placement none", ["attacc-a100-hbm3", "--pim-placement", "none"], "1", "16.08", "936.5", "0.233", "57"),
            ("A100-HBM3 + AttAcc, attentionInMemory", ["attacc-a100-hbm3", "--pim-placement", "attentionInMemory"], "1", "7.718", "1,832.8", "0.135", "36"),
            ("Groq LPU", ["groq-lpu"], "233 chips", "0.626", "24,681.6", "0.769", "16"),
            ("Cerebras WSE-3", ["cerebras-wse-3"], "2 wafers", "0.553", "27,778.6", "0.603", "30"),
        ]
        let long = ["--model", "llama-2-7b", "--batch", "16", "--input", "2048", "--output", "2048"]
        for r in batch16 {
            let o = try Self.json(["predict", "--hardware"] + r.hardware + long)
            #expect(o["fits"] as? Bool == true, "\(r.label)")
            Self.expectRow("| \(r.label) | \(r.devices) | \(r.tpot) ms | \(r.tokens) | \(r.joules) | \(r.largest) |",
                           [(r.devices, Self.number(o, "devices")), (r.tpot, Self.number(o, "tpot_ms")),
                            (r.tokens, Self.number(o, "output_tokens_per_s")), (r.joules, Self.number(o, "joules_per_output_token")),
                            (r.largest, Self.number(o, "max_batch"))],
                           in: key)
        }
        let mi100 = try Self.json(["predict", "--hardware", "amd-mi100-hbm-pim", "--pim-placement", "decodeInMemory"] + long)
        #expect(mi100["fits"] as? Bool == false)
        Self.expectRow("| MI100 + HBM-PIM, decodeInMemory | 1 | does not fit | | | 3 |", [("3", Self.number(mi100, "max_batch"))], in: key)
    }

    // MARK: - Helpers

    /// The text of exercise `number` in `docs/exercises/file`: from its `## N.` heading to the next heading.
    static func exercise(_ number: Int, in file: String) throws -> String {
        let text = try String(contentsOfFile: CLI.repoRoot + "/docs/exercises/" + file, encoding: .utf8)
        let start = try #require(text.range(of: "\n## \(number). "), "no exercise \(number) in \(file)")
        let rest = text[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)])
    }

    /// The standard output of a successful `infersim` run.
    static func output(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try CLI.run(arguments)
        #expect(r.status == 0, "infersim \(arguments.joined(separator: " ")): \(r.stderr)", sourceLocation: sourceLocation)
        return r.stdout
    }

    /// The JSON object a successful `infersim … --json` run prints.
    static func json(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let out = try output(arguments + ["--json"], sourceLocation: sourceLocation)
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], sourceLocation: sourceLocation)
    }

    /// The number at a dotted key path (`decode.time_ms`), nil when absent or not a number.
    static func number(_ object: [String: Any], _ path: String) -> Double? {
        var current: Any? = object
        for key in path.split(separator: ".") { current = (current as? [String: Any])?[String(key)] }
        return (current as? NSNumber)?.doubleValue
    }

    static func gigabytes(_ object: [String: Any], _ path: String) -> Double? { number(object, path).map { $0 / 1e9 } }
    static func percent(_ object: [String: Any], _ path: String) -> Double? { number(object, path).map { $0 * 100 } }

    /// A line the tool prints, quoted verbatim in the key.
    static func expectLine(_ line: String, in output: String, key: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let printed = output.contains(line), quoted = key.contains(line)  // (not in #expect, which would print both texts)
        #expect(printed, "the tool no longer prints \"\(line)\"", sourceLocation: sourceLocation)
        #expect(quoted, "the answer key lacks \"\(line)\"", sourceLocation: sourceLocation)
    }

    /// `quoted` ("7.624", "1,018.2", "58.9") is the tool's `value` at the quote's rounding, and the
    /// key contains `phrase` (by default the quote itself).
    static func expectQuote(_ quoted: String, is value: Double?, in key: String, phrase: String? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        let phrase = phrase ?? quoted
        #expect(phrase.contains(quoted), sourceLocation: sourceLocation)
        let quotedInKey = key.contains(phrase)
        #expect(quotedInKey, "the answer key lacks \"\(phrase)\"", sourceLocation: sourceLocation)
        expectClose(quoted, value, sourceLocation: sourceLocation)
    }

    /// `row` is a line of a table in the key, and each cell quoted in it is the tool's value.
    static func expectRow(_ row: String, _ cells: [(String, Double?)], in key: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let rowInKey = key.contains(row)
        #expect(rowInKey, "the answer key lacks the row \"\(row)\"", sourceLocation: sourceLocation)
        for (quoted, value) in cells {
            #expect(row.contains(quoted), sourceLocation: sourceLocation)
            expectClose(quoted, value, sourceLocation: sourceLocation)
        }
    }

    /// The number in `quoted` (digits, point and sign; commas and units ignored) equals `value`
    /// to within half a unit of its last printed digit.
    static func expectClose(_ quoted: String, _ value: Double?, sourceLocation: SourceLocation = #_sourceLocation) {
        let digits = quoted.filter { "0123456789.-".contains($0) }
        guard let printed = Double(digits), let value else {
            Issue.record("no number to compare: \"\(quoted)\" against \(String(describing: value))", sourceLocation: sourceLocation)
            return
        }
        let decimals = digits.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        let tolerance = 0.5 * pow(10, -Double(decimals)) * (1 + 1e-9)
        #expect(abs(value - printed) <= tolerance, "the key says \(quoted), the tool \(value)", sourceLocation: sourceLocation)
    }
}
