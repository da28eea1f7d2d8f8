@testable import Diagnostics
import Testing
import HardwareModel

@Test func nearestNameSuggestsPlausibleMisspellingsOnly() {
    let known = ["nvidia-h100-sxm", "nvidia-h100-pcie", "nvidia-h200", "llama-3-8b", "llama-3-70b"]
    #expect(NearestName.suggestion(for: "nvidia-h100-sx", among: known) == "nvidia-h100-sxm")
    #expect(NearestName.suggestion(for: "NVIDIA-H200", among: known) == "nvidia-h200")
    #expect(NearestName.suggestion(for: "lama-3-8b", among: known) == "llama-3-8b")
    #expect(NearestName.suggestion(for: "h100", among: known) == nil)
    #expect(NearestName.suggestion(for: "tpu", among: known) == nil)
    #expect(NearestName.unknown("x", known: ["a", "b"]) == "unknown id \"x\"; did you mean \"a\"? known: a, b")
    #expect(NearestName.unknown("zzzz", known: ["a", "b"]) == "unknown id \"zzzz\"; known: a, b")
    #expect(NearestName.distance(Array("kitten".utf8), Array("sitting".utf8), limit: 10) == 3)
}
