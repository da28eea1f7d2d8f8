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

    public init(costModel: any StepCostModel, kvBytesPerToken: Double, kvCapacityBytes: Double,
                idlePowerWatts: Double = 0, hostLinkBytesPerSecond: Double? = nil) {
        self.costModel = costModel
        self.kvBytesPerToken = kvBytesPerToken
        self.kvCapacityBytes = kvCapacityBytes
        self.idlePowerWatts = idlePowerWatts
        self.hostLinkBytesPerSecond = hostLinkBytesPerSecond
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
    public static func catalog(root: String? = nil) -> ReplicaResolver {
        { scenario, file in
            let catalog = try ProfileCatalog.locate(explicit: root)
            let deployment = try catalog.deployment(hardware: scenario.hardware, model: scenario.model,
                                                    tensorParallel: scenario.parallelism.tp, pipelineParallel: scenario.parallelism.pp,
                                                    precision: scenario.precision.precision,
                                                    memoryUtilization: scenario.memoryUtilization)
            let plan = deployment.memoryPlan(maxStepTokens: scenario.scheduler.maxTokensPerStep,
                                             maxLogitRows: scenario.scheduler.maxBatchSize)
            guard plan.weightsFit, plan.kvCapacityPerDevice.value > 0 else {
                throw InputError(file: file, location: "$.model",
                                 "\(scenario.model) does not fit on \(scenario.hardware) with tp \(scenario.parallelism.tp) × pp \(scenario.parallelism.pp): short by \(plan.shortfall.gigabytes) GB per device (weights \(plan.weightsPerDevice.gigabytes) GB, usable \(plan.usablePerDevice.gigabytes) GB)")
            }
            let host = deployment.hostLink.map { $0.bandwidth.value * $0.achievableFraction }
            return ReplicaModel(costModel: InferenceCostModel(deployment: deployment, decodeBatchTable: scenario.scheduler.maxBatchSize),
                                kvBytesPerToken: plan.kvBytesPerTokenPerDevice.value,
                                kvCapacityBytes: plan.kvCapacityPerDevice.value,
                                idlePowerWatts: deployment.device.power.idleWatts * Double(deployment.tensorParallel * deployment.pipelineParallel),
                                hostLinkBytesPerSecond: host)
        }
    }
}
