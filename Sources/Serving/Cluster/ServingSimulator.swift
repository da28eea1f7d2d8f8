import CostModel
import DiscreteEvent
import HardwareModel

/// Runs one serving simulation: requests from `source` through a cluster of identical
/// replicas priced by `costModel`, reporting every completion, rejection and step to `recorder`.
///
/// Deterministic: the same configuration, cost model and request sequence give the same
/// records in the same order (no wall clock, no global randomness; ties are broken by the
/// event queue's `(time, phase, sequence)` key).
public enum ServingSimulator {
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
        let kv = configuration.kvCache
        switch configuration.scheduler.kind {
        case .staticBatching:
            return try runKV(configuration, StaticBatching(), kv, costModel, source, &boxed)
        case .continuousBatching:
            return try runKV(configuration, ContinuousBatching(), kv, costModel, source, &boxed)
        case .chunkedPrefill:
            return try runKV(configuration, ChunkedPrefill(), kv, costModel, source, &boxed)
        case .decodePriority:
            return try runKV(configuration, DecodePriority(), kv, costModel, source, &boxed)
        case .priorityClasses:
            let s = PriorityClasses(classes: configuration.scheduler.classes,
                                    admissionDeadline: configuration.scheduler.admissionDeadline)
            return try runKV(configuration, s, kv, costModel, source, &boxed)
        }
    }

    static func runKV<S: BatchScheduler>(
        _ configuration: ClusterConfiguration, _ scheduler: S, _ kv: KVCacheConfiguration,
        _ costModel: any StepCostModel, _ source: any RequestSource, _ recorder: inout any ServingRecorder
    ) throws -> SimulationOutcome {
        switch kv.kind {
        case .contiguous:
            return try simulate(configuration, scheduler, { ContiguousReservation(configuration: kv) }, costModel, source, &recorder)
        case .paged:
            return try simulate(configuration, scheduler, { PagedBlocks(configuration: kv) }, costModel, source, &recorder)
        case .prefixCaching:
            return try simulate(configuration, scheduler, { PrefixCaching(configuration: kv) }, costModel, source, &recorder)
        }
    }

    static func simulate<S: BatchScheduler, KV: KVCacheManager>(
        _ configuration: ClusterConfiguration, _ scheduler: S, _ makeKV: () -> KV,
        _ costModel: any StepCostModel, _ source: any RequestSource, _ recorder: inout any ServingRecorder
    ) throws -> SimulationOutcome {
        var cluster = Cluster(configuration: configuration, scheduler: scheduler, makeKV: makeKV,
                              costModel: costModel, source: source, recorder: recorder)
        var simulation = Simulation<ClusterEvent>()
        cluster.start(&simulation)
        while cluster.error == nil, let (time, event) = simulation.step() {
            cluster.handle(event, at: time, in: &simulation)
        }
        recorder = cluster.recorder
        if let error = cluster.error { throw error }
        precondition(cluster.table.liveCount == 0,
                     "\(cluster.table.liveCount) requests never finished: the scheduler left a replica idle with work waiting")
        let makespan = simulation.now
        let reports = cluster.replicas.map { replica -> ReplicaReport in
            let stats = replica.statistics
            let busy = Double(stats.busyNanoseconds)
            let idleSeconds = max(0, makespan.seconds - busy * 1e-9)
            return ReplicaReport(
                index: replica.index, statistics: stats, kvCache: replica.kv.statistics,
                meanKVUtilisation: busy > 0 ? stats.kvUtilisationIntegral / busy : 0,
                meanKVFragmentation: busy > 0 ? stats.kvFragmentationIntegral / busy : 0,
                busyFraction: makespan.nanoseconds > 0 ? busy / Double(makespan.nanoseconds) : 0,
                energyJoules: stats.energyJoules + configuration.idlePowerWatts * idleSeconds,
                meanBatchSize: stats.steps > 0 ? Double(stats.batchSizeSum) / Double(stats.steps) : 0,
                finalPinnedBlocks: replica.kv.pinnedBlocks)
        }
        return SimulationOutcome(
            makespan: makespan, arrived: cluster.arrived, completed: cluster.completed,
            rejected: cluster.rejectedByReason.values.reduce(0, +), rejectedByReason: cluster.rejectedByReason,
            eventsHandled: simulation.eventsHandled, peakInFlight: cluster.table.capacity, replicas: reports,
            skippedRows: cluster.source.skippedRows)
    }
}
