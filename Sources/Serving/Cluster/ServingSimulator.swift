import Diagnostics
import CostModel
import DiscreteEvent
import HardwareModel

/// Runs one serving simulation: requests from `source` through a cluster of identical
/// replicas whose steps a `StepRunner` prices (a `StepCostModel`) or executes (a real
/// executor), reporting every completion, rejection and step to `recorder`.
///
/// Deterministic for a deterministic runner: the same configuration, cost model and request
/// sequence give the same records in the same order (no wall clock, no global randomness; ties
/// are broken by the event queue's `(time, phase, sequence)` key). The only time that passes is
/// what the runner returns; an executor runner's measured durations are the one way wall-clock
/// time enters.
public enum ServingSimulator {
    /// Prices every step with `costModel` (through `StepCostModelRunner`, which never builds
    /// per-entry descriptions, so a step is priced in O(1)).
    /// - Throws: `InputError` if the source yields arrivals out of order or empty requests.
    public static func run<Recorder: ServingRecorder>(
        _ configuration: ClusterConfiguration, costModel: any StepCostModel,
        requests source: any RequestSource, recorder: inout Recorder
    ) throws -> SimulationOutcome {
        // Box the recorder so that everything below is concrete in this module and the
        // scheduler × KV-policy combinations are fully specialised (a generic recorder type
        // from another module would leave the whole cluster unspecialised).
        var boxed: any ServingRecorder = recorder
        defer { recorder = boxed as! Recorder }
        var runner = StepCostModelRunner(costModel)
        return try runScheduler(configuration, &runner, source, &boxed)
    }

    /// Disaggregated serving: prefill-pool steps priced by `prefillCostModel`, decode-pool steps
    /// by `decodeCostModel` (`configuration.disaggregation` must be set).
    public static func run<Recorder: ServingRecorder>(
        _ configuration: ClusterConfiguration, prefillCostModel: any StepCostModel, decodeCostModel: any StepCostModel,
        requests source: any RequestSource, recorder: inout Recorder
    ) throws -> SimulationOutcome {
        precondition(configuration.disaggregation != nil, "pooled pricing needs a disaggregated configuration")
        var boxed: any ServingRecorder = recorder
        defer { recorder = boxed as! Recorder }
        var runner = PooledStepCostModelRunner(prefill: prefillCostModel, decode: decodeCostModel,
                                               prefillReplicas: configuration.disaggregation!.prefillReplicas)
        return try runScheduler(configuration, &runner, source, &boxed)
    }

    /// Runs every step on `runner` (an executor, or any pricing that needs each batch entry).
    /// The simulated clock advances by the durations `runner` returns; `runner` is left as the
    /// run ended (for instance with every sequence slot freed).
    /// - Throws: `InputError` for a bad workload, or the first error `runner` throws.
    public static func run<Runner: StepRunner, Recorder: ServingRecorder>(
        _ configuration: ClusterConfiguration, runner: inout Runner,
        requests source: any RequestSource, recorder: inout Recorder
    ) throws -> SimulationOutcome {
        var boxedRecorder: any ServingRecorder = recorder
        var boxedRunner = BoxedStepRunner(base: runner)
        defer {
            recorder = boxedRecorder as! Recorder
            runner = boxedRunner.base as! Runner
        }
        return try runScheduler(configuration, &boxedRunner, source, &boxedRecorder)
    }

    static func runScheduler<R: StepRunner>(
        _ configuration: ClusterConfiguration, _ runner: inout R, _ source: any RequestSource,
        _ recorder: inout any ServingRecorder
    ) throws -> SimulationOutcome {
        let kv = configuration.kvCache
        switch configuration.scheduler.kind {
        case .staticBatching:
            return try runKV(configuration, StaticBatching(), kv, &runner, source, &recorder)
        case .continuousBatching:
            return try runKV(configuration, ContinuousBatching(), kv, &runner, source, &recorder)
        case .chunkedPrefill:
            return try runKV(configuration, ChunkedPrefill(), kv, &runner, source, &recorder)
        case .decodePriority:
            return try runKV(configuration, DecodePriority(), kv, &runner, source, &recorder)
        case .priorityClasses:
            let s = PriorityClasses(classes: configuration.scheduler.classes,
                                    admissionDeadline: configuration.scheduler.admissionDeadline)
            return try runKV(configuration, s, kv, &runner, source, &recorder)
        }
    }

    static func runKV<S: BatchScheduler, R: StepRunner>(
        _ configuration: ClusterConfiguration, _ scheduler: S, _ kv: KVCacheConfiguration,
        _ runner: inout R, _ source: any RequestSource, _ recorder: inout any ServingRecorder
    ) throws -> SimulationOutcome {
        precondition(configuration.disaggregation.map { $0.decodeKVCache.kind == kv.kind } ?? true, "both pools use one KV policy")
        switch kv.kind {
        case .contiguous:
            return try simulate(configuration, scheduler, { ContiguousReservation(configuration: $0) }, &runner, source, &recorder)
        case .paged:
            return try simulate(configuration, scheduler, { PagedBlocks(configuration: $0) }, &runner, source, &recorder)
        case .prefixCaching:
            return try simulate(configuration, scheduler, { PrefixCaching(configuration: $0) }, &runner, source, &recorder)
        }
    }

    static func simulate<S: BatchScheduler, KV: KVCacheManager, R: StepRunner>(
        _ configuration: ClusterConfiguration, _ scheduler: S, _ makeKV: (KVCacheConfiguration) -> KV,
        _ runner: inout R, _ source: any RequestSource, _ recorder: inout any ServingRecorder
    ) throws -> SimulationOutcome {
        var cluster = Cluster(configuration: configuration, scheduler: scheduler, makeKV: makeKV,
                              runner: runner, source: source, recorder: recorder)
        var simulation = Simulation<ClusterEvent>()
        cluster.start(&simulation)
        while cluster.error == nil, let (time, event) = simulation.step() {
            cluster.handle(event, at: time, in: &simulation)
        }
        recorder = cluster.recorder
        runner = cluster.runner
        if let error = cluster.error { throw error }
        precondition(cluster.table.liveCount == 0,
                     "\(cluster.table.liveCount) requests never finished: the scheduler left a replica idle with work waiting")
        let makespan = simulation.now
        let reports = cluster.replicas.map { replica -> ReplicaReport in
            let stats = replica.statistics, totals = stats.stepTotals
            let busy = Double(totals.busyNanoseconds)
            let idleSeconds = max(0, makespan.seconds - busy * 1e-9)
            var report = ReplicaReport(
                index: replica.index, statistics: stats, kvCache: replica.kv.statistics,
                busyFraction: makespan.nanoseconds > 0 ? busy / Double(makespan.nanoseconds) : 0,
                energyJoules: totals.energyJoules + configuration.idlePowerWatts(ofReplica: replica.index) * idleSeconds,
                finalPinnedBlocks: replica.kv.pinnedBlocks, pool: configuration.disaggregation?.pool(of: replica.index))
            if let p = configuration.pipeline, p.microBatches > 1 {
                report.microBatch = PipelineSlot(p.physicalReplica(of: replica.index), replica.index % p.microBatches)
            }
            return report
        }
        return SimulationOutcome(
            makespan: makespan, arrived: cluster.arrived, completed: cluster.completed,
            rejected: cluster.rejectedByReason.values.reduce(0, +), rejectedByReason: cluster.rejectedByReason,
            eventsHandled: simulation.eventsHandled, peakInFlight: cluster.table.capacity, replicas: reports,
            skippedRows: cluster.source.skippedRows, skippedRowReasons: cluster.source.skippedRowReasons,
            kvTransfers: configuration.disaggregation == nil ? nil : cluster.transferTimes.statistics)
    }
}
