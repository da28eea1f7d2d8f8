import Diagnostics
import CostModel
import HardwareModel

/// Builds a drafter for a target deployment from command-line or scenario names.
public enum SpeculationSetup {
    /// - Throws: `InputError` (file `label`) when the draft model's vocabulary differs from the target's.
    public static func drafter(catalog: ProfileCatalog, target: Deployment, draftModel: String?, draftHardware: String?,
                        label: String) throws -> SpeculativeDecoding.Drafter {
        guard let id = draftModel else { return try SpeculativeDecoding.heads(for: target) }
        let shape = try catalog.model(id)
        guard shape.vocabSize == target.model.vocabSize else {
            throw InputError(file: label, "draft model \(id) has a vocabulary of \(shape.vocabSize) tokens, the target \(target.model.name) \(target.model.vocabSize): a draft must share the target's tokenizer")
        }
        let d = try catalog.deployment(hardware: draftHardware ?? target.device.name, model: id, precision: target.precision)
        return .model(InferenceCostModel(deployment: d))
    }
}
