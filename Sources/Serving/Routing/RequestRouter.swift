/// What a router may look at when it places a request: per-replica load, refreshed by the cluster.
public struct RouterLoads: Sendable {
    /// Requests routed to each replica and not yet finished or rejected.
    public internal(set) var outstanding: [Int]
    /// Each replica's KV blocks in use over total, after its latest step.
    public internal(set) var kvUtilisation: [Double]
    public init(replicas: Int) {
        outstanding = Array(repeating: 0, count: replicas)
        kvUtilisation = Array(repeating: 0, count: replicas)
    }
    public var replicaCount: Int { outstanding.count }

    /// The replica with the fewest outstanding requests (lowest index on ties).
    public func leastOutstanding() -> Int {
        var best = 0
        for r in 1..<max(1, outstanding.count) where outstanding[r] < outstanding[best] { best = r }
        return best
    }
}

/// Places each arriving request on one replica. Called once per request (not per token).
public protocol RequestRouter: Sendable {
    /// - Returns: a replica index in `0..<loads.replicaCount`.
    mutating func route(_ request: RequestSpec, loads: RouterLoads) -> Int
}

/// The routing policies, one struct per file.
public enum RouterKind: String, Codable, Sendable, CaseIterable {
    case roundRobin, leastOutstanding, leastKVLoad, prefixAffinity

    /// Builds the router for `replicas` replicas.
    public func makeRouter() -> any RequestRouter {
        switch self {
        case .roundRobin: return RoundRobin()
        case .leastOutstanding: return LeastOutstanding()
        case .leastKVLoad: return LeastKVLoad()
        case .prefixAffinity: return PrefixAffinity()
        }
    }
}
