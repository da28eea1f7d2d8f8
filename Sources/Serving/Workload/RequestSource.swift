import Diagnostics
import DiscreteEvent

/// A stream of requests in arrival order: what the cluster replays.
///
/// Conformers are trace readers (`TraceReader`), generators (`SyntheticWorkload`) and
/// transformers (`TimeScaled`, `Repeated`, `Limited`). A source yields each request once,
/// with ids `0, 1, 2, …` and non-decreasing `arrival`, and returns `nil` when exhausted
/// (and on every later call). Sources are pulled lazily so that replaying a million-row
/// trace costs memory only for the requests in flight, never for the whole trace.
public protocol RequestSource {
    /// The next request, or `nil` when the workload is exhausted.
    /// - Throws: `InputError` (file, line, field, expected vs found) for a bad trace row.
    mutating func next() throws -> RequestSpec?

    /// Trace rows skipped as bad so far (`skipBadRows`); 0 for sources that never skip.
    /// Transformers forward their base's count, so a report can show it.
    var skippedRows: Int { get }

    /// Why the first skipped rows were skipped (`file: line N: message`, at most
    /// `TraceReader.keptReasons`, in file order). Transformers forward their base's.
    var skippedRowReasons: [String] { get }
}

extension RequestSource {
    public var skippedRows: Int { 0 }
    public var skippedRowReasons: [String] { [] }
}

extension RequestSource {
    /// Drains the source into an array. For tests and small workloads only: this
    /// materialises every request.
    public mutating func collectAll(limit: Int = .max) throws -> [RequestSpec] {
        var out: [RequestSpec] = []
        while out.count < limit, let request = try next() { out.append(request) }
        return out
    }
}

/// A fixed list of requests, replayed in order (for tests and hand-written workloads).
///
/// The list must already be in arrival order; ids are reassigned `0, 1, 2, …`.
public struct ArrayRequestSource: RequestSource {
    private let requests: [RequestSpec]
    private var index = 0

    public init(_ requests: [RequestSpec]) {
        self.requests = requests
    }

    public mutating func next() throws -> RequestSpec? {
        guard index < requests.count else { return nil }
        var request = requests[index]
        request.id = index
        index += 1
        return request
    }
}
