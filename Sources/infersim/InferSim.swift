import Diagnostics
import ArgumentParser
import Foundation
import HardwareModel
import ServingMetrics

@main
struct InferSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infersim",
        abstract: "Predict and simulate LLM inference on hardware you do not have to own.",
        version: InferSimVersion.string,
        subcommands: [Predict.self, Explain.self, Profiles.self, ValidateCommand.self, Run.self, BenchExecutor.self,
                      Simulate.self, Sweep.self, Bench.self, Calibrate.self, ServeTrace.self, Compare.self, Speculate.self, Plan.self, Merge.self]
    )

    /// Runs the command; bad input of any kind prints one line on stderr and exits with code 2.
    static func main() {
        PartialFiles.installSignalCleanup()
        let arguments = ArgumentRepair.joinNegativeValues(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch let error as InputError {
            fail(error.description)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 0 {
                exit(withError: error)  // --help, --version
            }
            fail(unknownOptionMessage(arguments, masking: error) ?? message(for: error))
        }
    }

    /// When a required option is reported missing, the real mistake may be a misspelled option
    /// (`--hardwre`): parse again with placeholders for the missing options, and return
    /// ArgumentParser's "unknown option … did you mean …" message if that is what remains.
    static func unknownOptionMessage(_ arguments: [String], masking error: any Error) -> String? {
        var filled = arguments
        var current = message(for: error)
        for _ in 0..<8 {
            guard let missing = ArgumentRepair.missingOption(in: current) else { break }
            filled += [missing, "0"]
            do {
                _ = try parseAsRoot(filled)
                return nil
            } catch {
                current = message(for: error)
                if current.hasPrefix("Unknown option") { return current }
            }
        }
        return nil
    }

    static func fail(_ message: String) -> Never {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        FileHandle.standardError.write(Data(("error: " + line + "\n").utf8))
        Foundation.exit(2)
    }
}
