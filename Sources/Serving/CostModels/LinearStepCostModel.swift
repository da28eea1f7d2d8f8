import CostModel
import HardwareModel

/// A closed-form step price for tests, examples and benchmarks that need no hardware profile:
///
/// `duration = fixed + perToken · (prefillTokens + decodeTokens) + perContextToken · (prefillContextTokens + decodeContextTokens)`
/// `energy = power · duration`
///
/// The three terms stand for launch overhead, weight GEMMs (linear in new tokens) and attention
/// reads of the KV cache (linear in context). It is *not* a hardware model: `CostModel`'s
/// `InferenceCostModel` derives these from device profiles and model shapes.
public struct LinearStepCostModel: StepCostModel, Hashable {
    public var fixed: Seconds
    public var perToken: Seconds
    public var perContextToken: Seconds
    public var power: Watts

    public init(fixed: Seconds, perToken: Seconds, perContextToken: Seconds, power: Watts = Watts(700)) {
        self.fixed = fixed
        self.perToken = perToken
        self.perContextToken = perContextToken
        self.power = power
    }

    public func cost(of step: StepWorkload) -> StepCost {
        let tokens = Double(step.totalTokens)
        let context = Double(step.prefillContextTokens + step.decodeContextTokens)
        let seconds = fixed.value + perToken.value * tokens + perContextToken.value * context
        let bound: Bound = fixed.value >= perToken.value * tokens + perContextToken.value * context ? .overhead
            : (perToken.value * tokens >= perContextToken.value * context ? .compute : .memory)
        return StepCost(duration: Seconds(seconds), energy: power * Seconds(seconds), boundBy: bound)
    }
}
