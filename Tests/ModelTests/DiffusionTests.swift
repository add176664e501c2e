import Core
import Diffusion
import Foundation
import XCTest
@testable import MavinModel
@testable import Tensor

let modelGoldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

final class DiffusionTests: XCTestCase {
    /// Variable-length sampling: the histogram of l over many draws is the triangle of the
    /// exact pair counts (Pearson χ² below the 0.999 quantile for its degrees of freedom).
    func testVariableLengthHistogramIsTriangular() {
        for ranges in [
            BoundaryRanges(startLow: 1, startHigh: 9, endLow: 20, endHigh: 30), ModelConfig.preset("small")!.ranges
        ] {
            var rng = SplitMix64(seed: 11)
            let n = 40_000
            var counts = [Int: Int]()
            for _ in 0..<n {
                let (s, e) = ranges.sample(using: &rng)
                counts[e - s - 1, default: 0] += 1
            }
            var chi2 = 0.0
            for l in ranges.lengths {
                let expected = Double(n) * ranges.probability(ofLength: l)
                let observed = Double(counts[l] ?? 0)
                chi2 += (observed - expected) * (observed - expected) / expected
            }
            let dof = ranges.lengths.count - 1
            // χ² 0.999 quantiles: dof 4 → 18.47, dof 20 → 45.31 (Wilson–Hilferty is close enough between).
            let z = 3.09
            let k = Double(dof)
            let limit = k * pow(1 - 2 / (9 * k) + z * (2 / (9 * k)).squareRoot(), 3)
            XCTAssertLessThan(chi2, limit, "χ² \(chi2) with \(dof) dof for \(ranges)")
            // Triangular: rises to the middle, then falls.
            let ps = ranges.lengths.map { ranges.probability(ofLength: $0) }
            let peak = ps.firstIndex(of: ps.max()!)!
            XCTAssertTrue(zip(ps[..<peak], ps[1...peak]).allSatisfy { $0 <= $1 })
            XCTAssertTrue(zip(ps[peak...], ps[(peak + 1)...]).allSatisfy { $0 >= $1 })
        }
        let paper = BoundaryRanges(startLow: 1, startHigh: 9, endLow: 20, endHigh: 30)
        XCTAssertEqual(paper.lengths, 10...28)
        XCTAssertNil(paper.validate(window: 32))
        XCTAssertNotNil(BoundaryRanges(startLow: 0, startHigh: 3, endLow: 5, endHigh: 9).validate(window: 16))
    }

    /// Consecutive noising: references are clean in the input and get zero loss gradient.
    func testConsecutiveNoisingKeepsReferencesCleanAndMasksTheirLoss() {
        let L = 16
        let per = 10
        let z0 = (0..<(L * per)).map { Float($0 % 7) - 3 }
        var rng = SplitMix64(seed: 5)
        let ranges = BoundaryRanges(startLow: 1, startHigh: 3, endLow: 12, endHigh: 14)
        let w = z0.withUnsafeBufferPointer {
            ConsecutiveNoising.make(
                clean: $0.baseAddress!, frames: L, perFrame: per, ranges: ranges, schedule: NoiseSchedule(),
                prediction: .v, using: &rng)
        }
        for f in 0..<L {
            let inside = f > w.s && f < w.e
            XCTAssertEqual(w.noised[f], inside)
            let same = (0..<per).allSatisfy { w.input[f * per + $0] == z0[f * per + $0] }
            XCTAssertEqual(same, !inside, "frame \(f)")
        }
        var pred = w.input
        pred[0] += 5  // a reference output far from its target
        var grad = [Float](repeating: 0, count: pred.count)
        maskedMSEForwardBackward(dpred: &grad, pred: pred, target: w.target, mask: w.lossMask, perFrame: per)
        for f in 0..<L where !w.noised[f] { XCTAssertTrue(grad[(f * per)..<((f + 1) * per)].allSatisfy { $0 == 0 }) }
        XCTAssertTrue(grad.contains { $0 != 0 })
        // SEINE masking corrupts frames anywhere, not as one block.
        var seineBlocks = 0
        for m in Self.seineWindows(z0, frames: L, perFrame: per, ranges: ranges, prediction: .v, count: 50) {
            let idx = m.noised.indices.filter { m.noised[$0] }
            if let a = idx.first, let b = idx.last, b - a + 1 != idx.count { seineBlocks += 1 }
        }
        XCTAssertGreaterThan(seineBlocks, 25)
    }

    /// `count` SEINE-masked windows of z0, seeds 0, 1, …
    static func seineWindows(
        _ z0: [Float], frames L: Int, perFrame per: Int, ranges: BoundaryRanges, prediction: Prediction,
        anchor: Anchor? = nil, count: Int
    ) -> [NoisedWindow] {
        (0..<count).map { seed in
            var r = SplitMix64(seed: UInt64(seed))
            return z0.withUnsafeBufferPointer {
                ConsecutiveNoising.make(
                    clean: $0.baseAddress!, frames: L, perFrame: per, ranges: ranges, schedule: NoiseSchedule(),
                    prediction: prediction, masking: .seine, anchor: anchor, residualScale: 2, using: &r)
            }
        }
    }

    /// SEINE-like masking with the motion anchor (the ablation of consecutive noising): the boundary frames the
    /// anchor is built from stay clean, frames outside s…e are corrupted too, and their anchor carries linear
    /// motion past the gap's ends (values of the anchor's formulas by hand at t = −1/3 and 4/3).
    func testSeineMaskingWithTheMotionAnchorKeepsTheBoundariesClean() {
        let L = 10
        let n = 4
        let per = Anchor.motionPlanes * n
        var g = SplitMix64(seed: 21)
        let z0 = (0..<(L * per)).map { _ in Float.random(in: -1...1, using: &g) }
        let ranges = BoundaryRanges(startLow: 2, startHigh: 2, endLow: 5, endHigh: 5)
        var outside = 0
        let windows = Self.seineWindows(
            z0, frames: L, perFrame: per, ranges: ranges, prediction: .sample, anchor: .motion, count: 40)
        for (seed, w) in windows.enumerated() {
            XCTAssertFalse(w.noised[2] || w.noised[5], "seed \(seed)")
            XCTAssertTrue(w.noised.contains(true))
            outside += [0, 1, 6, 7, 8, 9].filter { w.noised[$0] }.count
            // x₀ prediction: the target is k·(z₀ − A), so A = z₀ − target / k on every corrupted frame.
            for f in [1, 6] where w.noised[f] {
                let t: Float = f == 1 ? -1 / 3 : 4 / 3
                for i in 0..<n {
                    let forward = z0[2 * per + Anchor.motionToEnd * n + i]
                    let backward = z0[5 * per + Anchor.motionToStart * n + i]
                    let toStart = -(1 - t) * t * forward + t * t * backward
                    let toEnd = (1 - t) * (1 - t) * forward - t * (1 - t) * backward
                    for (plane, value) in [(Anchor.motionToStart, toStart), (Anchor.motionToEnd, toEnd)] {
                        let j = f * per + plane * n + i
                        XCTAssertEqual(z0[j] - w.target[j] / 2, value, accuracy: 1e-5, "frame \(f)")
                    }
                    let m = f * per + Anchor.motionBlend * n + i
                    XCTAssertEqual(z0[m] - w.target[m] / 2, f == 1 ? 1 : 0, accuracy: 1e-5, "frame \(f)")
                }
            }
        }
        XCTAssertGreaterThan(outside, 20, "frames outside the gap are corrupted too")
    }

    /// The anchor's blend curve: linear at sharpness 0; eased (logistic, rescaled to the
    /// boundaries) otherwise, symmetric and increasing. Values from the formula by hand.
    func testAnchorBlendCurve() {
        for f in 0...13 {
            XCTAssertEqual(Anchor.weight(frame: f, s: 0, e: 13, sharpness: 0), Float(f) / 13, accuracy: 1e-6)
        }
        XCTAssertEqual(Anchor.weight(frame: 3, s: 2, e: 6, sharpness: 12), 0.0451767, accuracy: 1e-6)
        XCTAssertEqual(Anchor.weight(frame: 1, s: 0, e: 13, sharpness: 12), 0.0037463, accuracy: 1e-6)
        var last: Float = -1
        for f in 0...13 {
            let w = Anchor.weight(frame: f, s: 0, e: 13, sharpness: 12)
            XCTAssertGreaterThan(w, last)
            XCTAssertEqual(w + Anchor.weight(frame: 13 - f, s: 0, e: 13, sharpness: 12), 1, accuracy: 1e-6)
            last = w
        }
        XCTAssertEqual(Anchor.weight(frame: 0, s: 0, e: 13, sharpness: 12), 0, accuracy: 1e-7)
        XCTAssertEqual(Anchor.weight(frame: 13, s: 0, e: 13, sharpness: 12), 1, accuracy: 1e-6)
    }

    /// With an anchor the diffused variable is k·(z₀ − A), A the crossfade of the boundary
    /// latents along its eased curve, and the network sees A + r_t on the infill frames.
    func testResidualNoisingAroundTheCrossfade() {
        let L = 16
        let per = 6
        let k: Float = 2.5
        let z0 = (0..<(L * per)).map { Float(($0 * 37) % 11) / 5 - 1 }
        var rng = SplitMix64(seed: 8)
        let ranges = BoundaryRanges(startLow: 1, startHigh: 3, endLow: 12, endHigh: 14)
        let schedule = NoiseSchedule()
        let w = z0.withUnsafeBufferPointer {
            ConsecutiveNoising.make(
                clean: $0.baseAddress!, frames: L, perFrame: per, ranges: ranges, schedule: schedule,
                prediction: .epsilon, anchor: .crossfade, anchorSharpness: 6, residualScale: k, timestep: 300,
                using: &rng)
        }
        let (a, b) = schedule.coefficients(300)
        for f in 0..<L {
            for i in 0..<per {
                let j = f * per + i
                if f > w.s && f < w.e {
                    let x = 6 * (Float(f - w.s) / Float(w.e - w.s) - 0.5)
                    let lo = 1 / (1 + exp(Float(3)))
                    let hi = 1 / (1 + exp(Float(-3)))
                    let u = (1 / (1 + exp(-x)) - lo) / (hi - lo)
                    let anchor = (1 - u) * z0[w.s * per + i] + u * z0[w.e * per + i]
                    XCTAssertEqual(w.input[j], anchor + a * k * (z0[j] - anchor) + b * w.target[j], accuracy: 1e-5)
                } else {
                    XCTAssertEqual(w.input[j], z0[j])
                }
            }
        }
    }

    /// DDIM with the true noise (or true v) recovers x₀ exactly in one step from any t.
    func testDDIMWithTrueNoiseRecoversX0() {
        let sched = NoiseSchedule()
        var rng = SplitMix64(seed: 3)
        let ddim = DDIM(schedule: sched)
        for t in [0, 10, 500, 999] {
            for _ in 0..<100 {
                let x0 = gaussian(&rng)
                let eps = gaussian(&rng)
                let (a, b) = sched.coefficients(t)
                let xt = a * x0 + b * eps
                for p in [Prediction.epsilon, .v, .sample] {
                    let out = sched.target(p, x0: x0, noise: eps, t: t)
                    let (px0, peps) = sched.split(p, output: out, xt: xt, t: t)
                    XCTAssertEqual(px0, x0, accuracy: 2e-3 * max(1, abs(x0)) / max(a, 0.05))
                    XCTAssertEqual(peps, eps, accuracy: 1e-4)
                    let next = ddim.step(xt: xt, x0: x0, eps: eps, t: t, tPrev: -1, rng: &rng)
                    XCTAssertEqual(next, x0, accuracy: 1e-5)
                }
            }
        }
        XCTAssertEqual(sched.alphasCumprod[999], 0.0047, accuracy: 2e-4)  // scaled-linear 0.00085…0.012
        XCTAssertEqual(sched.ddimTimesteps(25).first, 999)
        XCTAssertEqual(sched.ddimTimesteps(25).count, 25)
        XCTAssertEqual(sched.ddimTimesteps(1), [999])
    }

    func testGaussianFilterMixerMatchesNumpyGolden() throws {
        let g = try SafeTensorsFile(url: modelGoldens.appendingPathComponent("gfm.safetensors"))
        let zs = try g.floats("zs")
        let ze = try g.floats("ze")
        let noise = try g.floats("noise")
        for (name, f0, lam) in [("default", Float(0.6), Float(0.1)), ("high", 0.95, 0.05), ("zero", 0.0, 0.1)] {
            let mixer = GaussianFilterMixer(f0: f0, lambda: lam)
            let out = mixer.mix(
                boundaryStart: zs, boundaryEnd: ze, noise: noise, s: 1, e: 10, channels: 3, height: 6, width: 5)
            let golden = try g.floats("out_\(name)")
            XCTAssertLessThan(maxRelativeError(out, golden, atol: 1e-5), 1e-4, name)
            XCTAssertLessThan(relativeError(out, golden), 1e-5, name)
            if f0 == 0 { XCTAssertLessThan(relativeError(out, noise), 1e-5, "f0 = 0 is plain noise") }
        }
        // The low-pass has unit gain at DC: its share of every frame keeps the boundary latent's
        // per-channel mean (measured with the noise share set to zero), for any stop frequency > 0.
        let P = 30
        let l = 8
        for (f0, lam) in [(Float(0.9), Float(0.1)), (0.6, 0.1)] {
            let out = GaussianFilterMixer(f0: f0, lambda: lam).mix(
                boundaryStart: zs, boundaryEnd: ze, noise: [Float](repeating: 0, count: noise.count),
                s: 1, e: 10, channels: 3, height: 6, width: 5)
            for f in 0..<l {
                let source = f + 2 <= 5 ? zs : ze
                for c in 0..<3 {
                    let boundaryMean = source[(c * P)..<((c + 1) * P)].reduce(0, +) / Float(P)
                    let mixedMean = out[((f * 3 + c) * P)..<((f * 3 + c + 1) * P)].reduce(0, +) / Float(P)
                    XCTAssertEqual(mixedMean, boundaryMean, accuracy: 1e-4, "frame \(f) channel \(c)")
                }
            }
        }
        XCTAssertEqual(
            GaussianFilterMixer().stopFrequency(frame: 2, boundaryStart: 1, boundaryEnd: 10), 0.54, accuracy: 1e-6)
    }
}
