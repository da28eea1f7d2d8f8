import Foundation
import Testing
import DiscreteEvent
import HardwareModel
@testable import Serving

func gaps(_ requests: [RequestSpec]) -> [Double] {
    var out: [Double] = []
    var previous = 0.0
    for r in requests { out.append(r.arrival.seconds - previous); previous = r.arrival.seconds }
    return out
}

func meanAndCV(_ xs: [Double]) -> (mean: Double, cv: Double) {
    let mean = xs.reduce(0, +) / Double(xs.count)
    let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
    return (mean, variance.squareRoot() / mean)
}

@Test func seededGeneratorIsDeterministicAndSeedsDiffer() {
    var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
    let sa = (0..<100).map { _ in a.next() }
    let sb = (0..<100).map { _ in b.next() }
    let sc = (0..<100).map { _ in c.next() }
    #expect(sa == sb)
    #expect(sa != sc)
    // SplitMix64 first output for seed 0 (reference value from Vigna's splitmix64.c).
    var sm: UInt64 = 0
    #expect(SeededGenerator.splitMix64(&sm) == 0xE220_A839_7B1D_CDAF)
    // Unbiased bounded integers cover the range.
    var g = SeededGenerator(seed: 1)
    var seen = Set<UInt64>()
    for _ in 0..<1000 { let v = g.nextInt(below: 7); #expect(v < 7); seen.insert(v) }
    #expect(seen.count == 7)
}

@Test func poissonArrivalsHaveTheRequestedMeanRateForManySeeds() throws {
    for seed in UInt64(0)..<8 {
        var w = SyntheticWorkload(arrivals: .poisson(ratePerSecond: 5), promptTokens: .fixed(10), outputTokens: .fixed(5),
                                  requestLimit: 20_000, seed: seed)
        let r = try w.collectAll()
        #expect(r.count == 20_000)
        let (mean, cv) = meanAndCV(gaps(r))
        // Mean gap 0.2 s; its standard error is 0.2/√20000 = 0.0014 s, so ±3 % is > 4σ.
        #expect(abs(mean - 0.2) < 0.2 * 0.03)
        #expect(abs(cv - 1) < 0.05)
    }
}

@Test func gammaArrivalsHaveTheRequestedCoefficientOfVariation() throws {
    for (cv, seed) in [(0.5, UInt64(1)), (2.0, 2), (4.0, 3)] {
        var w = SyntheticWorkload(arrivals: .gamma(ratePerSecond: 10, coefficientOfVariation: cv),
                                  promptTokens: .fixed(1), outputTokens: .fixed(1), requestLimit: 100_000, seed: seed)
        let (mean, measured) = meanAndCV(gaps(try w.collectAll()))
        #expect(abs(mean - 0.1) < 0.1 * 0.05)
        #expect(abs(measured - cv) < cv * 0.08)
    }
}

@Test func constantArrivalsAreEvenlySpacedAndDurationLimited() throws {
    var w = SyntheticWorkload(arrivals: .constant(ratePerSecond: 4), promptTokens: .fixed(1), outputTokens: .fixed(1),
                              requestLimit: nil, durationLimit: .seconds(10), seed: 0)
    let r = try w.collectAll()
    #expect(r.count == 40)
    #expect(r.first?.arrival.nanoseconds == 250_000_000 && r.last?.arrival.nanoseconds == 10_000_000_000)
}

@Test func piecewiseRatesFollowStepsAndRamps() throws {
    let segments = [RateSegment(durationSeconds: 100, startRatePerSecond: 2),
                    RateSegment(durationSeconds: 100, startRatePerSecond: 0),
                    RateSegment(durationSeconds: 100, startRatePerSecond: 0, endRatePerSecond: 20)]
    var w = SyntheticWorkload(arrivals: .piecewise(segments), promptTokens: .fixed(1), outputTokens: .fixed(1),
                              requestLimit: nil, seed: 9)
    let r = try w.collectAll()
    let first = r.filter { $0.arrival.seconds < 100 }.count
    let idle = r.filter { $0.arrival.seconds >= 100 && $0.arrival.seconds < 200 }.count
    let rampEarly = r.filter { $0.arrival.seconds >= 200 && $0.arrival.seconds < 250 }.count
    let rampLate = r.filter { $0.arrival.seconds >= 250 }.count
    // Expected: 200, 0, 250 (∫ of 0→10 over 50 s), 750; Poisson sd ≈ √n, tolerance 4σ.
    #expect(abs(first - 200) < 57)
    #expect(idle == 0)
    #expect(abs(rampEarly - 250) < 64)
    #expect(abs(rampLate - 750) < 110)
    #expect(r.last!.arrival.seconds <= 300)
    #expect(abs(ArrivalProcess.piecewise(segments).meanRatePerSecond - 1200.0 / 300) < 1e-12)
}

@Test func sameSeedGivesTheSameWorkloadAndLengthsDoNotShiftArrivals() throws {
    func make(_ seed: UInt64, _ prompt: LengthDistribution) throws -> [RequestSpec] {
        var w = SyntheticWorkload(arrivals: .gamma(ratePerSecond: 3, coefficientOfVariation: 2), promptTokens: prompt,
                                  outputTokens: .uniform(min: 1, max: 100), requestLimit: 500, seed: seed)
        return try w.collectAll()
    }
    let prompt = LengthDistribution.lognormal(LognormalLength(median: 1000, p90: 3000))
    #expect(try make(7, prompt) == make(7, prompt))
    #expect(try make(7, prompt) != make(8, prompt))
    #expect(try make(7, prompt).map(\.arrival) == make(7, .fixed(5)).map(\.arrival))
}

@Test func lengthDistributionsHaveTheirParameters() {
    var g = SeededGenerator(seed: 5)
    let n = 40_000
    let byPercentiles = LengthDistribution.lognormal(LognormalLength(median: 1000, p90: 4000))
    var draws = (0..<n).map { _ in byPercentiles.sample(using: &g) }.sorted()
    #expect(abs(Double(draws[n / 2]) - 1000) < 40)
    #expect(abs(Double(draws[n * 9 / 10]) - 4000) < 200)
    let byMean = LengthDistribution.lognormal(LognormalLength(mean: 500, sigma: 0.5))
    let mean = (0..<n).reduce(0.0) { acc, _ in acc + Double(byMean.sample(using: &g)) } / Double(n)
    #expect(abs(mean - 500) < 10)
    let clamped = LengthDistribution.lognormal(LognormalLength(median: 1000, p90: 4000, minimum: 100, maximum: 2000))
    draws = (0..<n).map { _ in clamped.sample(using: &g) }
    #expect(draws.min()! >= 100 && draws.max()! == 2000)
    let uniform = LengthDistribution.uniform(min: 3, max: 6)
    draws = (0..<n).map { _ in uniform.sample(using: &g) }
    #expect(Set(draws) == [3, 4, 5, 6])
    let empirical = LengthDistribution.empirical(EmpiricalLengths(values: [7, 7, 7, 100]))
    let share = Double((0..<n).filter { _ in empirical.sample(using: &g) == 100 }.count) / Double(n)
    #expect(abs(share - 0.25) < 0.02)
}

@Test func transformersScaleRepeatAndLimit() throws {
    let base = [RequestSpec(id: 0, arrival: SimInstant(nanoseconds: 1_000), promptTokens: 1, outputTokens: 1),
                RequestSpec(id: 1, arrival: SimInstant(nanoseconds: 4_000), promptTokens: 2, outputTokens: 2),
                RequestSpec(id: 2, arrival: SimInstant(nanoseconds: 7_000), promptTokens: 3, outputTokens: 3)]
    var scaled = TimeScaled(ArrayRequestSource(base), rateMultiplier: 2)
    #expect(try scaled.collectAll().map(\.arrival.nanoseconds) == [500, 2_000, 3_500])

    // Period = span · n/(n−1) = 6000 · 3/2 = 9000 ns.
    var repeated = Repeated(times: 3) { ArrayRequestSource(base) }
    let r = try repeated.collectAll()
    #expect(r.map(\.id) == Array(0..<9))
    #expect(r.map(\.arrival.nanoseconds) == [1_000, 4_000, 7_000, 10_000, 13_000, 16_000, 19_000, 22_000, 25_000])
    #expect(r.map(\.promptTokens) == [1, 2, 3, 1, 2, 3, 1, 2, 3])

    var limited = Limited(Repeated(times: 100) { ArrayRequestSource(base) }, count: 4)
    #expect(try limited.collectAll().count == 4)
}

@Test func repeatedAzureConvKeepsItsMeanRateAcrossCopies() throws {
    guard let path = tracePath("azure2023_AzureLLMInferenceTrace_conv.csv") else { return }
    // The benchmark uses 52 copies (1,007,032 requests); 3 keep the test fast.
    var source = Repeated(times: 3) { try TraceReader(path: path, format: .azure2023) }
    var count = 0
    var last = SimInstant.zero
    while let r = try source.next() {
        #expect(r.arrival >= last)
        last = r.arrival
        count += 1
    }
    #expect(count == 19_366 * 3)
    // Mean rate stays (rows − 1)/span ≈ 5.53 req/s.
    #expect(abs(Double(count - 1) / last.seconds - 5.53) < 0.01)
}

/// A pass over `requests` that reports `skipped` skipped rows once it ends.
private struct SkippingSource: RequestSource {
    var inner: ArrayRequestSource
    let skipped: Int
    var ended = false
    mutating func next() throws -> RequestSpec? {
        let r = try inner.next()
        if r == nil { ended = true }
        return r
    }
    var skippedRows: Int { ended ? skipped : 0 }
    var skippedRowReasons: [String] { ended ? Array(repeating: "bad row", count: skipped) : [] }
}

@Test func repeatedReplaysAShortCleanPassInsteadOfReopeningIt() throws {
    let base = (0..<5).map { RequestSpec(id: $0, arrival: SimInstant(nanoseconds: Int64(1_000 * ($0 + 1))), promptTokens: $0 + 1, outputTokens: 2) }
    final class Opens: @unchecked Sendable { var count = 0 }
    // A clean first pass is read once and replayed: the same requests, shifted and renumbered.
    let clean = Opens()
    var replayed = Repeated(times: 4) { clean.count += 1; return SkippingSource(inner: ArrayRequestSource(base), skipped: 0) }
    let r = try replayed.collectAll()
    #expect(clean.count == 1)
    #expect(r.count == 20 && r.map(\.id) == Array(0..<20))
    #expect(r.map(\.promptTokens) == Array(repeating: [1, 2, 3, 4, 5], count: 4).flatMap { $0 })
    #expect(zip(r, r.dropFirst()).allSatisfy { $0.arrival < $1.arrival })
    #expect(r[5].arrival.nanoseconds - r[0].arrival.nanoseconds == 5_000)  // period 4000 · 5/4
    #expect(replayed.skippedRows == 0)
    // A pass that skipped rows is read again each time, so the counts are those of every pass.
    let dirty = Opens()
    var reread = Repeated(times: 3) { dirty.count += 1; return SkippingSource(inner: ArrayRequestSource(base), skipped: 2) }
    #expect(try reread.collectAll().map(\.promptTokens) == r.prefix(15).map(\.promptTokens))
    #expect(dirty.count == 3 && reread.skippedRows == 6)
}
