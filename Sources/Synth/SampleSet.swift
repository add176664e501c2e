import Core
import Foundation
import Media

/// One file of a manifest: what it shows, frame by frame.
public struct ManifestEntry: Codable, Equatable, Sendable {
    public var file: String
    public var seed: UInt64
    public var frames: Int
    public var fps: Double
    public var size: Int
    public var actions: [ActionRange]
    public var transitions: [TransitionRange]
    /// Per-frame poses and labels, beside the video.
    public var truth: String
}

public struct Manifest: Codable, Equatable, Sendable {
    public var generator = "mavin synth"
    public var entries: [ManifestEntry]

    public static func read(_ url: URL) throws -> Manifest {
        do {
            return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url))
        } catch {
            throw FileError.readFailed(url.path, reason: FileProblem.reason(error))
        }
    }
}

/// Renders performances to files with their manifests.
public enum SynthWriter {
    /// Renders all frames, spreading the work over the cores; order and bytes are independent of scheduling.
    public static func render(_ performance: Performance, size: Int) -> [RGBImage] {
        let renderer = Renderer(size: size, appearance: performance.appearance, seed: performance.seed)
        return parallelMap(performance.frames.count) { renderer.render(performance.frames[$0]) }
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }

    /// Writes `name.mp4` and `name.truth.json`; returns the manifest entry.
    public static func write(_ performance: Performance, name: String, size: Int, to folder: URL, overwrite: Bool)
        throws -> ManifestEntry
    {
        let frames = render(performance, size: size)
        let video = folder.appendingPathComponent("\(name).mp4")
        try VideoWriter.write(frames, to: video, fps: performance.fps, overwrite: overwrite)
        let truthName = "\(name).truth.json"
        try AtomicOutput.write(
            try encoder().encode(performance.frames), to: folder.appendingPathComponent(truthName), overwrite: overwrite
        )
        return ManifestEntry(
            file: "\(name).mp4", seed: performance.seed, frames: frames.count, fps: performance.fps, size: size,
            actions: performance.actionRanges, transitions: performance.transitionRanges, truth: truthName)
    }

    public static func writeManifest(_ entries: [ManifestEntry], to folder: URL, overwrite: Bool) throws {
        try AtomicOutput.write(
            try encoder().encode(Manifest(entries: entries)), to: folder.appendingPathComponent("manifest.json"),
            overwrite: overwrite)
    }

    /// The Samples set: single-action clips of one animal to be joined, and one
    /// multi-action sequence with known transitions (for compare mode).
    public static func writeSamples(to folder: URL, seed: UInt64, size: Int, fps: Double = 25, overwrite: Bool) throws
        -> [ManifestEntry]
    {
        let fm = FileManager.default
        let existed = fm.fileExists(atPath: folder.path)
        // A new folder goes whole if a signal ends the run before the set is complete.
        if !existed { PartialFiles.register(folder.path) }
        defer { if !existed { PartialFiles.done(folder.path) } }
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw FileError.writeFailed(folder.path, reason: FileProblem.reason(error))
        }
        let before = Set((try? fm.contentsOfDirectory(atPath: folder.path)) ?? [])
        do { return try writeSampleFiles(to: folder, seed: seed, size: size, fps: fps, overwrite: overwrite) } catch {
            // A set that failed part-way (a full disk) is not left looking like a set: what this run added goes.
            for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] where !before.contains(name) {
                unlink(folder.appendingPathComponent(name).path)
            }
            if !existed { rmdir(folder.path) }
            throw error
        }
    }

    private static func writeSampleFiles(
        to folder: URL, seed: UInt64, size: Int, fps: Double,
        overwrite: Bool
    ) throws -> [ManifestEntry] {
        var entries: [ManifestEntry] = []
        for action in [Action.graze, .rear, .run, .walk, .jump] {
            let p = Performance(seed: seed, fps: fps, script: [(action, 2.4)])
            entries.append(try write(p, name: action.rawValue, size: size, to: folder, overwrite: overwrite))
        }
        let sequence = Performance(seed: seed, fps: fps, script: [(.walk, 2.4), (.graze, 2.4), (.rear, 2.4)])
        entries.append(try write(sequence, name: "walk-graze-rear", size: size, to: folder, overwrite: overwrite))
        try writeManifest(entries, to: folder, overwrite: overwrite)
        return entries
    }

    /// A grid of frames (columns × rows) sampled evenly from a clip, for a person to look at.
    public static func contactSheet(_ frames: [RGBImage], columns: Int = 8, rows: Int = 2) -> RGBImage {
        let w = frames[0].width
        let h = frames[0].height
        let gap = 2
        var sheet = RGBImage(width: columns * (w + gap) + gap, height: rows * (h + gap) + gap, fill: (30, 30, 30))
        let count = columns * rows
        for k in 0..<count {
            let f = frames[min(frames.count - 1, k * frames.count / count)]
            let ox = gap + (k % columns) * (w + gap)
            let oy = gap + (k / columns) * (h + gap)
            for y in 0..<h {
                let dst = 3 * ((oy + y) * sheet.width + ox)
                sheet.pixels.replaceSubrange(dst..<(dst + 3 * w), with: f.pixels[(3 * y * w)..<(3 * (y + 1) * w)])
            }
        }
        return sheet
    }
}
