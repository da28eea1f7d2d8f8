import CostModel
import Diagnostics
import Foundation
import HardwareModel

/// Fits an engine's figures on one device from whole-step measurements: a per-step log
/// (`fitSteps`) or a serving benchmark's latencies (`fitServing`).
///
/// Both start from the engine's kernel fit for the device (`KernelFit`), or, when it has none,
/// from one seeded with the device class's figures (fixed times 0, the roofline's `max`, the
/// class's fractions of peak), and fit a few physical parameters by Levenberg-Marquardt on
/// log-time residuals. A parameter the data cannot move (no prefill steps to say anything about
/// the GEMM rate, say) is kept and reported, never guessed.
public struct EngineStepFitter: Sendable {
    public let catalog: ProfileCatalog
    public let hardware: String
    public let modelID: String
    public let engine: EngineProfile
    public let precision: Precision
    let model: ModelProfile
    let device: DeviceProfile
    let deviceClass: DeviceClassProfile

    public struct Result: Sendable {
        public var engine: EngineProfile
        /// Fitted parameter name → (value, relative standard error).
        public var fitted: [String: (value: Double, relativeError: Double?)]
        /// Parameters the data did not determine, kept at their starting values.
        public var kept: [String]
        public var medianAbsError: Double
        public var maxAbsError: Double
        public var points: Int
        public var summary: String
    }

    public init(catalog: ProfileCatalog, hardware: String, model: String, engine: EngineProfile,
                precision: Precision = Precision(weights: .bf16, activations: .bf16, kvCache: .bf16)) throws {
        self.catalog = catalog
        self.hardware = hardware
        self.modelID = model
        self.engine = engine
        self.precision = precision
        self.model = try catalog.model(model)
        self.device = try catalog.device(hardware)
        self.deviceClass = try catalog.deviceClass(device.deviceClass)
        _ = try deployment(engine)
    }

    func deployment(_ e: EngineProfile) throws -> Deployment {
        do {
            return try Deployment(model: model, device: device, deviceClass: deviceClass, precision: precision, engine: e)
        } catch let p as Deployment.Problem {
            throw InputError(option: "--hardware/--model", p.description)
        }
    }

    /// The engine's fit for the device, or one seeded with the device class's figures.
    public func startingFit(ranges: KernelFit.FitRange) throws -> KernelFit {
        if let fit = engine.kernels?[device.name] { return fit }
        let bandwidth = device.mainMemory.bandwidthBytesPerSecond * deviceClass.bandwidthFraction
        var rates: [String: Double] = [:]
        for type in [DType.bf16, .fp16, .fp8] {
            let (peak, resolved) = device.peakCompute(for: type)
            if resolved == type { rates[type.rawValue] = peak.value * deviceClass.largeShapeFraction(type: type) }
        }
        let seed = "seeded from device class \(deviceClass.name)"
        return KernelFit(
            smCount: 1_000_000,
            gemm: .init(fixedSeconds: 0, bandwidthBytesPerSecond: bandwidth, flopsPerSecond: rates, overlapExponent: 100),
            decodeAttention: .init(fixedSeconds: 0, bandwidthBytesPerSecond: bandwidth, perBlockBytesPerSecond: 1e21),
            streamBytesPerSecond: bandwidth, smallKernelSeconds: 0, range: ranges,
            provenance: .init(inputs: [seed], points: 0, medianAbsError: 0, maxAbsError: 0, parameters: [:]))
    }

    /// A fitted parameter: how to read and write it on an engine.
    struct Knob: Sendable {
        var name: String
        var get: @Sendable (EngineProfile, String) -> Double
        var set: @Sendable (inout EngineProfile, String, Double) -> Void
    }


    static let stepOverhead = Knob(name: "engine.stepOverheadSeconds", get: { e, _ in e.stepOverheadSeconds ?? 0 },
                                   set: { e, _, v in e.stepOverheadSeconds = v })
    static let gemmBandwidth = Knob(name: "gemm.bandwidthBytesPerSecond", get: { e, d in e.kernels![d]!.gemm.bandwidthBytesPerSecond },
                                    set: { e, d, v in e.kernels![d]!.gemm.bandwidthBytesPerSecond = v })
    static let attentionBandwidth = Knob(name: "decodeAttention.bandwidthBytesPerSecond",
                                         get: { e, d in e.kernels![d]!.decodeAttention.bandwidthBytesPerSecond },
                                         set: { e, d, v in e.kernels![d]!.decodeAttention.bandwidthBytesPerSecond = v })
    static func gemmRate(_ type: DType) -> Knob {
        Knob(name: "gemm.flopsPerSecond.\(type.rawValue)", get: { e, d in e.kernels![d]!.gemm.flopsPerSecond[type.rawValue] ?? 1e12 },
             set: { e, d, v in e.kernels![d]!.gemm.flopsPerSecond[type.rawValue] = v })
    }

    /// The engine to start from: `engine` with the starting fit for the device and a step overhead.
    func start(ranges: KernelFit.FitRange) throws -> EngineProfile {
        var e = engine
        var kernels = e.kernels ?? [:]
        kernels[device.name] = try startingFit(ranges: ranges)
        e.kernels = kernels
        if e.stepOverheadSeconds == nil { e.stepOverheadSeconds = deviceClass.stepOverheadSeconds }
        return e
    }

    /// Fits the step overhead, the GEMM streaming bandwidth, the decode attention bandwidth and
    /// the GEMM rate of the deployment's arithmetic type to a step log.
    public func fitSteps(_ rows: [StepLog.Row], inputs: [String]) throws -> Result {
        let workloads = rows.map(\.workload)
        let contexts = rows.filter { $0.decodeTokens > 0 }
        let ranges = KernelFit.FitRange(
            gemmRows: [Double(rows.map { $0.prefillTokens + $0.decodeTokens }.min()!), Double(rows.map { $0.prefillTokens + $0.decodeTokens }.max()!)],
            attentionSequences: [Double(contexts.map(\.decodeTokens).min() ?? 0), Double(contexts.map(\.decodeTokens).max() ?? 0)],
            attentionContext: [Double(contexts.map(\.contextMax).min() ?? 0), Double(contexts.map(\.contextMax).max() ?? 0)])
        let start = try start(ranges: ranges)
        let knobs = [Self.stepOverhead, Self.gemmBandwidth, Self.attentionBandwidth, Self.gemmRate(precision.gemmArithmetic(weightFormat: precision.weights))]
        let first = rows[0]
        return try fit(knobs, from: start, points: rows.count, inputs: inputs, what: "steps",
                       tooFew: InputError(file: first.file, "expected more steps than the \(knobs.count) parameters fitted (step overhead, GEMM bandwidth, attention bandwidth, GEMM rate), found \(rows.count)")) { e in
            let cost = InferenceCostModel(deployment: try deployment(e))
            return zip(workloads, rows).map { w, r in log(cost.cost(of: w).duration.value / r.seconds) }
        }
    }

    /// Levenberg-Marquardt over the log of each knob that moves the residuals.
    func fit(_ knobs: [Knob], from start: EngineProfile, points: Int, inputs: [String], what: String, tooFew: InputError,
             differenceStep: Double = 1e-6, search: Bool = false, residuals: (EngineProfile) throws -> [Double]) throws -> Result {
        let d = device.name
        let base = knobs.map { max($0.get(start, d), 1e-9) }
        func engine(_ theta: [Double], _ active: [Int]) -> EngineProfile {
            var e = start
            for (i, k) in active.enumerated() { knobs[k].set(&e, d, exp(theta[i])) }
            return e
        }
        // Which knobs move the residuals at all (doubling one moving some residual by 0.1%).
        let r0 = try residuals(start)
        var active: [Int] = []
        for (k, knob) in knobs.enumerated() {
            var e = start
            knob.set(&e, d, base[k] * 2)
            let r = try residuals(e)
            if zip(r, r0).contains(where: { abs($0 - $1) > 1e-3 }) { active.append(k) }
        }
        guard points > active.count else { throw tooFew }
        var failure: Error?
        var solver = LeastSquares()
        solver.differenceStep = differenceStep
        let objective: ([Double]) -> [Double] = { theta in
            do { return try residuals(engine(theta, active)) } catch {
                failure = failure ?? error
                return [Double](repeating: 1e3, count: points)
            }
        }
        let result = search ? solver.search(start: active.map { log(base[$0]) }, residuals: objective)
                            : solver.fit(start: active.map { log(base[$0]) }, residuals: objective)
        if let failure { throw failure }
        var fitted = engine(result.parameters, active)
        let errors = result.residuals.map { abs(exp($0) - 1) }.sorted()
        var values: [String: (value: Double, relativeError: Double?)] = [:]
        var provenance = fitted.kernels![d]!.provenance
        for (i, k) in active.enumerated() {
            let se = result.standardErrors[i]
            values[knobs[k].name] = (exp(result.parameters[i]), se.isFinite ? se : nil)
            provenance.parameters[knobs[k].name] = .init(exp(result.parameters[i]), .fitted, relativeStandardError: se.isFinite ? se : nil,
                                                         note: "fitted on \(inputs.joined(separator: ", "))")
        }
        let kept = knobs.indices.filter { !active.contains($0) }.map { knobs[$0].name }
        provenance.inputs = Array(Set(provenance.inputs + inputs)).sorted()
        provenance.points = points
        provenance.medianAbsError = errors[errors.count / 2]
        provenance.maxAbsError = errors.last!
        fitted.kernels![d]!.provenance = provenance
        func f(_ v: Double) -> String { JSONText.number(v, decimals: 4) }
        var summary = "\(what) from \(inputs.joined(separator: ", ")): \(points) points, median |error| \(JSONText.number(100 * errors[errors.count / 2], decimals: 1))%, worst \(JSONText.number(100 * errors.last!, decimals: 1))%"
        for name in values.keys.sorted() {
            let v = values[name]!
            summary += "\n  \(name) = \(JSONText.shortNumber(v.value))" + (v.relativeError.map { " ± \(f(100 * $0))%" } ?? "")
        }
        if !kept.isEmpty { summary += "\n  not determined by these measurements, kept: \(kept.joined(separator: ", "))" }
        return Result(engine: fitted, fitted: values, kept: kept, medianAbsError: errors[errors.count / 2], maxAbsError: errors.last!,
                      points: points, summary: summary)
    }
}
