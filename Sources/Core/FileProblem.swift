import Foundation

/// Plain words for what went wrong with a file, instead of Foundation's
/// `Error Domain=NSCocoaErrorDomain Code=513 …` or libpng's bare `Write Error`.
public enum FileProblem {
    /// What an errno means for a file, with what to do about it.
    public static func reason(errno code: Int32) -> String {
        switch code {
        case ENOSPC, EDQUOT: return "the disk is full; free some space or write somewhere else"
        case EACCES, EPERM: return "permission denied; the folder is not writable by you — choose another place"
        case EROFS: return "the folder is on a read-only file system; choose another place"
        case ENOENT: return "no such file or folder; check the path"
        case EEXIST: return "something with that name already exists; choose another name"
        case ENOTDIR: return "a part of the path is a file, not a folder; check the path"
        case EISDIR: return "it is a folder, not a file; name a file"
        case EIO: return "input/output error (a failing disk or a lost network share); check the device"
        default: return String(cString: strerror(code))
        }
    }

    /// The reason inside any error Foundation throws for a file (its POSIX cause when there is one);
    /// other errors keep their own description.
    public static func reason(_ error: Error) -> String {
        if case FileError.writeFailed(_, let reason) = error { return reason }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return reason(errno: Int32(ns.code)) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return reason(errno: Int32(underlying.code))
        }
        guard ns.domain == NSCocoaErrorDomain else { return "\(error)" }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return reason(errno: ENOENT)
        case .fileWriteNoPermission, .fileReadNoPermission: return reason(errno: EACCES)
        case .fileWriteVolumeReadOnly: return reason(errno: EROFS)
        case .fileWriteFileExists: return reason(errno: EEXIST)
        case .fileWriteOutOfSpace: return reason(errno: ENOSPC)
        case .fileReadCorruptFile, .fileReadUnknownStringEncoding, .fileReadInapplicableStringEncoding:
            return "it is not readable text; check that it is the right file"
        case .coderReadCorrupt, .coderValueNotFound, .coderInvalidValue:
            return "its contents are not what Mavin expects here (a field missing or of the wrong kind: \(error)); "
                + "check that it is the right file"
        default: return "file error \(ns.code)"
        }
    }

    /// The path Foundation names in its error, if any.
    public static func path(_ error: Error) -> String? {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
        if let p = ns.userInfo[NSFilePathErrorKey] as? String { return p }
        return (ns.userInfo[NSURLErrorKey] as? URL)?.path
    }

    /// Whether an error is one of Foundation's raw file errors (which print as `Error Domain=…`).
    public static func isFoundationError(_ error: Error) -> Bool {
        let ns = error as NSError
        return ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain
    }

    /// Appends all of `data` to the file at `path` (created when missing), or nothing: on failure the file
    /// is cut back to its old length.
    public static func append(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError.writeFailed(path, reason: reason(errno: errno)) }
        var info = stat()
        let before = fstat(fd, &info) == 0 ? info.st_size : 0
        let failure = writeAll(data, fd)
        if failure != 0 { _ = ftruncate(fd, before) }
        let closed = close(fd) == 0 ? 0 : errno
        if failure != 0 || closed != 0 {
            throw FileError.writeFailed(path, reason: reason(errno: failure != 0 ? failure : closed))
        }
    }

    /// Writes every byte of `data` to `fd`; 0, or the errno that stopped it.
    private static func writeAll(_ data: Data, _ fd: Int32) -> Int32 {
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, failure == 0 {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno != EINTR { failure = errno }
                } else {
                    offset += n
                }
            }
        }
        return failure
    }

    /// Writes all of `data` to a new file at `path` (refusing one that exists), with the errno's words on
    /// failure: a full disk says so instead of a short write.
    public static func write(_ data: Data, toNewFile path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError.writeFailed(path, reason: reason(errno: errno)) }
        var failure = writeAll(data, fd)
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure != 0 {
            unlink(path)
            throw FileError.writeFailed(path, reason: reason(errno: failure))
        }
    }
}
