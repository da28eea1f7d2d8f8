import CostModel
import Diagnostics
import ArgumentParser
import Foundation
import HardwareModel
import Scenarios
import Serving
import ServingMetrics
import Validation

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the cost model against published measurements (--published), the CPU executor (--model), or your own measured steps (--steps).")

    @Flag(help: "With --model: calibrate this host now, in rounds alternating with the measurement rounds (rewriting hardware-profiles/devices/host-calibrated.json), so prediction and measurement see the same minutes of the machine; on a shared host, a profile from an earlier hour can be off by 20% or more.")
    var calibrate = false
    @Flag(help: "Check against published measurements: the built-in set (data/validation/published.json), or FILE.")
    var published = false
    @Argument(help: "With --published: a published-results JSON file (default: the built-in set).")
    var publishedFile: String?
    @Option(help: "A GGUF model to run on the CPU executor and predict with the cost model (host calibration).")
    var model: String?
    @Option(help: "Cost-model id of the --model file (scenarios/models/ID.json).")
    var modelID: String = "smollm2-135m"
    @Option(help: "Hardware profile for --model (default: hardware-profiles/devices/host-calibrated.json, calibrated now if absent).")
    var hardware: String?
    @Option(help: "Executor threads for --model (default: all online cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Trace served for the TTFT/TPOT rows (default: scenarios/traces/executor-trace.csv; 'none' to skip).")
    var trace: String?
    @Option(help: "With --model: write every step of the served trace to this CSV (its workload, measured and predicted ms).")
    var stepLog: String?
    @Option(help: "Measurement rounds (and, with --calibrate, calibration rounds between them); each figure is the median over its rounds' samples.")
    var repetitions: Int = 5
    @Option(help: "A per-step CSV of measured steps (prefill_tokens, prefill_sequences, decode_tokens, context_sum, context_max, time_s) to predict with --hardware, --model-id and --engine, held out of any fit.")
    var steps: String?
    @Option(help: "With --steps: the serving engine (an id or an engine JSON file).")
    var engine: String?
    @Option(help: "With --steps: weight, activation and KV format.")
    var precision: String = "bf16"
    @Option(help: "Directory holding hardware-profiles/ and scenarios/.")
    var profiles: String?
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard [published, model != nil, steps != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of --published [FILE], --model PATH and --steps FILE")
        }
        if steps != nil {
            guard hardware != nil else { throw ValidationError("--steps needs --hardware") }
            guard DType(parsing: precision) != nil else { throw ValidationError("--precision: unknown format \"\(precision)\"; known: \(DType.knownNames)") }
        } else if engine != nil {
            throw ValidationError("--engine applies only with --steps")
        }
        guard published || publishedFile == nil else { throw ValidationError("unexpected argument \"\(publishedFile!)\" (a file goes after --published)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1, got \(repetitions)") }
    }

    func run() throws {
        let catalog = try ProfileCatalog.locate(explicit: profiles)
        if let model {
            try runModel(model, catalog: catalog)
            return
        }
        if let steps, let hardware {
            let type = DType(parsing: precision)!
            let d = try catalog.deployment(hardware: hardware, model: modelID, precision: Precision(weights: type, activations: type, kvCache: type),
                                           engine: engine)
            let report = StepValidation.run(try StepLog.read(steps), deployment: d)
            print(json ? report.json(file: steps, hardware: hardware) : report.text(file: steps))
            return
        }
        let cases = try publishedFile.map(PublishedValidation.load) ?? PublishedValidation.load(catalog: catalog)
        let outcomes = try PublishedValidation(catalog: catalog).run(cases)
        print(json ? PublishedReport.json(outcomes) : PublishedReport.text(outcomes))
    }

    /// `--model`: executor measurements against cost-model predictions on the host profile.
    /// With `--calibrate` (or without a host profile) the host is calibrated in rounds that
    /// alternate with the measurement rounds, and the profile is written before predicting.
    private func runModel(_ path: String, catalog: ProfileCatalog) throws {
        try OutputPaths.check([("--step-log", stepLog)])
        FileHandle.standardError.write(Data((HostNoise.loadLine() + "\n").utf8))
        let llama = try ValidationInputs.loadModel(path: path)
        let weights = DType(parsing: String(describing: llama.layers.first?.query.sourceType ?? .q4_1)) ?? .q4_1
        let embeddings = DType(parsing: String(describing: llama.lmHead.sourceType)) ?? .q8_0
        let precision = ModelValidation.executorPrecision(weights: weights, embeddings: embeddings)
        // Fail on a model profile of another shape before minutes of measurement.
        try ModelValidation.checkShape(try catalog.model(modelID), llama.config)
        let requests: [RequestSpec]
        let tracePath: String
        if let trace {
            tracePath = trace
            requests = trace == "none" ? [] : try ValidationInputs.loadTrace(path: trace)
        } else {
            guard let (data, name) = catalog.file(ProfileCatalog.executorTraceFile) else {
                throw InputError(file: ProfileCatalog.executorTraceFile, "not found")
            }
            tracePath = name
            requests = try ValidationInputs.loadTrace(text: String(decoding: data, as: UTF8.self), name: name)
        }
        try ValidationInputs.checkFits(requests, model: llama, trace: tracePath)
        var plan = ModelValidation.Plan()
        plan.repetitions = repetitions
        let hardwareID = hardware ?? HostProfileWriter.defaultID
        let profilePath = try hardware.flatMap { catalog.file(ProfileCatalog.devicesPath + "/\($0).json")?.name }
            ?? Calibrate.defaultOutput(catalog)
        var calibrator: HostCalibrator?
        if hardware == nil && (calibrate || !FileManager.default.fileExists(atPath: profilePath)) {
            let why = calibrate ? "--calibrate" : "no \(profilePath)"
            FileHandle.standardError.write(Data("\(why): calibrating this host with \(threads) thread(s), interleaved with the measurement\n".utf8))
            calibrator = HostCalibrator(threads: threads)
        }
        // An existing profile is read before minutes of measurement, so that a bad one fails first.
        let existing = calibrator == nil ? try catalog.deployment(hardware: hardwareID, model: modelID, precision: precision) : nil
        let (observed, calibration) = try ModelValidation.observe(
            model: llama, threads: threads, trace: requests, plan: plan, calibrator: calibrator) {
            FileHandle.standardError.write(Data("measuring \($0)\n".utf8))
        }
        if let calibration {
            FileHandle.standardError.write(Data((HostNoise.spreadLine(calibration.spreads, what: "the calibration's figures") + "\n").utf8))
            try HostProfileWriter.write(calibration, to: profilePath)
        }
        // Located again: a first calibration may have created the profiles directory.
        let deployment = try existing ?? ProfileCatalog.locate(explicit: profiles).deployment(hardware: hardwareID, model: modelID, precision: precision)
        let validation = try ModelValidation(deployment: deployment, model: llama, threads: threads, trace: requests, plan: plan)
        let report = validation.report(observed)
        if let stepLog {
            let writer = try AtomicFileWriter(path: stepLog)
            try writer.write(([StepComparison.csvHeader] + report.steps.map(\.csvLine)).joined(separator: "\n") + "\n")
            try writer.commit()
        }
        print(json ? report.json : report.text)
    }
}

enum PublishedReport {
    /// Schema: schemas/validate-published.schema.json.
    static func json(_ outcomes: [PublishedValidation.Outcome]) -> String {
        var w = JSONWriter()
        w.addRaw("cases", JSONWriter.array(outcomes.map { o in
            var c = JSONWriter()
            c.add("id", o.id)
            c.add("category", o.category)
            c.add("metric", o.metric)
            c.add("measured", o.measured)
            c.add("unit", o.unit)
            c.add("predicted", o.predicted)
            c.add("error", o.error)
            c.add("setup", o.predicted == nil ? nil : o.setup)
            c.add("assumption", o.assumption)
            c.add("unmapped", o.unmapped)
            return c.rendered(indent: "  ")
        }))
        w.addRaw("summary", JSONWriter.array(PublishedValidation.summarize(outcomes).map { c in
            var o = JSONWriter()
            o.add("category", c.category)
            o.add("cases", c.cases)
            o.add("median_abs_error", c.medianAbsoluteError)
            o.add("mean_abs_error", c.meanAbsoluteError)
            return o.rendered(indent: "  ")
        }))
        w.add("predicted", outcomes.filter { $0.predicted != nil }.count)
        w.add("total", outcomes.count)
        return w.rendered()
    }

    static func text(_ outcomes: [PublishedValidation.Outcome]) -> String {
        var t = TextTable(["case", "category", "measured", "predicted", "error", "setup / reason"], leftAligned: [0, 1, 5])
        for o in outcomes {
            if let p = o.predicted, let e = o.error {
                t.add([o.id, o.category, Format.fixed(o.measured, 1) + " " + o.unit, Format.fixed(p, 1), Format.fixed(e * 100, 1) + "%",
                       o.setup + (o.assumption.map { " [\($0)]" } ?? "")])
            } else {
                t.add([o.id, o.category, Format.fixed(o.measured, 1) + " " + o.unit, "-", "-", "not mapped: " + (o.unmapped ?? "")])
            }
        }
        var s = TextTable(["category", "cases", "median |error|", "mean |error|"], leftAligned: [0])
        for c in PublishedValidation.summarize(outcomes) {
            s.add([c.category, "\(c.cases)", Format.percent(c.medianAbsoluteError), Format.percent(c.meanAbsoluteError)])
        }
        let unmapped = outcomes.filter { $0.predicted == nil }.count
        return t.rendered() + "\n\n" + s.rendered() + "\n\n\(outcomes.count - unmapped) of \(outcomes.count) cases predicted; \(unmapped) not mapped (reasons above)."
    }
}
