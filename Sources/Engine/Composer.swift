import Core
import Foundation
import MavinModel
import Media

/// Where to find the default model when none is named.
public enum ComposeEvent: Sendable {
    case junction(index: Int, of: Int, InfillProgress)
    case junctionDone(index: Int, seconds: Double, notices: [String])
    case writing(frame: Int, of: Int)
}

/// A plan resolved against its clips: the frame ranges used and the output geometry.
public struct ResolvedPlan {
    public struct Segment {
        public var clip: Int
        public var first: Int
        public var last: Int
    }
    public var readers: [VideoReader]
    public var segments: [Segment]
    public var width: Int, height: Int
    public var fps: Double
    public var expectedFrames: Int
    /// Per segment, the clip's frames in output order: what regenerate leaves of it, conformed by the frames'
    /// timestamps to the output rate (a frame repeated or dropped where the clip's rate differs).
    public var shown: [[Int]] = []
    /// What conforming did, in words (a clip at another rate, a variable rate).
    public var notices: [String] = []
}

public final class Composer {
    public let plan: Plan
    public let folder: String

    public init(plan: Plan, folder: String) {
        self.plan = plan
        self.folder = folder
    }

    /// Every clip of the plan, as paths: the inputs an output must not overwrite.
    public var clipPaths: [String] { plan.clips.map { path($0.path) } }

    func path(_ p: String) -> String { p.hasPrefix("/") ? p : (folder as NSString).appendingPathComponent(p) }

    /// Opens the clips and checks every s and e against them.
    public func resolve() throws -> ResolvedPlan {
        guard plan.clips.count >= 2 else {
            throw EngineError.tooFewClips(plan.clips.count)
        }
        let readers = try plan.clips.map { try VideoReader(path: path($0.path)) }
        var segments: [ResolvedPlan.Segment] = []
        for (i, r) in readers.enumerated() {
            let name = plan.clips[i].path
            let n = r.frameCount
            let first = i == 0 ? 0 : (plan.junctions[i - 1].e ?? 0)
            let last = i == readers.count - 1 ? n - 1 : (plan.junctions[i].s ?? n - 1)
            // e belongs to the junction before this clip (number i), s to the one after it (i + 1).
            for (key, value, junction) in [("e", first, i), ("s", last, i + 1)] where value < 0 || value >= n {
                throw EngineError.boundaryOutsideClip(clip: name, key: key, value: value, frames: n, junction: junction)
            }
            if last < first { throw EngineError.boundariesCross(clip: name, s: last, e: first) }
            segments.append(.init(clip: i, first: first, last: last))
        }
        let fps = plan.fps ?? readers[0].info.fps
        var shown: [[Int]] = []
        var notices = readers.compactMap(\.info.damageNotice)
        let sounding = Set(plan.clips.indices.filter { readers[$0].info.hasAudio }.map { plan.clips[$0].path })
        if !sounding.isEmpty {
            notices.append(
                "the sound of \(sounding.sorted().joined(separator: ", ")) is not carried into the output: Mavin "
                    + "writes video only (add the sound back with ffmpeg -map)")
        }
        for (i, seg) in segments.enumerated() {
            // Regenerate replaces frames each side of its junction.
            let dropStart =
                i > 0 && plan.junctions[i - 1].mode == .regenerate
                ? plan.junctions[i - 1].mode.replaced(length: plan.junctions[i - 1].length).after : 0
            let dropEnd =
                i < plan.junctions.count && plan.junctions[i].mode == .regenerate
                ? plan.junctions[i].mode.replaced(length: plan.junctions[i].length).before : 0
            let r = readers[seg.clip]
            let from = seg.first + dropStart
            let to = seg.last - dropEnd
            let frames = to >= from ? Self.conform(r, from...to, fps: fps) : []
            shown.append(frames)
            let change = frames.count - max(0, to - from + 1)
            if let note = Self.conformNotice(r, name: plan.clips[i].path, change: change, fps: fps) {
                notices.append(note)
            }
        }
        var total = shown.reduce(0) { $0 + $1.count }
        // Insert adds its frames; regenerate's replace the frames dropped above.
        for j in plan.junctions { total += j.length }
        return ResolvedPlan(
            readers: readers, segments: segments, width: readers[0].info.width, height: readers[0].info.height,
            fps: fps, expectedFrames: total, shown: shown, notices: notices)
    }

    /// The frames of `range` shown at each tick of an output at `fps`: at output time t, the last frame whose
    /// timestamp is not after t, so a clip at another rate, or a variable one, plays at its own speed.
    public static func conform(_ reader: VideoReader, _ range: ClosedRange<Int>, fps: Double) -> [Int] {
        let start = reader.seconds(at: range.lowerBound)
        let last = reader.seconds(at: range.upperBound) - start
        // The last frame lasts one nominal frame of its clip.
        let own = reader.info.fps > 0 ? reader.info.fps : fps
        let count = max(1, Int(((last + 1 / own) * fps).rounded()))
        var out: [Int] = []
        out.reserveCapacity(count)
        var i = range.lowerBound
        // A tolerance of a hundredth of a frame: timestamps in ticks rarely land exactly on k / fps.
        let slack = 0.01 / max(fps, own)
        for k in 0..<count {
            let t = Double(k) / fps
            while i < range.upperBound && reader.seconds(at: i + 1) - start <= t + slack { i += 1 }
            out.append(i)
        }
        return out
    }

    /// What conforming a clip to `fps` did (`conform`: `change` frames more than it had, or fewer), said when its
    /// rate differs or varies; nil when it plays as it was.
    public static func conformNotice(_ r: VideoReader, name: String, change: Int, fps: Double) -> String? {
        let out = String(format: "%.3g fps", fps)
        let how = change > 0 ? "\(counted(change, "frame")) repeated" : "\(counted(-change, "frame")) dropped"
        if r.variableRate {
            return "clip '\(name)' has a variable frame rate; conformed to \(out) by its timestamps (\(how))"
        }
        guard abs(r.info.fps - fps) > 1e-3 * fps else { return nil }
        return "clip '\(name)' is \(String(format: "%.3g", r.info.fps)) fps; conformed to \(out) by its timestamps "
            + "(\(how)), so it plays at its own speed"
    }

    /// Refuses an output that would destroy a clip, or that exists without `overwrite` (`OutputTarget.check`; a
    /// folder of PNG frames for an output without a video extension).
    public func checkOutput(_ output: URL, overwrite: Bool) throws {
        let kind: OutputTarget.Kind = VideoWriter.kind(for: output) == .png ? .frameFolder : .file
        try OutputTarget.check(output.path, kind: kind, overwrite: overwrite, inputs: clipPaths)
    }

    /// Generates every junction, then streams the composition to `output`.
    public func run(
        model: MavinModel, output: URL, overwrite: Bool, cancel: CancelFlag = CancelFlag(),
        event: (ComposeEvent) -> Void = { _ in }
    ) throws -> (frames: Int, notices: [String]) {
        try checkOutput(output, overwrite: overwrite)
        let resolved = try resolve()
        let infiller = Infiller(model: model)
        let fit = plan.fit ?? Plan.defaultFit
        var notices: [String] = []
        var generated: [[RGBImage]] = []
        notices += resolved.notices
        for (k, j) in plan.junctions.enumerated() {
            let a = resolved.segments[k]
            let b = resolved.segments[k + 1]
            let window = try JunctionWindow(
                before: resolved.readers[a.clip], after: resolved.readers[b.clip], junction: j,
                names: (plan.clips[k].path, plan.clips[k + 1].path), firstBefore: a.first, lastAfter: b.last,
                size: (resolved.width, resolved.height), fit: fit)
            let request = try window.request(for: infiller)
            let result = try infiller.run(request, cancel: cancel) {
                event(.junction(index: k, of: plan.junctions.count, $0))
            }
            notices += result.notices
            generated.append(result.frames.map { $0.resized(width: resolved.width, height: resolved.height) })
            event(.junctionDone(index: k, seconds: result.seconds, notices: result.notices))
        }
        let writer = try VideoWriter(
            url: output, width: resolved.width, height: resolved.height, fps: resolved.fps, overwrite: overwrite)
        notices += [writer.notice].compactMap { $0 }
        let total = resolved.expectedFrames
        do {
            for (i, seg) in resolved.segments.enumerated() {
                let reader = resolved.readers[seg.clip]
                let shown = resolved.shown[i]
                if !shown.isEmpty, let note = writer.fitNotice(reader, name: plan.clips[i].path, fit: fit) {
                    notices.append(note + ", with its transitions")
                }
                try writer.append(reader, shown: shown, fit: fit, cancel: cancel) {
                    if writer.framesWritten % 10 == 0 { event(.writing(frame: writer.framesWritten, of: total)) }
                }
                if i < generated.count {
                    for g in generated[i] { try writer.append(g) }
                }
            }
            try writer.finish()
        } catch {
            writer.cancel()
            throw error
        }
        event(.writing(frame: writer.framesWritten, of: total))
        return (writer.framesWritten, notices)
    }
}
