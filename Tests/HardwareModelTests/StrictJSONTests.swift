import Diagnostics
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
        #expect(negative == InputError(file: "f.json", jsonPath: "$.seed", "expected a non-negative integer, found -1"))
        let fractional = error(#"{"seed": 1, "items": [{"count": 1, "rate": 0.5}, {"count": 2.5, "rate": 1.5}]}"#)
        #expect(fractional == InputError(file: "f.json", jsonPath: "$.items[1].count", "expected an integer, found 2.5"))
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

/// `JSONSyntax`: syntax errors at a line and column, duplicate keys at their JSON path, bounded nesting.
@Suite struct JSONSyntaxTests {
    func error(_ json: String) -> InputError? {
        do { try JSONSyntax.check(Array(json.utf8), file: "f.json"); return nil } catch let e as InputError {
            return e
        } catch { return nil }
    }

    @Test func syntaxErrorsNameLineAndColumnAndWhatWasFound() {
        let missingComma = error("{\n  \"a\": 1\n  \"b\": 2\n}")
        #expect(missingComma?.origin == .line(file: "f.json", line: 3, column: 3))
        #expect(missingComma?.description == #"f.json: line 3, column 3: not valid JSON: expected ',' or '}' after the value of "a", found "\"b\": 2""#)
        #expect(error("{\"a\": 1,}")?.origin == .line(file: "f.json", line: 1, column: 9))  // trailing comma
        #expect(error("{\"a\": tru}")?.message.contains("expected a value") == true)
        #expect(error("[1, 2")?.message == "not valid JSON: expected ',' or ']', found the end of the file")
        #expect(error("{\"a\": 01}")?.message.contains("leading zero") == true)
        #expect(error("{\"a\": 1.}")?.origin == .line(file: "f.json", line: 1, column: 9))
        #expect(error("{\"a\": \"x\ty\"}")?.message.contains("control character") == true)
        #expect(error("{\"a\": \"\\q\"}")?.message.contains("expected an escape") == true)
        #expect(error("")?.message == "not valid JSON: expected a JSON value, found an empty file")
        #expect(error("{} {}")?.message.contains("expected the end of the file") == true)
        #expect(error("{\"a\": 1}\n\n  x")?.origin == .line(file: "f.json", line: 3, column: 3))
        #expect(error("{\"a\": \"unterminated}")?.message.contains("unterminated string") == true)
    }

    @Test func validJSONPasses() {
        for ok in ["{}", "[]", "0", "-0.5e-3", "\"s\"", "null", "true",
                   "\u{FEFF}{\"a\": [1, {\"b\": null}], \"c\": \"\\u00e9\\ud83d\\ude00\\n\"}",
                   " \r\n\t{\"a\" : -12.25E+2 }\r\n"] {
            #expect(error(ok) == nil, "\(ok)")
        }
    }

    @Test func duplicateKeysAreErrorsAtTheirPath() {
        let top = error("{\"seed\": 1,\n \"seed\": 2}")
        #expect(top == InputError(file: "f.json", jsonPath: "$.seed", #"duplicate key "seed" (first at line 1, column 2); give each key once"#))
        #expect(error(#"{"a": [{"k": 1}, {"k": 1, "x": {"y": 1, "y": 2}}]}"#)?.origin == .jsonPath(file: "f.json", path: "$.a[1].x.y"))
        // The same key spelled with an escape is the same key.
        #expect(error(#"{"ab": 1, "a\u0062": 2}"#)?.origin == .jsonPath(file: "f.json", path: "$.ab"))
        // The same key in sibling objects is fine.
        #expect(error(#"{"a": {"k": 1}, "b": {"k": 1}}"#) == nil)
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(error(deep)?.message.contains("nested deeper than \(JSONSyntax.maximumDepth)") == true)
        let ok = String(repeating: "[", count: JSONSyntax.maximumDepth) + String(repeating: "]", count: JSONSyntax.maximumDepth)
        #expect(error(ok) == nil)
    }

    @Test func strictDecodingReportsSyntaxAndDuplicates() {
        struct S: Codable { var a: Int }
        #expect(throws: InputError(file: "f.json", jsonPath: "$.a", #"duplicate key "a" (first at line 1, column 2); give each key once"#)) {
            _ = try StrictJSON.decode(S.self, from: Data(#"{"a": 1, "a": 2}"#.utf8), file: "f.json")
        }
        #expect(throws: InputError(file: "f.json", line: 1, column: 7, "not valid JSON: expected a value (object, array, string, number, true, false or null), found \"}\"")) {
            _ = try StrictJSON.decode(S.self, from: Data(#"{"a": }"#.utf8), file: "f.json")
        }
    }
}

/// `InputError`'s origin: how it prints, and how callers that know more place it.
@Suite struct InputErrorOriginTests {
    @Test func eachOriginPrintsOnOneLine() {
        #expect(InputError(file: "t.csv", line: 4, column: 9, "bad").description == "t.csv: line 4, column 9: bad")
        #expect(InputError(file: "t.csv", line: 4, "bad").description == "t.csv: line 4: bad")
        #expect(InputError(file: "m.gguf", offset: 16, "bad").description == "m.gguf: byte 16: bad")
        #expect(InputError(option: "--batch", "bad").description == "--batch: bad")
        #expect(InputError(file: "s.json", jsonPath: "$.seed", "a\nb").description == "s.json: $.seed: a\\nb")
    }

    @Test func workloadErrorsArePlacedByTheCallerThatKnowsTheFile() {
        let e = InputError(origin: .workload(detail: "request 3"), "too long")
        #expect(e.placedInWorkload(file: "s.json") == InputError(file: "s.json", jsonPath: "$.workload (request 3)", "too long"))
        let other = InputError(file: "t.csv", line: 2, "bad")
        #expect(other.placedInWorkload(file: "s.json") == other)
        #expect(other.renamingFile { $0 + " [x=1]" }.description == "t.csv [x=1]: line 2: bad")
    }
}

/// Unknown and misspelled keys name the key they were probably meant to be.
@Suite struct StrictJSONKeySuggestionTests {
    /// Like the profiles: a required key, a key with a default (always written back), an optional one.
    struct Link: Codable {
        var bandwidthBytesPerSecond: Double
        var latencySeconds: Double
        var name: String?
        enum CodingKeys: String, CodingKey { case bandwidthBytesPerSecond, latencySeconds, name }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            bandwidthBytesPerSecond = try c.decode(Double.self, forKey: .bandwidthBytesPerSecond)
            latencySeconds = try c.decodeIfPresent(Double.self, forKey: .latencySeconds) ?? 0
            name = try c.decodeIfPresent(String.self, forKey: .name)
        }
    }

    func error(_ json: String) -> InputError? {
        do { _ = try StrictJSON.decode(Link.self, from: Data(json.utf8), file: "l.json"); return nil } catch let e as InputError {
            return e
        } catch { return nil }
    }

    @Test func anUnknownKeySuggestsTheNearestKnownOne() {
        let e = error(#"{"bandwidthBytesPerSecond": 1, "latencySecond": 2}"#)
        #expect(e?.origin == .jsonPath(file: "l.json", path: "$.latencySecond"))
        #expect(e?.message == #"unknown key (not part of the schema; did you mean "latencySeconds"?)"#)
        #expect(error(#"{"bandwidthBytesPerSecond": 1, "zzz": 2}"#)?.message == "unknown key (not part of the schema; check the spelling)")
    }

    @Test func aMisspelledRequiredKeyIsNamedBesideTheMissingOne() {
        let e = error(#"{"bandwithBytesPerSecond": 1}"#)
        #expect(e?.origin == .jsonPath(file: "l.json", path: "$.bandwidthBytesPerSecond"))
        #expect(e?.message == #"missing required key (found "bandwithBytesPerSecond": a misspelling of "bandwidthBytesPerSecond"?)"#)
    }
}
