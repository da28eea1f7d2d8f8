/// Sends requests that share a first prefix block (or a session) to the same replica, so
/// its prefix cache can serve them, with a bounded-load guard: if the affine replica has more
/// than `1.25 × mean + 1` outstanding requests, fall back to the least-outstanding one
/// (consistent hashing with bounded loads, Mirrokni et al., SODA 2018; cf. SGLang's
/// cache-aware router). Requests with neither go to the least-outstanding replica.
public struct PrefixAffinity: RequestRouter {
    public init() {}
    public mutating func route(_ request: RequestSpec, loads: RouterLoads) -> Int {
        let key: UInt64
        if let first = request.prefixHashes.first { key = first } else if let session = request.session { key = UInt64(bitPattern: Int64(session)) } else {
            return loads.leastOutstanding()
        }
        let affine = Int(Self.mix(key) % UInt64(loads.replicaCount))
        let total = loads.outstanding.reduce(0, +)
        let bound = 1.25 * Double(total) / Double(loads.replicaCount) + 1
        return Double(loads.outstanding[affine]) <= bound ? affine : loads.leastOutstanding()
    }

    /// SplitMix64 finaliser: spreads consecutive ids over replicas.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
