import ArgumentParser
import Engine
import Foundation
import MavinModel
import Media
import Metrics
import Tensor
import Core

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Score a generated clip against its ground truth (PSNR, SSIM, MS-SSIM, CLIP-RS).")
    @Option(help: "The generated clip: a video or a folder of PNG frames.") var generated: String
    @Option(help: "The ground truth: a video or a folder of PNG frames (same frame count).") var truth: String
    @Option(help: "CLIP-RS similarity: ssim, or embedding (needs --clip).") var sim: String = "ssim"
    @Option(help: "CLIP ViT weights (open_clip/OpenAI key names, safetensors) for --sim embedding.") var clip: String?
    @Flag(
        help: "Print JSON (keys: psnr, ssim, ms_ssim, clip_rs, similarity, frames, and clipsim with --sim embedding).")
    var json = false

    struct Report: Encodable {
        var psnr: Double
        var ssim: Double
        var ms_ssim: Double
        var clip_rs: Double
        var similarity: String
        var frames: Int
        var clipsim: Double?
    }

    func run() throws {
        guard sim == "ssim" || sim == "embedding" else { throw ValidationError("--sim must be ssim or embedding") }
        var encoder: CLIPImageEncoder?
        if sim == "embedding" {
            guard let clip else {
                throw ValidationError("--sim embedding needs --clip WEIGHTS.safetensors (a CLIP ViT image tower)")
            }
            encoder = try CLIPImageEncoder(url: URL(fileURLWithPath: clip))
        }
        // Both clips stream: a chunk of frames at a time, however long they are.
        let tf = try FrameSequence(path: truth)
        let gf = try FrameSequence(path: generated)
        guard gf.count == tf.count else {
            let damage = [gf, tf].compactMap(\.damageNotice).map { "; \($0)" }.joined()
            throw ValidationError(
                "'\(generated)' has \(gf.count) frames, '\(truth)' has \(tf.count); they must match" + damage)
        }
        if gf.width != tf.width || gf.height != tf.height {
            // Said on stderr, so that --json stays parseable.
            FileHandle.standardError.write(
                Data(
                    ("note: '\(generated)' is \(gf.width)×\(gf.height), the truth \(tf.width)×\(tf.height): "
                        + "the generated frames are scaled to the truth's size before they are scored\n").utf8))
        }
        // The truth's size (a no-op when equal).
        let readGenerated = { (i: Int) in try gf.frame(at: i).resized(width: tf.width, height: tf.height) }
        let similarity: FrameSimilarity = encoder.map { $0.similarity() } ?? SSIMSimilarity()
        var cosines = 0.0
        let s = try Scores.measure(count: tf.count, similarity: similarity, generated: readGenerated) { i in
            let t = try tf.frame(at: i)
            // CLIPSIM (the mean cosine of the embeddings) is summed on the way, as the frames pass.
            if let e = encoder { cosines += e.similarity().similarity(try readGenerated(i), t) }
            return t
        }
        let clipsim = encoder.map { _ in cosines / Double(tf.count) }
        let r = Report(
            psnr: s.psnr, ssim: s.ssim, ms_ssim: s.ms_ssim, clip_rs: s.clip_rs, similarity: s.similarity,
            frames: tf.count, clipsim: clipsim)
        if json {
            try printJSON(r)
        } else {
            print(
                String(
                    format: "%d frames: PSNR %.2f dB  SSIM %.4f  MS-SSIM %.4f  CLIP-RS %.4f (%@)", r.frames, r.psnr,
                    r.ssim, r.ms_ssim, r.clip_rs, r.similarity))
        }
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Table-1-style evaluation of the model and the baselines on transition cases.",
        discussion: """
            Cases come from --cases (test-manual TOML: [[case]] video, s, e), --auto VIDEOS (test-auto, Eq. 8) \
            or --synthetic DIR (transitions of a `mavin samples`/`synth-dataset` folder's manifest). \
            Rows: --methods (repeat, crossfade, flow, dis, ffmpeg-xfade, ffmpeg-minterpolate, opencv-dis, model, none) \
            and one model row per --variant.
            """)
    @Option(help: "test-manual cases (TOML).") var cases: String?
    @Option(parsing: .upToNextOption, help: "test-auto: videos to scan.") var auto: [String] = []
    @Option(help: "Synthetic folder with manifest.json.") var synthetic: String?
    @Option(help: "Gap length l for --auto and --synthetic.") var length: Int = 12
    @OptionGroup var modelOption: ModelOption
    @Option(help: "Comma-separated rows.")
    var methods: String = "model,repeat,crossfade,flow,ffmpeg-xfade,ffmpeg-minterpolate,opencv-dis"
    @Option(
        help:
            ArgumentHelp(
                "Frame size of the evaluation: model (the model's square, centre-cropped), native (each clip's "
                    + "own), or N (N×N).")
    )
    var size: String = "model"
    @Option(help: "Extra model rows, e.g. gfm=off or f0=0.3,lambda=0.1,steps=50 (repeatable).") var variant: [String] =
        []
    @Option(help: "DDIM steps of the model rows.") var steps: Int = SamplerSettings().steps
    @Option(help: "Another checkpoint as a row of its own, NAME=PATH (repeatable; e.g. the retrained ablations).")
    var compare: [String] = []
    @Option(help: "Use at most this many cases.") var maxCases: Int = 1000
    @Option(
        help: ArgumentHelp(
            "Reference frames each side given to the model rows, 1 (the boundary frame alone) or more (default: "
                + "as many as the model's window takes at this length)."))
    var references: Int?
    @Flag(help: "See every case through its own moving camera (pans, zooms, shake; seeded by the case).")
    var camera = false
    @Option(help: "Markdown report to write.") var report: String
    @Option(help: "JSON results to write (with every case's own scores under per_case).") var json: String?
    @Option(help: "Bar chart PNG to write (default: next to the report).") var chart: String?
    @Option(help: "Folder for per-case contact sheets.") var sheets: String?
    @Option(help: "Title of the report.") var title: String = "Transition infilling"
    @Flag(help: "Replace existing outputs.") var overwrite = false

    func parseSettings(_ text: String, base: SamplerSettings) throws -> SamplerSettings {
        do {
            return try JunctionSettings.sampler(base, applying: text)
        } catch {
            throw ValidationError("--variant '\(text)': \(error)")
        }
    }

    /// The report, JSON, chart and contact sheets (`case_NNN.png` in --sheets) against what exists and the inputs,
    /// and against each other: two outputs named alike would leave only the last written.
    func checkOutputs(chart: String, sheetCount: Int, inputs: [String]) throws {
        let named =
            [("--report", report), ("--chart", chart)] + (json.map { [("--json", $0)] } ?? [])
            + (sheets.map { [("--sheets", $0)] } ?? [])
        for (i, a) in named.enumerated() {
            for b in named[(i + 1)...] where OutputTarget.samePath(a.1, b.1) {
                let chartNote =
                    a.0 == "--chart" || b.0 == "--chart" ? " (the chart defaults to the report's name, .png)" : ""
                throw ValidationError(
                    "\(a.0) and \(b.0) both name '\(b.1)'\(chartNote); give each output its own name")
            }
        }
        for p in [report, chart] + [json].compactMap({ $0 }) {
            try OutputTarget.check(p, kind: .file, overwrite: overwrite, inputs: inputs)
        }
        guard let sheets else { return }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: sheets, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw ValidationError("--sheets '\(sheets)' is a file; name a folder for the contact sheets")
            }
            for i in 0..<sheetCount {
                let name = (sheets as NSString).appendingPathComponent(Evaluator.sheetName(i))
                try OutputTarget.check(name, kind: .file, overwrite: overwrite, inputs: inputs)
            }
        } else {
            // A new folder, made by the evaluation: where it goes must be a folder it can write in.
            var folder = sheets
            while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
            try OutputTarget.check(folder, kind: .file, overwrite: overwrite, inputs: inputs)
        }
    }

    func run() throws {
        PartialFiles.removeOnSignal()
        let compared = compare.map { String($0.drop { $0 != "=" }.dropFirst()) }
        var inputs = [cases, synthetic, modelOption.model].compactMap { $0 } + auto + compared
        // The chart goes beside the report unless named: it is an output like the others.
        let chartPath = chart ?? (report as NSString).deletingPathExtension + ".png"
        try checkOutputs(chart: chartPath, sheetCount: 0, inputs: inputs)
        let names = methods.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let wantsModel = names.contains("model") || !variant.isEmpty || !compare.isEmpty
        let modelURL = wantsModel ? try DefaultModel.locate(explicit: modelOption.model) : nil
        // The model found without --model ($MAVIN_MODEL, the samples') is read like the named one: an input.
        if let modelURL { inputs.append(modelURL.path) }
        let mavin = try modelURL.map { try MavinModel.load($0) }
        let resolution = mavin?.config.resolution ?? 128
        let window = mavin.map { Infiller(model: $0).references(for: length) }  // reference frames each side
        if let references, references < 1 {
            throw ValidationError("--references must be at least 1, the boundary frame (got \(references))")
        }
        let lengths = mavin.map { Infiller(model: $0).allowedLengths } ?? 1...1000
        if (!auto.isEmpty || synthetic != nil) && !lengths.contains(length) {
            throw ValidationError(
                "--length must be within \(lengths.lowerBound)…\(lengths.upperBound)"
                    + (mavin == nil ? "" : " for this model") + " (got \(length))")
        }
        if let synthetic {
            let manifest = (synthetic as NSString).appendingPathComponent("manifest.json")
            guard FileManager.default.fileExists(atPath: manifest) else {
                throw ValidationError(
                    "--synthetic '\(synthetic)' is not a folder with a manifest.json; make one with "
                        + "`mavin synth-dataset` or `mavin samples`")
            }
        }
        let loaded = max(window?.before ?? 2, references ?? 0)  // reference frames read each side
        var list: [EvalCase] = []
        if let cases { list += try Evaluator.manualCases(URL(fileURLWithPath: cases)) }
        if !auto.isEmpty { list += try TestSets.auto(videos: auto, length: length, references: loaded) }
        if let synthetic {
            list += try Evaluator.syntheticCases(folder: synthetic, length: length, references: loaded)
        }
        list = Array(list.prefix(maxCases))
        guard !list.isEmpty else {
            guard !auto.isEmpty else {
                throw ValidationError("no cases: give --cases, --auto or --synthetic (and check --length)")
            }
            // Say what --auto needed of the videos it was given.
            let need = length + 2 * loaded
            let counts = try auto.map { path -> String in
                let n = try VideoReader(path: path).frameCount
                return "'\(path)' has \(n) frame\(n == 1 ? "" : "s")"
            }
            let each = "\(loaded) reference frame\(loaded == 1 ? "" : "s") each side"
            throw ValidationError(
                "no cases: --auto found no gap of \(length) frames with \(each) (\(need) frames in a row, with no cut "
                    + "between them); \(counts.joined(separator: ", ")); give longer videos or a shorter --length")
        }
        // The videos the cases name (inside --cases or a synthetic manifest) and the synthetic truth are inputs too.
        inputs += list.map(\.video) + list.compactMap { $0.scene?.truth }
        if let synthetic { inputs.append((synthetic as NSString).appendingPathComponent("manifest.json")) }
        try checkOutputs(chart: chartPath, sheetCount: list.count, inputs: inputs)
        var rows: [EvalMethod] = []
        var base = SamplerSettings()
        base.steps = steps
        for n in names {
            switch n {
            case "model": if let mavin { rows.append(.model(name: "mavin", mavin, base)) }
            case "none": break
            default:
                guard let b = Baseline(rawValue: n) else {
                    let valid = ["model"] + Baseline.allCases.map(\.rawValue) + ["none"]
                    throw ValidationError("unknown method '\(n)' in --methods; valid: \(valid.joined(separator: ", "))")
                }
                if !b.isAvailable {
                    let why = b == .opencvDIS ? "no Python with cv2: set MAVIN_PYTHON" : "ffmpeg not installed"
                    print("note: skipping \(n) (\(why))")
                    continue
                }
                rows.append(.baseline(b))
            }
        }
        for v in variant {
            if let mavin { rows.append(.model(name: "mavin (\(v))", mavin, try parseSettings(v, base: base))) }
        }
        for c in compare {
            let parts = c.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--compare '\(c)': use NAME=PATH") }
            let other = try MavinModel.load(URL(fileURLWithPath: parts[1]))
            guard other.config.resolution == resolution, let window,
                Infiller(model: other).references(for: length) == window
            else {
                throw ValidationError(
                    "--compare \(parts[0]): \(parts[1]) needs other frames than the main model (resolution or "
                        + "window differ)"
                )
            }
            rows.append(.model(name: parts[0], other, base))
        }
        guard !rows.isEmpty else {
            throw ValidationError(
                "no rows to evaluate: --methods names none that can run here; add one (e.g. model or repeat), a "
                    + "--variant or a --compare")
        }
        // Rows are keyed by name in the report: two of one name would show one's scores twice.
        var seen = Set<String>()
        for name in rows.map(\.name) where !seen.insert(name).inserted {
            throw ValidationError(
                "two rows are named '\(name)' (a --compare NAME repeated, or one that names a method); give each "
                    + "--compare its own name")
        }
        print(
            "\(list.count) cases, l = \(list.map(\.length).min() ?? 0)…\(list.map(\.length).max() ?? 0), "
                + "\(rows.count) methods"
        )
        let side: Int?
        switch size {
        case "model": side = resolution
        case "native": side = nil
        default:
            guard let n = Int(size), (16...4096).contains(n) else {
                throw ValidationError("--size must be model, native or a side of 16…4096 pixels (got '\(size)')")
            }
            side = n
        }
        let evaluator = Evaluator(cases: list, resolution: side, references: loaded)
        evaluator.camera = camera
        evaluator.given = references
        let job = EvalJob(
            evaluator: evaluator, methods: rows, title: title, sheets: sheets.map { URL(fileURLWithPath: $0) })
        let view = JobProgressView()
        let outcome = try JobRunner.runToEnd(job, events: view.show)
        view.end()
        guard case .evaluated(let r) = outcome else { throw ValidationError("the evaluation made no report") }
        try AtomicOutput.write(Data(r.markdown().utf8), to: URL(fileURLWithPath: report), overwrite: overwrite)
        if let json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicOutput.write(try e.encode(r), to: URL(fileURLWithPath: json), overwrite: overwrite)
        }
        try PNG.write(r.chart(), to: URL(fileURLWithPath: chartPath), overwrite: overwrite)
        print(r.markdown())
    }
}

struct BenchMetrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Time the metrics of a 12-frame 256² case.")
    @Flag(help: "Print JSON (keys: case_ms, method_ms, frames, size, python_case_ms, ratio).") var json = false
    @Option(
        help:
            ArgumentHelp(
                "A Python with scikit-image and pytorch_msssim: also time the reference implementations "
                    + "(Tests/Reference/bench_metrics.py) on the same case.")
    )
    var python: String?
    struct Report: Encodable {
        var case_ms: Double
        var method_ms: Double
        var frames: Int
        var size: Int
        var python_case_ms: Double?
        var ratio: Double?
    }
    func run() throws {
        // A moving pattern (so every metric has structure to compare).
        let frames = (0..<12).map { t in
            RGBImage(
                width: 256, height: 256,
                pixels: (0..<(256 * 256 * 3)).map { i in
                    let x = (i / 3) % 256
                    let y = (i / 3) / 256
                    return UInt8((128 + 100 * sin(Double(x + 3 * t) / 9) * cos(Double(y) / 13)).rounded())
                })
        }
        let truth = frames.map { Baseline.blend($0, frames[0], 0.2) }
        let scores = Scores.measure(generated: frames, truth: truth)
        let s = timeIt(minSeconds: 2) { _ = Scores.measure(generated: frames, truth: truth) }
        // In `mavin eval` the truth is measured once per case and shared by every method.
        let measured = MeasuredTruth(truth)
        let m = timeIt(minSeconds: 2) { _ = Scores.measure(generated: frames, truth: measured) }
        var peer: Double?
        if let python {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mavin-metrics-\(getpid()).safetensors")
            defer { try? FileManager.default.removeItem(at: file) }
            let g = frames.flatMap { $0.pixels.map(Float.init) }
            let t = truth.flatMap { $0.pixels.map(Float.init) }
            let shape = [12, 256, 256, 3]
            let bytes = try g.withUnsafeBufferPointer { gp in
                try t.withUnsafeBufferPointer { tp in
                    try SafeTensorsFile.serialize([
                        ("generated", shape, gp.baseAddress!), ("truth", shape, tp.baseAddress!)
                    ])
                }
            }
            try AtomicOutput.write(bytes, to: file, overwrite: true)
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
                .appendingPathComponent("Tests/Reference/bench_metrics.py").path
            let out = try Subprocess.run([python, script, file.path], timeout: 600)
            guard out.status == 0, let line = out.output.split(separator: "\n").last,
                let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double]
            else {
                throw UserError("the Python peer failed: \(out.output.suffix(400))")
            }
            peer = obj["python_case_ms"]
            // The peer computes the same numbers; a disagreement is a bug, not a speed-up.
            for (key, ours) in [
                ("psnr", scores.psnr), ("ssim", scores.ssim), ("ms_ssim", scores.ms_ssim), ("clip_rs", scores.clip_rs)
            ] {
                guard let theirs = obj[key], abs(theirs - ours) <= 1e-3 * max(1, abs(theirs)) else {
                    throw UserError("\(key) differs from the reference: ours \(ours), theirs \(obj[key] ?? .nan)")
                }
            }
        }
        let r = Report(
            case_ms: s * 1000, method_ms: m * 1000, frames: 12, size: 256, python_case_ms: peer,
            ratio: peer.map { s * 1000 / $0 })
        if json {
            try printJSON(r)
        } else {
            print(
                String(
                    format: "metrics for a 12-frame 256² case: %.1f ms (PSNR, SSIM, MS-SSIM, CLIP-RS; truth included)",
                    r.case_ms))
            print(String(format: "each further method against the same measured truth: %.1f ms", r.method_ms))
            if let peer {
                print(
                    String(
                        format: "scikit-image + pytorch_msssim on the same case: %.1f ms (ours/theirs %.2f)", peer,
                        s * 1000 / peer))
            }
        }
    }
}
