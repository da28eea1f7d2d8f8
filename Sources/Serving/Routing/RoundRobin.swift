/// Replica `i mod n` for the `i`-th request: oblivious to load, perfectly even in count.
public struct RoundRobin: RequestRouter {
    var next = 0
    public init() {}
    public mutating func route(_ request: RequestSpec, loads: RouterLoads) -> Int {
        defer { next = (next + 1) % loads.replicaCount }
        return next
    }
}
