import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs this binary again as a child (`infersim simulate …`) and measures it: its exit status,
/// wall time and peak resident set size (`wait4`'s `ru_maxrss`), which is the only honest way to
/// know what one run held at its peak.
struct ChildProcess {
    let pid: pid_t
    let started: UInt64

    /// Starts `infersim arguments…` with stdout to `stdoutPath` and stderr to `stderrPath`.
    static func start(_ arguments: [String], stdoutPath: String, stderrPath: String) throws -> ChildProcess {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let started = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw BenchFailure("cannot start \(executable): \(String(cString: strerror(rc)))") }
        return ChildProcess(pid: pid, started: started)
    }

    typealias Result = (status: Int32, wallSeconds: Double, peakRSSBytes: Int)

    /// The child's result if it has exited (reaping it), else nil.
    func poll() -> Result? { reap(options: WNOHANG) }

    /// Waits for the child to exit.
    func wait() -> Result {
        while true { if let r = reap(options: 0) { return r } }
    }

    private func reap(options: Int32) -> Result? {
        var status: Int32 = 0
        var usage = rusage()
        let r = wait4(pid, &status, options, &usage)
        guard r == pid else { return nil }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), wall, Int(usage.ru_maxrss) * 1024)
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
