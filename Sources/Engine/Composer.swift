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
    public struct Segment { public var clip: Int; public var first: Int; public var last: Int }
    public var readers: [VideoReader]
    public var segments: [Segment]
    public var width: Int, height: Int
    public var fps: Double
    public var expectedFrames: Int
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
        guard plan.clips.count >= 2 else { throw EngineError.badInput("a composition needs at least two clips (the plan has \(plan.clips.count))") }
        let readers = try plan.clips.map { try VideoReader(path: path($0.path)) }
        var segments: [ResolvedPlan.Segment] = []
        for (i, r) in readers.enumerated() {
            let name = plan.clips[i].path, n = r.frameCount
            let first = i == 0 ? 0 : (plan.junctions[i - 1].e ?? 0)
            let last = i == readers.count - 1 ? n - 1 : (plan.junctions[i].s ?? n - 1)
            if first < 0 || first >= n { throw EngineError.badInput("clip '\(name)' has \(n) frames (0…\(n - 1)); e=\(first) is past its end") }
            if last < 0 || last >= n { throw EngineError.badInput("clip '\(name)' has \(n) frames (0…\(n - 1)); s=\(last) is past its end") }
            if last < first { throw EngineError.badInput("clip '\(name)': s=\(last) comes before e=\(first); nothing of the clip would remain") }
            segments.append(.init(clip: i, first: first, last: last))
        }
        var total = segments.reduce(0) { $0 + $1.last - $1.first + 1 }
        for j in plan.junctions where j.mode == .insert { total += j.length }
        return ResolvedPlan(readers: readers, segments: segments, width: readers[0].info.width, height: readers[0].info.height,
                            fps: readers[0].info.fps, expectedFrames: total)
    }

    /// Generates every junction, then streams the composition to `output`.
    public func run(model: MavinModel, output: URL, overwrite: Bool, cancel: CancelFlag = CancelFlag(),
                    event: (ComposeEvent) -> Void = { _ in }) throws -> (frames: Int, notices: [String]) {
        let kind: OutputTarget.Kind = VideoWriter.kind(for: output) == .png ? .frameFolder : .file
        try OutputTarget.check(output.path, kind: kind, overwrite: overwrite, inputs: clipPaths)
        let resolved = try resolve()
        let infiller = Infiller(model: model)
        var notices: [String] = []
        var generated: [[RGBImage]] = []
        var keep: [(dropEnd: Int, dropStart: Int)] = Array(repeating: (0, 0), count: resolved.segments.count)
        for (k, j) in plan.junctions.enumerated() {
            let a = resolved.segments[k], b = resolved.segments[k + 1]
            let (extraA, extraB) = j.mode.replaced(length: j.length)
            let (tb, ta) = try infiller.referenceFrames(before: resolved.readers[a.clip], s: a.last,
                                                        firstBefore: a.first,
                                                        after: resolved.readers[b.clip], e: b.first,
                                                        lastAfter: b.last, mode: j.mode, length: j.length)
            var request = InfillRequest(before: tb, after: ta, length: j.length)
            request.mode = j.mode
            request.settings = j.settings
            let result = try infiller.run(request, cancel: cancel) { event(.junction(index: k, of: plan.junctions.count, $0)) }
            notices += result.notices
            generated.append(result.frames.map { $0.resized(width: resolved.width, height: resolved.height) })
            if j.mode == .regenerate { keep[k].dropEnd = extraA; keep[k + 1].dropStart = extraB }
            event(.junctionDone(index: k, seconds: result.seconds, notices: result.notices))
        }
        let writer = try VideoWriter(url: output, width: resolved.width, height: resolved.height, fps: resolved.fps, overwrite: overwrite)
        var written = 0
        let total = resolved.expectedFrames
        do {
            for (i, seg) in resolved.segments.enumerated() {
                let reader = resolved.readers[seg.clip]
                for f in (seg.first + keep[i].dropStart)...(seg.last - keep[i].dropEnd) {
                    if cancel.isCancelled { throw EngineError.cancelled }
                    var frame = try reader.frame(at: f)
                    if frame.width != resolved.width || frame.height != resolved.height {
                        if f == seg.first { notices.append("clip '\(plan.clips[i].path)' is \(frame.width)×\(frame.height); resized to \(resolved.width)×\(resolved.height)") }
                        frame = try reader.frame(at: f, size: (resolved.width, resolved.height), fit: .crop)
                    }
                    try writer.append(frame)
                    written += 1
                    if written % 10 == 0 { event(.writing(frame: written, of: total)) }
                }
                if i < generated.count {
                    for g in generated[i] { try writer.append(g); written += 1 }
                }
            }
            try writer.finish()
        } catch {
            writer.cancel()
            throw error
        }
        event(.writing(frame: written, of: total))
        return (written, notices)
    }
}
