/// The replica whose KV cache is least full, ties broken by fewer outstanding requests:
/// memory, not request count, is what limits a replica's batch (Llumnix-style load).
public struct LeastKVLoad: RequestRouter {
    public init() {}
    public mutating func route(_ request: RequestSpec, loads: RouterLoads) -> Int {
        var best = 0
        for r in 1..<loads.replicaCount {
            let (u, b) = (loads.kvUtilisation[r], loads.kvUtilisation[best])
            if u < b || (u == b && loads.outstanding[r] < loads.outstanding[best]) { best = r }
        }
        return best
    }
}
