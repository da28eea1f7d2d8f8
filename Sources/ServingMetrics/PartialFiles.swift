import Diagnostics
import HardwareModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files of outputs being written (`AtomicFileWriter`'s `<path>.partial`), so that
/// SIGINT or SIGTERM can remove them before the process exits: a stopped run leaves no partial
/// file and does not touch the outputs it would have replaced.
///
/// The registry is a fixed table of C strings, read by the signal handler with only
/// async-signal-safe calls (`unlink`, `_exit`).
public enum PartialFiles {
    static let capacity = 32
    nonisolated(unsafe) static let slots = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    nonisolated(unsafe) static var initialized = false

    private static func prepare() {
        if !initialized {
            slots.initialize(repeating: nil, count: capacity)
            initialized = true
        }
    }

    /// Remembers `path` until `unregister`; returns its slot (nil when the table is full, in which
    /// case the file is still cleaned up on every normal exit path, only not on a signal).
    @discardableResult
    public static func register(_ path: String) -> Int? {
        prepare()
        for i in 0..<capacity where slots[i] == nil {
            slots[i] = strdup(path)
            return i
        }
        return nil
    }

    public static func unregister(_ slot: Int?) {
        guard let slot else { return }
        let p = slots[slot]
        slots[slot] = nil
        free(p)
    }

    /// Installs handlers for SIGINT and SIGTERM that remove every registered file and exit with
    /// 128 + the signal number, as a shell reports a process stopped by it.
    public static func installSignalCleanup() {
        prepare()
        let handler: @convention(c) (Int32) -> Void = { signal in
            for i in 0..<PartialFiles.capacity {
                if let p = PartialFiles.slots[i] { unlink(p) }
            }
            _exit(128 + signal)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may start us with these signals blocked (the mask survives exec; some test
        // harnesses and process launchers block them in their threads): unblock them, or a
        // SIGTERM would wait until the run ends.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }
}

/// Checks output paths before a run starts, so that a run fails at once rather than after
/// minutes of work: each path is non-empty, not a directory, in an existing writable directory,
/// writable if it exists, and distinct from the other outputs of the same run.
public enum OutputPaths {
    /// - Parameter outputs: (option, path) pairs, e.g. `("--requests-csv", "r.csv")`; nil paths are skipped.
    /// - Throws: `InputError` naming the option.
    public static func check(_ outputs: [(option: String, path: String?)]) throws {
        var seen: [String: String] = [:]
        for (option, path) in outputs {
            guard let path else { continue }
            guard !path.isEmpty else { throw InputError(option: option, "expected a file path, found an empty string") }
            var st = stat()
            if stat(path, &st) == 0 {
                if (st.st_mode & S_IFMT) == S_IFDIR { throw InputError(option: option, "expected a file, found the directory \(path)") }
                if access(path, W_OK) != 0 { throw InputError(option: option, "\(path) exists and is not writable") }
            }
            let directory = Self.directory(of: path)
            var dst = stat()
            guard stat(directory, &dst) == 0, (dst.st_mode & S_IFMT) == S_IFDIR else {
                throw InputError(option: option, "the directory \(directory) of \(path) does not exist")
            }
            guard access(directory, W_OK) == 0 else { throw InputError(option: option, "the directory \(directory) of \(path) is not writable") }
            let key = canonical(path)
            if let other = seen[key] { throw InputError(option: option, "\(path) is also the output of \(other); give each output its own file") }
            seen[key] = option
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    /// The real path of the file's directory plus its name (the file itself may not exist yet).
    static func canonical(_ path: String) -> String {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        guard let resolved = realpath(directory(of: path), nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved) + "/" + name
    }
}
