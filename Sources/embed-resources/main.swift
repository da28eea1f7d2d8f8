import Foundation

// Build tool for the EmbedResources plugin:
//   embed-resources OUTPUT.swift PACKAGE_ROOT RELATIVE_PATH...
// writes one Swift file holding each file's text as a raw string literal, keyed by its path.

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: embed-resources OUTPUT.swift PACKAGE_ROOT RELATIVE_PATH...\n".utf8))
    exit(2)
}
let output = arguments[1], root = arguments[2], paths = Array(arguments.dropFirst(3))

/// A raw-string delimiter (`#`s) that does not occur after a `"` in `text`.
func delimiter(for text: String) -> String {
    var hashes = "#"
    while text.contains("\"" + hashes) || text.contains("\"\"\"" + hashes) { hashes += "#" }
    return hashes
}

var source = """
// Generated at build time by the EmbedResources plugin (Plugins/EmbedResources) from the
// package's data files. Do not edit; edit the files it names instead.

extension BundledFiles {
    /// The embedded files' paths, relative to the package root, sorted.
    public static let paths: [String] = [

"""
for path in paths { source += "        \"\(path)\",\n" }
source += "    ]\n\n    static func text(_ path: String) -> String? {\n        switch path {\n"
for path in paths {
    guard let data = FileManager.default.contents(atPath: root + "/" + path),
          let text = String(data: data, encoding: .utf8) else {
        FileHandle.standardError.write(Data("embed-resources: cannot read \(root)/\(path) as UTF-8\n".utf8))
        exit(1)
    }
    let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
    let hashes = delimiter(for: normalized)
    source += "        case \"\(path)\":\n            return \(hashes)\"\"\"\n\(normalized)\n\"\"\"\(hashes)\n"
}
source += "        default:\n            return nil\n        }\n    }\n}\n"
do {
    try Data(source.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
} catch {
    FileHandle.standardError.write(Data("embed-resources: cannot write \(output): \(error)\n".utf8))
    exit(1)
}
