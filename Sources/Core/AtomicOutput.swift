import Foundation

/// Errors from writing files, with the path and what to do.
public enum FileError: Error, CustomStringConvertible, Equatable {
    case targetExists(String)
    case writeFailed(String, reason: String)

    public var description: String {
        switch self {
        case .targetExists(let p): return "'\(p)' already exists; choose another name or pass --overwrite"
        case .writeFailed(let p, let r): return "could not write '\(p)': \(r)"
        }
    }
}

/// A file written under a temporary name beside its target and moved into place
/// only when complete: a crash or cancel leaves the target untouched.
public struct AtomicOutput {
    public let target: URL
    public let temporary: URL
    public let overwrite: Bool

    public init(target: URL, overwrite: Bool) throws {
        let fm = FileManager.default
        if !overwrite && fm.fileExists(atPath: target.path) { throw FileError.targetExists(target.path) }
        let dir = target.deletingLastPathComponent()
        if !fm.fileExists(atPath: dir.path) {
            throw FileError.writeFailed(target.path, reason: "folder '\(dir.path)' does not exist")
        }
        self.target = target
        self.overwrite = overwrite
        let ext = target.pathExtension.isEmpty ? "" : ".\(target.pathExtension)"
        self.temporary = dir.appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))\(ext)")
    }

    /// Moves the finished temporary file into place. Without `overwrite`, an
    /// existing target (even one created meanwhile) is never replaced.
    public func commit() throws {
        if overwrite {
            if rename(temporary.path, target.path) != 0 {
                let reason = String(cString: strerror(errno))
                discard()
                throw FileError.writeFailed(target.path, reason: reason)
            }
        } else {
            // link() fails if the target exists, so there is no window for a race.
            if link(temporary.path, target.path) != 0 {
                let code = errno
                discard()
                if code == EEXIST { throw FileError.targetExists(target.path) }
                throw FileError.writeFailed(target.path, reason: String(cString: strerror(code)))
            }
            unlink(temporary.path)
        }
    }

    public func discard() {
        try? FileManager.default.removeItem(at: temporary)
    }

    /// Writes `data` atomically in one call.
    public static func write(_ data: Data, to url: URL, overwrite: Bool) throws {
        let out = try AtomicOutput(target: url, overwrite: overwrite)
        do { try data.write(to: out.temporary) } catch {
            out.discard()
            throw FileError.writeFailed(url.path, reason: error.localizedDescription)
        }
        try out.commit()
    }
}
