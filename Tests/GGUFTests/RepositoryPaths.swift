import Foundation

/// Paths to the repository's reference data, found from this source file's location.
enum RepositoryPaths {
    /// The package root (two levels above `Tests/GGUFTests/`).
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `models/SmolLM2-135M-Instruct.Q4_1.gguf` (not committed; see data/references/smollm2.json "model.source").
    static let smolLM2: String = root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path

    /// `data/references/smollm2.json`.
    static let smolLM2Reference: String = root.appendingPathComponent("data/references/smollm2.json").path

    static var hasSmolLM2: Bool { FileManager.default.fileExists(atPath: smolLM2) }
}
