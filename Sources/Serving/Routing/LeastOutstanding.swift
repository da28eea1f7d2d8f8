/// The replica with the fewest outstanding (waiting + running) requests; join-the-shortest-queue.
public struct LeastOutstanding: RequestRouter {
    public init() {}
    public mutating func route(_ request: RequestSpec, loads: RouterLoads) -> Int { loads.leastOutstanding() }
}
