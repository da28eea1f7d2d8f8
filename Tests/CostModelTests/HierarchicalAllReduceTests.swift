import Diagnostics
import Foundation
import Testing
@testable import CostModel
import HardwareModel

/// A tensor-parallel group wider than a node all-reduces hierarchically: reduce-scatter and
/// all-gather on the scale-up link inside each node, a ring across nodes on the scale-out link
/// carrying each rank's 1/g share.
@Test func aGroupSpanningNodesAllReducesHierarchically() throws {
    func link(_ name: String, _ bandwidth: Double, _ latency: Double) throws -> InterconnectProfile {
        try StrictJSON.decode(InterconnectProfile.self, from: Data("""
        {"schemaVersion": 1, "name": "\(name)", "displayName": "\(name)", "kind": "nvlink",
         "bandwidthBytesPerSecondPerDirection": \(bandwidth), "latencySeconds": \(latency), "achievableFraction": 1,
         "sources": {"bandwidthBytesPerSecondPerDirection": {"kind": "estimated", "reference": "test"},
                     "latencySeconds": {"kind": "estimated", "reference": "test"},
                     "achievableFraction": {"kind": "estimated", "reference": "test"}}}
        """.utf8), file: name)
    }
    let up = try link("up", 450e9, 2e-6), out = try link("out", 50e9, 5e-6)
    let g = Double(Fixtures.h100.interconnect.devicesPerNode)
    #expect(g == 8)
    let model = Fixtures.mixtral
    let wide = try Deployment(model: model, device: Fixtures.h100, deviceClass: Fixtures.idealClass, tensorParallel: 16,
                              scaleUpLink: up, scaleOutLink: out)
    let inNode = try Deployment(model: model, device: Fixtures.h100, deviceClass: Fixtures.idealClass, tensorParallel: 8,
                                scaleUpLink: up, scaleOutLink: out)
    #expect(wide.tensorNodeLink?.ranksPerNode == 8 && inNode.tensorNodeLink == nil)
    var step = StepWorkload()
    for _ in 0..<64 { step.addDecode(contextLength: 1024) }
    let op = try #require(Fixtures.operators(wide, step).first { $0.kind == .allReduce })
    let bytes = op.communicationBytes.value
    let expected = 2 * ((g - 1) * 5e-6 + (g - 1) / g * bytes / 450e9) + 2 * 1 * 5e-6 + 2 * (1.0 / 2) * (bytes / g) / 50e9
    let priced = RooflinePricer().cost(of: op, in: wide).communication.value
    #expect(priced.isClose(to: expected, relative: 1e-12), "\(priced) vs \(expected)")
    // Far cheaper than a flat ring of 16 over the scale-out link, dearer than 8 ranks inside one node.
    let flat = 2 * 15 * 5e-6 + 2 * 15.0 / 16 * bytes / 50e9
    let inside = RooflinePricer().cost(of: try #require(Fixtures.operators(inNode, step).first { $0.kind == .allReduce }), in: inNode).communication.value
    #expect(priced < flat / 2 && priced > inside, "hierarchical \(priced), flat \(flat), one node \(inside)")
}
