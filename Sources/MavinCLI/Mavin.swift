import ArgumentParser
import Core
import Foundation
import Engine
import MavinModel
import Media
import Studio
import Tensor

@main
struct Mavin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mavin",
        abstract: "Splice single-action clips and generate the transition between them (MAVIN, on the CPU).",
        version: versionLine(),
        subcommands: [
            StudioCommand.self, InfoCommand.self, FramesCommand.self, SamplesCommand.self, SynthDatasetCommand.self,
            TrainCommand.self, LossChartCommand.self, InfillCommand.self, ComposeCommand.self, MetricsCommand.self,
            EvalCommand.self,
            BenchCommand.self
        ],
        defaultSubcommand: StudioCommand.self
    )

    static let version = "0.17.0"

    /// `mavin --version`: the version and the model a command run here would use, and why.
    static func versionLine() -> String {
        let model: String
        if let found = try? DefaultModel.locateWithReason(explicit: nil) {
            model = "\(found.url.standardizedFileURL.path) (\(found.why))"
        } else {
            model = "none found (pass --model, set MAVIN_MODEL, or run scripts/install.sh)"
        }
        return "mavin \(version)\nmodel: \(model)"
    }

    /// As ArgumentParser's own, but Foundation's raw file errors (`Error Domain=NSCocoaErrorDomain …`) are
    /// said in words, with the file they name, and a refusal found while running (a frame past a clip's end)
    /// is said without the root command's usage, which would not help.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let refusal as ValidationError {
            exit(withError: UserError(refusal.message))
        } catch {
            guard FileProblem.isFoundationError(error) else { exit(withError: error) }
            let reason = FileProblem.reason(error)
            exit(withError: UserError(FileProblem.path(error).map { "'\($0)': \(reason)" } ?? reason))
        }
    }
}

/// Prints an error the way every subcommand does, and exits non-zero.
struct UserError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct StudioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studio",
        abstract: "Open the terminal workstation (the default command).",
        discussion:
            "With no path it opens ./Samples when that folder exists, else the current folder. PATH may be a "
            + "folder of clips or a plan (.toml)."
    )

    @Argument(help: "A folder of clips or a plan file.") var paths: [String] = []
    @Option(
        help: ArgumentHelp(
            "Theme: dark, light, high-contrast or a path to a .toml file (default: light on a "
                + "light terminal background, as the terminal reports it, else dark)."))
    var theme: String?
    @Flag(help: "Print what the terminal answered, the pictures and theme chosen and why, then exit.")
    var detect = false
    @Flag(
        help: ArgumentHelp(
            "With --detect: also print the terminal's raw answer bytes (escaped).",
            visibility: .hidden))
    var raw = false

    func run() throws {
        setlocale(LC_ALL, "")
        if detect {
            let (caps, bytes) = Capabilities.detectRecording()
            print("pictures: \(caps.pictures.rawValue)")
            print("cell: \(caps.cellWidth)×\(caps.cellHeight) px\(caps.cellMeasured ? "" : " (guessed)")")
            let themeWhy =
                theme != nil
                ? " (--theme)"
                : (caps.background == nil ? " (background not reported)" : " (from the background)")
            print("theme: \(theme ?? (caps.lightBackground ? "light" : "dark"))" + themeWhy)
            print("tmux passthrough: \(caps.tmuxPassthrough ? "on" : "off")")
            for r in caps.reasons { print("  because: \(r)") }
            if let w = caps.warning { print("warning: \(w)") }
            if raw, let bytes {
                let shown = bytes.map { b -> String in
                    if b == 0x1B { return "\\e" }
                    return b < 0x20 || b >= 0x7F ? String(format: "\\x%02x", b) : String(UnicodeScalar(b))
                }
                print("answer: " + shown.joined())
            }
            return
        }
        var folder = paths.first ?? (FileManager.default.fileExists(atPath: "Samples") ? "Samples" : ".")
        var planPath: String?
        if folder.hasSuffix(".toml") {
            planPath = folder
            folder = URL(fileURLWithPath: folder).deletingLastPathComponent().path
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw UserError("'\(folder)' is not a folder of clips or a plan file")
        }
        guard isatty(0) != 0 && isatty(1) != 0 else {
            throw UserError("the Studio needs a terminal; use `mavin compose` or `mavin infill` in scripts")
        }
        let caps = Capabilities.detect()
        if ProcessInfo.processInfo.environment["TERM"] == "dumb", let warning = caps.warning {
            throw UserError("warning: \(warning)")
        }
        let t = try Theme.load(theme ?? (caps.lightBackground ? "light" : "dark"), near: folder)
        try StudioApp(folder: folder, plan: planPath, theme: t, capabilities: caps).run()
    }
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a video's exact frame count, rate, size and codec, or a model checkpoint's config.")

    @Argument(help: "Video files to inspect.")
    var files: [String]

    @Flag(
        help: ArgumentHelp(
            "Print JSON (keys: frames, fps, width, height (as shown), rotation, codec, duration, "
                + "pixelFormat, path, and damage for a damaged file)."))
    var json = false

    func run() throws {
        var infos: [VideoInfo] = []
        var failures: [String] = []
        for file in files where file.hasSuffix(".safetensors") {
            do {
                let m = try MavinModel.load(URL(fileURLWithPath: file))
                let c = m.config
                if json {
                    try printJSON(
                        ModelInfo(
                            path: file, config: c, step: m.step, parameters: m.network.parameterCount,
                            lengths: [c.ranges.shortest, c.ranges.longest], provenance: m.provenance))
                } else {
                    print(
                        "\(file): MAVIN model '\(c.name)', \(m.network.parameterCount) parameters, trained "
                            + "\(m.step) steps"
                    )
                    print(
                        "  \(c.resolution)×\(c.resolution) frames, window L=\(c.frames), infill lengths "
                            + "\(c.ranges.shortest)…\(c.ranges.longest)"
                    )
                    if c.latentSpace == .motion {
                        let g = c.latentSide
                        print(
                            "  motion space: flows to both boundary frames and a blend weight on a \(g)×\(g) grid; "
                                + "frames built by warping the clips' own pixels")
                        if c.timesBlend {
                            print("  timed blend: m is also each point's time (τ = 1 − m), the flows follow it")
                        }
                        print(
                            String(
                                format: "  anchor time curve: sharpness %g (0 = linear motion)", c.motionTimeSharpness))
                        let longest = max(Infiller.longestMotionInfill, c.ranges.longest)
                        print(
                            "  makes 1…\(longest) frames (beyond the trained lengths, the motion is resampled in time)")
                        print("  U-Net channels \(c.channels), \(c.heads) heads")
                    } else {
                        print(
                            "  codec: PCA of \(c.codecPatch)×\(c.codecPatch) blocks → \(c.latentChannels) channels; "
                                + "U-Net channels \(c.channels), \(c.heads) heads")
                    }
                    print(
                        "  predicts \(c.prediction.rawValue); boundary frame guidance \(c.bfg ? "on" : "off"); "
                            + "trained with \(c.masking.rawValue) masking"
                    )
                    if let a = c.anchor {
                        print(
                            String(
                                format: "  residual to the %@ anchor, sharpness %g, scale k = %.3f", a.rawValue,
                                c.blendSharpness, c.residualScale ?? 1))
                    }
                    let p = m.provenance
                    var history: [String] = []
                    if let from = p["mavin.init_from"] { history.append("started from \(from)") }
                    if let eps = p["mavin.relative_loss"] { history.append("relative loss ε = \(eps)") }
                    if let db = p["mavin.codec_psnr"] { history.append("codec reconstruction \(db) dB") }
                    if !history.isEmpty { print("  " + history.joined(separator: "; ")) }
                }
            } catch { failures.append("\(error)") }
        }
        for file in files where !file.hasSuffix(".safetensors") {
            do { infos.append(try VideoReader(path: file).info) } catch { failures.append("\(error)") }
        }
        if json && !infos.isEmpty {
            if infos.count == 1 && files.count == 1 { try printJSON(infos[0]) } else { try printJSON(infos) }
        } else if !json {
            for i in infos {
                let turn = i.rotation == 0 ? "" : " as shown (display matrix: turned \(i.rotation)° clockwise)"
                let rate = String(format: "%.3f", i.fps)
                let seconds = String(format: "%.2f", i.duration)
                print(
                    "\(i.path): \(i.frames) frames, \(rate) fps, \(i.width)×\(i.height)\(turn), "
                        + "\(i.codec) (\(i.pixelFormat)), \(seconds) s")
                if let damage = i.damage { print("  damaged: \(damage)") }
                if i.hasAudio { print("  has sound, which Mavin does not carry into what it writes") }
            }
        }
        if !failures.isEmpty {
            // The prefix ArgumentParser gives every other command's error.
            for f in failures { FileHandle.standardError.write(Data("Error: \(f)\n".utf8)) }
            throw ExitCode(1)
        }
    }
}

struct ModelInfo: Encodable {
    var path: String
    var config: ModelConfig
    var step: Int
    var parameters: Int
    var lengths: [Int]
    var provenance: [String: String]
}

struct FramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames", abstract: "Export frames of a video as PNG files.")

    @Argument(help: "The video to read.")
    var file: String
    @Option(help: "First frame index (0-based).")
    var from: Int = 0
    @Option(help: "Number of frames.")
    var count: Int = 1
    @Option(name: .shortAndLong, help: "Output folder (created if missing).")
    var output: String
    @Option(help: "Resize to WxH (e.g. 128x128).")
    var size: String?
    @Flag(help: "Replace existing PNG files.")
    var overwrite = false

    func run() throws {
        PartialFiles.removeOnSignal()
        guard count > 0 else { throw UserError("--count must be at least 1") }
        guard from >= 0 else { throw UserError("--from must be 0 or more (got \(from))") }
        let dims = try size.map(parseSize)
        // The folder and every frame name are checked before the video is read; a run that fails part-way
        // removes the frames it wrote. Only frame files named like ours are replaced (with --overwrite).
        let end = from.addingReportingOverflow(min(count, 100_000))
        let guess = from..<(end.overflow ? from : end.partialValue)
        _ = try FrameExport.check(folder: output, frames: guess, overwrite: overwrite)
        let reader = try VideoReader(path: file)
        try reader.checkRange(from: from, count: count)
        try FrameExport.write(frames: from..<(from + count), into: output, overwrite: overwrite) { i in
            try reader.frame(at: i, size: dims, fit: .crop)
        }
        print("wrote \(count) PNG frames to \(output)")
    }
}

func parseSize(_ text: String) throws -> (width: Int, height: Int) {
    let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, parts[0] > 0, parts[1] > 0, parts[0] <= 8192, parts[1] <= 8192 else {
        throw UserError("size '\(text)' is not WxH with sides 1…8192 (e.g. 128x128)")
    }
    return (parts[0], parts[1])
}
