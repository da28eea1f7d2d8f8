import ArgumentParser
import Foundation
import HardwareModel
import Scenarios

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the cost model against published measurements (--published) or the CPU executor (--model).")

    @Option(help: "A published-results JSON file (data/validation/published.json).")
    var published: String?
    @Option(help: "Directory holding hardware-profiles/ and scenarios/.")
    var profiles: String?
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard published != nil else { throw ValidationError("give --published FILE") }
    }

    func run() throws {
        guard let published else { return }
        let catalog = try ProfileCatalog.locate(explicit: profiles)
        let cases = try PublishedValidation.load(published)
        let outcomes = PublishedValidation(catalog: catalog).run(cases)
        print(PublishedReport.text(outcomes))
    }
}

enum PublishedReport {
    static func text(_ outcomes: [PublishedValidation.Outcome]) -> String {
        var t = TextTable(["case", "category", "measured", "predicted", "error", "setup / reason"], leftAligned: [0, 1, 5])
        for o in outcomes {
            if let p = o.predicted, let e = o.error {
                t.add([o.id, o.category, Format.fixed(o.measured, 1) + " " + o.unit, Format.fixed(p, 1), Format.fixed(e * 100, 1) + "%",
                       o.setup + (o.assumption.map { " [\($0)]" } ?? "")])
            } else {
                t.add([o.id, o.category, Format.fixed(o.measured, 1) + " " + o.unit, "-", "-", "not mapped: " + (o.unmapped ?? "")])
            }
        }
        var s = TextTable(["category", "cases", "median |error|", "mean |error|"], leftAligned: [0])
        for c in PublishedValidation.summarize(outcomes) {
            s.add([c.category, "\(c.cases)", Format.percent(c.medianAbsoluteError), Format.percent(c.meanAbsoluteError)])
        }
        let unmapped = outcomes.filter { $0.predicted == nil }.count
        return t.rendered() + "\n\n" + s.rendered() + "\n\n\(outcomes.count - unmapped) of \(outcomes.count) cases predicted; \(unmapped) not mapped (reasons above)."
    }
}
