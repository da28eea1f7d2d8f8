import HardwareModel

/// How a model is laid out over chips (or wafers) that keep everything in on-chip SRAM: how many
/// units it takes, how layers spread over them, and how many boundaries a token crosses.
///
/// The units needed are the fewest whose aggregate usable SRAM holds the weights, the KV cache
/// reserved for `kvTokens` tokens, and one step's activation workspace:
/// `units = ⌈(weights + kvTokens · kvBytesPerToken + workspace) / (capacity · memoryUtilization)⌉`.
/// Layers spread evenly: `unitsPerLayer = units / layers` (a fraction when a unit holds several
/// layers).
public struct SpatialLayout: Sendable, Hashable {
    /// Chips (sramPipeline) or wafers (wafer).
    public var units: Int
    public var unitName: String
    /// Usable SRAM of one unit, bytes.
    public var usablePerUnit: Double
    /// Whole-model weights, reserved KV cache and workspace, bytes.
    public var weightBytes: Double
    public var kvBytes: Double
    public var workspaceBytes: Double
    /// KV tokens the layout reserves SRAM for.
    public var kvTokens: Int
    /// The fewest units that hold it all (`units` may be larger when a count was asked for).
    public var unitsNeeded: Int
    /// Pipeline stages a token crosses, each able to hold one micro-batch.
    public var stages: Int
    /// Units per layer: `units / layers`.
    public var unitsPerLayer: Double
    /// Stage boundaries that cross from one unit to another per forward pass.
    public var hops: Int

    public var neededBytes: Double { weightBytes + kvBytes + workspaceBytes }

    /// One line on how the count was reached, for `explain` and `predict`.
    public var derivation: String {
        let gb = { (b: Double) in String(format: "%.2f GB", b / 1e9) }
        var s = "\(gb(weightBytes)) weights + \(gb(kvBytes)) KV (\(kvTokens) tokens) + \(gb(workspaceBytes)) workspace = \(gb(neededBytes))"
        s += " / \(String(format: "%.1f MB", usablePerUnit / 1e6)) usable SRAM per \(unitName) = \(unitsNeeded) \(unitName)s"
        if units != unitsNeeded { s += " (\(units) requested)" }
        s += String(format: "; %.2f %@s per layer, %d pipeline stages, %d hops per token", unitsPerLayer, unitName, stages, hops)
        return s
    }
}

extension SpatialLayout {
    /// The layout of `model` on units of `device`.
    /// - Parameters:
    ///   - units: a count asked for; nil for the fewest that hold the model.
    ///   - layerPerStage: whether every layer is its own pipeline stage (a wafer lays layers out
    ///     as regions) or a stage is one unit's share (chips).
    /// - Throws: `Deployment.Problem.doesNotFit` naming the shortfall in bytes and in units.
    static func make(model: ModelProfile, device: DeviceProfile, precision: Precision, memoryUtilization: Double,
                     kvTokens: Int, workspaceBytes: Double, weightBytes: Double, units requested: Int?,
                     unitName: String, layerPerStage: Bool) throws -> SpatialLayout {
        let usable = device.mainMemory.capacityBytes * memoryUtilization
        let kv = Double(kvTokens) * model.kvBytesPerToken(precision.kvCache).value
        let need = weightBytes + kv + workspaceBytes
        let neededUnits = (need / usable).rounded(.up)
        guard neededUnits.isFinite, neededUnits <= 1_000_000 else {
            throw Deployment.Problem.doesNotFit(String(format: "%@ needs %.3g bytes of SRAM, more than a million %@s of %@", model.name, need, unitName, device.name))
        }
        let needed = max(1, Int(neededUnits))
        let units = requested ?? needed
        if units < needed {
            let short = need - Double(units) * usable
            let gb = { (b: Double) in String(format: "%.2f GB", b / 1e9) }
            throw Deployment.Problem.doesNotFit(
                "\(model.name) at \(precision.weights.rawValue) needs \(gb(need)) of SRAM (weights \(gb(weightBytes)) + KV for \(kvTokens) tokens \(gb(kv)) + workspace \(gb(workspaceBytes))); \(units) \(unitName)s of \(device.name) hold \(gb(Double(units) * usable)) usable: short by \(Int(short.rounded(.up))) bytes, \(needed - units) more \(unitName)s (\(needed) in all)")
        }
        let L = model.layers
        let stages = layerPerStage ? L : min(units, L)
        let hops = layerPerStage ? units - 1 : min(units, L) - 1
        return SpatialLayout(units: units, unitName: unitName, usablePerUnit: usable, weightBytes: weightBytes, kvBytes: kv,
                             workspaceBytes: workspaceBytes, kvTokens: kvTokens, unitsNeeded: needed, stages: stages,
                             unitsPerLayer: Double(units) / Double(L), hops: hops)
    }
}
