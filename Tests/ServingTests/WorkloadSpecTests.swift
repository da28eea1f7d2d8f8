import Diagnostics
import Foundation
import Testing
import DiscreteEvent
import HardwareModel
@testable import Serving

func decodeSpec(_ json: String) throws -> WorkloadSpec {
    try StrictJSON.decode(WorkloadSpec.self, from: Data(json.utf8), file: "scenario.json")
}

@Test func generatorSpecDecodesAndBuildsASeededSource() throws {
    let spec = try decodeSpec("""
    {"generator": {"arrivals": {"gamma": {"ratePerSecond": 5, "coefficientOfVariation": 2}},
                   "promptTokens": {"lognormal": {"median": 1020, "p90": 2734, "max": 16000}},
                   "outputTokens": {"uniform": {"min": 16, "max": 512}},
                   "requests": 300}}
    """)
    guard case .generator(let g) = spec else { Issue.record("expected a generator"); return }
    #expect(g.arrivals == .gamma(ratePerSecond: 5, coefficientOfVariation: 2))
    #expect(g.outputTokens == .uniform(min: 16, max: 512))
    var a = try spec.makeSource(relativeTo: "", seed: 11)
    var b = try spec.makeSource(relativeTo: "", seed: 11)
    let ra = try a.collectAll(), rb = try b.collectAll()
    #expect(ra.count == 300 && ra == rb)
    #expect(ra.allSatisfy { $0.promptTokens <= 16000 && (16...512).contains($0.outputTokens) })
    // Round trip through the encoder.
    let again = try StrictJSON.decode(WorkloadSpec.self, from: JSONEncoder().encode(spec), file: "re")
    #expect(again == spec)
}

@Test func traceSpecResolvesRelativePathsAndAppliesRepeatScaleAndLimit() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-spec-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try "arrival_s,prompt_tokens,output_tokens\n0,1,1\n1,2,2\n2,3,3\n".write(to: dir.appendingPathComponent("t.csv"), atomically: true, encoding: .utf8)
    let spec = try decodeSpec("""
    {"trace": {"format": "csv", "path": "t.csv", "rateMultiplier": 2, "repeat": 2, "limit": 5}}
    """)
    var source = try spec.makeSource(relativeTo: dir.path, seed: 0)
    let r = try source.collectAll()
    // Period 2 s · 3/2 = 3 s, then halved by the rate multiplier.
    #expect(r.map(\.arrival.nanoseconds) == [0, 500_000_000, 1_000_000_000, 1_500_000_000, 2_000_000_000])
    #expect(r.map(\.id) == [0, 1, 2, 3, 4])
    let missing = try decodeSpec("{\"trace\": {\"format\": \"csv\", \"path\": \"nope.csv\"}}")
    #expect(throws: InputError.self) { _ = try missing.makeSource(relativeTo: dir.path, seed: 0) }
}

@Test func badWorkloadSpecsNameTheJSONPath() {
    func error(_ json: String) -> InputError? {
        do { _ = try decodeSpec(json); return nil } catch let e as InputError { return e } catch { return nil }
    }
    let rate = error("{\"generator\": {\"arrivals\": {\"poisson\": {\"ratePerSecond\": 0}}, \"promptTokens\": {\"fixed\": {\"tokens\": 1}}, \"outputTokens\": {\"fixed\": {\"tokens\": 1}}, \"requests\": 5}}")
    #expect(rate?.location == "$.generator.arrivals.poisson.ratePerSecond")
    #expect(rate?.message.contains("> 0") == true)
    let typo = error("{\"trace\": {\"format\": \"csv\", \"path\": \"a.csv\", \"rateMultiplyer\": 2}}")
    #expect(typo?.location == "$.trace.rateMultiplyer")
    let twoKinds = error("{\"trace\": {\"format\": \"csv\", \"path\": \"a.csv\"}, \"generator\": {}}")
    #expect(twoKinds?.message.contains("exactly one of trace, generator") == true)
    let unbounded = error("{\"generator\": {\"arrivals\": {\"constant\": {\"ratePerSecond\": 1}}, \"promptTokens\": {\"fixed\": {\"tokens\": 1}}, \"outputTokens\": {\"fixed\": {\"tokens\": 1}}}}")
    #expect(unbounded?.location == "$.generator" && unbounded?.message.contains("requests") == true)
    let uniform = error("{\"generator\": {\"arrivals\": {\"constant\": {\"ratePerSecond\": 1}}, \"promptTokens\": {\"uniform\": {\"min\": 9, \"max\": 3}}, \"outputTokens\": {\"fixed\": {\"tokens\": 1}}, \"requests\": 1}}")
    #expect(uniform?.location == "$.generator.promptTokens.uniform.max")
    let format = error("{\"trace\": {\"format\": \"parquet\", \"path\": \"a\"}}")
    #expect(format?.location == "$.trace.format")
    let repeatZero = error("{\"trace\": {\"format\": \"csv\", \"path\": \"a\", \"repeat\": 0}}")
    #expect(repeatZero?.location == "$.trace.repeat")
}
