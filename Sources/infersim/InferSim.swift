import ArgumentParser

@main
struct InferSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infersim",
        abstract: "Predict and simulate LLM inference on hardware you do not have to own.",
        subcommands: [Run.self, BenchExecutor.self]
    )
}
