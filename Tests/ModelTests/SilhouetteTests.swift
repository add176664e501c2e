import Core
import Foundation
import XCTest

@testable import Engine
@testable import Media
@testable import Metrics
@testable import Synth

/// Silhouette IoU (`Silhouette`, `Evaluator.silhouettes`): closed forms on known images, then a rendered take.
final class SilhouetteTests: XCTestCase {
    /// A 64² grey frame with 10×10 squares of contrast 0.8 at the given corners, each with an opacity.
    func frame(_ squares: [(x: Int, y: Int, alpha: Float)]) -> RGBImage {
        var image = RGBImage(width: 64, height: 64, fill: (40, 40, 40))
        for square in squares {
            for y in square.y..<(square.y + 10) {
                for x in square.x..<(square.x + 10) {
                    for c in 0..<3 {
                        let i = 3 * (y * 64 + x) + c
                        let v = Float(image.pixels[i]) + square.alpha * (244 - 40)
                        image.pixels[i] = UInt8(v.rounded())
                    }
                }
            }
        }
        return image
    }

    func testOverlapOfKnownSquares() throws {
        let background = frame([])
        let truth = Silhouette.mask(frame([(20, 20, 1)]), background: background)
        XCTAssertEqual(truth.filter { $0 }.count, 100)
        XCTAssertEqual(Silhouette.iou(truth, truth), 1)
        // Moved 4 pixels: overlap 6×10, union 140.
        let moved = Silhouette.mask(frame([(24, 20, 1)]), background: background)
        XCTAssertEqual(try XCTUnwrap(Silhouette.iou(moved, truth)), 60.0 / 140.0, accuracy: 1e-12)
        // A dissolve of the right pose and a far one shows both: union 200, overlap 100.
        let dissolve = Silhouette.mask(frame([(20, 20, 0.5), (40, 40, 0.5)]), background: background)
        XCTAssertEqual(try XCTUnwrap(Silhouette.iou(dissolve, truth)), 0.5, accuracy: 1e-12)
        // A faint ghost (contrast 0.08) is below the threshold and does not count.
        let faint = Silhouette.mask(frame([(20, 20, 1), (40, 40, 0.08)]), background: background)
        XCTAssertEqual(Silhouette.iou(faint, truth), 1)
        XCTAssertNil(
            Silhouette.iou(
                Silhouette.mask(background, background: background), [Bool](repeating: false, count: 64 * 64)))
    }

    func testRenderedTakeTruthScoresHighAndAStaleFrameLower() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mavin-silhouette-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let p = Performance(seed: 77, fps: 15, script: [(.walk, 3), (.rear, 3)])
        let entry = try SynthWriter.write(p, name: "take", size: 96, to: folder, overwrite: false)
        try SynthWriter.writeManifest([entry], to: folder, overwrite: false)
        let cases = try Evaluator.syntheticCases(folder: folder.path, length: 8, references: 2)
        let c = try XCTUnwrap(cases.first)
        XCTAssertNotNil(c.scene)
        let evaluator = Evaluator(cases: cases, resolution: nil, references: 2)
        let (before, truth, after) = try evaluator.load(c)
        let scene = try XCTUnwrap(try evaluator.silhouettes(c, width: 96, height: 96))
        XCTAssertEqual(scene.masks.count, 8)
        let truthOverlap = zip(truth, zip(scene.masks, scene.backgrounds)).compactMap { frame, pair in
            Silhouette.iou(Silhouette.mask(frame, background: pair.1), pair.0)
        }
        XCTAssertEqual(truthOverlap.count, 8)
        // The decoded video (H.264) of the very frames: the same silhouettes up to compression at the edges.
        XCTAssertGreaterThan(truthOverlap.min()!, 0.85)
        // The boundary frame held over the whole gap: the walking camera moved on and the pose changed.
        let stale = try VideoReader(path: c.video).frame(at: c.s)
        let staleOverlap = zip(scene.masks, scene.backgrounds).compactMap { mask, background in
            Silhouette.iou(Silhouette.mask(stale, background: background), mask)
        }
        XCTAssertLessThan(staleOverlap.last!, truthOverlap.last! - 0.2)

        // Seen through a moving camera (`eval --camera`): the backgrounds follow the same path, so the truth
        // still scores high; against the still camera's backgrounds it would not.
        var rng = SplitMix64(seed: 5)
        let path = CameraMotion.random(frames: before.count + 8 + after.count, side: 96, pan: 2, using: &rng)
        let moved = Array(path.apply(before + truth + after)[before.count..<(before.count + 8)])
        let follow = try XCTUnwrap(try evaluator.silhouettes(c, width: 96, height: 96, camera: path))
        func overlap(_ s: (masks: [[Bool]], backgrounds: [RGBImage])) -> Double {
            let v = zip(moved, zip(s.masks, s.backgrounds)).compactMap { frame, pair in
                Silhouette.iou(Silhouette.mask(frame, background: pair.1), pair.0)
            }
            return v.reduce(0, +) / Double(max(1, v.count))
        }
        XCTAssertGreaterThan(overlap(follow), 0.8)
        XCTAssertLessThan(overlap(scene), overlap(follow) - 0.2)
        print(
            "silhouette IoU: truth", truthOverlap.map { String(format: "%.3f", $0) }, "stale",
            staleOverlap.map { String(format: "%.3f", $0) })
    }

    /// `eval --json`'s `per_case`: one entry a case, in order, named as the progress line names it, with each
    /// method's own scores; frame repeat's PSNR recomputed here from the pixels, and the methods' means are the
    /// per-case values averaged.
    func testPerCaseScoresAreEachCasesOwnAndAverageToTheTable() throws {
        let folder = try temporaryFolder("mavin-per-case")
        var entries: [ManifestEntry] = []
        for k in 0..<2 {
            let p = Performance(seed: UInt64(610 + k), fps: 15, script: [(.walk, 2), (.rear, 2), (.graze, 2)])
            entries.append(try SynthWriter.write(p, name: "take\(k)", size: 48, to: folder, overwrite: false))
        }
        try SynthWriter.writeManifest(entries, to: folder, overwrite: false)
        let cases = try Evaluator.syntheticCases(folder: folder.path, length: 6, references: 2)
        XCTAssertGreaterThanOrEqual(cases.count, 3)
        let evaluator = Evaluator(cases: cases, resolution: nil, references: 2)
        let report = try evaluator.run(methods: [.baseline(.repeatFrames), .baseline(.crossfade)], title: "t")
        let perCase = try XCTUnwrap(report.per_case)
        XCTAssertEqual(perCase.count, cases.count)
        var psnrs: [Double] = []
        for (c, scored) in zip(cases, perCase) {
            XCTAssertEqual(scored.name, c.label)
            XCTAssertEqual([scored.s, scored.e], [c.s, c.e])
            XCTAssertEqual(scored.video, (c.video as NSString).lastPathComponent)
            let (before, truth, after) = try evaluator.load(c)
            let held = (0..<6).map { $0 < 3 ? before.last! : after.first! }
            var sum = 0.0
            for (g, t) in zip(held, truth) {
                let se = zip(g.pixels, t.pixels).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) }
                sum += 10 * log10(255 * 255 / (se / Double(g.pixels.count)))
            }
            let psnr = try XCTUnwrap(scored.methods["repeat"]?.psnr)
            XCTAssertEqual(psnr, sum / 6, accuracy: 1e-9)
            psnrs.append(psnr)
        }
        // Different transitions score differently (a per-case list that repeated one value would not).
        XCTAssertGreaterThan(psnrs.max()! - psnrs.min()!, 0.1)
        for name in ["repeat", "crossfade"] {
            let table = try XCTUnwrap(report.methods[name])
            let values = perCase.compactMap { $0.methods[name] }
            XCTAssertEqual(values.count, cases.count)
            let n = Double(values.count)
            XCTAssertEqual(values.reduce(0) { $0 + $1.psnr } / n, table.psnr, accuracy: 1e-9)
            XCTAssertEqual(values.reduce(0) { $0 + $1.ms_ssim } / n, table.ms_ssim, accuracy: 1e-9)
            XCTAssertEqual(values.reduce(0) { $0 + $1.clip_rs } / n, table.clip_rs, accuracy: 1e-9)
        }
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        XCTAssertTrue(json.contains("\"per_case\""))
        XCTAssertEqual(try JSONDecoder().decode(EvalReport.self, from: Data(json.utf8)).per_case, perCase)
    }
}
