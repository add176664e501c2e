import Foundation
import Media

/// Reading and writing the clips around one junction by frame index, so a transition between two long
/// clips holds only the frames the model needs, and the spliced output streams through one frame at a time.
extension Infiller {
    /// The frames of `a` ending at its boundary frame `s` and of `b` starting at `e` that a transition of
    /// `length` frames uses, already trimmed by `mode`: nothing before `firstBefore` nor after `lastAfter`
    /// (default: the clip's end) is read. A length the model cannot make reads one frame each side (the
    /// infill then refuses it with the allowed range).
    public func referenceFrames(
        before a: VideoReader, s: Int, firstBefore: Int = 0,
        after b: VideoReader, e: Int, lastAfter: Int? = nil,
        mode: InfillMode, length: Int
    ) throws -> (before: [RGBImage], after: [RGBImage]) {
        let (needBefore, needAfter) = allowedLengths.contains(length) ? references(for: length) : (1, 1)
        let (extraBefore, extraAfter) = mode.replaced(length: length)
        let fromA = max(firstBefore, s - needBefore - extraBefore + 1)
        let toB = min(lastAfter ?? b.frameCount - 1, e + needAfter + extraAfter - 1)
        let before = try a.frames(from: fromA, count: s - fromA + 1)
        let after = try b.frames(from: e, count: toB - e + 1)
        return mode.trim(before: before, after: after, length: length)
    }

    /// Writes `a`'s frames up to `s`, the generated frames, then `b`'s from `e` to its end (less the frames
    /// `mode` replaces), each at the writer's size, reading and appending one frame at a time.
    /// Returns the number of frames written.
    public static func writeSpliced(
        before a: VideoReader, s: Int, generated: [RGBImage], after b: VideoReader, e: Int,
        mode: InfillMode, length: Int, to writer: VideoWriter,
        cancel: CancelFlag = CancelFlag()
    ) throws -> Int {
        let size = (width: writer.width, height: writer.height)
        let (dropBefore, dropAfter) = mode.replaced(length: length)
        func append(_ reader: VideoReader, _ frames: ClosedRange<Int>) throws {
            for i in frames {
                if cancel.isCancelled { throw EngineError.cancelled }
                try writer.append(try reader.frame(at: i).resized(width: size.width, height: size.height))
            }
        }
        if s - dropBefore >= 0 { try append(a, 0...(s - dropBefore)) }
        for g in generated { try writer.append(g.resized(width: size.width, height: size.height)) }
        if e + dropAfter <= b.frameCount - 1 { try append(b, (e + dropAfter)...(b.frameCount - 1)) }
        return writer.framesWritten
    }
}
