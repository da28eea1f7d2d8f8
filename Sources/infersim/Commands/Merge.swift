import ArgumentParser
import Diagnostics
import Foundation
import Scenarios
import ServingMetrics

/// `infersim merge SHARD.csv…`: joins the shard files of a sharded sweep into the CSV an
/// unsharded `sweep --csv` writes, byte for byte.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the shard files of `sweep --shard I/N --csv F` into one sweep CSV, checking that no point is missing or doubled.")

    @Argument(help: "The shard files (one per worker, any order).", completion: .file(extensions: ["csv"])) var shards: [String]
    @Option(help: "Write the merged CSV to this file (default: standard output).") var csv: String?

    func run() throws {
        try OutputPaths.check([("--csv", csv)])
        guard !shards.isEmpty else { throw ValidationError("give the shard files to merge") }
        let merged = try SweepShardFile.merge(try shards.map { ($0, try SweepShardFile.read($0)) })
        guard let csv else {
            print(merged, terminator: "")
            return
        }
        let writer = try AtomicFileWriter(path: csv)
        try writer.write(merged)
        try writer.commit()
    }
}
