import Foundation

/// The frames of a clip given as a video file or as a folder of PNG frames (the folders
/// `mavin infill -o DIR` and `mavin frames` write): every `*.png` in name order, all one size.
public enum FrameSource {
    public static func read(_ path: String) throws -> [RGBImage] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw MediaError.fileNotFound(path) }
        guard isDir.boolValue else {
            let r = try VideoReader(path: path)
            return try r.frames(from: 0, count: r.frameCount)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard !names.isEmpty else { throw MediaError.emptyFrameFolder(path) }
        let folder = URL(fileURLWithPath: path)
        let frames = try names.map { try PNG.read(folder.appendingPathComponent($0)).rgb }
        for (name, f) in zip(names, frames) where f.width != frames[0].width || f.height != frames[0].height {
            throw MediaError.sizeMismatch((path as NSString).appendingPathComponent(name), expected: "\(frames[0].width)×\(frames[0].height)", got: "\(f.width)×\(f.height)")
        }
        return frames
    }
}
