import Core
import Foundation
import Media

/// One junction of two clips resolved to the frames its transition needs: the one place a junction becomes an
/// `InfillRequest` (`mavin infill`, `compose` and the Studio all use it). Only the reference frames the model
/// uses are read, trimmed for the mode, so a transition between two long clips holds a few frames; the spliced
/// output streams through one frame at a time.
public struct JunctionWindow {
    public let before: VideoReader
    public let after: VideoReader
    /// The junction, its s and e filled in: s defaults to the preceding clip's last frame, e to 0.
    public let junction: Plan.Junction
    /// s: the preceding clip's boundary frame xˢ; e: the following clip's xᵉ.
    public let boundaryStart: Int
    public let boundaryEnd: Int
    /// Nothing of `before` ahead of this frame is read (a composition's segment start).
    public let firstBefore: Int
    /// Nothing of `after` past this frame is read (a composition's segment end).
    public let lastAfter: Int
    /// The output's size, which every frame read is fitted to (`fit`), so the transition is generated in the
    /// output's geometry; nil: the preceding clip's own size.
    public let size: (width: Int, height: Int)
    public let fit: Fit
    /// The clips as the user named them, for messages.
    public let names: (before: String, after: String)

    /// Checks s and e against the clips, naming the clip (`names`) and the frames it has.
    public init(
        before: VideoReader, after: VideoReader, junction: Plan.Junction, names: (before: String, after: String),
        firstBefore: Int = 0, lastAfter: Int? = nil, size: (width: Int, height: Int)? = nil, fit: Fit = Plan.defaultFit
    ) throws {
        let s = junction.s ?? before.frameCount - 1
        let e = junction.e ?? 0
        for (key, value, name, n) in [
            ("s", s, names.before, before.frameCount), ("e", e, names.after, after.frameCount)
        ]
        where value < 0 || value >= n {
            throw EngineError.boundaryOutsideClip(clip: name, key: key, value: value, frames: n)
        }
        self.before = before
        self.after = after
        var filled = junction
        filled.s = s
        filled.e = e
        self.junction = filled
        boundaryStart = s
        boundaryEnd = e
        self.firstBefore = firstBefore
        self.lastAfter = lastAfter ?? after.frameCount - 1
        self.size = size ?? (before.info.width, before.info.height)
        self.fit = fit
        self.names = names
    }

    /// Frames `range` of a clip at the output's size: as decoded when the sizes agree, else fitted.
    func frames(_ reader: VideoReader, from start: Int, count: Int) throws -> [RGBImage] {
        let same = reader.info.width == size.width && reader.info.height == size.height
        return try reader.frames(from: start, count: count, size: same ? nil : size, fit: fit)
    }

    /// The frames of the preceding clip ending at s and of the following clip starting at e that the
    /// transition uses, trimmed by the mode. A length the model cannot make reads one frame each side (the
    /// request is refused with the allowed range before any of this is read by `request`).
    public func referenceFrames(for infiller: Infiller) throws -> (before: [RGBImage], after: [RGBImage]) {
        let length = junction.length
        let (needBefore, needAfter) =
            infiller.allowedLengths.contains(length) ? infiller.references(for: length) : (1, 1)
        let (extraBefore, extraAfter) = junction.mode.replaced(length: length)
        let s = boundaryStart
        let e = boundaryEnd
        let fromA = max(firstBefore, s - needBefore - extraBefore + 1)
        let toB = min(lastAfter, e + needAfter + extraAfter - 1)
        let before = try frames(self.before, from: fromA, count: s - fromA + 1)
        let after = try frames(self.after, from: e, count: toB - e + 1)
        let kept = junction.mode.trim(before: before, after: after, length: length)
        // Regenerate replaces frames up to s and from e: a boundary too near a clip's end leaves nothing of it.
        if kept.before.isEmpty {
            throw InfillError.badSettings(
                "regenerate replaces the last \(extraBefore) frames of the preceding clip up to s = \(s), which "
                    + "leaves none of it: raise s to at least \(firstBefore + extraBefore), or shorten the length")
        }
        if kept.after.isEmpty {
            throw InfillError.badSettings(
                "regenerate replaces the first \(extraAfter) frames of the following clip from e = \(e), which "
                    + "leaves none of it: lower e to at most \(lastAfter - extraAfter), or shorten the length")
        }
        return kept
    }

    /// The request for this junction: its reference frames, length, mode and sampler settings.
    public func request(for infiller: Infiller, truth: [RGBImage]? = nil, record: Bool = false) throws -> InfillRequest
    {
        guard infiller.allowedLengths.contains(junction.length) else {
            throw InfillError.lengthOutOfRange(junction.length, allowed: infiller.allowedLengths)
        }
        let (tb, ta) = try referenceFrames(for: infiller)
        var request = InfillRequest(before: tb, after: ta, length: junction.length)
        request.mode = junction.mode
        request.settings = junction.settings
        request.truth = truth
        request.record = record
        return request
    }

    /// Writes the preceding clip up to s, the generated frames, then the following clip from e to its end (less
    /// the frames the mode replaces), each fitted to the writer's size and conformed to its rate, reading and
    /// appending one frame at a time. Returns the number of frames written and what conforming and fitting did.
    public func writeSpliced(generated: [RGBImage], to writer: VideoWriter, cancel: CancelFlag = CancelFlag()) throws
        -> (frames: Int, notices: [String])
    {
        let (dropBefore, dropAfter) = junction.mode.replaced(length: junction.length)
        var notices: [String] = []
        // Each clip conformed to the output's rate by its timestamps, as `compose` does: a clip of another or a
        // variable rate plays at its own speed.
        func append(_ reader: VideoReader, _ frames: ClosedRange<Int>, name: String) throws {
            let shown = Composer.conform(reader, frames, fps: writer.fps)
            let change = shown.count - frames.count
            if let note = Composer.conformNotice(reader, name: name, change: change, fps: writer.fps) {
                notices.append(note)
            }
            if let note = writer.fitNotice(reader, name: name, fit: fit) { notices.append(note) }
            try writer.append(reader, shown: shown, fit: fit, cancel: cancel)
        }
        if boundaryStart - dropBefore >= 0 { try append(before, 0...(boundaryStart - dropBefore), name: names.before) }
        for g in generated { try writer.append(g.resized(width: writer.width, height: writer.height)) }
        if boundaryEnd + dropAfter <= after.frameCount - 1 {
            try append(after, (boundaryEnd + dropAfter)...(after.frameCount - 1), name: names.after)
        }
        return (writer.framesWritten, notices)
    }
}

extension VideoWriter {
    /// Appends a clip's frames `shown` (indices into it, as `Composer.conform` gives them: a frame repeated to
    /// conform the rate is decoded once), each fitted to this writer's size where the clip's differs; `each` runs
    /// after every frame appended. The one loop that copies clip frames into a spliced or composed output.
    func append(
        _ reader: VideoReader, shown: [Int], fit: Fit, cancel: CancelFlag, each: () -> Void = {}
    ) throws {
        let same = reader.info.width == width && reader.info.height == height
        var previous: (index: Int, frame: RGBImage)?
        for i in shown {
            if cancel.isCancelled { throw EngineError.cancelled }
            let frame: RGBImage
            if let p = previous, p.index == i {
                frame = p.frame
            } else {
                frame = try reader.frame(at: i, size: same ? nil : (width, height), fit: fit)
                previous = (i, frame)
            }
            try append(frame)
            each()
        }
    }

    /// What fitting a clip of another size to this writer's is said as (`Fit.notice`); nil when the sizes agree.
    func fitNotice(_ reader: VideoReader, name: String, fit: Fit) -> String? {
        guard reader.info.width != width || reader.info.height != height else { return nil }
        return fit.notice(clip: name, from: (reader.info.width, reader.info.height), to: (width, height))
    }
}
