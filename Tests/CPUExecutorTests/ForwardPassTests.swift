import Testing
import GGUF
import TestSupport
@testable import CPUExecutor

/// The executor on random-weight TinyLlama models against the scalar reference, and its
/// batching/chunking invariants.
struct ForwardPassTests {
    static let prompt: [Int32] = [1, 40, 280, 7, 99, 250, 12, 5, 77, 200, 3, 150]

    func model(_ weightType: GGMLType, embedding: GGMLType = .f32, seed: UInt64 = 5) throws -> LlamaModel {
        let config = TinyLlamaConfig(weightType: weightType, embeddingType: embedding)
        return try LlamaModel(file: GGUFFile(bytes: TinyLlama.make(seed: seed, config: config)))
    }

    @Test(arguments: [GGMLType.f32, .q4_1, .q8_0])
    func fp32ModeMatchesScalarReference(weightType: GGMLType) throws {
        let m = try model(weightType, embedding: weightType == .f32 ? .f32 : .q8_0)
        var reference = try ReferenceLlama(file: m.file)
        let session = InferenceSession(model: m, options: .float32(threads: 2))
        for (i, t) in Self.prompt.enumerated() {
            let expected = reference.step(t)
            try session.forward(tokens: [t], positions: i ..< i + 1, sequence: 0)
            #expect(maxAbsDifference(Array(session.logits(row: 0)), expected) < 2e-3, "position \(i)")
        }
    }

    @Test func quantizedModeStaysCloseToScalarReference() throws {
        let m = try model(.q4_1, embedding: .q8_0)
        var reference = try ReferenceLlama(file: m.file)
        let session = InferenceSession(model: m, options: .init(threads: 2))
        var last: [Float] = []
        for t in Self.prompt { last = reference.step(t) }
        let logits = try session.forward(tokens: Self.prompt)
        let spread = (last.max()! - last.min()!)
        #expect(maxAbsDifference(logits, last) < 0.05 * spread)
    }

    @Test(arguments: [InferenceSession.ActivationPrecision.quantized8, .float32])
    func chunkedPrefillEqualsTokenByToken(precision: InferenceSession.ActivationPrecision) throws {
        let m = try model(.q4_1, embedding: .q8_0)
        let chunked = InferenceSession(model: m, options: .init(maxBatchTokens: 5, threads: 2, precision: precision))
        let single = InferenceSession(model: m, options: .init(maxBatchTokens: 1, threads: 1, precision: precision))
        let a = try chunked.forward(tokens: Self.prompt)
        var b: [Float] = []
        for t in Self.prompt { b = try single.forward(tokens: [t]) }
        #expect(maxAbsDifference(a, b) < 1e-4)
    }

    /// Truncating a sequence keeps its first positions cached: decoding after `truncate(to: k)`
    /// gives the logits of a session that only ever held those `k` tokens; a length beyond what
    /// is cached, or a bad sequence, is an error that changes nothing.
    @Test func truncateKeepsThePrefixAndForgetsTheRest() throws {
        let m = try model(.q4_1, embedding: .q8_0)
        let long = InferenceSession(model: m, options: .init(threads: 2))
        _ = try long.forward(tokens: Self.prompt)
        try long.truncate(sequence: 0, to: 5)
        #expect(long.sequenceLengths[0] == 5)
        let afterTruncate = try long.forward(tokens: [42])
        let short = InferenceSession(model: m, options: .init(threads: 2))
        _ = try short.forward(tokens: Array(Self.prompt.prefix(5)))
        let fresh = try short.forward(tokens: [42])
        #expect(afterTruncate == fresh)
        #expect(throws: ExecutorError.self) { try long.truncate(sequence: 0, to: 7) }
        #expect(throws: ExecutorError.self) { try long.truncate(sequence: 1, to: 0) }
        #expect(long.sequenceLengths[0] == 6)
    }

    @Test func batchedDecodeEqualsSequentialDecode() throws {
        let m = try model(.q4_1, embedding: .q8_0)
        let prompts: [[Int32]] = [[1, 40, 280], [1, 7, 99, 250, 12], [5]]
        let batched = InferenceSession(model: m, options: .init(maxSequences: 3, threads: 2))
        for (s, p) in prompts.enumerated() { _ = try batched.forward(tokens: p, sequence: s) }
        var next: [Int32] = [10, 20, 30]
        var batchedLogits: [[[Float]]] = [[], [], []]
        for _ in 0 ..< 4 {
            try batched.decodeBatch(tokens: next, sequences: [0, 1, 2])
            for s in 0 ..< 3 { batchedLogits[s].append(Array(batched.logits(row: s))) }
            next = (0 ..< 3).map { Sampler.argmax(batched.logits(row: $0)) }
        }
        for (s, p) in prompts.enumerated() {
            let solo = InferenceSession(model: m, options: .init(threads: 1))
            _ = try solo.forward(tokens: p)
            var token: Int32 = [10, 20, 30][s]
            for step in 0 ..< 4 {
                let logits = try solo.forward(tokens: [token])
                #expect(maxAbsDifference(logits, batchedLogits[s][step]) < 1e-4, "sequence \(s) step \(step)")
                token = Sampler.argmax(solo.logits(row: 0))
            }
        }
    }

    /// A mixed step (decodes of some sequences, prompt chunks of others, a fresh prompt) gives
    /// each entry the logits it gets when run alone, and leaves every cache as the separate runs
    /// would: the next decode matches too.
    @Test(arguments: [InferenceSession.ActivationPrecision.quantized8, .float32])
    func mixedStepEqualsRunningEachEntrySeparately(precision: InferenceSession.ActivationPrecision) throws {
        let m = try model(.q4_1, embedding: .q8_0)
        let prefixes: [[Int32]] = [[1, 40, 280], [1, 7, 99, 250, 12], [5], []]
        let entries: [[Int32]] = [[10], [33, 44, 55, 66], [20], [2, 9, 17, 250, 101]]
        let mixed = InferenceSession(model: m, options: .init(maxSequences: 4, maxBatchTokens: 16, threads: 2, precision: precision))
        for (s, p) in prefixes.enumerated() where !p.isEmpty { _ = try mixed.forward(tokens: p, sequence: s) }
        try mixed.forward(entries.enumerated().map { s, tokens in
            InferenceSession.BatchEntry(sequence: s, tokens: tokens, startPosition: prefixes[s].count)
        })
        #expect(mixed.sequenceLengths == zip(prefixes, entries).map { $0.count + $1.count })
        let mixedLogits = (0 ..< 4).map { Array(mixed.logits(row: $0)) }
        let next: [Int32] = [3, 4, 5, 6]
        try mixed.decodeBatch(tokens: next, sequences: [0, 1, 2, 3])
        let nextLogits = (0 ..< 4).map { Array(mixed.logits(row: $0)) }
        for s in 0 ..< 4 {
            let solo = InferenceSession(model: m, options: .init(maxBatchTokens: 16, threads: 1, precision: precision))
            if !prefixes[s].isEmpty { _ = try solo.forward(tokens: prefixes[s]) }
            let alone = entries[s].count == 1 ? try decodeOne(solo, entries[s][0]) : try solo.forward(tokens: entries[s])
            #expect(maxAbsDifference(alone, mixedLogits[s]) < 1e-4, "sequence \(s)")
            #expect(maxAbsDifference(try decodeOne(solo, next[s]), nextLogits[s]) < 1e-4, "sequence \(s), next decode")
        }
    }

    private func decodeOne(_ session: InferenceSession, _ token: Int32) throws -> [Float] {
        try session.decodeBatch(tokens: [token], sequences: [0])
        return Array(session.logits(row: 0))
    }

    @Test func badMixedStepsThrowAndChangeNothing() throws {
        let m = try model(.f32)
        let session = InferenceSession(model: m, options: .init(maxSequences: 2, contextLength: 8, maxBatchTokens: 6))
        _ = try session.forward(tokens: [1, 2], sequence: 0)
        typealias E = InferenceSession.BatchEntry
        #expect(throws: ExecutorError.duplicateSequence(0)) {
            try session.forward([E(sequence: 0, tokens: [3], startPosition: 2), E(sequence: 0, tokens: [4], startPosition: 3)])
        }
        #expect(throws: ExecutorError.badPositions(sequence: 1, expectedStart: 0, found: 1)) {
            try session.forward([E(sequence: 0, tokens: [3], startPosition: 2), E(sequence: 1, tokens: [4], startPosition: 1)])
        }
        #expect(throws: ExecutorError.batchTooLarge(requested: 7, capacity: 6)) {
            try session.forward([E(sequence: 0, tokens: [3], startPosition: 2), E(sequence: 1, tokens: [1, 2, 3, 4, 5, 6], startPosition: 0)])
        }
        #expect(throws: ExecutorError.contextOverflow(sequence: 0, needed: 9, capacity: 8)) {
            try session.forward([E(sequence: 0, tokens: [3, 4, 5, 6, 7, 8, 9], startPosition: 2)])
        }
        #expect(throws: ExecutorError.badSequence(2, count: 2)) { try session.forward([E(sequence: 2, tokens: [3], startPosition: 0)]) }
        #expect(throws: ExecutorError.emptyInput) { try session.forward([E(sequence: 1, tokens: [], startPosition: 0)]) }
        #expect(session.sequenceLengths == [2, 0])
    }

    @Test func badInputsThrowErrorsThatSayWhere() throws {
        let m = try model(.f32)
        let session = InferenceSession(model: m, options: .init(contextLength: 8))
        #expect(throws: ExecutorError.badToken(id: 999_999, vocabularySize: m.config.vocabularySize)) {
            try session.forward(tokens: [999_999], positions: 0 ..< 1, sequence: 0)
        }
        #expect(throws: ExecutorError.contextOverflow(sequence: 0, needed: 9, capacity: 8)) {
            try session.forward(tokens: Array(repeating: 1, count: 9), positions: 0 ..< 9, sequence: 0)
        }
        #expect(throws: ExecutorError.badPositions(sequence: 0, expectedStart: 0, found: 3)) {
            try session.forward(tokens: [1], positions: 3 ..< 4, sequence: 0)
        }
        var writer = TinyLlama.writer(seed: 1)
        writer.add("general.architecture", .string("gpt2"))
        #expect(throws: (any Error).self) { try LlamaModel(file: GGUFFile(bytes: writer.bytes())) }
    }

    @Test func operatorTimingUsesInjectedClock() throws {
        final class Ticker: ExecutorClock, @unchecked Sendable {
            var now: UInt64 = 0
            func nowNanoseconds() -> UInt64 { now += 10; return now }
        }
        let m = try model(.f32)
        let session = InferenceSession(model: m, options: .init(), clock: Ticker())
        _ = try session.forward(tokens: [1, 2, 3])
        #expect(session.timings.steps == 1 && session.timings.tokens == 3)
        for op in OperatorClass.allCases { #expect(session.timings[op] > 0 && session.timings[op] % 10 == 0, "\(op)") }
    }
}
