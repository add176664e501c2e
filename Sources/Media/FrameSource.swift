import Core
import Foundation

/// The frames of a clip given as a video file or as a folder of PNG frames (the folders
/// `mavin infill -o DIR` and `mavin frames` write): every `*.png` in name order, all one size.
/// Opening reads only the first frame; `frame(at:)` reads one at a time, so a long clip streams.
public final class FrameSequence {
    public let path: String
    public let count: Int
    /// The size of every frame (the first frame's; another size is an error when it is read).
    public let width: Int
    public let height: Int
    private let video: VideoReader?
    /// A damaged video's notice (`VideoInfo.damageNotice`): only its readable frames count.
    public var damageNotice: String? { video?.info.damageNotice }
    private let pngs: [URL]

    /// Frames named as Mavin numbers them (frame_00000.png…) must follow one another without a gap, and not be
    /// mixed with other PNGs; a folder of other names is taken in name order.
    static func checkNumbering(_ names: [String], folder: String) throws {
        let numbers = names.compactMap(OutputTarget.frameNumber).sorted()
        guard !numbers.isEmpty else { return }
        if let other = names.first(where: { !OutputTarget.isFrameName($0) }) {
            throw MediaError.frameFolderGap(folder, problem: "it holds '\(other)' among its frame_NNNNN.png frames")
        }
        for (a, b) in zip(numbers, numbers.dropFirst()) where b != a + 1 {
            throw MediaError.frameFolderGap(
                folder, problem: "frame \(a + 1) is missing (its frames go from \(a) to \(b))")
        }
    }

    public init(path: String) throws {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw MediaError.fileNotFound(path)
        }
        if isDir.boolValue {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                throw MediaError.notAVideo(path, reason: "the folder cannot be listed; check its permissions")
            }
            let folder = URL(fileURLWithPath: path)
            pngs = names.filter { $0.lowercased().hasSuffix(".png") }.sorted().map { folder.appendingPathComponent($0) }
            guard let first = pngs.first else { throw MediaError.emptyFrameFolder(path) }
            try FrameSequence.checkNumbering(pngs.map(\.lastPathComponent), folder: path)
            let image = try PNG.read(first)
            video = nil
            count = pngs.count
            width = image.width
            height = image.height
        } else {
            let reader = try VideoReader(path: path)
            video = reader
            pngs = []
            count = reader.frameCount
            width = reader.info.width
            height = reader.info.height
        }
    }

    /// Frame `index` at the clip's own size.
    public func frame(at index: Int) throws -> RGBImage {
        if let video { return try video.frame(at: index) }
        guard index >= 0 && index < pngs.count else {
            throw MediaError.frameOutOfRange(path, index: index, frames: pngs.count)
        }
        let image = try PNG.read(pngs[index]).rgb
        guard image.width == width, image.height == height else {
            let got = "\(image.width)×\(image.height)"
            throw MediaError.sizeMismatch(pngs[index].path, expected: "\(width)×\(height)", got: got)
        }
        return image
    }
}

public enum FrameSource {
    /// Every frame in memory: for short clips only (a transition's ground truth); stream long ones with FrameSequence.
    public static func read(_ path: String) throws -> [RGBImage] {
        let sequence = try FrameSequence(path: path)
        return try (0..<sequence.count).map { try sequence.frame(at: $0) }
    }
}
