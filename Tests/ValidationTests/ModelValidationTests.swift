import Diagnostics
import CostModel
import CPUExecutor
import Foundation
import HardwareModel
import Testing
@testable import Validation

@Test func tinyLlamaPredictionAndMeasurementRunEndToEnd() throws {
    let model = try tinyModel()
    var plan = ModelValidation.Plan()
    plan.decodeContexts = [24, 48]
    plan.prefillLengths = [16, 40]
    plan.batchSizes = [2, 4]
    plan.batchContext = 8
    plan.repetitions = 1
    plan.tracePolicy = TraceServingPolicy(maxBatchSize: 2, tokenBudget: 16)
    let trace = [request(0, at: 0, prompt: 10, output: 3), request(1, at: 0, prompt: 20, output: 4), request(2, at: 0.001, prompt: 5, output: 1)]
    let v = try ModelValidation(deployment: tinyDeployment(model), model: model, threads: 1, trace: trace, plan: plan)
    let report = try v.run()
    let names = ["decode @ ctx 24", "decode @ ctx 48", "prefill 16 tokens", "prefill 40 tokens",
                 "batched decode B=2 @ ctx 8", "batched decode B=4 @ ctx 8", "trace TTFT p50", "trace TPOT p50"]
    for n in names {
        let row = try #require(report.row(n), "missing row \(n)")
        #expect(row.predicted > 0 && row.predicted.isFinite, "\(n) predicted \(row.predicted)")
        #expect(row.measured > 0 && row.measured.isFinite, "\(n) measured \(row.measured)")
        #expect(row.relativeError.isFinite)
    }
    // Per-operator-class rows for every executor class, decode and prefill.
    for c in OperatorClass.allCases {
        #expect(report.row("decode @ ctx 24: \(c)") != nil)
        #expect(report.row("prefill 40: \(c)") != nil)
        #expect(report.row("decode B=2: \(c)") != nil)
    }
    // Every step of the served trace is compared, and the rows by composition average them.
    #expect(!report.steps.isEmpty)
    let newTokens: Int = report.steps.reduce(0) { $0 + $1.workload.totalTokens }
    let promptsAndDecodes = 10 + 20 + 5 + (3 - 1) + (4 - 1) + (1 - 1)  // the first output token comes from the prompt's pass
    #expect(newTokens == promptsAndDecodes)
    let groups = report.rows.filter { $0.quantity.hasPrefix("trace steps, ") }
    #expect(!groups.isEmpty)
    let counted = groups.map { Int($0.quantity.split(separator: "(").last!.dropLast())! }.reduce(0, +)
    #expect(counted == report.steps.count)
    #expect(report.steps.allSatisfy { $0.csvLine.split(separator: ",").count == StepComparison.csvHeader.split(separator: ",").count })
    // Longer contexts cost more in the prediction.
    #expect(report.row("decode @ ctx 48")!.predicted > report.row("decode @ ctx 24")!.predicted)
    #expect(report.text.contains("decode @ ctx 24 (ms/token)"))
    let json = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any]
    #expect((json?["rows"] as? [Any])?.count == report.rows.count)
}

@Test func everyComputeOperatorKindMapsToAnExecutorClass() {
    for kind in OperatorKind.allCases {
        #expect((ModelValidation.operatorClass(of: kind) == nil) == kind.isCommunication, "\(kind)")
    }
}

@Test func predictedClassesSumToTheStepWithoutItsOverhead() throws {
    let model = try tinyModel()
    let v = try ModelValidation(deployment: tinyDeployment(model), model: model, threads: 1, trace: [])
    var w = StepWorkload()
    w.addDecode(contextLength: 30)
    let byClass = v.predictedByClass(w).values.reduce(0, +)
    let total = InferenceCostModel(deployment: v.deployment).cost(of: w).duration.value
    #expect(abs(byClass + cpuClass.stepOverheadSeconds - total) <= 1e-12 * max(1, total))
}

@Test func aModelProfileOfAnotherShapeIsRejectedNamingTheField() throws {
    let model = try tinyModel()
    var config = model.config
    config.feedForwardLength = 256
    let other = try ModelValidation.modelProfile(from: config, name: "other")
    let device = try HostProfileWriter.decode(HostProfileWriter.json(sampleCalibration()))
    let deployment = try Deployment(model: other, device: device, deviceClass: cpuClass)
    #expect(throws: InputError(file: "model profile other", jsonPath: "$.ffnSize", "expected 128 (from the GGUF file), found 256")) {
        _ = try ModelValidation(deployment: deployment, model: model, threads: 1, trace: [])
    }
}

@Test func missingModelFileIsAOneLineInputError() throws {
    let path = "/nonexistent/model-\(UUID().uuidString).gguf"
    #expect(throws: InputError(file: path, "model file not found")) { _ = try ValidationInputs.loadModel(path: path) }
}

@Test func nonGGUFFileIsAOneLineInputErrorNamingTheFile() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/not-a-model.gguf"
    FileManager.default.createFile(atPath: path, contents: Data("hello, this is text and not GGUF".utf8))
    do {
        _ = try ValidationInputs.loadModel(path: path)
        Issue.record("expected an error")
    } catch let error as InputError {
        #expect(error.file == path)
        #expect(!error.description.contains("\n"))
        #expect(error.message.lowercased().contains("magic") || error.message.lowercased().contains("gguf"))
    }
}

@Test func badTraceRowIsAnInputErrorWithItsLine() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/t.csv"
    FileManager.default.createFile(atPath: path, contents: Data("arrival_s,prompt_tokens,output_tokens\n0,10,5\n0.5,x,5\n".utf8))
    do {
        _ = try ValidationInputs.loadTrace(path: path)
        Issue.record("expected an error")
    } catch let error as InputError {
        #expect(error.file == path)
        #expect(error.location == "line 3")
    }
}

/// With a calibrator, `observe` alternates calibration rounds and measurement rounds (as many of
/// each), serves the trace once after the middle round, and returns the calibration.
@Test func observeInterleavesCalibrationAndMeasurementRounds() throws {
    let model = try tinyModel()
    var plan = ModelValidation.Plan()
    plan.decodeContexts = [24]
    plan.prefillLengths = [16]
    plan.batchSizes = [2]
    plan.batchContext = 8
    plan.repetitions = 3
    plan.tracePolicy = TraceServingPolicy(maxBatchSize: 2, tokenBudget: 16)
    let trace = [request(0, at: 0, prompt: 10, output: 3), request(1, at: 0, prompt: 12, output: 2)]
    let calibrator = smallCalibrator()  // observe sets its rounds to the plan's
    var log: [String] = []
    let (observed, calibration) = try ModelValidation.observe(model: model, threads: 1, trace: trace, plan: plan,
                                                              calibrator: calibrator) { log.append($0) }
    #expect(calibration != nil && observed.calibrated && observed.rounds == 3)
    // Each round measures every quantity once: 16 decode steps, one prefill, 8 batched steps.
    #expect(observed.decode[24]?.samples.count == 3 * 16)
    #expect(observed.prefill[16]?.samples.count == 3)
    #expect(observed.batched[2]?.samples.count == 3 * 8)
    #expect(observed.decode[24]?.timings.steps == 3 * 16)
    #expect(observed.trace?.timelines.count == 2)
    // The trace follows the middle round's measurements, before the last round.
    let traceAt = try #require(log.firstIndex { $0.hasPrefix("served trace") })
    #expect(log[traceAt - 1].hasPrefix("round 2/3:") && log[traceAt + 1].hasPrefix("round 3/3:"))
    // Without a calibrator the rounds run back to back and nothing is calibrated.
    let (plainObserved, none) = try ModelValidation.observe(model: model, threads: 1, trace: [], plan: plan, calibrator: nil)
    #expect(none == nil && !plainObserved.calibrated && plainObserved.trace == nil)
    let report = try ModelValidation(deployment: tinyDeployment(model), model: model, threads: 1, trace: trace, plan: plan).report(observed)
    #expect(report.row("decode @ ctx 24") != nil && report.row("trace TPOT p50") != nil)
}
