/// The data files built into the binary: device, interconnect and system profiles, device
/// classes, model profiles, comparison scenarios, the published validation set, the quickstart
/// scenario and the executor trace. `paths` and `text(_:)` are generated at build time by the
/// EmbedResources plugin from the package's own files, so the binary always carries the
/// profiles of the checkout it was built from.
public enum BundledFiles {
    /// The text of an embedded file, by its path relative to the package root
    /// (`hardware-profiles/devices/nvidia-h100-sxm.json`), or nil.
    public static func contents(of path: String) -> String? { text(path) }

    /// The embedded files directly inside `directory` (relative, no trailing slash) whose names
    /// end in `suffix`, as names without the suffix, sorted.
    public static func names(in directory: String, suffix: String = ".json") -> [String] {
        let prefix = directory + "/"
        return paths.compactMap { path -> String? in
            guard path.hasPrefix(prefix), path.hasSuffix(suffix) else { return nil }
            let name = path.dropFirst(prefix.count).dropLast(suffix.count)
            return name.contains("/") ? nil : String(name)
        }.sorted()
    }
}
