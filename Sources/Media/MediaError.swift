import Core
import Foundation

/// Errors a user can act on: each says which file, what went wrong, and what to do.
public enum MediaError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(String)
    case notAVideo(String, reason: String)
    case noFrames(String)
    case emptyFrameFolder(String)
    /// A folder of frame_NNNNN.png files with a number missing, or with other PNG files among them.
    case frameFolderGap(String, problem: String)
    case frameOutOfRange(String, index: Int, frames: Int)
    case rangeOutOfBounds(String, from: Int, count: Int, frames: Int)
    case decodeFailed(String, frame: Int, reason: String)
    case encodeFailed(String, reason: String)
    case sizeMismatch(String, expected: String, got: String)
    case badPNG(String, reason: String)
    case unsupportedOutput(String)
    /// A frame export that failed part-way, and what was done with what it had written.
    case partialExport(String, cause: String, removed: Int, replaced: Int)

    public var description: String {
        switch self {
        case .fileNotFound(let p): return "'\(p)': no such file"
        case .notAVideo(let p, let r): return "'\(p)' is not a video FFmpeg can read (\(r))"
        case .noFrames(let p): return "'\(p)' has a video stream but no decodable frames"
        case .frameFolderGap(let p, let problem):
            return "'\(p)': \(problem); its frames would be scored out of step with the other clip's (keep the frames "
                + "numbered one after another, or the folder as `mavin frames` or `infill -o` wrote it)"
        case .emptyFrameFolder(let p):
            return "'\(p)' is a folder without PNG frames; give a video or a folder of frame_NNNNN.png files"
        case .frameOutOfRange(let p, let i, let n):
            let place = i < 0 ? "is before its first frame (frames count from 0)" : "is past its end"
            return "'\(p)' has \(n) frames (0…\(max(0, n - 1))); frame \(i) \(place)"
        case .rangeOutOfBounds(let p, let from, let count, let n):
            let fit = from >= 0 && from < n ? "; from frame \(from) at most \(counted(n - from, "frame")) remain" : ""
            let verb = count == 1 ? "does" : "do"
            return
                "'\(p)' has \(counted(n, "frame")) (0…\(max(0, n - 1))); \(counted(count, "frame")) from frame \(from) "
                + "\(verb) not fit\(fit)"
        case .decodeFailed(let p, let f, let r):
            return
                "'\(p)': frame \(f) could not be decoded (\(r)); the file is damaged there — frames before it "
                + "may still read"
        case .encodeFailed(let p, let r): return "could not write '\(p)': \(r)"
        case .sizeMismatch(let p, let e, let g): return "'\(p)': frame size \(g) does not match the stream's \(e)"
        case .badPNG(let p, let r): return "'\(p)' is not a readable PNG (\(r))"
        case .unsupportedOutput(let p): return "'\(p)': unknown output type; use .mp4, .gif or a folder for PNG frames"
        case .partialExport(let p, let cause, let removed, let replaced):
            let kept =
                replaced == 0
                ? ""
                : "; the \(replaced) existing frame files it replaced (--overwrite) "
                    + "hold the new frames"
            return "\(cause); the \(removed) PNG frames this run had written to '\(p)' were removed\(kept)"
        }
    }
}
