import Diagnostics
import Foundation
import GGUF
import Testing

/// GGUF problems become InferSim's one input-error type, at the byte offset where known.
@Test func ggufErrorsCarryTheirByteOffset() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-origin-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("short.gguf").path
    // Magic, version 3, then a tensor count cut short.
    try Data([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, 1, 2]).write(to: URL(fileURLWithPath: path))
    do {
        _ = try GGUFFile(path: path)
        Issue.record("a truncated file was accepted")
    } catch let error as GGUFError {
        let e = error.inputError(file: "ignored")
        #expect(e.origin == .offset(file: path, 8), "\(e)")
        #expect(e.description.hasPrefix(path + ": byte 8: "), "\(e)")
    }
    #expect(GGUFError.fileNotFound(path: "/no/such.gguf").inputError(file: "x").description == "/no/such.gguf: GGUF file not found")
    #expect(GGUFError.duplicateKey("general.name").inputError(file: "m.gguf").origin == .file("m.gguf"))
}
