import Foundation
import XCTest
@testable import Media
@testable import Metrics

/// Dense Inverse Search against exactly known flow (KnownFlow) on a real frame.
final class FlowTests: XCTestCase {
    /// The dominant affine motion: recovered exactly from a field that is affine except for an object moving
    /// on its own (a quarter of the picture), which the reweighting drops; zero weights give zero motion.
    func testAffineFitFindsTheCameraAndIgnoresTheObject() {
        let (w, h) = (60, 40)
        var f = FlowField(width: w, height: h)
        func camera(_ x: Int, _ y: Int) -> (Float, Float) {
            let px = Float(x) * 2 / Float(w - 1) - 1
            let py = Float(y) * 2 / Float(h - 1) - 1
            return (1.5 + 0.8 * px - 0.3 * py, -0.7 + 0.2 * px + 0.5 * py)
        }
        for y in 0..<h {
            for x in 0..<w {
                let (u, v) = camera(x, y)
                let object = x >= 10 && x < 40 && y >= 5 && y < 25
                f.u[y * w + x] = object ? u + 6 : u
                f.v[y * w + x] = object ? v - 4 : v
            }
        }
        let fit = f.affineFit(weights: [Float](repeating: 1, count: w * h))
        var worst: Float = 0
        for y in 0..<h {
            for x in 0..<w {
                let (u, v) = camera(x, y)
                worst = max(worst, abs(fit.u[y * w + x] - u), abs(fit.v[y * w + x] - v))
            }
        }
        XCTAssertLessThan(worst, 0.01)
        // One plain least-squares pass is pulled towards the object.
        let plain = f.affineFit(weights: [Float](repeating: 1, count: w * h), iterations: 0)
        XCTAssertGreaterThan(abs(plain.u[0] - camera(0, 0).0), 0.3)
        XCTAssertEqual(f.affineFit(weights: [Float](repeating: 0, count: w * h)).u.max(), 0)
    }

    func frame(width: Int, height: Int) throws -> [Float] {
        let r = try VideoReader(path: samplesFolder.appendingPathComponent("bunny.mp4").path)
        return try r.frame(at: 10, size: (width, height)).luma()
    }

    func testDISRecoversKnownFlowBetterThanHornSchunck() throws {
        let (w, h) = (128, 96)
        let a = try frame(width: w, height: h)
        var dis: [Float] = []
        var hs: [Float] = []
        for seed in 1...3 {
            let truth = KnownFlow.field(width: w, height: h, magnitude: 6, seed: UInt64(seed))
            let b = KnownFlow.warped(a, by: truth)
            let moved = KnownFlow.endPointError(FlowField(width: w, height: h), truth: truth)
            let d = KnownFlow.endPointError(DISFlow.flow(from: b, to: a, width: w, height: h), truth: truth)
            let s = KnownFlow.endPointError(HornSchunck.flow(from: b, to: a, width: w, height: h), truth: truth)
            print(
                String(
                    format: "known flow seed %d: mean motion %.2f px, DIS EPE %.3f, Horn–Schunck EPE %.3f",
                    seed, moved, d, s))
            XCTAssertGreaterThan(moved, 1.5, "the field moves pixels")
            dis.append(d)
            hs.append(s)
        }
        let meanDIS = dis.reduce(0, +) / 3
        XCTAssertLessThan(meanDIS, 0.6)
        XCTAssertLessThan(meanDIS, hs.reduce(0, +) / 3)
    }

    /// A 640×360 pair is searched and refined at 320×180 (`Settings.finestSide`): the flow is exactly that of the
    /// halved pair, upsampled, and still recovers a known flow to within 0.1 px (0.04 px computed at full size).
    func testFinestSideComputesTheFlowAtTheLevelItNamesAndUpsamples() throws {
        let (w, h) = (640, 360)
        let a = try frame(width: w, height: h)
        let truth = KnownFlow.field(width: w, height: h, magnitude: 8, seed: 4)
        let b = KnownFlow.warped(a, by: truth)
        let flow = DISFlow.flow(from: b, to: a, width: w, height: h)
        var full = DISFlow.Settings()
        full.finestSide = nil
        // Spatial propagation is set by level index, which is one lower in the halved pair's pyramid.
        var shifted = full
        shifted.propagation = full.propagation.map { $0 - 1 }
        let halved = DISFlow.flow(
            from: Pyramid.halve(b, w, h), to: Pyramid.halve(a, w, h), width: w / 2, height: h / 2, settings: shifted)
        let upsampled = Pyramid.upsample(halved, to: w, h)
        XCTAssertEqual(flow.u, upsampled.u)
        XCTAssertEqual(flow.v, upsampled.v)
        let error = KnownFlow.endPointError(flow, truth: truth)
        let fine = KnownFlow.endPointError(
            DISFlow.flow(from: b, to: a, width: w, height: h, settings: full), truth: truth)
        print(String(format: "640×360 known flow: EPE %.3f px at 320×180, %.3f px at full size", error, fine))
        XCTAssertLessThan(error, 0.1)
        XCTAssertLessThan(fine, error)
    }

    /// A textured square moving 5 px over a flat background with a vertical gradient (a sky): the
    /// background may move any way along the gradient's level lines, and only the still candidate keeps
    /// it from taking on the square's motion. The square's own flow stays right.
    func testDISKeepsATexturelessStaticBackgroundStill() {
        let (w, h) = (96, 64)
        func scene(_ x0: Int) -> [Float] {
            (0..<(w * h)).map { i in
                let (x, y) = (i % w, i / w)
                let inside = x >= x0 && x < x0 + 24 && y >= 20 && y < 44
                let texture = 40 * sin(Float(x - x0) / 2.3) * cos(Float(y) / 1.7)
                return inside ? 150 + texture : 60 + Float(y)
            }
        }
        let a = scene(40)
        let b = scene(35)
        var still = DISFlow.Settings()
        var spread = still
        spread.stillCandidate = false
        func background(_ f: FlowField) -> Float {
            var sum: Float = 0
            var count = 0
            for y in 0..<h {
                for x in 0..<w where x < 28 || x > 76 || y < 10 || y > 54 {
                    let i = y * w + x
                    sum += (f.u[i] * f.u[i] + f.v[i] * f.v[i]).squareRoot()
                    count += 1
                }
            }
            return sum / Float(count)
        }
        still.stillCandidate = true
        let kept = DISFlow.flow(from: a, to: b, width: w, height: h, settings: still)
        let spilt = DISFlow.flow(from: a, to: b, width: w, height: h, settings: spread)
        print(
            String(
                format: "background flow: %.3f px with the still candidate, %.3f without", background(kept),
                background(spilt)))
        XCTAssertLessThan(background(kept), 0.2)
        XCTAssertGreaterThan(background(spilt), 2 * background(kept) + 0.1, "without it the motion spreads")
        let centre = 32 * w + 52
        XCTAssertEqual(kept.u[centre], -5, accuracy: 0.3, "the square's own motion")
        XCTAssertEqual(kept.v[centre], 0, accuracy: 0.3)
    }

    func testDISOfIdenticalFramesIsZeroAndOfATranslationIsIt() throws {
        let (w, h) = (96, 64)
        let a = try frame(width: w, height: h)
        let still = DISFlow.flow(from: a, to: a, width: w, height: h)
        XCTAssertLessThan(still.meanMagnitude, 0.05)
        var shift = FlowField(width: w, height: h)
        for i in shift.u.indices { shift.u[i] = 3.5 }
        let b = KnownFlow.warped(a, by: shift)
        let f = DISFlow.flow(from: b, to: a, width: w, height: h)
        XCTAssertLessThan(KnownFlow.endPointError(f, truth: shift, margin: 6), 0.3)
    }
    /// Spatial propagation on one level: a translation of 11 px, known to the search everywhere but a 40 × 32
    /// block of the frame where its start is zero. A patch's own descent cannot leave its start by more than
    /// its side (8 px), so without propagation the block keeps most of its error; with it the block's patches
    /// take their neighbours' motion and recover the translation.
    func testSpatialPropagationCarriesTheNeighboursMotionIntoPatchesThatStartedWrong() throws {
        let (w, h) = (128, 96)
        let a = try frame(width: w, height: h)
        var shift = FlowField(width: w, height: h)
        for i in shift.u.indices {
            shift.u[i] = 11
            shift.v[i] = -2.5
        }
        let b = KnownFlow.warped(a, by: shift)
        var start = shift
        let block = { (x: Int, y: Int) in x >= 44 && x < 84 && y >= 32 && y < 64 }
        for y in 0..<h {
            for x in 0..<w where block(x, y) {
                start.u[y * w + x] = 0
                start.v[y * w + x] = 0
            }
        }
        func blockError(_ propagates: Bool) -> Float {
            let f = DISFlow.inverseSearch(
                b, a, w, h, initial: start, settings: DISFlow.Settings(), propagates: propagates)
            return Self.meanError(f, truth: shift) { x, y in x >= 48 && x < 80 && y >= 36 && y < 60 }
        }
        let alone = blockError(false)
        let propagated = blockError(true)
        print(String(format: "inside the block: EPE %.3f px without propagation, %.3f with", alone, propagated))
        XCTAssertGreaterThan(alone, 3, "the descent alone cannot reach 11 px")
        XCTAssertLessThan(propagated, 0.3)
    }

    /// Variational refinement at a motion boundary: a real frame moving (−1, 0.5) px with a square in it moving
    /// (3, −2), refined from the true field blurred across the square's edge (what a coarser level hands
    /// down). The robust energy (Charbonnier penalties, as OpenCV's DIS refines) lets the flow jump at the
    /// edge and recovers it there; the quadratic one spreads the error of the pixels the square covers or
    /// uncovers over their neighbours. Started from the true field, the robust refinement keeps it.
    func testRobustRefinementRecoversAMotionEdgeThatTheQuadraticOneBlurs() throws {
        let (w, h) = (128, 96)
        let a = try frame(width: w, height: h)
        var truth = FlowField(width: w, height: h)
        let square = { (x: Int, y: Int) in x >= 40 && x < 88 && y >= 24 && y < 72 }
        for y in 0..<h {
            for x in 0..<w {
                truth.u[y * w + x] = square(x, y) ? 3 : -1
                truth.v[y * w + x] = square(x, y) ? -2 : 0.5
            }
        }
        let b = KnownFlow.warped(a, by: truth)
        // The true field box-blurred over 9 × 9 pixels.
        var start = truth
        for y in 0..<h {
            for x in 0..<w {
                var (su, sv, n): (Float, Float, Float) = (0, 0, 0)
                for dy in -4...4 {
                    for dx in -4...4 {
                        let j = min(max(y + dy, 0), h - 1) * w + min(max(x + dx, 0), w - 1)
                        su += truth.u[j]
                        sv += truth.v[j]
                        n += 1
                    }
                }
                start.u[y * w + x] = su / n
                start.v[y * w + x] = sv / n
            }
        }
        // Mean end-point error over the pixels within 4 px of the square's edge (away from the frame's border).
        func edgeError(_ f: FlowField) -> Float {
            Self.meanError(f, truth: truth) { x, y in
                x >= 8 && x < w - 8 && y >= 8 && y < h - 8
                    && (square(x - 4, y) != square(x + 4, y) || square(x, y - 4) != square(x, y + 4))
            }
        }
        let settings = DISFlow.Settings()
        var robust = start
        DISFlow.refineRobust(&robust, b, a, settings: settings)
        var quadratic = start
        DISFlow.refine(&quadratic, b, a, iterations: settings.refinement, alpha: settings.smoothness)
        var kept = truth
        DISFlow.refineRobust(&kept, b, a, settings: settings)
        print(
            String(
                format:
                    "EPE within 4 px of a motion edge: start %.3f, quadratic %.3f, robust %.3f; from the truth %.3f",
                edgeError(start), edgeError(quadratic), edgeError(robust), edgeError(kept)))
        XCTAssertLessThan(edgeError(robust), 0.85 * edgeError(quadratic))
        XCTAssertLessThan(edgeError(robust), 0.75 * edgeError(start))
        XCTAssertLessThan(KnownFlow.endPointError(kept, truth: truth, margin: 8), 0.1)
    }

    /// Mean end-point error of `f` against `truth` over the pixels where `inside` holds.
    static func meanError(_ f: FlowField, truth: FlowField, inside: (Int, Int) -> Bool) -> Float {
        var sum: Float = 0
        var count = 0
        for y in 0..<truth.height {
            for x in 0..<truth.width where inside(x, y) {
                let i = y * truth.width + x
                let du = f.u[i] - truth.u[i]
                let dv = f.v[i] - truth.v[i]
                sum += (du * du + dv * dv).squareRoot()
                count += 1
            }
        }
        return sum / Float(max(1, count))
    }
}
