import Diagnostics
import Foundation
import Testing
import DiscreteEvent
import HardwareModel
@testable import Serving

/// `data/traces/` in the repository, found from this file's path.
let traceDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("data/traces").path
}()

func tracePath(_ name: String) -> String? {
    let path = traceDirectory + "/" + name
    return FileManager.default.fileExists(atPath: path) ? path : nil
}

func readAll(_ text: String, _ format: TraceFormat, skipBadRows: Bool = false) throws -> [RequestSpec] {
    var reader = TraceReader(text: text, name: "fixture", format: format, skipBadRows: skipBadRows)
    return try reader.collectAll()
}

@Test func azureTimestampsBecomeExactNanosecondOffsetsFromTheFirstRow() throws {
    let text = """
    TIMESTAMP,ContextTokens,GeneratedTokens\r
    2023-11-16 18:17:03.9799600,4808,10\r
    2023-11-16 18:17:04.0319600,3180,8\r
    2023-11-16 23:59:59.9999999,5,6\r
    2023-11-17 00:00:00.0000001,7,1
    """
    let requests = try readAll(text, .azure2023)
    #expect(requests.map(\.id) == [0, 1, 2, 3])
    #expect(requests[0].arrival == .zero)
    #expect(requests[1].arrival.nanoseconds == 52_000_000)
    // 18:17:03.97996 -> 23:59:59.9999999 = 20576.0200399 s
    #expect(requests[2].arrival.nanoseconds == 20_576_020_039_900)
    // Crossing midnight: 200 ns later.
    #expect(requests[3].arrival.nanoseconds - requests[2].arrival.nanoseconds == 200)
    #expect(requests[0].promptTokens == 4808 && requests[0].outputTokens == 10)
    #expect(requests[3].outputTokens == 1)
}

@Test func mooncakeRowsCarryPrefixHashesOf512TokenBlocks() throws {
    let text = """
    {"timestamp": 0, "input_length": 1000, "output_length": 5, "hash_ids": [0, 1]}
    {"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48]}
    {"timestamp": 27482.5, "input_length": 3, "output_length": 1, "hash_ids": []}
    """
    let requests = try readAll(text, .mooncake)
    #expect(requests.count == 3)
    #expect(requests[1].arrival.nanoseconds == 27_482_000_000)
    #expect(requests[2].arrival.nanoseconds == 27_482_500_000)
    #expect(requests[1].prefixHashes == [46, 47, 48])
    #expect(requests[1].prefixBlockTokens == 512)
    #expect(requests[2].prefixHashes.isEmpty && requests[2].prefixBlockTokens == 0)
}

@Test func inferSimCSVReadsOptionalSessionAndPriorityInAnyColumnOrder() throws {
    let text = """
    prompt_tokens,arrival_s,output_tokens,priority,session
    512,0.125,64,1,7
    10, 1.000000001 ,2,,
    11,2,3,0,9
    """
    let r = try readAll(text, .csv)
    #expect(r.count == 3)
    #expect(r[0].arrival.nanoseconds == 125_000_000 && r[0].promptTokens == 512 && r[0].outputTokens == 64)
    #expect(r[0].priority == 1 && r[0].session == 7)
    #expect(r[1].arrival.nanoseconds == 1_000_000_001 && r[1].session == nil && r[1].priority == 0)
    #expect(r[2].arrival.nanoseconds == 2_000_000_000 && r[2].session == 9)
}

@Test func inferSimJSONLReadsTheSameKeys() throws {
    let text = """
    {"arrival_s": 0.5, "prompt_tokens": 100, "output_tokens": 10}
    {"arrival_s": 1.5e0, "prompt_tokens": 100, "output_tokens": 10, "session": 3, "priority": 2, "prefix_hashes": [1, 2], "prefix_block_tokens": 16}

    {"arrival_s": 2, "prompt_tokens": 1, "output_tokens": 1, "session": null}
    """
    let r = try readAll(text, .jsonl)
    #expect(r.count == 3)
    #expect(r[0].arrival.nanoseconds == 500_000_000)
    #expect(r[1].arrival.nanoseconds == 1_500_000_000 && r[1].session == 3 && r[1].priority == 2)
    #expect(r[1].prefixHashes == [1, 2] && r[1].prefixBlockTokens == 16)
    #expect(r[2].session == nil)
}

/// Reads until the first error and returns it.
func firstError(_ text: String, _ format: TraceFormat) -> InputError? {
    do { _ = try readAll(text, format); return nil } catch let e as InputError { return e } catch { return nil }
}

@Test func badRowsNameTheFileLineFieldAndWhatWasFound() throws {
    let header = "arrival_s,prompt_tokens,output_tokens\n"
    let zeroOutput = try #require(firstError(header + "0,10,5\n1,10,0\n", .csv))
    #expect(zeroOutput.file == "fixture" && zeroOutput.location == "line 3")
    #expect(zeroOutput.message.contains("output_tokens") && zeroOutput.message.contains(">= 1") && zeroOutput.message.contains("\"0\""))

    let negative = try #require(firstError(header + "0,-4,5\n", .csv))
    #expect(negative.location == "line 2" && negative.message.contains("prompt_tokens") && negative.message.contains("\"-4\""))

    let nonNumeric = try #require(firstError(header + "0,10,5\nabc,10,5\n", .csv))
    #expect(nonNumeric.location == "line 3" && nonNumeric.message.contains("arrival_s") && nonNumeric.message.contains("non-numeric"))

    let missing = try #require(firstError(header + "0,10\n", .csv))
    #expect(missing.location == "line 2" && missing.message.contains("output_tokens") && missing.message.contains("missing"))

    let backwards = try #require(firstError(header + "5,10,5\n4.5,10,5\n", .csv))
    #expect(backwards.location == "line 3" && backwards.message.contains("backwards") && backwards.message.contains("4.5"))

    let azure = try #require(firstError("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,4808,10\n2023-13-16 18:17:04,1,1\n", .azure2023))
    #expect(azure.location == "line 3" && azure.message.contains("TIMESTAMP"))

    let mooncake = try #require(firstError("{\"timestamp\": 0, \"input_length\": 5, \"output_len\": 3}\n", .mooncake))
    #expect(mooncake.location == "line 1" && mooncake.message.contains("unknown key") && mooncake.message.contains("output_len"))

    let mooncakeMissing = try #require(firstError("{\"timestamp\": 0, \"input_length\": 5}\n", .mooncake))
    #expect(mooncakeMissing.message.contains("output_length") && mooncakeMissing.message.contains("missing"))

    // A key given twice in a row is an error (a later value would silently win), in both JSONL formats.
    let twice = try #require(firstError("{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 3, \"input_length\": 7}\n", .mooncake))
    #expect(twice.location == "line 1" && twice.message == "duplicate key 'input_length'; give each key once")
    let twiceJSONL = try #require(firstError("{\"arrival_s\": 0, \"prompt_tokens\": 5, \"output_tokens\": 3, \"arrival_s\": 1}\n", .jsonl))
    #expect(twiceJSONL.message.contains("duplicate key 'arrival_s'"))
    // A syntax error names its column.
    let column = try #require(firstError("{\"timestamp\": 0 \"input_length\": 5}\n", .mooncake))
    #expect(column.origin == .line(file: "fixture", line: 1, column: 17), "\(column)")

    let header2 = try #require(firstError("arrival,prompt_tokens,output_tokens\n1,1,1\n", .csv))
    #expect(header2.location == "line 1" && header2.message.contains("arrival_s"))

    #expect(firstError("", .csv)?.message.contains("empty trace") == true)
}

@Test func skipBadRowsCountsThemAndKeepsTheFirstReasons() throws {
    let text = """
    arrival_s,prompt_tokens,output_tokens
    0,10,5
    1,10,0
    2,x,5
    3,10,5
    2.5,10,5
    4,10,5
    """
    var reader = TraceReader(text: text, name: "t.csv", format: .csv, skipBadRows: true)
    let rows = try reader.collectAll()
    #expect(rows.map(\.arrival.nanoseconds) == [0, 3_000_000_000, 4_000_000_000])
    #expect(rows.map(\.id) == [0, 1, 2])
    #expect(reader.skippedRows == 3)
    #expect(reader.outOfOrderRows == 1)
    #expect(reader.skipReasons.map(\.location) == ["line 3", "line 4", "line 6"])
    #expect(reader.skippedRowReasons.first == "t.csv: line 3: field 'output_tokens': expected an integer >= 1, found \"0\"")
    // Transformers forward the count and the first reasons; a repeat keeps at most `keptReasons` over all passes.
    let open = { TraceReader(text: text, name: "t.csv", format: .csv, skipBadRows: true) as any RequestSource }
    var repeated: any RequestSource = Limited(TimeScaled(Repeated(times: 2, makeSource: open), rateMultiplier: 2), count: 100)
    _ = try repeated.collectAll()
    #expect(repeated.skippedRows == 6)
    #expect(repeated.skippedRowReasons.map { $0.split(separator: ":")[1] } == [" line 3", " line 4", " line 6", " line 3", " line 4"])
    // A wrong header is never skippable.
    var bad = TraceReader(text: "a,b,c\n1,2,3\n", name: "t.csv", format: .csv, skipBadRows: true)
    #expect(throws: InputError.self) { _ = try bad.next() }
}

@Test func readerStreamsLinesLongerThanItsBuffer() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-workload-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("long.jsonl").path
    let hashes = (0..<3000).map(String.init).joined(separator: ", ")
    var text = ""
    for i in 0..<50 { text += "{\"timestamp\": \(i * 10), \"input_length\": 1536000, \"output_length\": 2, \"hash_ids\": [\(hashes)]}\n" }
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    var reader = try TraceReader(path: path, format: .mooncake)
    var count = 0
    while let r = try reader.next() {
        #expect(r.prefixHashes.count == 3000 && r.prefixHashes.last == 2999)
        #expect(r.arrival.nanoseconds == Int64(count) * 10_000_000)
        count += 1
    }
    #expect(count == 50)
    #expect(throws: InputError.self) { _ = try TraceReader(path: dir.appendingPathComponent("missing.csv").path, format: .csv) }
}

@Test(arguments: [
    ("azure2023_AzureLLMInferenceTrace_code.csv", TraceFormat.azure2023, 8_819, 3435.9),
    ("azure2023_AzureLLMInferenceTrace_conv.csv", TraceFormat.azure2023, 19_366, 3501.7),
    ("mooncake_fast25_conversation_trace.jsonl", TraceFormat.mooncake, 12_031, 3536.999),
    ("mooncake_fast25_synthetic_trace.jsonl", TraceFormat.mooncake, 3_993, 1022.025),
])
func realTracesHaveTheDocumentedRowCountsAndSpans(file: String, format: TraceFormat, rows: Int, spanSeconds: Double) throws {
    guard let path = tracePath(file) else { return } // data not checked out: nothing to compare
    var reader = try TraceReader(path: path, format: format)
    var count = 0
    var last = SimInstant.zero
    var promptSum = 0
    while let r = try reader.next() {
        #expect(r.id == count)
        #expect(r.arrival >= last)
        if format == .mooncake {
            #expect(r.prefixHashes.count == (r.promptTokens + 511) / 512)
        }
        last = r.arrival
        promptSum += r.promptTokens
        count += 1
    }
    #expect(count == rows)
    #expect(reader.skippedRows == 0)
    #expect(abs(last.seconds - spanSeconds) < 0.06)
}

@Test func realAzureConvMeanPromptMatchesTheREADME() throws {
    guard let path = tracePath("azure2023_AzureLLMInferenceTrace_conv.csv") else { return }
    var reader = try TraceReader(path: path, format: .azure2023)
    var prompt = 0, output = 0, n = 0
    while let r = try reader.next() { prompt += r.promptTokens; output += r.outputTokens; n += 1 }
    #expect(abs(Double(prompt) / Double(n) - 1154.7) < 0.05)
    #expect(abs(Double(output) / Double(n) - 211.1) < 0.05)
}

@Test func lineReaderRefillsAndGrowsAcrossBufferBoundaries() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-lines-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var rng = SeededGenerator(seed: 4)
    var lines: [String] = []
    for i in 0..<500 {
        let length = Int(rng.nextInt(below: 200))
        lines.append(String(repeating: Character(UnicodeScalar(UInt8(97 + i % 26))), count: length))
    }
    for (name, text) in [("lf", lines.joined(separator: "\n")), ("crlf", lines.joined(separator: "\r\n") + "\r\n")] {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        for bufferBytes in [64, 100, 4096] {
            let reader = try LineReader(path: path, bufferBytes: bufferBytes)
            var got: [String] = []
            while let line = try reader.nextLine() { got.append(String(decoding: line, as: UTF8.self)) }
            // A trailing empty line is dropped only when the last line has a terminator.
            #expect(got == lines, "\(name), buffer \(bufferBytes)")
            #expect(reader.lineNumber == lines.count)
        }
    }
}

@Test func randomGarbageNeverCrashesAReader() throws {
    let alphabet = Array("0123456789-+.,:eE {}[]\"nul\t\r:TIMESTAMP2023-11-16 arrival_s,prompt_tokens,output_tokens timestamp input_length".utf8)
    var rng = SeededGenerator(seed: 99)
    for format in TraceFormat.allCases {
        let header: String
        switch format {
        case .azure2023: header = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        case .csv: header = "arrival_s,prompt_tokens,output_tokens,session,priority\n"
        case .mooncake, .jsonl: header = ""
        }
        for _ in 0..<200 {
            var bytes = Array(header.utf8)
            for _ in 0..<Int(rng.nextInt(below: 20)) {
                for _ in 0..<Int(rng.nextInt(below: 60)) { bytes.append(alphabet[Int(rng.nextInt(below: UInt64(alphabet.count)))]) }
                bytes.append(0x0A)
            }
            let text = String(decoding: bytes, as: UTF8.self)
            var lenient = TraceReader(text: text, name: "fuzz", format: format, skipBadRows: true)
            var previous = SimInstant(nanoseconds: -1)
            while let r = try lenient.next() {
                #expect(r.arrival >= previous && r.promptTokens >= 1 && r.outputTokens >= 1)
                previous = r.arrival
            }
            var strict = TraceReader(text: text, name: "fuzz", format: format)
            do { while try strict.next() != nil {} } catch is InputError {} // errors are fine; crashes are not
        }
    }
}
