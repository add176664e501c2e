import Core
import Foundation

/// `mavin frames`: frames written as frame_NNNNN.png into a folder, beside what is there.
///
/// Every name is checked before the first frame is decoded, and a run that fails part-way (a frame that
/// cannot be decoded, a full disk) removes the PNG files and folders it created, so no half export is left
/// that looks like a whole one.
public enum FrameExport {
    public static func fileName(_ index: Int) -> String { String(format: "frame_%05d.png", index) }

    /// Refuses a folder that is a file, and frame names that exist (without `overwrite`) or are not regular
    /// files; returns the folders that would have to be created, outermost first.
    public static func check(folder: String, frames: Range<Int>, overwrite: Bool) throws -> [String] {
        var isDir: ObjCBool = false
        var missing: [String] = []
        var path = URL(fileURLWithPath: folder).standardizedFileURL.path
        while !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            missing.insert(path, at: 0)
            let parent = (path as NSString).deletingLastPathComponent
            if parent == path || parent.isEmpty { break }
            path = parent
        }
        guard isDir.boolValue else {
            if missing.isEmpty {
                throw FileError.writeFailed(
                    folder,
                    reason: "it exists and is not a folder; -o names the folder "
                        + "the PNG frames go into — choose another name")
            }
            throw FileError.writeFailed(folder, reason: "'\(path)' is a file, not a folder; check the path")
        }
        guard access(path, W_OK) == 0 else {
            throw FileError.writeFailed(folder, reason: FileProblem.reason(errno: errno))
        }
        if missing.isEmpty {
            for i in frames {
                let name = (folder as NSString).appendingPathComponent(fileName(i))
                try OutputTarget.check(name, kind: .file, overwrite: overwrite)
            }
        }
        return missing
    }

    /// Writes `frame(i)` for every i of `frames`; returns the number written.
    @discardableResult
    public static func write(
        frames: Range<Int>, into folder: String, overwrite: Bool,
        frame: (Int) throws -> RGBImage
    ) throws -> Int {
        let missing = try check(folder: folder, frames: frames, overwrite: overwrite)
        // What this run creates (folders, then new frames) goes if a signal ends it, as on a failure.
        var registered: [String] = []
        defer { registered.forEach(PartialFiles.done) }
        if let outermost = missing.first {
            PartialFiles.register(outermost)
            registered.append(outermost)
        }
        for dir in missing {
            guard mkdir(dir, 0o755) == 0 || errno == EEXIST else {
                let reason = FileProblem.reason(errno: errno)
                removeFolders(missing)
                throw FileError.writeFailed(folder, reason: "could not create '\(dir)': \(reason)")
            }
        }
        var created: [String] = []
        var replaced = 0
        for i in frames {
            let url = URL(fileURLWithPath: folder).appendingPathComponent(fileName(i))
            do {
                let existed = FileManager.default.fileExists(atPath: url.path)
                if !existed && missing.isEmpty {
                    PartialFiles.register(url.path)
                    registered.append(url.path)
                }
                try PNG.write(try frame(i), to: url, overwrite: overwrite)
                if existed { replaced += 1 } else { created.append(url.path) }
            } catch {
                for path in created { unlink(path) }
                removeFolders(missing)
                throw MediaError.partialExport(folder, cause: "\(error)", removed: created.count, replaced: replaced)
            }
        }
        return frames.count
    }

    /// Removes folders this run created, innermost first, and only while they are empty.
    private static func removeFolders(_ outermostFirst: [String]) {
        for dir in outermostFirst.reversed() { rmdir(dir) }
    }
}
