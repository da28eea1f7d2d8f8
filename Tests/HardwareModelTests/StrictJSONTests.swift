import Foundation
import Testing
import HardwareModel

/// Numbers an integer type cannot hold: `JSONDecoder` reports them as "not valid JSON" with no
/// path; `StrictJSON` traces them back to their path and shows the value.
@Suite struct StrictJSONNumberTests {
    struct Inner: Codable { var count: Int; var rate: Double }
    struct Outer: Codable { var seed: UInt64; var items: [Inner]; var name: String? }

    func error(_ json: String) -> InputError? {
        do { _ = try StrictJSON.decode(Outer.self, from: Data(json.utf8), file: "f.json"); return nil } catch let e as InputError {
            return e
        } catch { return nil }
    }

    @Test func negativeUnsignedFractionalAndHugeIntegersNameThePath() {
        let negative = error(#"{"seed": -1, "items": []}"#)
        #expect(negative == InputError(file: "f.json", location: "$.seed", "expected a non-negative integer, found -1"))
        let fractional = error(#"{"seed": 1, "items": [{"count": 1, "rate": 0.5}, {"count": 2.5, "rate": 1.5}]}"#)
        #expect(fractional == InputError(file: "f.json", location: "$.items[1].count", "expected an integer, found 2.5"))
        let huge = error(#"{"seed": 1, "items": [{"count": 1e30, "rate": 2}]}"#)
        #expect(huge?.location == "$.items[0].count" && huge?.message == "expected an integer, found 1e+30")
    }

    @Test func typeMismatchShowsWhatWasFound() {
        #expect(error(#"{"seed": "7", "items": []}"#)?.description == #"f.json: $.seed: expected a non-negative integer, found the string "7""#)
        #expect(error(#"{"seed": 7, "items": [{"count": true, "rate": 1}]}"#)?.description == "f.json: $.items[0].count: expected an integer, found true")
        #expect(error(#"{"seed": 7, "items": {}}"#)?.description == "f.json: $.items: expected an array, found an object")
        #expect(error(#"{"seed": 7, "items": [], "name": 3}"#)?.description == "f.json: $.name: expected a string, found 3")
    }

    @Test func integralNumbersInAnyNotationStillDecode() throws {
        let v = try StrictJSON.decode(Outer.self, from: Data(#"{"seed": 1e3, "items": [{"count": 2.0, "rate": 2}]}"#.utf8), file: "f.json")
        #expect(v.seed == 1000 && v.items[0].count == 2)
    }
}
