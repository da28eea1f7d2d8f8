#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only bytes that are either a private memory map of a file or an owned heap copy.
///
/// The buffer is released in `deinit`; pointers into it are valid only while the owner lives.
/// Both kinds start at a 64-byte-or-better aligned address (mmap returns page-aligned memory).
final class MappedBytes: @unchecked Sendable {
    let buffer: UnsafeRawBufferPointer
    private let isMapped: Bool

    /// Copies `bytes` into a 64-byte-aligned heap buffer.
    init(copying bytes: [UInt8]) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { src in
            if let base = src.baseAddress { storage.baseAddress!.copyMemory(from: base, byteCount: src.count) }
        }
        buffer = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0 ..< bytes.count])
        isMapped = false
    }

    /// Maps the whole file read-only (`mmap(PROT_READ, MAP_PRIVATE)`).
    /// - Throws: `GGUFError.fileNotFound` or `.cannotRead`.
    init(mappingFileAt path: String) throws(GGUFError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .fileNotFound(path: path) }
            throw .cannotRead(path: path, reason: "open failed: \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw .cannotRead(path: path, reason: "fstat failed: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .cannotRead(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 {
            let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 64)
            buffer = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0 ..< 0])
            isMapped = false
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw .cannotRead(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        buffer = UnsafeRawBufferPointer(start: UnsafeRawPointer(address), count: size)
        isMapped = true
    }

    deinit {
        guard let base = buffer.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), buffer.count)
        } else {
            base.deallocate()
        }
    }
}
