import Foundation
import XCTest
import Core
@testable import Media
@testable import Metrics
@testable import Tensor

let metricsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let samplesFolder = metricsRoot.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
    "Samples")

func image(_ t: [Float], _ shape: [Int]) -> RGBImage {
    RGBImage(width: shape[1], height: shape[0], pixels: t.map { UInt8($0) })
}

final class MetricsTests: XCTestCase {
    /// SSIM and PSNR against scikit-image, MS-SSIM against pytorch_msssim (Tests/Reference/metrics_goldens.py).
    func testAgainstScikitImageAndPytorchMSSSIM() throws {
        let g = try SafeTensorsFile(url: metricsRoot.appendingPathComponent("Goldens/metrics.safetensors"))
        for i in 0..<5 {
            let shape = g.tensor("case\(i).a")!.shape
            let a = image(try g.floats("case\(i).a"), shape)
            let b = image(try g.floats("case\(i).b"), shape)
            let v = try g.floats("case\(i).values")
            XCTAssertEqual(ImageQuality.ssim(a, b), Double(v[0]), accuracy: 1e-3, "SSIM case \(i)")
            XCTAssertEqual(ImageQuality.psnr(a, b), Double(v[1]), accuracy: 1e-3, "PSNR case \(i)")
            if v.count > 2 {
                XCTAssertEqual(ImageQuality.msssim(a, b), Double(v[2]), accuracy: 1e-3, "MS-SSIM case \(i)")
            }
        }
        let a = image(try g.floats("case0.a"), g.tensor("case0.a")!.shape)
        XCTAssertEqual(ImageQuality.ssim(a, a), 1, accuracy: 1e-6)  // float32 sums per row
        // Never above 1, which the float sums alone can give for equal frames.
        XCTAssertLessThanOrEqual(ImageQuality.ssim(a, a), 1)
        XCTAssertLessThanOrEqual(ImageQuality.msssim(a, a), 1)
        XCTAssertEqual(ImageQuality.psnr(a, a), 100)
    }

    /// MAVIN Table 2: CLIP-RS rewards the right temporal change even when colours are off,
    /// and punishes a frozen clip, while SSIM and PSNR fall for every distortion.
    func testTable2OnARealClipWithMotion() throws {
        let r = try VideoReader(path: samplesFolder.appendingPathComponent("bunny.mp4").path)
        // Every 4th frame: the rabbit steps out of its burrow, visible motion between frames.
        let clip = try (0..<12).map { try r.frame(at: 4 * $0) }
        func map(_ f: (UInt8, UInt8, UInt8) -> (UInt8, UInt8, UInt8)) -> [RGBImage] {
            clip.map { img in
                var out = img
                for i in 0..<(img.width * img.height) {
                    let (r, g, b) = f(img.pixels[3 * i], img.pixels[3 * i + 1], img.pixels[3 * i + 2])
                    out.pixels[3 * i] = r
                    out.pixels[3 * i + 1] = g
                    out.pixels[3 * i + 2] = b
                }
                return out
            }
        }
        func c(_ v: Double) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }
        let rows: [(String, [RGBImage], ClosedRange<Double>)] = [
            ("-50% luminance", map { (c(Double($0) * 0.5), c(Double($1) * 0.5), c(Double($2) * 0.5)) }, 0.95...1),
            (
                "+50% contrast",
                map {
                    (
                        c((Double($0) - 128) * 1.5 + 128), c((Double($1) - 128) * 1.5 + 128),
                        c((Double($2) - 128) * 1.5 + 128)
                    )
                }, 0.95...1
            ),
            ("red zeroed", map { (0, $1, $2) }, 0.95...1),
            ("red+green zeroed", map { (0, 0, $2) }, 0.9...1),
            ("first frame x12", [RGBImage](repeating: clip[0], count: 12), 0...0.9)
        ]
        var table = "| distortion | CLIP-RS | SSIM | PSNR |\n|---|---|---|---|\n"
        for (name, frames, expected) in rows {
            let s = Scores.measure(generated: frames, truth: clip)
            table += String(format: "| %@ | %.3f | %.3f | %.2f |\n", name, s.clip_rs, s.ssim, s.psnr)
            XCTAssertTrue(expected.contains(s.clip_rs), "\(name): CLIP-RS \(s.clip_rs) not in \(expected)")
            XCTAssertLessThan(s.ssim, 0.99, name)
            XCTAssertLessThan(s.psnr, 40, name)
        }
        print("Table 2 on Samples/bunny.mp4 frames 0, 4, …, 44 (similarity: SSIM):\n" + table)
    }

    /// Per-frame PSNR: a frame with a known error has the closed-form PSNR, the mean is `psnr`,
    /// and the report's position table averages them per position over cases.
    func testPerFramePSNRAndThePositionTable() throws {
        let truth = (0..<3).map { RGBImage(width: 8, height: 8, fill: (UInt8(100 + $0), 50, 50)) }
        var generated = truth
        // off by 10 in every channel: PSNR 10·log10(255²/100)
        generated[1] = RGBImage(width: 8, height: 8, fill: (111, 60, 60))
        let s = Scores.measure(generated: generated, truth: truth)
        XCTAssertEqual(s.frame_psnr.count, 3)
        XCTAssertEqual(s.frame_psnr[1], 10 * log10(255.0 * 255 / 100), accuracy: 1e-9)
        XCTAssertEqual(s.psnr, s.frame_psnr.reduce(0, +) / 3, accuracy: 1e-9)

        let a = MethodScores(
            ms_ssim: 0.9, psnr: 30, clip_rs: 0.9, ssim: 0.9, seconds: 0, psnr_by_position: [35, 25, 30])
        let b = MethodScores(
            ms_ssim: 0.8, psnr: 29, clip_rs: 0.8, ssim: 0.8, seconds: 0, psnr_by_position: [34.04, 24, 29])
        let md = EvalReport(cases: 2, similarity: "ssim", methods: ["a": a, "b": b], order: ["a", "b"], title: "t")
            .markdown()
        XCTAssertTrue(md.contains("| a | 35.0 | 25.0 | 30.0 |"), md)
        XCTAssertTrue(md.contains("| b | 34.0 | 24.0 | 29.0 |"), md)
        var a2 = a
        var b2 = b
        a2.psnr_by_position = nil
        b2.psnr_by_position = nil  // cases of different lengths: no position table
        XCTAssertFalse(
            EvalReport(cases: 2, similarity: "ssim", methods: ["a": a2, "b": b2], order: ["a", "b"], title: "t")
                .markdown().contains("at each frame"))
    }

    /// The adjacent similarities CLIP-RS compares: a held frame is 1 against the truth's motion below 1, a jump
    /// of three steps is below the truth's one step, CLIP-RS is their ratio, and the report tabulates them by pair.
    func testAdjacentSimilarityShowsAHoldAndAJumpAndTheReportTabulatesIt() {
        var rng = SplitMix64(seed: 7)
        let texture = (0..<(64 * 48)).map { _ in UInt8(rng.next() % 256) }
        func shifted(_ dx: Int) -> RGBImage {
            var f = RGBImage(width: 48, height: 48, fill: (0, 0, 0))
            for y in 0..<48 {
                for x in 0..<48 {
                    let v = texture[y * 64 + x + dx]
                    for c in 0..<3 { f.pixels[3 * (y * 48 + x) + c] = v }
                }
            }
            return f
        }
        let truth = (0..<4).map { shifted(2 * $0) }
        let generated = [truth[0], truth[0], truth[0], truth[3]]
        let measured = MeasuredTruth(truth)
        let s = Scores.measure(generated: generated, truth: measured)
        XCTAssertEqual(s.adjacent.count, 3)
        XCTAssertEqual(s.adjacent[0], 1, accuracy: 1e-9)
        XCTAssertEqual(s.adjacent[1], 1, accuracy: 1e-9)
        XCTAssertLessThan(measured.adjacent[0], 0.5)  // two pixels of white noise: little structure in common
        XCTAssertLessThan(s.adjacent[2], measured.adjacent[2])
        XCTAssertEqual(s.clip_rs, clipRS(generated: s.adjacent, truth: measured.adjacent), accuracy: 1e-12)
        XCTAssertEqual(
            s.clip_rs, clipRS(generated: generated, truth: truth, similarity: SSIMSimilarity()), accuracy: 1e-12)

        let a = MethodScores(
            ms_ssim: 0.9, psnr: 30, clip_rs: 0.9, ssim: 0.9, seconds: 0, similarity_by_pair: [0.95, 0.7])
        let md = EvalReport(
            cases: 1, similarity: "ssim", methods: ["a": a], order: ["a"], title: "t", truthSimilarityByPair: [0.9, 0.8]
        ).markdown()
        XCTAssertTrue(md.contains("| truth | 0.900 | 0.800 |"), md)
        XCTAssertTrue(md.contains("| a | 0.950 | 0.700 |"), md)
    }

    func testCLIPRSDefinition() {
        struct Fixed: FrameSimilarity {
            let name = "fixed"
            let values: [Int: Double]
            func features(_ f: RGBImage) -> FrameFeatures {
                FrameFeatures(values: [Float(f.pixels[0])], width: 1, height: 1)
            }
            func similarity(_ a: FrameFeatures, _ b: FrameFeatures) -> Double {
                values[Int(a.values[0]) * 1000 + Int(b.values[0])]!
            }
        }
        let p = [0, 1, 2].map { RGBImage(width: 1, height: 1, fill: (UInt8($0), 0, 0)) }
        let q = [10, 11, 12].map { RGBImage(width: 1, height: 1, fill: (UInt8($0), 0, 0)) }
        let sim = Fixed(values: [1: 0.8, 1002: 0.5, 10011: 0.4, 11012: 0.5])
        // pairs: min(0.8, 0.4)/max = 0.5 ; min(0.5, 0.5)/max = 1 → mean 0.75
        XCTAssertEqual(clipRS(generated: p, truth: q, similarity: sim), 0.75, accuracy: 1e-12)
    }

    /// Smoothness against the clips' pace: the closed form with fixed similarities, then real motion.
    func testPaceAgainstTheClipsClosedFormAndMotion() throws {
        struct Fixed: FrameSimilarity {
            let name = "fixed"
            let values: [Int: Double]
            func features(_ f: RGBImage) -> FrameFeatures {
                FrameFeatures(values: [Float(f.pixels[0])], width: 1, height: 1)
            }
            func similarity(_ a: FrameFeatures, _ b: FrameFeatures) -> Double {
                values[Int(a.values[0]) * 1000 + Int(b.values[0])]!
            }
        }
        func f(_ v: Int) -> RGBImage { RGBImage(width: 1, height: 1, fill: (UInt8(v), 0, 0)) }
        // Clips: pairs (10,11) 0.6 and (20,21) 0.8 → pace 0.7; transition pairs 0.7 and 0.35 → (1 + 0.5) / 2.
        let sim = Fixed(values: [10011: 0.6, 20021: 0.8, 1002: 0.7, 2003: 0.35])
        let score = clipRSAgainstClips(
            transition: [f(1), f(2), f(3)], references: [[f(10), f(11)], [f(20), f(21)]],
            similarity: sim)
        XCTAssertEqual(try XCTUnwrap(score), 0.75, accuracy: 1e-12)
        XCTAssertNil(clipRSAgainstClips(transition: [f(1), f(2)], references: [[f(10)], []], similarity: sim))
        // A square moving 3 px a frame in both clips: moving on at that pace scores higher than holding then jumping.
        func scene(_ x: Int) -> RGBImage {
            var img = RGBImage(width: 96, height: 48, fill: (30, 60, 90))
            for yy in 14..<34 {
                for xx in x..<min(96, x + 20) {
                    let i = 3 * (yy * 96 + xx)
                    img.pixels.replaceSubrange(i..<(i + 3), with: [230, 200, 40])
                }
            }
            return img
        }
        let before = (0..<4).map { scene(3 * $0) }
        let after = (0..<4).map { scene(3 * (9 + $0)) }
        let moving = (4...8).map { scene(3 * $0) }
        let held = [scene(9), scene(9), scene(9), scene(27), scene(27)]
        let smooth = try XCTUnwrap(
            clipRSAgainstClips(
                transition: [before[3]] + moving + [after[0]],
                references: [before, after]))
        let jumpy = try XCTUnwrap(
            clipRSAgainstClips(
                transition: [before[3]] + held + [after[0]],
                references: [before, after]))
        XCTAssertGreaterThan(smooth, 0.95)
        XCTAssertLessThan(jumpy, smooth - 0.1)
    }

    /// A textured square moving across a textured background: flow interpolation beats crossfade
    /// and frame repeat on MS-SSIM and PSNR.
    func testFlowBaselineBeatsCrossfadeOnMotion() throws {
        func frame(_ x0: Int) -> RGBImage {
            var img = RGBImage(width: 96, height: 96)
            for y in 0..<96 {
                for x in 0..<96 {
                    let i = 3 * (y * 96 + x)
                    var v = 100 + 40 * sin(Double(x) / 6) * cos(Double(y) / 9)
                    if x >= x0 && x < x0 + 28 && y >= 30 && y < 58 { v = 200 + 30 * sin(Double(x - x0) / 3) }
                    img.pixels[i] = UInt8(v)
                    img.pixels[i + 1] = UInt8(v * 0.8)
                    img.pixels[i + 2] = UInt8(255 - v)
                }
            }
            return img
        }
        let l = 6
        let truth = (1...l).map { frame(20 + 3 * $0) }
        let a = frame(20)
        let b = frame(20 + 3 * (l + 1))
        var scores: [Baseline: Scores] = [:]
        for m in [Baseline.repeatFrames, .crossfade, .flow, .dis] {
            let f = try m.generate(start: a, end: b, length: l)
            XCTAssertEqual(f.count, l)
            scores[m] = Scores.measure(generated: f, truth: truth)
        }
        for m in [Baseline.flow, .dis] {
            XCTAssertGreaterThan(scores[m]!.ms_ssim, scores[.crossfade]!.ms_ssim, m.rawValue)
            XCTAssertGreaterThan(scores[m]!.psnr, scores[.crossfade]!.psnr, m.rawValue)
            XCTAssertGreaterThan(scores[m]!.psnr, scores[.repeatFrames]!.psnr, m.rawValue)
        }

        // Horn–Schunck finds the motion to the right inside the square and none in the static corner.
        let f = HornSchunck.flow(from: a.luma(), to: b.luma(), width: 96, height: 96)
        XCTAssertGreaterThan(f.u[44 * 96 + 40], 3)
        XCTAssertLessThan(abs(f.u[5 * 96 + 90]), f.u[44 * 96 + 40] / 2)
    }

    func testExternalPeersWhenFFmpegIsInstalled() throws {
        guard FFmpegPeer.available else { throw XCTSkip("ffmpeg not installed") }
        let a = RGBImage(width: 64, height: 48, fill: (0, 0, 0))
        let b = RGBImage(width: 64, height: 48, fill: (200, 100, 50))
        let x = try Baseline.ffmpegXfade.generate(start: a, end: b, length: 4)
        XCTAssertEqual(x.count, 4)
        XCTAssertEqual(Double(x[1].pixels[0]), 80, accuracy: 12)  // 2/5 of the way to 200
        let m = try Baseline.ffmpegMinterpolate.generate(start: a, end: b, length: 4)
        XCTAssertEqual(m.count, 4)
    }
}

final class CLIPEncoderTests: XCTestCase {
    /// The loader reads open_clip/OpenAI key names and matches a PyTorch twin (Tests/Reference/clip_twin.py).
    func testTinyViTMatchesThePyTorchTwin() throws {
        let url = metricsRoot.appendingPathComponent("Goldens/clip_tiny.safetensors")
        let enc = try CLIPImageEncoder(url: url)
        XCTAssertEqual(enc.imageSize, 32)
        XCTAssertEqual(enc.layers, 2)
        XCTAssertEqual(enc.heads, 2)
        let g = try SafeTensorsFile(url: url)
        let ours = enc.embed(preprocessed: try g.floats("test.image"))
        XCTAssertLessThan(relativeError(ours, try g.floats("test.embedding")), 1e-4)
        // As a CLIP-RS similarity: a frame is identical to itself.
        let frame = RGBImage(width: 48, height: 40, fill: (200, 30, 90))
        XCTAssertEqual(enc.similarity().similarity(frame, frame), 1, accuracy: 1e-5)
        XCTAssertThrowsError(
            try CLIPImageEncoder(url: metricsRoot.appendingPathComponent("Goldens/metrics.safetensors")))
    }
}
