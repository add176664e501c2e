import ArgumentParser
import Core
import Foundation
import Media
import Synth

struct SamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samples",
        abstract: "Render single-action clips and a multi-action sequence with exact ground truth.")

    @Option(help: "Output folder.") var out: String
    @Option(help: "Animal and world seed.") var seed: UInt64 = 7
    @Option(help: "Frame size: 128 or 256.") var size: Int = 128
    @Flag(help: "Also write a contact-sheet PNG per clip.") var contactSheet = false
    @Flag(help: "Replace existing files.") var overwrite = false

    func validate() throws {
        guard [128, 256].contains(size) else { throw ValidationError("--size must be 128 or 256 (got \(size))") }
    }

    func run() throws {
        PartialFiles.removeOnSignal()
        let folder = URL(fileURLWithPath: out)
        let entries = try SynthWriter.writeSamples(to: folder, seed: seed, size: size, overwrite: overwrite)
        for e in entries {
            print(
                "\(e.file): \(e.frames) frames, "
                    + e.actions.map { "\($0.action.rawValue) \($0.start)–\($0.end - 1)" }.joined(separator: ", "))
            if contactSheet {
                let reader = try VideoReader(path: folder.appendingPathComponent(e.file).path)
                let frames = try reader.frames(from: 0, count: reader.frameCount)
                let sheet = folder.appendingPathComponent(e.file.replacingOccurrences(of: ".mp4", with: ".sheet.png"))
                try PNG.write(SynthWriter.contactSheet(frames), to: sheet, overwrite: overwrite)
            }
        }
        print("manifest: \(folder.appendingPathComponent("manifest.json").path)")
    }
}

struct SynthDatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth-dataset",
        abstract: "Render long takes of random action sequences for training, with a manifest.")

    @Option(help: "Output folder.") var out: String
    @Option(parsing: .unconditional, help: "Total minutes of footage.") var minutes: Double
    @Option(help: "First seed; take i uses seed + i.") var seed: UInt64 = 1000
    @Option(help: "Frame size: 128 or 256.") var size: Int = 128
    @Option(help: "Frames per second.") var fps: Double = 30
    @Option(help: "Seconds per take.") var takeSeconds: Double = 60
    @Flag(help: "Replace existing files.") var overwrite = false

    func validate() throws {
        guard [128, 256].contains(size) else { throw ValidationError("--size must be 128 or 256 (got \(size))") }
        guard minutes > 0, minutes <= 600 else { throw ValidationError("--minutes must be in (0, 600]") }
        guard takeSeconds >= 5, takeSeconds.isFinite else {
            throw ValidationError("--take-seconds must be a number of at least 5")
        }
        guard fps.isFinite, fps >= 1, fps <= 240 else {
            throw ValidationError("--fps must be within 1…240 (got \(fps))")
        }
    }

    func run() throws {
        PartialFiles.removeOnSignal()
        let folder = URL(fileURLWithPath: out)
        // A new folder goes whole if a signal ends the run before its manifest is written.
        let existed = FileManager.default.fileExists(atPath: folder.path)
        if !existed { PartialFiles.register(folder.path) }
        defer { if !existed { PartialFiles.done(folder.path) } }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let total = minutes * 60
        let takes = max(1, Int((total / takeSeconds).rounded(.up)))
        // The last take is what is left of the total (at least the shortest take, 5 s), so the total is honoured.
        if total < 5 { print("note: \(total) s is less than the shortest take; writing one take of 5 s") }
        var entries: [ManifestEntry] = []
        let t0 = Date()
        for i in 0..<takes {
            let s = seed &+ UInt64(i)  // seeds wrap round: any --seed is a valid first seed
            let seconds = min(takeSeconds, max(5, total - Double(i) * takeSeconds))
            let performance = Performance(
                seed: s, fps: fps, script: Performance.randomScript(seed: s, seconds: seconds))
            entries.append(
                try SynthWriter.write(
                    performance, name: String(format: "take_%05d", i), size: size, to: folder, overwrite: overwrite))
            print(
                String(
                    format: "take %d/%d (seed %llu): %d frames, %.0f s elapsed", i + 1, takes, s,
                    performance.frames.count, Date().timeIntervalSince(t0)))
        }
        try SynthWriter.writeManifest(entries, to: folder, overwrite: overwrite)
    }
}

struct BenchSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth", abstract: "Rendered frames per second at 128².")
    @Flag(help: "Print JSON (keys: fps, fps_single_thread, size).") var json = false

    struct Report: Encodable {
        var fps: Double
        var fps_single_thread: Double
        var size: Int
    }

    func run() throws {
        let p = Performance(seed: 3, fps: 30, script: Performance.randomScript(seed: 3, seconds: 20))
        let t0 = Date()
        _ = SynthWriter.render(p, size: 128)
        let parallel = Double(p.frames.count) / Date().timeIntervalSince(t0)
        let renderer = Renderer(size: 128, appearance: p.appearance, seed: p.seed)
        let t1 = Date()
        for f in p.frames.prefix(200) { _ = renderer.render(f) }
        let single = 200 / Date().timeIntervalSince(t1)
        let r = Report(fps: parallel, fps_single_thread: single, size: 128)
        if json {
            try printJSON(r)
        } else {
            print(String(format: "synth 128²: %.0f frames/s (%.0f on one thread)", parallel, single))
        }
    }
}
