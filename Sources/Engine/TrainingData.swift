import Core
import Diffusion
import Foundation
import MavinModel
import Media
import Metrics
import Synth
import Tensor

/// Frames of training videos at the model's resolution, their latents, and the
/// windows of L consecutive (sampled) frames that contain no shot cut.
public final class TrainingData {
    public struct Clip {
        public var path: String
        public var frames: [RGBImage]
        public var latents: [[Float]] = []
    }

    public struct Window: Hashable {
        public var clip: Int
        public var start: Int
    }

    public private(set) var clips: [Clip] = []
    public private(set) var training: [Window] = []
    public private(set) var validation: [Window] = []
    public private(set) var droppedForCuts = 0
    /// The centres of the labelled transitions of each clip (in sampled frames), from a synthetic folder's
    /// `manifest.json` beside the video; empty for other videos.
    public private(set) var transitionCentres: [[Int]] = []
    public let resolution: Int
    public let frames: Int

    /// Every video file under the given folders (recursively), sorted.
    public static func videos(in folders: [String]) throws -> [String] {
        var found: [String] = []
        for folder in folders {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) else {
                throw EngineError.noSuchData(folder)
            }
            if !isDir.boolValue {
                found.append(folder)
                continue
            }
            let e = FileManager.default.enumerator(atPath: folder)
            while let f = e?.nextObject() as? String {
                if ["mp4", "mov", "mkv", "webm", "m4v"].contains((f as NSString).pathExtension.lowercased()) {
                    found.append((folder as NSString).appendingPathComponent(f))
                }
            }
        }
        guard !found.isEmpty else { throw EngineError.noTrainingVideos(folders: folders) }
        return found.sorted()
    }

    /// Reads every `sampleRate`-th frame of each video at `resolution`², centre-cropped or squashed (`fit`).
    /// The last `validationFraction` of the videos (at least one when there are two or more) is held out.
    public init(
        videos: [String], resolution: Int, frames L: Int, sampleRate: Int, validationFraction: Double,
        fit: Fit = .crop, log: (String) -> Void = { _ in }
    ) throws {
        self.resolution = resolution
        self.frames = L
        guard !videos.isEmpty else { throw EngineError.noTrainingVideos(folders: []) }
        var manifests: [String: [String: [TransitionRange]]] = [:]
        for (i, path) in videos.enumerated() {
            let reader = try VideoReader(path: path)
            var frames: [RGBImage] = []
            var index = 0
            while index < reader.frameCount {
                do { frames.append(try reader.frame(at: index, size: (resolution, resolution), fit: fit)) } catch {
                    log("skipping damaged frame \(index) of \(path): \(error)")
                }
                index += sampleRate
            }
            clips.append(Clip(path: path, frames: frames))
            let url = URL(fileURLWithPath: path)
            let folder = url.deletingLastPathComponent().path
            if manifests[folder] == nil { manifests[folder] = TrainingData.transitions(inFolder: folder) }
            transitionCentres.append(
                (manifests[folder]?[url.lastPathComponent] ?? []).map { ($0.start + $0.end) / 2 / sampleRate })
            if (i + 1) % 10 == 0 || i + 1 == videos.count { log("read \(i + 1)/\(videos.count) videos") }
        }
        // Shot cuts: SSIM between consecutive frames below 0.1 (on 64² luma for speed).
        let heldOut = videos.count >= 2 ? max(1, Int((Double(videos.count) * validationFraction).rounded())) : 0
        for (ci, clip) in clips.enumerated() {
            guard clip.frames.count >= L else { continue }
            var cut = [Bool](repeating: false, count: clip.frames.count)
            let small = clip.frames.map { $0.resized(width: 64, height: 64).luma() }
            let similar = parallelMap(max(0, clip.frames.count - 1)) {
                ImageQuality.ssim(luma: small[$0], small[$0 + 1], width: 64, height: 64)
            }
            for (i, s) in similar.enumerated() where s < 0.1 { cut[i + 1] = true }
            for start in 0...(clip.frames.count - L) {
                if cut[(start + 1)..<(start + L)].contains(true) {
                    droppedForCuts += 1
                    continue
                }
                let w = Window(clip: ci, start: start)
                if ci >= clips.count - heldOut { validation.append(w) } else { training.append(w) }
            }
        }
        if validation.isEmpty && training.count > 10 {
            // One video only: hold out its last tenth (no window overlaps the split).
            let cutoff = Int(Double(training.count) * 0.9)
            // Windows that start L or more after the cutoff share no frame with a training window; a video too
            // short to have any keeps them all for training (and validation is skipped).
            if cutoff + L < training.count {
                validation = Array(training[(cutoff + L)...])
                training = Array(training[..<cutoff])
            }
        }
        guard !training.isEmpty else {
            throw EngineError.noTrainingWindows(framesNeeded: L * sampleRate)
        }
    }

    /// The labelled transitions of the videos of a synthetic folder (`mavin synth-dataset`, `mavin samples`) by file
    /// name, from its `manifest.json`; none for a folder without one.
    static func transitions(inFolder folder: String) -> [String: [TransitionRange]] {
        let manifest = URL(fileURLWithPath: folder).appendingPathComponent("manifest.json")
        guard let entries = try? Manifest.read(manifest).entries else { return [:] }
        return Dictionary(entries.map { ($0.file, $0.transitions) }, uniquingKeysWith: { first, _ in first })
    }

    /// The labelled transitions of the clips a set of windows draws from, and the set, to place windows on them.
    public struct TransitionWindows {
        /// Each transition as (clip, centre in sampled frames).
        public let transitions: [(clip: Int, centre: Int)]
        let windows: Set<Window>

        /// The window of the set whose gap s…e (window frames) is centred on `transition` as
        /// `Evaluator.syntheticCases` centres its cases; nil when the set has no such window (too near the clip's
        /// ends, across a cut, or in the other set).
        public func window(centredOn transition: (clip: Int, centre: Int), s: Int, e: Int) -> Window? {
            let start = Evaluator.gapStart(centredOn: transition.centre, length: e - s - 1) - s
            let w = Window(clip: transition.clip, start: start)
            return windows.contains(w) ? w : nil
        }
    }

    /// The transitions of the clips `windows` draws from, with those windows.
    public func transitionWindows(among windows: [Window]) -> TransitionWindows {
        let clips = Set(windows.map(\.clip)).sorted()
        return TransitionWindows(
            transitions: clips.flatMap { c in transitionCentres[c].map { (clip: c, centre: $0) } },
            windows: Set(windows))
    }

    /// Fits a codec on up to `maxFrames` frames spread over the training clips.
    public func fitCodec(patch: Int, components: Int, maxFrames: Int = 400) -> LatentCodec {
        let all = clips.flatMap(\.frames)
        let step = max(1, all.count / maxFrames)
        let sample = stride(from: 0, to: all.count, by: step).map { all[$0].planarFloats() }
        return LatentCodec.fit(frames: sample, resolution: resolution, patch: patch, components: components)
    }

    public func encodeAll(with codec: LatentCodec) {
        for ci in clips.indices {
            let frames = clips[ci].frames
            let R = resolution
            clips[ci].latents = parallelMap(frames.count) { codec.encode(frames[$0].planarFloats(), resolution: R) }
        }
    }

    /// The window's pixel frames.
    public func frames(_ w: Window) -> ArraySlice<RGBImage> {
        clips[w.clip].frames[w.start..<(w.start + frames)]
    }

    /// The clean latent window [L, K·h·w] (after `encodeAll`) and the clip's pixel frames.
    public func window(_ w: Window) -> (latents: [Float], frames: ArraySlice<RGBImage>) {
        let clip = clips[w.clip]
        return (Array(clip.latents[w.start..<(w.start + frames)].joined()), clip.frames[w.start..<(w.start + frames)])
    }
}
