import Diagnostics
import CostModel
import Foundation
import HardwareModel
import Serving

/// What the simulator needs to know about one replica's hardware: how long a step takes,
/// how much KV fits, and the power it draws when idle.
public struct ReplicaModel: Sendable {
    public var costModel: any StepCostModel
    /// KV bytes per token, and KV capacity, on the most loaded device (their ratio is the replica's token capacity).
    public var kvBytesPerToken: Double
    public var kvCapacityBytes: Double
    /// Idle power of all the replica's devices, watts.
    public var idlePowerWatts: Double
    /// Host link used for swapping KV, achievable bytes per second (nil if none).
    public var hostLinkBytesPerSecond: Double?
    /// The model's context length (`maxContextTokens`): the default and the ceiling of
    /// `kvCache.maxSequenceTokens`. Nil when unknown (closed-form models).
    public var maxContextTokens: Int?
    /// The sliding window the model declares, if any (`ModelProfile.slidingWindowTokens`).
    public var slidingWindowTokens: Int?
    /// Under disaggregation: the link a prefill device ships KV over to the decode pool,
    /// achievable bytes per second and latency (nil when co-located or unknown).
    public var transferLinkBytesPerSecond: Double?
    public var transferLinkLatencySeconds: Double = 0

    public init(costModel: any StepCostModel, kvBytesPerToken: Double, kvCapacityBytes: Double,
                idlePowerWatts: Double = 0, hostLinkBytesPerSecond: Double? = nil, maxContextTokens: Int? = nil,
                slidingWindowTokens: Int? = nil) {
        self.slidingWindowTokens = slidingWindowTokens
        self.costModel = costModel
        self.kvBytesPerToken = kvBytesPerToken
        self.kvCapacityBytes = kvCapacityBytes
        self.idlePowerWatts = idlePowerWatts
        self.hostLinkBytesPerSecond = hostLinkBytesPerSecond
        self.maxContextTokens = maxContextTokens
    }

    /// Tokens of KV the replica holds.
    public var kvTokenCapacity: Int { Int((kvCapacityBytes / kvBytesPerToken).rounded(.down)) }
}

/// Turns a scenario's hardware and model ids into a `ReplicaModel`. The default resolves them
/// through the `ProfileCatalog` and prices steps with `InferenceCostModel`; tests inject a
/// closed-form one.
public typealias ReplicaResolver = @Sendable (Scenario, _ file: String) throws -> ReplicaModel

public enum ReplicaResolvers {
    /// Resolves through the profile catalog found by `ProfileCatalog.locate(explicit:)`.
    ///
    /// Errors name the scenario file and the key at fault: `$.hardware` and `$.model` for
    /// unknown ids (listing the known ones), `$.parallelism` for a split the model or the
    /// hardware cannot take (including more devices than a named system has), `$.replicas` for
    /// more replicas than a named system holds, `$.model` when the weights do not fit.
    public static func catalog(root: String? = nil) -> ReplicaResolver {
        { scenario, file in try resolve(scenario, file: file, catalog: try ProfileCatalog.locate(explicit: root)) }
    }

    /// Resolves through a catalog already located (a plan or sweep locates it once per process).
    public static func catalog(_ catalog: ProfileCatalog) -> ReplicaResolver {
        { scenario, file in try resolve(scenario, file: file, catalog: catalog) }
    }

    static func resolve(_ scenario: Scenario, file: String, catalog: ProfileCatalog) throws -> ReplicaModel {
        let isSystem = catalog.systemIDs.contains(scenario.hardware)
        guard isSystem || catalog.deviceIDs.contains(scenario.hardware) else {
            throw InputError(file: file, jsonPath: "$.hardware",
                             NearestName.unknown(scenario.hardware, what: "hardware id", known: catalog.deviceIDs + catalog.systemIDs))
        }
        guard catalog.modelIDs.contains(scenario.model) else {
            throw InputError(file: file, jsonPath: "$.model", NearestName.unknown(scenario.model, what: "model id", known: catalog.modelIDs))
        }
        let tp = scenario.parallelism.tp, pp = scenario.parallelism.pp
        if isSystem {
            let system = try catalog.system(scenario.hardware)
            let devices = tp * pp * scenario.replicas
            if tp * pp <= system.deviceCount && devices > system.deviceCount {
                throw InputError(file: file, jsonPath: "$.replicas",
                                 "expected at most \(system.deviceCount / (tp * pp)) replicas of tp \(tp) × pp \(pp) on the \(system.deviceCount) devices of \(system.name), found \(scenario.replicas) (\(devices) devices); name the device (\(system.device)) instead of the system to model a larger cluster")
            }
        }
        let deployment = try catalog.deployment(hardware: scenario.hardware, model: scenario.model,
                                                tensorParallel: tp, pipelineParallel: pp,
                                                precision: scenario.precision.precision,
                                                memoryUtilization: scenario.memoryUtilization,
                                                pimPlacement: scenario.parallelism.pimPlacement, chips: scenario.parallelism.chips,
                                                onChipKVTokens: scenario.parallelism.onChipKVTokens ?? scenario.scheduler.maxBatchSize
                                                    * min(scenario.kvCache.maxSequenceTokens ?? 4096, try catalog.model(scenario.model).maxContextTokens),
                                                expertParallel: scenario.parallelism.ep, expertImbalance: scenario.parallelism.expertImbalance,
                                                engine: scenario.engine, dataParallelAttention: scenario.parallelism.dataParallelAttention,
                                                expertDispatch: scenario.parallelism.expertDispatch, origins: .scenario(file))
        let plan = deployment.memoryPlan(maxStepTokens: scenario.scheduler.maxTokensPerStep,
                                         maxLogitRows: scenario.scheduler.maxBatchSize)
        guard plan.weightsFit, plan.kvCapacityPerDevice.value > 0 else {
            func gb(_ q: Double) -> String { JSONText.number(q, decimals: 2) }
            throw InputError(file: file, jsonPath: "$.model",
                             "\(scenario.model) does not fit on \(scenario.hardware) with tp \(tp) × pp \(pp): short by \(gb(plan.shortfall.gigabytes)) GB per device (weights \(gb(plan.weightsPerDevice.gigabytes)) GB, usable \(gb(plan.usablePerDevice.gigabytes)) GB)")
        }
        let host = deployment.hostLink.map { $0.bandwidth.value * $0.achievableFraction }
        let target = InferenceCostModel(deployment: deployment, decodeBatchTable: scenario.scheduler.maxBatchSize)
        var costModel: any StepCostModel = target
        var kvCapacity = plan.kvCapacityPerDevice.value
        if let spec = scenario.speculative {
            let drafter: SpeculativeDecoding.Drafter
            do {
                drafter = try SpeculationSetup.drafter(catalog: catalog, target: deployment, draftModel: spec.draftModel,
                                                       draftHardware: spec.draftHardware, label: "speculative")
            } catch let e as InputError {
                throw InputError(file: file, jsonPath: spec.draftHeads ? "$.speculative.draftHeads" : "$.speculative.draftModel", e.message)
            }
            // A drafter on the replica's own devices keeps its weights beside the target's.
            if spec.draftHardware == nil || spec.draftHardware == scenario.hardware {
                switch drafter {
                case .model(let m), .heads(let m): kvCapacity -= m.deployment.weightsPerDevice.value
                }
                guard kvCapacity > 0 else {
                    throw InputError(file: file, jsonPath: "$.speculative", "the drafter's weights leave no room for the KV cache on \(scenario.hardware)")
                }
            }
            costModel = SpeculativeStepCostModel(target: target, speculation: SpeculativeDecoding(drafter: drafter, draftTokens: spec.draftTokens, treeWidth: spec.treeWidth))
        }
        var replica = ReplicaModel(costModel: costModel,
                                   kvBytesPerToken: plan.kvBytesPerTokenPerDevice.value,
                                   kvCapacityBytes: kvCapacity,
                                   idlePowerWatts: deployment.heldIdleWatts * Double(deployment.deviceCount),
                                   hostLinkBytesPerSecond: host,
                                   maxContextTokens: deployment.model.maxContextTokens,
                                   slidingWindowTokens: deployment.model.slidingWindowTokens)
        if let d = scenario.disaggregation {
            guard let id = d.link ?? deployment.device.interconnect.scaleOut else {
                throw InputError(file: file, jsonPath: "$.disaggregation.link",
                                 "\(scenario.hardware) names no scale-out link to reach the decode pool; give an interconnect id")
            }
            guard catalog.interconnectIDs.contains(id) else {
                throw InputError(file: file, jsonPath: "$.disaggregation.link",
                                 NearestName.unknown(id, what: "interconnect id", known: catalog.interconnectIDs))
            }
            let link = try catalog.interconnect(id)
            let scaleUp: Set<InterconnectProfile.Kind> = [.nvlink, .infinityFabric, .chipFabric, .ici]
            guard !scaleUp.contains(link.kind) || (d.decodeHardware ?? scenario.hardware) == scenario.hardware else {
                throw InputError(file: file, jsonPath: "$.disaggregation.link",
                                 "\(id) is a scale-up link inside one node of \(scenario.hardware); it does not connect to \(d.decodeHardware!) devices")
            }
            replica.transferLinkBytesPerSecond = link.bandwidthBytesPerSecondPerDirection * link.achievableFraction
            replica.transferLinkLatencySeconds = link.latencySeconds
        }
        return replica
    }
}
