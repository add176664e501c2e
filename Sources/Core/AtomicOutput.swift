import Foundation

/// Errors from writing files, with the path and what to do.
public enum FileError: Error, CustomStringConvertible, Equatable {
    case targetExists(String)
    case writeFailed(String, reason: String)
    /// Something at the output path that `--overwrite` must not replace (a user's folder, a FIFO, a link…).
    case notReplaceable(String, what: String)
    /// The output path names a file the job reads.
    case outputIsInput(String, input: String)
    /// The output names a folder that an input lies in.
    case outputHoldsInput(String, input: String)
    /// An input that could not be read, and why in words.
    case readFailed(String, reason: String)

    public var description: String {
        switch self {
        case .targetExists(let p): return "'\(p)' already exists; choose another name or pass --overwrite"
        case .writeFailed(let p, let r): return "could not write '\(p)': \(r)"
        case .notReplaceable(let p, let w):
            return "'\(p)' is \(w); --overwrite replaces only a regular file or a folder holding nothing but "
                + "Mavin's frame_NNNNN.png frames, so it was left as it is; choose another output name"
        case .outputIsInput(let p, let i):
            return "the output '\(p)' is also an input of this job ('\(i)'); writing it would destroy that input; "
                + "choose another output name"
        case .readFailed(let p, let r): return "'\(p)' could not be read: \(r)"
        case .outputHoldsInput(let p, let i):
            return "the output '\(p)' is a folder that holds an input of this job ('\(i)'); writing frames there "
                + "would replace it; choose another output name"
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
        try OutputTarget.check(target.path, kind: .file, overwrite: overwrite)
        let dir = target.deletingLastPathComponent()
        self.target = target
        self.overwrite = overwrite
        let ext = target.pathExtension.isEmpty ? "" : ".\(target.pathExtension)"
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))\(ext)"
        self.temporary = dir.appendingPathComponent(AtomicOutput.partialName(of: target.lastPathComponent, tag: tag))
        PartialFiles.register(temporary.path)
    }

    /// The hidden name a partial output is written under beside `name`: `.NAME.partial-TAG`, with NAME cut (at a
    /// character) so that the whole stays within the 255 bytes a file name may have, since any legal output name
    /// must be writable.
    public static func partialName(of name: String, tag: String) -> String {
        let room = 255 - ".".utf8.count - ".partial-\(tag)".utf8.count
        var kept = ""
        for c in name {
            guard kept.utf8.count + String(c).utf8.count <= room else { break }
            kept.append(c)
        }
        return ".\(kept).partial-\(tag)"
    }

    /// Moves the finished temporary file into place. Without `overwrite`, an
    /// existing target (even one created meanwhile) is never replaced.
    public func commit() throws {
        if overwrite {
            // Checked again at the last moment: something may have appeared at the target meanwhile.
            do { try OutputTarget.check(target.path, kind: .file, overwrite: true) } catch {
                discard()
                throw error
            }
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
        PartialFiles.done(temporary.path)
    }

    public func discard() {
        try? FileManager.default.removeItem(at: temporary)
        PartialFiles.done(temporary.path)
    }

    /// Writes `data` atomically in one call.
    public static func write(_ data: Data, to url: URL, overwrite: Bool) throws {
        let out = try AtomicOutput(target: url, overwrite: overwrite)
        do { try FileProblem.write(data, toNewFile: out.temporary.path) } catch {
            out.discard()
            throw FileError.writeFailed(url.path, reason: FileProblem.reason(error))
        }
        try out.commit()
    }
}

/// What an output path may hold before a job writes there, checked before any work and again at the commit.
public enum OutputTarget {
    public enum Kind: Sendable {
        /// One file (a video, PNG, checkpoint, report…).
        case file
        /// A folder of frame_NNNNN.png files, replaced as a whole.
        case frameFolder
    }

    /// Refuses an output that exists without `overwrite`, anything but a regular file or a Mavin frame folder
    /// with it, an output whose folder is missing, and an output that is (or holds) one of `inputs`.
    public static func check(_ path: String, kind: Kind, overwrite: Bool, inputs: [String] = []) throws {
        guard !path.isEmpty else { throw FileError.writeFailed(path, reason: "the output name is empty; name a file") }
        // "x.mp4/" is written as a folder's name: the user may mean a folder, and a file there would surprise.
        if kind == .file && path.hasSuffix("/") {
            throw FileError.writeFailed(
                path, reason: "the name ends in '/', as a folder's does; name a file (without the '/')")
        }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw FileError.writeFailed(path, reason: "folder '\(dir)' does not exist; create it first")
        }
        guard isDir.boolValue else { throw FileError.writeFailed(path, reason: "'\(dir)' is not a folder") }
        // A read-only folder (or file system) is named now, not after the work.
        guard access(dir, W_OK) == 0 else {
            throw FileError.writeFailed(path, reason: "'\(dir)': " + FileProblem.reason(errno: errno))
        }
        let here = canonical(path)
        for input in inputs {
            let other = canonical(input)
            if other == here { throw FileError.outputIsInput(path, input: input) }
            if other.hasPrefix(here + "/") { throw FileError.outputHoldsInput(path, input: input) }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // nothing there yet
        guard overwrite else { throw FileError.targetExists(path) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR:
            guard kind == .frameFolder else { throw FileError.notReplaceable(path, what: "a folder") }
            if let stranger = strangerInFrameFolder(path) {
                throw FileError.notReplaceable(path, what: "a folder holding '\(stranger)', which Mavin did not write")
            }
        case S_IFLNK: throw FileError.notReplaceable(path, what: "a symbolic link")
        case S_IFIFO: throw FileError.notReplaceable(path, what: "a FIFO (named pipe)")
        case S_IFCHR, S_IFBLK: throw FileError.notReplaceable(path, what: "a device")
        case S_IFSOCK: throw FileError.notReplaceable(path, what: "a socket")
        default: throw FileError.notReplaceable(path, what: "not a regular file")
        }
    }

    /// Whether a name is one Mavin gives a frame it writes into a folder (frame_00042.png).
    public static func isFrameName(_ name: String) -> Bool { frameNumber(name) != nil }

    /// The number of a frame named as Mavin names them (42 for frame_00042.png), nil for any other name.
    public static func frameNumber(_ name: String) -> Int? {
        guard name.hasPrefix("frame_"), name.hasSuffix(".png") else { return nil }
        let digits = name.dropFirst("frame_".count).dropLast(".png".count)
        guard digits.count >= 5 && digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// The first entry of a folder that is not a regular frame file Mavin writes (named as Mavin names its frames
    /// and a PNG: a text file named frame_00000.png is the user's), or nil when there is none.
    static func strangerInFrameFolder(_ path: String) -> String? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return "(unreadable)" }
        for name in names.sorted() {
            var info = stat()
            let full = (path as NSString).appendingPathComponent(name)
            let regular = lstat(full, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
            if !regular || !isFrameName(name) || !startsAsPNG(full) { return name }
        }
        return nil
    }

    /// The 8 bytes every PNG file begins with.
    public static let pngSignature = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

    /// The file's first bytes, up to the length of the PNG signature (empty when it cannot be read).
    public static func head(_ path: String) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: pngSignature.count)) ?? Data()
    }

    /// Whether the file begins with the PNG signature.
    static func startsAsPNG(_ path: String) -> Bool { head(path) == pngSignature }

    /// Removes a frame folder that `check` accepted, file by file: a stranger that appeared meanwhile
    /// makes the final rmdir fail instead of being deleted.
    public static func removeFrameFolder(_ path: String) throws {
        if let stranger = strangerInFrameFolder(path) {
            throw FileError.notReplaceable(path, what: "a folder holding '\(stranger)', which Mavin did not write")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names where isFrameName(name) { unlink((path as NSString).appendingPathComponent(name)) }
        guard rmdir(path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw FileError.writeFailed(path, reason: "could not replace the old frame folder: \(reason)")
        }
    }

    /// Whether two paths name one file (links and `..` resolved as far as they exist).
    public static func samePath(_ a: String, _ b: String) -> Bool { canonical(a) == canonical(b) }

    /// The path with links and `..` resolved as far as it exists, so two names of one file compare equal.
    static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if let real = realpath(url.path, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let parent = url.deletingLastPathComponent().path
        guard let real = realpath(parent, nil) else { return url.path }
        defer { free(real) }
        return (String(cString: real) as NSString).appendingPathComponent(url.lastPathComponent)
    }
}
