import Core
import Foundation
import MavinModel
import Media
import Metrics
import Synth
import TOMLKit

/// A row of an evaluation: a baseline or the model with sampler settings.
public enum EvalMethod {
    case baseline(Baseline)
    case model(name: String, MavinModel, SamplerSettings)

    public var name: String {
        switch self {
        case .baseline(let b): return b.label
        case .model(let n, _, _): return n
        }
    }
}

/// Runs methods over evaluation cases at a square size (centre-cropped) or at each clip's own size,
/// and builds the report.
public final class Evaluator {
    public let cases: [EvalCase]
    /// Side of the square frames; nil = each clip's own size (outputs of another size are resized to it).
    public let resolution: Int?
    public let references: Int
    /// Each case seen through its own moving camera (`CameraMotion`, seeded by the case's index): pans,
    /// zooms and shake over synthetic takes shot from a still one. The silhouettes' backgrounds follow it.
    public var camera = false
    /// Reference frames each side handed to the models (the last of the preceding clip's, the first of the
    /// following's); nil = all `references`. Fewer is what a short clip gives: down to the boundary frame alone.
    public var given: Int?

    public init(cases: [EvalCase], resolution: Int?, references: Int) {
        self.cases = cases
        self.resolution = resolution
        self.references = references
    }

    /// test-manual cases from TOML: `[[case]]` tables with video, s, e (video paths relative to the file).
    public static func manualCases(_ url: URL) throws -> [EvalCase] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw PlanError.unreadable(url.path) }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw PlanError.syntax(
                url.path, line: Int(e.source.begin.line), column: Int(e.source.begin.column), message: e.description)
        }
        let folder = url.deletingLastPathComponent().path
        return try (table["case"]?.array ?? TOMLArray()).enumerated().map { i, v in
            guard let t = v.table, let video = t["video"]?.string, let s = t["s"]?.int, let e = t["e"]?.int else {
                throw PlanError.invalid(url.path, "case \(i + 1) needs video = \"…\", s = N, e = N")
            }
            for key in t.keys where !["video", "s", "e", "label"].contains(key) {
                throw PlanError.invalid(url.path, "case \(i + 1): unknown key '\(key)' (allowed: video, s, e, label)")
            }
            guard s >= 0, e >= s + 2 else {
                throw PlanError.invalid(
                    url.path,
                    "case \(i + 1): s = \(s), e = \(e) leaves no frame between them to infill; e must be at least "
                        + "s + 2 (the gap is e − s − 1 frames) and s at least 0")
            }
            return EvalCase(
                video: video.hasPrefix("/") ? video : (folder as NSString).appendingPathComponent(video), s: s, e: e,
                label: t["label"]?.string)
        }
    }

    /// The contact sheet of case i in a --sheets folder.
    public static func sheetName(_ i: Int) -> String { String(format: "case_%03d.png", i) }

    /// The boundary frame s of a gap of l frames centred on frame `centre` (e = s + l + 1): where a synthetic case
    /// and a transition-centred training window (`TrainingData.TransitionWindows`) put it.
    public static func gapStart(centredOn centre: Int, length l: Int) -> Int { centre - (l + 1) / 2 }

    /// Cases centred on each labelled transition of synthetic multi-action videos (their manifests' ground truth).
    public static func syntheticCases(folder: String, length l: Int, references: Int) throws -> [EvalCase] {
        let manifest = try Manifest.read(URL(fileURLWithPath: folder).appendingPathComponent("manifest.json"))
        var out: [EvalCase] = []
        for entry in manifest.entries {
            for t in entry.transitions {
                let s = Evaluator.gapStart(centredOn: (t.start + t.end) / 2, length: l)
                let e = s + l + 1
                guard s - references + 1 >= 0, e + references - 1 < entry.frames else { continue }
                let scene = SceneTruth(
                    seed: entry.seed, size: entry.size,
                    truth: (folder as NSString).appendingPathComponent(entry.truth))
                out.append(
                    EvalCase(
                        video: (folder as NSString).appendingPathComponent(entry.file), s: s, e: e,
                        label: "\(t.from.rawValue)→\(t.to.rawValue)", scene: scene))
            }
        }
        return out
    }

    /// Frames s−refs+1 … e+refs−1 at the evaluation size (padded with the first/last frame at the video's ends).
    func load(_ c: EvalCase) throws -> (before: [RGBImage], truth: [RGBImage], after: [RGBImage]) {
        let r = try VideoReader(path: c.video)
        guard c.s >= 0, c.e < r.frameCount, c.e > c.s + 1 else {
            throw MetricsError.badInput("case \(c.video) s=\(c.s) e=\(c.e) does not fit its \(r.frameCount) frames")
        }
        func frame(_ i: Int) throws -> RGBImage {
            try r.frame(at: min(max(0, i), r.frameCount - 1), size: resolution.map { ($0, $0) }, fit: .crop)
        }
        let before = try ((c.s - references + 1)...c.s).map(frame)
        let truth = try ((c.s + 1)..<c.e).map(frame)
        let after = try (c.e...(c.e + references - 1)).map(frame)
        return (before, truth, after)
    }

    /// A synthetic case's truth silhouettes and backgrounds (exact renders of frames s+1…e−1 with and
    /// without the animal) at the evaluation size.
    func silhouettes(_ c: EvalCase, width: Int, height: Int, camera: CameraMotion? = nil) throws -> (
        masks: [[Bool]], backgrounds: [RGBImage]
    )? {
        guard let scene = c.scene else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: scene.truth))
        } catch {
            throw MetricsError.badInput(
                "\(scene.truth): cannot read the take's truth (\(error.localizedDescription)); "
                    + "re-create the set with mavin synth-dataset")
        }
        let frames = try JSONDecoder().decode([FrameTruth].self, from: data)
        guard c.e <= frames.count else {
            throw MetricsError.badInput("\(scene.truth) has \(frames.count) frames, the case needs \(c.e)")
        }
        let renderer = Renderer(size: scene.size, appearance: Appearance(seed: scene.seed), seed: scene.seed)
        let pairs = parallelMap(c.length) { k -> ([Bool], RGBImage) in
            let truth = frames[c.s + 1 + k]
            var background = renderer.renderBackground(camera: truth.camera).resized(width: width, height: height)
            var exact = renderer.render(truth).resized(width: width, height: height)
            if let camera {
                // Truth frame k is frame references + k of the window the camera moved over.
                background = camera.view(background, at: references + k)
                exact = camera.view(exact, at: references + k)
            }
            return (Silhouette.mask(exact, background: background), background)
        }
        return (pairs.map(\.0), pairs.map(\.1))
    }

    /// Every method on every case; `progress` sees each finished case (1-based) and its line. Cancelled between
    /// methods and inside the model's steps (`EngineError.cancelled`).
    public func run(
        methods: [EvalMethod], title: String, sheets: URL? = nil, cancel: CancelFlag = CancelFlag(),
        progress: (Int, String) -> Void = { _, _ in }
    ) throws -> EvalReport {
        var sums: [String: (ms: Double, psnr: Double, rs: Double, ssim: Double, sharp: Double, sec: Double, n: Int)] =
            [:]
        var positions: [String: [Double]] = [:]  // per-position PSNR sums, while every case has one length
        var pairs: [String: [Double]] = [:]  // per-pair adjacent similarity sums, likewise
        var truthPairs: [Double]?
        var perCase: [CaseScores] = []
        var overlapSums: [String: (sum: Double, n: Int)] = [:]  // synthetic cases: mean silhouette IoU per case
        let oneLength = Set(cases.map(\.length)).count == 1
        if let sheets { try FileManager.default.createDirectory(at: sheets, withIntermediateDirectories: true) }
        for (ci, c) in cases.enumerated() {
            var (before, truth, after) = try load(c)
            var path: CameraMotion?
            if camera {
                var rng = SplitMix64(seed: 0xCA3E_2A00 &+ UInt64(ci))
                let moving = CameraMotion.random(
                    frames: before.count + truth.count + after.count, side: min(truth[0].width, truth[0].height),
                    using: &rng)
                let seen = moving.apply(before + truth + after)
                before = Array(seen[0..<before.count])
                truth = Array(seen[before.count..<(before.count + truth.count)])
                after = Array(seen[(before.count + truth.count)...])
                path = moving
            }
            var rows: [(String, [RGBImage])] = [("truth", truth)]
            let measured = MeasuredTruth(truth)  // once per case, shared by every method
            if oneLength { truthPairs = zip(truthPairs ?? measured.adjacent.map { _ in 0 }, measured.adjacent).map(+) }
            let scene = try silhouettes(c, width: truth[0].width, height: truth[0].height, camera: path)
            var caseScores = CaseScores(
                name: c.label ?? "case \(ci + 1)", video: (c.video as NSString).lastPathComponent, s: c.s, e: c.e,
                methods: [:])
            for m in methods {
                if cancel.isCancelled { throw EngineError.cancelled }
                let t0 = Date()
                let frames: [RGBImage]
                switch m {
                case .baseline(let b): frames = try b.generate(start: before.last!, end: after.first!, length: c.length)
                case .model(_, let model, let settings):
                    let k = given ?? references
                    var request = InfillRequest(
                        before: Array(before.suffix(k)), after: Array(after.prefix(k)), length: c.length)
                    request.settings = settings
                    frames = try Infiller(model: model).run(request, cancel: cancel).frames
                }
                let seconds = Date().timeIntervalSince(t0)
                // A pixel-space model makes its own square frames: scored at the truth's size.
                let scored = frames.map { $0.resized(width: truth[0].width, height: truth[0].height) }
                let s = Scores.measure(generated: scored, truth: measured)
                caseScores.methods[m.name] = .init(ms_ssim: s.ms_ssim, psnr: s.psnr, clip_rs: s.clip_rs)
                var acc = sums[m.name] ?? (0, 0, 0, 0, 0, 0, 0)
                acc.ms += s.ms_ssim
                acc.psnr += s.psnr
                acc.rs += s.clip_rs
                acc.ssim += s.ssim
                acc.sec += seconds
                acc.n += 1
                acc.sharp += s.sharpness
                sums[m.name] = acc
                if let scene {
                    let overlaps = scored.indices.compactMap { k in
                        Silhouette.iou(Silhouette.mask(scored[k], background: scene.backgrounds[k]), scene.masks[k])
                    }
                    if !overlaps.isEmpty {
                        let mean = overlaps.reduce(0, +) / Double(overlaps.count)
                        overlapSums[m.name, default: (0, 0)].sum += mean
                        overlapSums[m.name, default: (0, 0)].n += 1
                    }
                }
                if oneLength {
                    positions[m.name] = zip(
                        positions[m.name] ?? Array(repeating: 0, count: s.frame_psnr.count), s.frame_psnr
                    ).map(+)
                    pairs[m.name] = zip(pairs[m.name] ?? s.adjacent.map { _ in 0 }, s.adjacent).map(+)
                }
                rows.append((m.name, scored))
            }
            perCase.append(caseScores)
            if let sheets {
                // Checked by the caller against what exists (the CLI refuses it without --overwrite).
                let name = Evaluator.sheetName(ci)
                try PNG.write(contactSheet(rows: rows), to: sheets.appendingPathComponent(name), overwrite: true)
            }
            progress(
                ci + 1,
                "case \(ci + 1)/\(cases.count) \(c.label ?? "") (\((c.video as NSString).lastPathComponent) "
                    + "s=\(c.s) e=\(c.e))"
            )
        }
        var methodsOut: [String: MethodScores] = [:]
        for (k, v) in sums {
            let n = Double(max(1, v.n))
            methodsOut[k] = MethodScores(
                ms_ssim: v.ms / n, psnr: v.psnr / n, clip_rs: v.rs / n, ssim: v.ssim / n,
                seconds: v.sec / n, sharpness: v.sharp / n,
                psnr_by_position: positions[k]?.map { $0 / n },
                silhouette_iou: overlapSums[k].map { $0.sum / Double(max(1, $0.n)) },
                similarity_by_pair: pairs[k]?.map { $0 / n })
        }
        return EvalReport(
            cases: cases.count, similarity: SSIMSimilarity().name, methods: methodsOut, order: methods.map(\.name),
            title: title, truthSimilarityByPair: truthPairs?.map { $0 / Double(max(1, cases.count)) },
            perCase: perCase)
    }
}
