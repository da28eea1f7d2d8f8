#if canImport(Glibc)
import Diagnostics
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HardwareModel

/// Buffered line-by-line reader over a file (`fopen`/`fread`) or an in-memory byte array.
///
/// The trace readers' hot path: one `memchr` per line over a 1 MiB buffer, no `String`
/// per line, no per-line allocation. `nextLine()` hands out a view of the buffer that is
/// valid only until the next call. Line terminators `\n` and `\r\n` are both accepted (the
/// Azure traces use `\r\n`); a UTF-8 byte-order mark at the start is skipped; the last line
/// needs no terminator. The buffer grows (doubling) if one line is longer than it.
///
/// All pointer work lives in this class; callers see `UnsafeRawBufferPointer` lines only.
final class LineReader {
    let name: String
    private var file: UnsafeMutablePointer<FILE>?
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var atEndOfInput = false
    /// 1-based number of the line most recently returned.
    private(set) var lineNumber = 0

    /// Opens `path` for reading.
    /// - Throws: `InputError` if the file cannot be opened.
    init(path: String, bufferBytes: Int = 1 << 20) throws {
        guard let handle = fopen(path, "rb") else {
            throw InputError(file: path, "cannot open trace file (\(String(cString: strerror(errno))))")
        }
        self.name = path
        self.file = handle
        self.capacity = max(bufferBytes, 64)
        self.buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    /// Reads lines from bytes already in memory (fixtures, tests).
    init(bytes: [UInt8], name: String) {
        self.name = name
        self.file = nil
        self.capacity = max(bytes.count, 1)
        self.buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: source.count) }
        }
        self.end = bytes.count
        self.atEndOfInput = true
    }

    deinit {
        buffer.deallocate()
        if let file { fclose(file) }
    }

    /// The next line without its terminator, or `nil` at the end of the input.
    /// The view is valid until the next call.
    /// - Throws: `InputError` on a read error.
    func nextLine() throws -> UnsafeRawBufferPointer? {
        while true {
            if start < end, let newline = memchr(buffer + start, 0x0A, end - start) {
                let lineEnd = buffer.distance(to: newline)
                let line = makeLine(from: start, to: lineEnd)
                start = lineEnd + 1
                return line
            }
            if atEndOfInput {
                guard start < end else { return nil }
                let line = makeLine(from: start, to: end)
                start = end
                return line
            }
            try refill()
        }
    }

    private func makeLine(from lo: Int, to hi: Int) -> UnsafeRawBufferPointer {
        lineNumber += 1
        var lo = lo
        var hi = hi
        if hi > lo, buffer.load(fromByteOffset: hi - 1, as: UInt8.self) == 0x0D { hi -= 1 }
        if lineNumber == 1, hi - lo >= 3,
           buffer.load(fromByteOffset: lo, as: UInt8.self) == 0xEF,
           buffer.load(fromByteOffset: lo + 1, as: UInt8.self) == 0xBB,
           buffer.load(fromByteOffset: lo + 2, as: UInt8.self) == 0xBF {
            lo += 3
        }
        return UnsafeRawBufferPointer(start: buffer + lo, count: hi - lo)
    }

    /// Moves the unread tail to the front, grows the buffer if it is full, reads more.
    private func refill() throws {
        guard let file else { atEndOfInput = true; return }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 { buffer.copyMemory(from: buffer + start, byteCount: remaining) }
            start = 0
            end = remaining
        }
        if end == capacity {
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
            bigger.copyMemory(from: buffer, byteCount: end)
            buffer.deallocate()
            buffer = bigger
            capacity *= 2
        }
        let count = fread(buffer + end, 1, capacity - end, file)
        end += count
        if count == 0 {
            if ferror(file) != 0 {
                throw InputError(file: name, line: lineNumber + 1, "read error (\(String(cString: strerror(errno))))")
            }
            atEndOfInput = true
        }
    }
}
