import ArgumentParser
import Foundation
import HardwareModel

@main
struct InferSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infersim",
        abstract: "Predict and simulate LLM inference on hardware you do not have to own.",
        subcommands: [Predict.self, Explain.self, Profiles.self, ValidateCommand.self, Run.self, BenchExecutor.self,
                      Simulate.self, Sweep.self, Bench.self, Calibrate.self, ServeTrace.self, Compare.self, Speculate.self]
    )

    /// Runs the command; bad input of any kind prints one line on stderr and exits with code 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as InputError {
            fail(error.description)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 0 {
                exit(withError: error)  // --help, --version
            }
            fail(message(for: error))
        }
    }

    static func fail(_ message: String) -> Never {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        FileHandle.standardError.write(Data(("error: " + line + "\n").utf8))
        Foundation.exit(2)
    }
}
