import Diagnostics

/// How much of its peak a class of device achieves, and its fixed overheads.
///
/// One entry per device class in `hardware-profiles/device-classes.json`, each documented with
/// what it was fitted on. The small-shape fall-off follows a saturating curve: a GEMM with `m`
/// token rows reaches `computeFraction · m / (m + halfComputeRows)` of peak, and a transfer of
/// `b` bytes reaches `bandwidthFraction · b / (b + halfBandwidthBytes)` of peak bandwidth (the
/// "half-performance length" n½ of Hockney's model of vector machines).
public struct DeviceClassProfile: Codable, Hashable, Sendable {
    public var name: String
    /// Fraction of peak arithmetic reached by large GEMMs.
    public var computeFraction: Double
    /// Overrides of `computeFraction` for arithmetic types whose kernels reach a different share
    /// of their (higher) peak, e.g. FP8 GEMMs on Hopper. Keys are `DType` raw values.
    public var computeFractionByType: [String: Double]?
    /// Fraction of peak memory bandwidth reached by large streaming reads.
    public var bandwidthFraction: Double
    /// GEMM rows (tokens) at which compute efficiency is half of `computeFraction`.
    public var halfComputeRows: Double
    /// Transfer size at which bandwidth efficiency is half of `bandwidthFraction`.
    public var halfBandwidthBytes: Double
    /// Fraction of a multi-row weight GEMM's memory time, at peak bandwidth, that its compute
    /// does not hide (`Deployment.cost(of:)`); absent means 0, the roofline's full overlap.
    /// See `DeviceProfile.exposedMemoryFraction`.
    public var exposedMemoryFraction: Double?
    /// Fixed cost per kernel (launch, synchronisation), seconds.
    public var kernelOverheadSeconds: Double
    /// Fixed cost per forward step (scheduler, sampling, host work), seconds.
    public var stepOverheadSeconds: Double
    /// What the numbers were fitted on or taken from.
    public var fittedOn: String
    /// How devices of the class execute unless a device says otherwise (absent: `roofline`).
    public var executionModel: ExecutionModel
    /// How board power follows the work (absent: dynamic power in proportion to the busier of
    /// compute and memory at peak, the earlier model).
    public var power: PowerModel?

    /// Board power from what a step keeps busy. An operator of `t` seconds that would take
    /// `c` at peak compute and `m` at peak bandwidth draws `idle + (peak − idle) · min(1,
    /// computeWeight · c/t + memoryWeight · m/t)`: tensor cores near their achievable rate put a
    /// GPU at its power limit (`computeWeight · 0.75 ≈ 1`), while streaming HBM at full bandwidth
    /// draws about half the dynamic range. Between steps, with the engine's CUDA context held and
    /// clocks up, the board draws `idle + heldIdleFraction · (peak − idle)`.
    public struct PowerModel: Codable, Hashable, Sendable {
        public var computeWeight: Double
        public var memoryWeight: Double
        public var heldIdleFraction: Double
        public var fittedOn: String
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            computeWeight = try c.decodePositive(.computeWeight, atMost: 10)
            memoryWeight = try c.decodePositive(.memoryWeight, atMost: 10)
            heldIdleFraction = try c.decode(Double.self, forKey: .heldIdleFraction)
            guard heldIdleFraction >= 0, heldIdleFraction <= 1 else {
                throw DecodingError.dataCorruptedError(forKey: .heldIdleFraction, in: c, debugDescription: "expected a fraction in [0, 1], found \(heldIdleFraction)")
            }
            fittedOn = try c.decode(String.self, forKey: .fittedOn)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        computeFraction = try c.decodeFraction(.computeFraction)
        computeFractionByType = try c.decodeIfPresent([String: Double].self, forKey: .computeFractionByType)
        for (key, value) in computeFractionByType ?? [:] where DType(rawValue: key) == nil || !(value > 0 && value <= 1) {
            throw DecodingError.dataCorruptedError(forKey: .computeFractionByType, in: c,
                debugDescription: "expected known arithmetic types (\(DType.knownNames)) with fractions in (0, 1], found \"\(key)\": \(value)")
        }
        bandwidthFraction = try c.decodeFraction(.bandwidthFraction)
        halfComputeRows = try c.decode(Double.self, forKey: .halfComputeRows)
        halfBandwidthBytes = try c.decode(Double.self, forKey: .halfBandwidthBytes)
        exposedMemoryFraction = try c.decodeIfPresent(Double.self, forKey: .exposedMemoryFraction)
        if let f = exposedMemoryFraction, !(f >= 0 && f <= 1) {
            throw DecodingError.dataCorruptedError(forKey: .exposedMemoryFraction, in: c, debugDescription: "expected a fraction in [0, 1], found \(f)")
        }
        kernelOverheadSeconds = try c.decode(Double.self, forKey: .kernelOverheadSeconds)
        stepOverheadSeconds = try c.decode(Double.self, forKey: .stepOverheadSeconds)
        for (key, value) in [(CodingKeys.halfComputeRows, halfComputeRows), (.halfBandwidthBytes, halfBandwidthBytes),
                             (.kernelOverheadSeconds, kernelOverheadSeconds), (.stepOverheadSeconds, stepOverheadSeconds)]
        where !(value.isFinite && value >= 0) {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected a number >= 0, found \(value)")
        }
        fittedOn = try c.decode(String.self, forKey: .fittedOn)
        executionModel = c.contains(.executionModel) ? try c.decodeKnown(ExecutionModel.self, forKey: .executionModel) : .roofline
        power = try c.decodeIfPresent(PowerModel.self, forKey: .power)
    }

    public init(name: String, computeFraction: Double, bandwidthFraction: Double, halfComputeRows: Double,
                halfBandwidthBytes: Double, kernelOverheadSeconds: Double, stepOverheadSeconds: Double, fittedOn: String,
                executionModel: ExecutionModel = .roofline) {
        self.executionModel = executionModel
        self.name = name
        self.computeFraction = computeFraction
        self.computeFractionByType = nil
        self.bandwidthFraction = bandwidthFraction
        self.halfComputeRows = halfComputeRows
        self.halfBandwidthBytes = halfBandwidthBytes
        self.exposedMemoryFraction = nil
        self.kernelOverheadSeconds = kernelOverheadSeconds
        self.stepOverheadSeconds = stepOverheadSeconds
        self.fittedOn = fittedOn
    }

    /// Fraction of peak reached by large GEMMs in arithmetic type `type`.
    @inlinable public func largeShapeFraction(type: DType) -> Double {
        computeFractionByType?[type.rawValue] ?? computeFraction
    }
}

/// The file `hardware-profiles/device-classes.json`.
public struct DeviceClassCatalog: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var classes: [DeviceClassProfile]
}
