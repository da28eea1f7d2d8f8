import HardwareModel

/// One communication operator of a priced step, as `predict` and `explain` show it: per call
/// (one layer's collective, one stage boundary's transfer), how many calls a step makes, the
/// bytes each device sends per call, and the route.
public struct CommunicationLine: Sendable {
    public var name: String
    public var perCall: Seconds
    public var calls: Int
    /// The operator's buffer: the tensor a collective reduces or gathers, a transfer's message.
    public var bytesPerCall: Bytes
    /// What each device puts on the wire per call: `2(n−1)/n` of the buffer for a ring
    /// all-reduce, `(n−1)/n` for an all-gather or reduce-scatter, the message for an all-to-all
    /// (already only the remote share) or a transfer.
    public var bytesSentPerCall: Bytes
    public var route: String
    public var perStep: Seconds { perCall * Double(calls) }
}

/// A step's communication: its lines, their sum, and what the engine hid behind compute.
public struct CommunicationSummary: Sendable {
    public var lines: [CommunicationLine]
    /// Σ lines' per-step time.
    public var total: Seconds
    /// Of `total`, what stays on the step's critical path (`StepCost.communication`).
    public var exposed: Seconds
    public var hidden: Seconds { total - exposed }
}

extension Deployment {
    /// How a communication operator of `kind` travels: the collective's algorithm, ranks and links.
    public func route(of kind: OperatorKind) -> String {
        switch kind {
        case .allReduce:
            if let layout, collectiveRanks > 1 {
                return "all-reduce over the \(collectiveRanks) \(layout.unitName)s a layer spans"
            }
            guard let link = tensorLink, tensorParallel > 1 else { return "none (one device)" }
            if let (up, g) = tensorNodeLink {
                return "hierarchical all-reduce of \(tensorParallel) ranks: reduce-scatter and all-gather on \(up.displayName) inside \(tensorParallel / g) nodes of \(g), a ring of each rank's 1/\(g) share on \(link.displayName) across them"
            }
            return "ring all-reduce of \(tensorParallel) ranks on \(link.displayName)"
        case .allGather, .reduceScatter:
            let what = kind == .allGather ? "all-gather" : "reduce-scatter"
            guard let link = tensorLink, tensorParallel > 1 else { return "none (one device)" }
            if let (up, g) = tensorNodeLink {
                return "hierarchical \(what) of \(tensorParallel) ranks: \(up.displayName) inside \(tensorParallel / g) nodes of \(g), \(link.displayName) across them"
            }
            return "ring \(what) of \(tensorParallel) ranks on \(link.displayName)"
        case .allToAll:
            guard let link = tensorLink, tensorParallel > 1 else { return "none (one device)" }
            if let (up, g) = tensorNodeLink {
                return "all-to-all among \(tensorParallel) devices: to the \(g - 1) in the node on \(up.displayName), to the \(tensorParallel - g) in other nodes on \(link.displayName), at once"
            }
            return "all-to-all among \(tensorParallel) devices on \(link.displayName)"
        case .pipelineTransfer:
            if let layout { return "\(pipelineHops) hops between the \(layout.units) \(layout.unitName)s" }
            return "\(pipelineHops) stage boundaries on \(pipelineLink?.displayName ?? "no link")"
        default:
            return ""
        }
    }
}

extension StepBreakdown {
    /// The step's communication operators, one line each, and how much of them is exposed.
    public func communication(in d: Deployment) -> CommunicationSummary {
        var lines: [CommunicationLine] = []
        var total = 0.0
        for row in operators where row.op.kind.isCommunication {
            let n = Double(d.tensorParallel), b = row.op.communicationBytes.value
            let sent: Double
            switch row.op.kind {
            case .allReduce: sent = d.layout == nil && n > 1 ? 2 * (n - 1) / n * b : b
            case .allGather, .reduceScatter: sent = n > 1 ? (n - 1) / n * b : 0
            default: sent = b
            }
            let line = CommunicationLine(name: row.op.name, perCall: row.cost.total, calls: row.op.repeats,
                                         bytesPerCall: row.op.communicationBytes, bytesSentPerCall: Bytes(sent), route: d.route(of: row.op.kind))
            total += line.perStep.value
            lines.append(line)
        }
        return CommunicationSummary(lines: lines, total: Seconds(total), exposed: cost.communication)
    }
}
