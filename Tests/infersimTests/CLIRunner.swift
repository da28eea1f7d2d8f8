import Foundation

/// Runs the built `infersim` binary and captures its output, as a user would run it.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    static var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// `.build/<config>/infersim`, next to the test bundle.
    static var binary: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("infersim").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return repoRoot + "/.build/debug/infersim"
    }

    static func run(_ arguments: [String], in directory: String? = nil, binary: String? = nil,
                    environment: [String: String]? = nil) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary ?? Self.binary)
        if let environment { process.environment = environment }
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? repoRoot)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A scratch copy of the profile tree, to break on purpose.
    static func scratchProfiles() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infersim-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/scenarios", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repoRoot + "/hardware-profiles", toPath: dir + "/hardware-profiles")
        try FileManager.default.copyItem(atPath: repoRoot + "/scenarios/models", toPath: dir + "/scenarios/models")
        return dir
    }
}
