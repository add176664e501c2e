import ArgumentParser
import Core
import Engine
import Foundation
import MavinModel
import Media
import Metrics

/// A one-line progress bar on stderr (the CLI's view of the event stream).
struct ProgressLine {
    let enabled = isatty(2) != 0
    func show(_ label: String, _ done: Int, _ total: Int, _ extra: String = "") {
        guard enabled else { return }
        let width = 28
        let filled = total > 0 ? width * done / total : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(label) \(bar) \(done)/\(total) \(extra)".utf8))
    }
    func end() { if enabled { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) } }
}

/// The CLI's view of a job's events: progress on the progress line with the live scores of a denoising step,
/// log lines printed.
final class JobProgressView: @unchecked Sendable {
    private let bar = ProgressLine()
    private let lock = NSLock()
    private var extra = ""

    var show: @Sendable (JobEvent) -> Void { { [self] in handle($0) } }

    private func handle(_ event: JobEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .progress(let stage, let step, let total, let eta):
            bar.show(stage, step, total, (eta.map { "eta \(formatDuration($0))" } ?? "") + extra)
        case .preview(let p, _):
            extra =
                " t=\(p.timestep)"
                + (p.clipRS.map { String(format: " CLIP-RS %.3f", $0) } ?? "")
                + (p.paceRS.map { String(format: " pace vs clips %.3f", $0) } ?? "")
        case .log(let line):
            bar.end()
            print(line)
            fflush(stdout)
        case .score, .finished, .failed, .cancelled: break
        }
    }

    func end() { bar.end() }
}

/// Checks an output before any work: its type from the extension, the folder it goes in, what is there now
/// (replaced only with --overwrite, and only a regular file or a Mavin frame folder) and that it is no input.
func checkOutput(_ path: String, overwrite: Bool, inputs: [String]) throws {
    guard let kind = VideoWriter.kind(for: URL(fileURLWithPath: path)) else { throw MediaError.unsupportedOutput(path) }
    try OutputTarget.check(path, kind: kind == .png ? .frameFolder : .file, overwrite: overwrite, inputs: inputs)
}

/// Hands memory the allocator keeps after a large job back to the system (glibc keeps freed heap otherwise),
/// so a long write that follows stays within what it needs itself.
func releaseFreedMemory() {
    _ = FrameMemory.releaseFreed()
}

struct InfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infill",
        abstract: "Generate the transition between two clips.",
        discussion: "Writes BEFORE + transition + AFTER (or only the transition with --transition-only).")

    @Option(help: "The preceding clip (its last frame, or --s, is the boundary frame xˢ).") var before: String
    @Option(help: "The following clip (its first frame, or --e, is the boundary frame xᵉ).") var after: String
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(JunctionSettings.help("length") + " The model says which it makes (mavin info)."))
    var length: Int
    @Option(parsing: .unconditional, help: "Last frame of BEFORE to keep (default: its last).") var s: Int?
    @Option(parsing: .unconditional, help: "First frame of AFTER to keep (default: 0).") var e: Int?
    @OptionGroup var modelOption: ModelOption
    @Option(help: "insert (new frames between) or regenerate (replace frames around the junction).")
    var mode: InfillMode = .insert
    @Option(
        help: ArgumentHelp(
            "How AFTER is fitted when its size differs from BEFORE's, which the output has: crop, pad or stretch "
                + "(the transition is generated in the output's geometry)."))
    var fit: Fit = Plan.defaultFit
    @OptionGroup var sampler: SamplerOptions
    @Option(help: "Ground truth of the transition: a video or a folder of PNG frames, exactly LENGTH frames.")
    var truth: String?
    @Option(name: .shortAndLong, help: "Output (.mp4, .gif or a folder for PNG frames).") var output: String
    @Flag(help: "Write only the generated frames.") var transitionOnly = false
    @Flag(help: "Replace OUTPUT if it exists.") var overwrite = false
    @Flag(
        help: ArgumentHelp(
            "Print JSON (keys: seconds, steps, frames, length, notices, and psnr, ms_ssim, clip_rs, similarity with "
                + "--truth)."))
    var json = false

    struct Report: Encodable {
        var seconds: Double, steps: Int, frames: Int, length: Int, output: String
        var psnr: Double?, ms_ssim: Double?, clip_rs: Double?, ssim: Double?, similarity: String?
        var notices: [String]
    }

    func run() throws {
        PartialFiles.removeOnSignal()
        let modelURL = try DefaultModel.locate(explicit: modelOption.model)
        // Fail before the work if the output cannot be written.
        let inputs = [before, after, modelURL.path] + [truth].compactMap { $0 }
        try checkOutput(output, overwrite: overwrite, inputs: inputs)
        let mavin = try MavinModel.load(modelURL)
        let infiller = Infiller(model: mavin)
        let a = try VideoReader(path: before)
        let b = try VideoReader(path: after)
        // The options go through the settings table, which holds every range (`JunctionSettings`).
        var pairs: [(key: String, value: String)] = [("length", "\(length)"), ("mode", mode.rawValue)]
        pairs += sampler.pairs
        pairs += [("s", s), ("e", e)].compactMap { key, value in value.map { (key, "\($0)") } }
        let junction: Plan.Junction
        do {
            junction = try JunctionSettings.junction(pairs)
        } catch let problem as SettingError {
            throw ValidationError("--\(problem.key) must be \(problem.rule) (got '\(problem.text)')")
        }
        // Only the frames the model needs are read here; the rest stream into the output at the end.
        let window = try JunctionWindow(before: a, after: b, junction: junction, names: (before, after), fit: fit)
        var request = try window.request(for: infiller)
        if let truth {
            let t = try FrameSequence(path: truth)
            guard t.count == length else {
                let rule = "it must have exactly --length \(length)"
                throw ValidationError("--truth '\(truth)' has \(t.count) frames; \(rule)")
            }
            request.truth = try (0..<t.count).map { try t.frame(at: $0) }
        }
        let result = try runInfill(InfillJob(infiller: infiller, request: request))
        // What the generation held at the clips' own size is given back before the long write.
        releaseFreedMemory()
        let writer = try VideoWriter(
            url: URL(fileURLWithPath: output), width: a.info.width, height: a.info.height,
            fps: a.info.fps, overwrite: overwrite)
        let written: Int
        var conformed: [String] = []
        do {
            if transitionOnly {
                for g in result.frames { try writer.append(g.resized(width: writer.width, height: writer.height)) }
                written = writer.framesWritten
            } else {
                let spliced = try window.writeSpliced(generated: result.frames, to: writer)
                written = spliced.frames
                conformed = spliced.notices
            }
            try writer.finish()
        } catch {
            writer.cancel()
            throw error
        }
        let sc = result.scores
        let report = Report(
            seconds: result.seconds, steps: sampler.steps, frames: written, length: length, output: output,
            psnr: sc?.psnr, ms_ssim: sc?.ms_ssim, clip_rs: sc?.clip_rs, ssim: sc?.ssim, similarity: sc?.similarity,
            notices: [a, b].compactMap(\.info.damageNotice) + result.notices
                + conformed + [writer.notice].compactMap { $0 })
        if json {
            try printJSON(report)
        } else {
            for n in report.notices { print("note: \(n)") }
            let line =
                "wrote \(output): \(counted(written, "frame")) (\(length) generated) in "
                + String(format: "%.1f s", result.seconds)
            print(line)
            if let sc {
                print(
                    String(
                        format: "vs truth: PSNR %.2f dB, SSIM %.4f, MS-SSIM %.4f, CLIP-RS %.4f (%@)", sc.psnr, sc.ssim,
                        sc.ms_ssim, sc.clip_rs, sc.similarity))
            }
        }
    }

    /// The transition, run by the job runner, with a progress line.
    private func runInfill(_ job: InfillJob) throws -> InfillResult {
        let view = JobProgressView()
        defer { view.end() }
        guard case .infill(let result) = try JobRunner.runToEnd(job, events: view.show) else {
            throw ValidationError("the infill job returned no frames")
        }
        return result
    }
}

struct ComposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose",
        abstract: "Join the clips of a plan (TOML) with generated transitions.",
        discussion:
            "The plan format is in README (Composition plans). Paths in the plan are relative to the plan's folder.")

    @Argument(help: "The plan file.") var plan: String
    @Option(name: .shortAndLong, help: "Output video (default: the plan's output).") var output: String?
    @OptionGroup var modelOption: ModelOption
    @Flag(help: "Replace the output if it exists.") var overwrite = false
    @Flag(help: "Print JSON (keys: frames, seconds, output, notices).") var json = false

    struct Report: Encodable {
        var frames: Int
        var seconds: Double
        var output: String
        var notices: [String]
    }

    func run() throws {
        PartialFiles.removeOnSignal()
        let url = URL(fileURLWithPath: plan)
        let p = try Plan.read(url)
        let folder = url.deletingLastPathComponent().path
        let out = output ?? p.output.map { $0.hasPrefix("/") ? $0 : (folder as NSString).appendingPathComponent($0) }
        guard let out else { throw ValidationError("no output: pass -o OUT.mp4 or set output = \"…\" in the plan") }
        let modelURL = try DefaultModel.locate(explicit: modelOption.model, for: p, in: folder)
        let composer = Composer(plan: p, folder: folder)
        try checkOutput(out, overwrite: overwrite, inputs: [plan, modelURL.path] + composer.clipPaths)
        let mavin = try MavinModel.load(modelURL)
        let t0 = Date()
        let view = JobProgressView()
        let job = ComposeJob(composer: composer, model: mavin, output: URL(fileURLWithPath: out), overwrite: overwrite)
        let outcome = try JobRunner.runToEnd(job, events: view.show)
        view.end()
        guard case .composed(_, let frames, let notices) = outcome else {
            throw ValidationError("the compose job wrote nothing")
        }
        let r = Report(frames: frames, seconds: Date().timeIntervalSince(t0), output: out, notices: notices)
        if json {
            try printJSON(r)
        } else {
            for n in notices { print("note: \(n)") }
            print(String(format: "wrote %@: %d frames in %.1f s", out, frames, r.seconds))
        }
    }
}
