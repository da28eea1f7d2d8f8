import BundledResources
import HardwareModel
import Scenarios

/// Values offered by shell completion (`infersim --generate-completion-script bash|zsh|fish`):
/// the built-in ids, read from the profiles embedded in the binary.
enum Completions {
    static let hardware = BundledFiles.names(in: ProfileCatalog.devicesPath) + BundledFiles.names(in: ProfileCatalog.systemsPath)
    static let models = BundledFiles.names(in: ProfileCatalog.modelsPath)
    static let comparisons = BundledFiles.names(in: ProfileCatalog.comparisonsPath)
    static let allIDs = hardware + BundledFiles.names(in: ProfileCatalog.interconnectsPath) + models
    static let dtypes = DType.allCases.map(\.rawValue)
}
