import HardwareModel

/// Which part of a device runs an operator: the processor, or the memory's own MAC units.
public enum Engine: Sendable, Hashable {
    case host
    case memory
}

/// How the operators of one step share the device's time.
public enum StepSchedule: Sendable, Hashable {
    /// One operator after another on one engine (GPUs, CPUs, FPGAs), or on two that wait for
    /// each other.
    case serial
    /// Layers laid out across chips as pipeline stages that hold `stages` micro-batches at once:
    /// a step of `B` sequences costs one pass of a micro-batch of `⌈B / m⌉`, `m = min(B, stages)`
    /// (every stage busy once the pipeline is full; each sequence still crosses every stage).
    case filledPipeline(stages: Int)
    /// Host and memory engines run two sub-batches alternately so that both work at once
    /// (AttAcc, NeuPIMs): each sub-batch's host and memory work; the step costs
    /// `2·max(host, memory) + min(host, memory) / layers` (the second engine idles for one layer
    /// while the pipeline fills).
    case interleavedSubBatches
    /// Host and memory engines serve different requests at once (prefill on the host, decode in
    /// memory): `max(host, memory)`.
    case concurrentEngines
}

/// Prices the operators of a step the way one class of device executes them.
///
/// One conformer per `ExecutionModel`, each in its own file, built by
/// `ExecutionModel.pricer(for:)`. `Deployment.cost(of:)` and `InferenceCostModel` call nothing
/// else, so a device class that executes differently is one new case and one new file.
public protocol ExecutionPricer: Sendable {
    /// Price of one execution of `op` on one device of `deployment`.
    func cost(of op: Operator, in deployment: Deployment) -> OperatorCost
    /// The engine that runs `op` (default: the host).
    func engine(of op: Operator, in deployment: Deployment) -> Engine
    /// How the step's operators share the device (default: `.serial`).
    func schedule(of step: StepWorkload, in deployment: Deployment) -> StepSchedule
    /// `op`'s engine and its price there, in one pass (a pricer that chooses the engine by
    /// price prices each candidate once).
    func placed(_ op: Operator, in deployment: Deployment) -> (engine: Engine, cost: OperatorCost)
}

extension ExecutionPricer {
    public func engine(of op: Operator, in deployment: Deployment) -> Engine { .host }
    public func schedule(of step: StepWorkload, in deployment: Deployment) -> StepSchedule { .serial }
    public func placed(_ op: Operator, in deployment: Deployment) -> (engine: Engine, cost: OperatorCost) {
        (engine(of: op, in: deployment), cost(of: op, in: deployment))
    }
}

extension ExecutionModel {
    /// The pricer of this execution model (exhaustive: a new case needs its pricer here).
    public func pricer(placement: PIMPlacement) -> any ExecutionPricer {
        switch self {
        case .roofline: return RooflinePricer()
        case .measuredKernels: return MeasuredKernelsPricer()
        case .shapedKernels: return ShapedKernelsPricer()
        case .sramPipeline: return SRAMPipelinePricer()
        case .wafer: return WaferPricer()
        case .pimHybrid: return PIMHybridPricer(placement: placement)
        case .fpgaDataflow: return FPGADataflowPricer()
        }
    }
}
