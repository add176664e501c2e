import Core
import Diffusion
import Foundation
import XCTest
@testable import Engine
@testable import MavinModel
@testable import Media
@testable import Metrics
@testable import Tensor

/// The motion-space latent: synthesis from the boundary frames' own pixels, its photometric
/// gradient, and the Infiller's output geometry.
final class MotionSpaceTests: XCTestCase {
    /// A textured scene with a bright textured square whose left edge is at x0.
    static func scene(width w: Int, height h: Int, square x0: Float) -> RGBImage {
        var px = [UInt8](repeating: 0, count: 3 * w * h)
        for y in 0..<h {
            for x in 0..<w {
                var v = 90 + 50 * sin(Float(x) / 5) * cos(Float(y) / 7)
                let u = Float(x) - x0
                if u >= 0 && u < Float(w) / 3 && y >= h / 3 && y < 2 * h / 3 {
                    v = 190 + 30 * sin(u / 7) + 20 * cos(Float(y) / 3)
                }
                let i = 3 * (y * w + x)
                px[i] = UInt8(max(0, min(255, v)))
                px[i + 1] = UInt8(max(0, min(255, v * 0.7)))
                px[i + 2] = UInt8(max(0, min(255, 255 - v)))
            }
        }
        return RGBImage(width: w, height: h, pixels: px)
    }

    func testPhotometricGradientMatchesFiniteDifferences() {
        // Timed: m's correction also moves the flows (through τ = eased(t) − δm), so m's picks test that chain;
        // with an eased time curve the base time moves, the chain does not.
        // With `carry` (at t = 0.25 of an 8-step gap: xˢ's side weighs 0.5, xᵉ's nothing) the anchor's share of the
        // flow to xˢ, and so of τ's chain, is 1 − λ.
        let cases: [(timed: Bool, sharpness: Float, carry: Float, t: Float)] = [
            (false, 0, 0, 0.5), (true, 0, 0, 0.5), (false, 16, 0, 0.5), (true, 16, 0, 0.5), (true, 16, 2, 0.25)
        ]
        for (timed, sharpness, carry, t) in cases {
            let (w, h, G) = (32, 32, 8)
            let neighbours = MotionSynthesis.Neighbours(
                previous: Self.scene(width: w, height: h, square: 2), next: Self.scene(width: w, height: h, square: 13),
                steps: 8)
            let synthesis = MotionSynthesis(
                start: Self.scene(width: w, height: h, square: 4),
                end: Self.scene(width: w, height: h, square: 12), timed: timed, timeSharpness: sharpness,
                neighbours: neighbours, carry: carry)
            XCTAssertEqual(synthesis.carryWeights(t: t).start, carry > 0 ? 0.5 : 0)
            let truth = Self.scene(width: w, height: h, square: 4 + 8 * t)
            var rng = SplitMix64(seed: 21)
            let delta = (0..<(MotionLatent.channels * G * G)).map { i in
                // Small flow corrections; m's correction stays well inside 0…1 around the anchor's 0.5.
                Float.random(in: -0.05...0.05, using: &rng) * (i < 4 * G * G ? 1 : 0.5)
            }
            let (loss, gradient) = synthesis.photometric(correction: delta, grid: G, t: t, truth: truth)
            XCTAssertGreaterThan(loss, 0)
            var numeric: [Float] = []
            var analytic: [Float] = []
            let mPlane = MotionLatent.blend * G * G
            let picks =
                (0..<16).map { _ in Int.random(in: 0..<delta.count, using: &rng) }
                + (0..<8).map { _ in mPlane + Int.random(in: 0..<(G * G), using: &rng) }
            for i in picks {
                var plus = delta
                var minus = delta
                plus[i] += 2e-3
                minus[i] -= 2e-3
                let lp = synthesis.photometric(correction: plus, grid: G, t: t, truth: truth).loss
                let lm = synthesis.photometric(correction: minus, grid: G, t: t, truth: truth).loss
                numeric.append((lp - lm) / 4e-3)
                analytic.append(gradient[i])
            }
            XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-5, "the picks move the loss")
            XCTAssertLessThan(
                relativeError(analytic, numeric), 0.05, "timed \(timed), sharpness \(sharpness), carry \(carry)")
        }
    }

    /// The eased time curve: fixed ends and middle, monotone, and flat next to the boundaries.
    func testEasedTimeHoldsTheBoundaryPoses() {
        XCTAssertEqual(Anchor.eased(0.3, sharpness: 0), 0.3)
        for a: Float in [4, 16] {
            XCTAssertEqual(Anchor.eased(0, sharpness: a), 0, accuracy: 1e-6)
            XCTAssertEqual(Anchor.eased(1, sharpness: a), 1, accuracy: 1e-6)
            XCTAssertEqual(Anchor.eased(0.5, sharpness: a), 0.5, accuracy: 1e-6)
            let curve = (0...20).map { Anchor.eased(Float($0) / 20, sharpness: a) }
            XCTAssertTrue(zip(curve, curve.dropFirst()).allSatisfy { $0 < $1 })
        }
        XCTAssertLessThan(Anchor.eased(1 / 13, sharpness: 16), 0.005, "the first frame of 12 keeps xˢ's pose")
        XCTAssertEqual(Anchor.weight(frame: 3, s: 1, e: 9, sharpness: 6), Anchor.eased(0.25, sharpness: 6))
    }

    /// A time-eased synthesis at t is the linear one at eased(t), timed or not; a motion model reads nil as the
    /// default sharpness, and 0 gives the linear anchor of the checkpoints trained before it.
    func testTimeSharpnessMovesTheAnchorToTheEasedTime() {
        let (w, h) = (48, 32)
        let start = Self.scene(width: w, height: h, square: 6)
        let end = Self.scene(width: w, height: h, square: 30)
        let zero = [Float](repeating: 0, count: MotionLatent.channels * w * h)
        for timed in [false, true] {
            let linear = MotionSynthesis(start: start, end: end, timed: timed)
            let eased = MotionSynthesis(start: start, end: end, timed: timed, timeSharpness: 16)
            let t: Float = 0.2
            let e = eased.motion(correction: zero, t: t).motion
            let l = linear.motion(correction: zero, t: Anchor.eased(t, sharpness: 16)).motion
            XCTAssertLessThan(zip(e, l).map { abs($0 - $1) }.max()!, 1e-5)
            let plain = linear.motion(correction: zero, t: t).motion
            XCTAssertGreaterThan(zip(e, plain).map { abs($0 - $1) }.max()!, 0.05)
        }
        var c = ModelConfig.preset("motion")!
        XCTAssertEqual(c.motionTimeSharpness, ModelConfig.defaultTimeSharpness)
        c.timeSharpness = 0
        XCTAssertEqual(c.motionTimeSharpness, 0)
        XCTAssertNil(c.validate())
        c.timeSharpness = -1
        XCTAssertNotNil(c.validate())
    }

    /// Camera easing: the camera's part of the motion (the flows' dominant affine motion) moves at the frame's
    /// own linear time, the rest at the eased time; a whole-picture pan is all camera, so it is linear motion.
    /// A 64×48 textured picture panned by `shift` pixels.
    static func panned(_ shift: Float) -> RGBImage {
        var px = [UInt8](repeating: 0, count: 3 * 64 * 48)
        for y in 0..<48 {
            for x in 0..<64 {
                let X = Float(x) + shift
                let v = 120 + 60 * sin(X / 4) * cos(Float(y) / 5) + 30 * sin(X * Float(y) / 90)
                for c in 0..<3 { px[3 * (y * 64 + x) + c] = UInt8(max(0, min(255, v - Float(c) * 20))) }
            }
        }
        return RGBImage(width: 64, height: 48, pixels: px)
    }

    func testCameraEasingMovesAPanAtLinearTime() {
        // A whole-picture pan, 4 px.
        let panned = Self.panned
        let (start, end) = (panned(0), panned(4))
        let zero = [Float](repeating: 0, count: MotionLatent.channels * 64 * 48)
        let linear = MotionSynthesis(start: start, end: end, timed: true)
        let uniform = MotionSynthesis(start: start, end: end, timed: true, timeSharpness: 16)
        let t: Float = 0.25
        // Away from the sides, where 4 columns leave or enter the picture.
        let interior = (8..<40).flatMap { y in (14..<50).map { y * 64 + $0 } }
        // The pan is the camera's, so the flows are linear motion's at t; uniform easing's are not.
        let camera = MotionSynthesis(start: start, end: end, timed: true, timeSharpness: 16, easing: .camera)
        let flows = 4 * 64 * 48
        let m = camera.motion(correction: zero, t: t).motion
        let l = linear.motion(correction: zero, t: t).motion
        let u = uniform.motion(correction: zero, t: t).motion
        let planes = (0..<4).flatMap { k in interior.map { k * 64 * 48 + $0 } }
        XCTAssertLessThan(planes.map { abs(m[$0] - l[$0]) }.max()!, 0.005)
        XCTAssertGreaterThan(planes.map { abs(u[$0] - l[$0]) }.max()!, 0.03)
        XCTAssertEqual(m.count, flows + 64 * 48)
        // A still camera and a square moving on its own: all of the motion is eased, as with uniform easing.
        let (a, b) = (Self.scene(width: 48, height: 32, square: 6), Self.scene(width: 48, height: 32, square: 30))
        let still = [Float](repeating: 0, count: MotionLatent.channels * 48 * 32)
        let object = MotionSynthesis(start: a, end: b, timed: true, timeSharpness: 16, easing: .camera)
        let eased = MotionSynthesis(start: a, end: b, timed: true, timeSharpness: 16)
        let o = object.motion(correction: still, t: t).motion
        let e = eased.motion(correction: still, t: t).motion
        XCTAssertLessThan(zip(o, e).map { abs($0 - $1) }.max()!, 0.01)
        let plain = MotionSynthesis(start: a, end: b, timed: true).motion(correction: still, t: t).motion
        XCTAssertGreaterThan(zip(plain, e).map { abs($0 - $1) }.max()!, 0.2)
    }

    /// Adaptive easing: the disagreement map is 0 for a consistent pair of flows and 1 where they contradict
    /// each other (spread by a normalised Gaussian), and the time of a point follows it.
    func testAdaptiveEasingFollowsTheFlowsDisagreement() {
        let (w, h) = (40, 24)
        var f = FlowField(width: w, height: h)
        var g = FlowField(width: w, height: h)
        for i in 0..<(w * h) {
            f.u[i] = 3
            g.u[i] = -3
        }
        func disagreement(_ f: FlowField, _ g: FlowField) -> [Float] {
            let pair = (FlowInterpolation.consistency(f, g), FlowInterpolation.consistency(g, f))
            return MotionSynthesis.disagreement(pair, width: w, height: h)
        }
        XCTAssertLessThan(disagreement(f, g).max()!, 1e-3)
        // A square region whose motion does not come back: 3 px forward, nothing back.
        for y in 8..<16 { for x in 16..<24 { g.u[y * w + x] = 0 } }
        let d = disagreement(f, g)
        XCTAssertGreaterThan(d[12 * w + 16], 0.9, "inside the contradicting region")
        XCTAssertLessThan(d[2 * w + 2], 0.05, "far from it")
        var impulse = [Float](repeating: 0, count: w * h)
        impulse[12 * w + 20] = 1
        let spread = FlowInterpolation.blurred(impulse, width: w, height: h, sigma: 2)
        let norm = (-6...6).map { exp(-Float($0 * $0) / 8) }.reduce(0, +)
        XCTAssertEqual(spread[12 * w + 20], 1 / (norm * norm), accuracy: 1e-6)
        XCTAssertEqual(spread[14 * w + 21], exp(-4 / 8) * exp(-1 / 8) / (norm * norm), accuracy: 1e-6)
        XCTAssertEqual(spread.reduce(0, +), 1, accuracy: 1e-4)
        // On the moving square (still camera) the time is eased on the square's path and linear far from it.
        let (a, b) = (Self.scene(width: 48, height: 32, square: 6), Self.scene(width: 48, height: 32, square: 30))
        let zero = [Float](repeating: 0, count: MotionLatent.channels * 48 * 32)
        let adaptive = MotionSynthesis(start: a, end: b, timed: true, timeSharpness: 16, easing: .adaptive)
        let tau = adaptive.motion(correction: zero, t: 0.25).tau!
        let eased = Anchor.eased(0.25, sharpness: 16)
        XCTAssertEqual(tau.min()!, eased, accuracy: 0.03, "where the square's motion cannot be followed")
        XCTAssertEqual(tau.max()!, 0.25, accuracy: 0.03, "where nothing moves")
    }

    /// Reference easing: the frames next to the boundary frames tell whether the motion carries on through the
    /// gap at its pace (linear time at that end) or starts or stops at the cut (eased there).
    func testReferenceEasingTakesEachEndsPaceFromTheClips() {
        let (w, h) = (96, 64)
        // The square crosses 16 px in 8 steps: 2 px a step.
        func at(_ x: Float) -> RGBImage { Self.scene(width: w, height: h, square: x) }
        func synthesis(previous: Float?, next: Float?, steps: Int = 8) -> MotionSynthesis {
            MotionSynthesis(
                start: at(24), end: at(40), timed: true, timeSharpness: 16, easing: .references,
                neighbours: MotionSynthesis.Neighbours(
                    previous: previous.map(at), next: next.map(at), steps: steps))
        }
        let moving = synthesis(previous: 22, next: 42)
        XCTAssertGreaterThan(moving.pace.start, 0.75)
        XCTAssertGreaterThan(moving.pace.end, 0.75)
        // Half a pixel a step (16 px in 32), as slow as real footage often is at its frame rate: still the take's
        // pace. The square is drawn with its edges' pixels partly covered, so that it moves by half a pixel.
        func smooth(_ x0: Float) -> RGBImage {
            let side = Float(w) / 3
            var px = [UInt8](repeating: 0, count: 3 * w * h)
            for y in 0..<h {
                for x in 0..<w {
                    let background = 90 + 50 * sin(Float(x) / 5) * cos(Float(y) / 7)
                    let u = Float(x) + 0.5 - x0
                    let square = 190 + 30 * sin(u / 7) + 20 * cos(Float(y) / 3)
                    let cover =
                        y >= h / 3 && y < 2 * h / 3
                        ? min(1, max(0, min(Float(x) + 1, x0 + side) - max(Float(x), x0))) : 0
                    let v = cover * square + (1 - cover) * background
                    px[3 * (y * w + x)] = UInt8(max(0, min(255, v)))
                    px[3 * (y * w + x) + 1] = UInt8(max(0, min(255, v * 0.7)))
                    px[3 * (y * w + x) + 2] = UInt8(max(0, min(255, 255 - v)))
                }
            }
            return RGBImage(width: w, height: h, pixels: px)
        }
        func slow(previous: Float, next: Float, steps: Int = 32) -> MotionSynthesis {
            MotionSynthesis(
                start: smooth(24), end: smooth(40), timed: true, timeSharpness: 16, easing: .references,
                neighbours: MotionSynthesis.Neighbours(previous: smooth(previous), next: smooth(next), steps: steps))
        }
        let creeping = slow(previous: 23.5, next: 40.5)
        XCTAssertGreaterThan(creeping.pace.start, 0.75)
        XCTAssertGreaterThan(creeping.pace.end, 0.75)
        // 2 px a step: two thirds of it, what the measure gives for much real motion that carries on, is taken as
        // the take's full pace (`paceGain`; measured alone it is 0.7–0.8 here).
        let twoThirds = slow(previous: 24 - 4 / 3, next: 40 + 4 / 3, steps: 8)
        XCTAssertEqual(twoThirds.pace.start, 1, accuracy: 0.05)
        XCTAssertEqual(twoThirds.pace.end, 1, accuracy: 0.05)
        let stopped = slow(previous: 24, next: 40)
        XCTAssertEqual(stopped.pace.start, 0, accuracy: 0.1)
        XCTAssertEqual(stopped.pace.end, 0, accuracy: 0.1)
        XCTAssertEqual(moving.time(0.25), 0.25, accuracy: 0.03, "a take that carries on: linear time")
        let held = synthesis(previous: 24, next: 40)
        XCTAssertEqual(held.pace.start, 0, accuracy: 0.1)
        XCTAssertEqual(held.pace.end, 0, accuracy: 0.1)
        XCTAssertEqual(held.time(0.25), Anchor.eased(0.25, sharpness: 16), accuracy: 0.02, "still at both cuts")
        // Backwards before the cut: moving some other way counts as no pace.
        let reversed = synthesis(previous: 26, next: 40)
        XCTAssertEqual(reversed.pace.start, 0, accuracy: 0.1)
        // Moving into the gap, stopped after it: linear near xˢ, eased near xᵉ.
        let stopping = synthesis(previous: 22, next: 40)
        XCTAssertGreaterThan(stopping.pace.start, 0.75)
        XCTAssertEqual(stopping.pace.end, 0, accuracy: 0.1)
        let early = stopping.time(0.1)
        let late = stopping.time(0.9)
        XCTAssertEqual(early, 0.1, accuracy: 0.03)
        XCTAssertEqual(late, Anchor.eased(0.9, sharpness: 16), accuracy: 0.03)
        // No neighbouring frames (the boundary frame alone a side): camera easing.
        let alone = synthesis(previous: nil, next: nil)
        XCTAssertEqual(alone.pace.start, 0)
        XCTAssertEqual(alone.time(0.25), Anchor.eased(0.25, sharpness: 16), accuracy: 1e-6)
    }

    /// Paced easing measures the camera's pace too: a pan that runs on through the cuts moves at linear time, one
    /// that only the two boundary frames show (the clips themselves still at their ends) is eased with the rest.
    /// Reference easing keeps the camera linear.
    func testPacedEasingMeasuresTheCamerasPace() {
        let (start, end) = (Self.panned(0), Self.panned(8))
        func synthesis(previous: Float, next: Float, easing: TimeEasing = .paced) -> MotionSynthesis {
            MotionSynthesis(
                start: start, end: end, timed: true, timeSharpness: 16, easing: easing,
                neighbours: MotionSynthesis.Neighbours(
                    previous: Self.panned(previous), next: Self.panned(next), steps: 8))
        }
        // 1 px a step, before, through and after the gap.
        let running = synthesis(previous: -1, next: 9)
        XCTAssertGreaterThan(running.cameraPace.start, 0.75)
        XCTAssertGreaterThan(running.cameraPace.end, 0.75)
        XCTAssertEqual(running.cameraTime(0.25), 0.25, accuracy: 0.05)
        let still = synthesis(previous: 0, next: 8)
        XCTAssertEqual(still.cameraPace.start, 0, accuracy: 0.15)
        XCTAssertEqual(still.cameraPace.end, 0, accuracy: 0.15)
        XCTAssertEqual(still.cameraTime(0.25), Anchor.eased(0.25, sharpness: 16), accuracy: 0.05)
        XCTAssertEqual(synthesis(previous: 0, next: 8, easing: .references).cameraTime(0.25), 0.25, accuracy: 1e-6)
        // Without the neighbouring frames the camera moves at linear time, as with camera easing.
        let alone = MotionSynthesis(start: start, end: end, timed: true, timeSharpness: 16, easing: .paced)
        XCTAssertEqual(alone.cameraTime(0.25), 0.25, accuracy: 1e-6)
    }

    /// Near a boundary the eased anchor is nearly that boundary frame: on a square that moves only in the
    /// middle of the gap (held, then a jump), it beats the linear anchor next to the ends.
    func testEasedAnchorKeepsAHeldPoseNextToTheBoundaries() {
        let (w, h, l) = (96, 64, 6)
        let start = Self.scene(width: w, height: h, square: 20)
        let end = Self.scene(width: w, height: h, square: 44)
        let truth = (1...l).map { k in k <= l / 2 ? start : end }
        let G = 8
        let zero = [Float](repeating: 0, count: l * MotionLatent.channels * G * G)
        func score(_ sharpness: Float) -> [Double] {
            let synthesis = MotionSynthesis(start: start, end: end, timed: true, timeSharpness: sharpness)
            let frames = MotionSynthesis.render(synthesis, clean: zero, coarseAnchor: zero, grid: G)
            return Scores.measure(generated: frames, truth: truth).frame_psnr
        }
        let linear = score(0)
        let eased = score(16)
        XCTAssertGreaterThan(eased[0], linear[0] + 5)
        XCTAssertGreaterThan(eased[l - 1], linear[l - 1] + 5)
    }

    /// Timed: a correction of m by −(τ − t) everywhere is the linear-motion frame at τ; zero is plain blending.
    func testTimedBlendRetimesTheMotion() {
        let (w, h) = (48, 32)
        let start = Self.scene(width: w, height: h, square: 6)
        let end = Self.scene(width: w, height: h, square: 30)
        let synthesis = MotionSynthesis(start: start, end: end, timed: true)
        let n = w * h
        let zero = [Float](repeating: 0, count: MotionLatent.channels * n)
        let plain = synthesis.anchor(t: 0.25)
        XCTAssertEqual(Array(plain[(MotionLatent.blend * n)...]), [Float](repeating: 0.75, count: n))
        var late = zero
        for i in 0..<n { late[MotionLatent.blend * n + i] = 0.25 - 0.75 }
        let retimed = synthesis.motion(correction: late, t: 0.25).motion
        let target = synthesis.anchor(t: 0.75)
        XCTAssertLessThan(zip(retimed, target).map { abs($0 - $1) }.max()!, 1e-5)
        XCTAssertGreaterThan(zip(plain, target).map { abs($0 - $1) }.max()!, 0.1)
    }

    /// Carry: the square moves 2 px a frame up to the cut and then slows to a stop (22, 23, 23.5, 24, 24, 24);
    /// the anchor, eased at a clip that stops, keeps frame 1 near xˢ; carried, frame 1 moves on with the clip's
    /// own motion and is closer to the truth. Without the frames beside the boundaries (one-frame clips) nothing
    /// is carried and the frames are the anchor's, bit for bit.
    func testCarryMovesTheFramesNextToTheCutOnWithTheClipsOwnMotion() {
        let (w, h) = (96, 64)
        let positions: [Float] = [22, 23, 23.5, 24, 24, 24]
        let l = positions.count
        let truth = positions.map { Self.scene(width: w, height: h, square: $0) }
        let start = Self.scene(width: w, height: h, square: 20)
        let end = Self.scene(width: w, height: h, square: 24)
        let G = 8
        let zero = [Float](repeating: 0, count: l * MotionLatent.channels * G * G)
        func frames(carry: Float, previous: RGBImage?, next: RGBImage? = end) -> [RGBImage] {
            let synthesis = MotionSynthesis(
                start: start, end: end, timed: true, timeSharpness: 16, easing: .paced,
                neighbours: MotionSynthesis.Neighbours(previous: previous, next: next, steps: l + 1), carry: carry)
            return MotionSynthesis.render(synthesis, clean: zero, coarseAnchor: zero, grid: G)
        }
        let previous = Self.scene(width: w, height: h, square: 18)
        let anchor = Scores.measure(generated: frames(carry: 0, previous: previous), truth: truth).frame_psnr
        let carried = Scores.measure(generated: frames(carry: 2, previous: previous), truth: truth).frame_psnr
        print(String(format: "frame 1: anchor %.2f dB, carried %.2f dB", anchor[0], carried[0]))
        XCTAssertGreaterThan(carried[0], anchor[0] + 1.5)
        let alone = frames(carry: 2, previous: nil, next: nil)
        XCTAssertTrue(alone.map(\.pixels) == frames(carry: 0, previous: nil, next: nil).map(\.pixels))
        XCTAssertFalse(alone.map(\.pixels) == frames(carry: 2, previous: nil).map(\.pixels), "xᵉ's side carries")
        XCTAssertEqual(MotionSynthesis.carryWeight(steps: 1, carry: 2, gap: 13), 11 / 13, accuracy: 1e-6)
        XCTAssertEqual(MotionSynthesis.carryWeight(steps: 4, carry: 2, gap: 13), 0.5 * 5 / 13, accuracy: 1e-6)
        XCTAssertEqual(MotionSynthesis.carryWeight(steps: 7, carry: 2, gap: 13), 0)
    }

    func testMotionAnchorMovesTheSquareInsteadOfDissolvingIt() {
        let (w, h, l) = (96, 64, 5)
        let start = Self.scene(width: w, height: h, square: 20)
        let end = Self.scene(width: w, height: h, square: 20 + 2 * Float(l + 1))
        let truth = (1...l).map { Self.scene(width: w, height: h, square: 20 + 2 * Float($0)) }
        let synthesis = MotionSynthesis(start: start, end: end)
        let G = 8
        let zero = [Float](repeating: 0, count: l * MotionLatent.channels * G * G)
        let frames = MotionSynthesis.render(synthesis, clean: zero, coarseAnchor: zero, grid: G)
        XCTAssertEqual(frames.count, l)
        let motion = Scores.measure(generated: frames, truth: truth)
        let fade = Scores.measure(
            generated: try! Baseline.crossfade.generate(start: start, end: end, length: l), truth: truth)
        // Bilinear warps (as the photometric loss) soften the square's texture a little where the flow is a
        // fraction of a pixel off (bicubic kept over +3 dB, and lost on the synthetic transitions). The square
        // moves 12 px, an eighth of the frame: +2.1 dB and +0.020 MS-SSIM over the crossfade with the quadratic
        // flow refinement, +1.55 dB and +0.019 with the robust one (DISFlow.Settings.robust), which wins on the
        // tuning sets and leaves part of the square's lower edge behind here.
        XCTAssertGreaterThan(motion.psnr, fade.psnr + 1.2, "warped pixels follow the square; a crossfade ghosts it")
        XCTAssertGreaterThan(motion.ms_ssim, fade.ms_ssim + 0.015)
    }

    /// Another output count puts frame k at t = k / (count + 1) and interpolates the corrections in time:
    /// where an output time is a sampled one the frames are the same; with no correction, the anchor at t.
    func testRenderResamplesTheCorrectionsInTime() {
        let (w, h, l, G) = (48, 32, 2, 8)
        let start = Self.scene(width: w, height: h, square: 6)
        let end = Self.scene(width: w, height: h, square: 18)
        let synthesis = MotionSynthesis(start: start, end: end)
        let perFrame = MotionLatent.channels * G * G
        let anchor = [Float](repeating: 0, count: l * perFrame)
        var rng = SplitMix64(seed: 5)
        let clean = (0..<(l * perFrame)).map { _ in Float.random(in: -0.05...0.05, using: &rng) }
        let sampled = MotionSynthesis.render(synthesis, clean: clean, coarseAnchor: anchor, grid: G)
        let resampled = MotionSynthesis.render(synthesis, clean: clean, coarseAnchor: anchor, grid: G, output: 5)
        XCTAssertEqual(resampled.count, 5)
        // t = 2/6 and 4/6 are the sampled frames' 1/3 and 2/3.
        XCTAssertEqual(resampled[1].pixels, sampled[0].pixels)
        XCTAssertEqual(resampled[3].pixels, sampled[1].pixels)
        XCTAssertNotEqual(resampled[2].pixels, sampled[0].pixels)
        XCTAssertNotEqual(resampled[2].pixels, sampled[1].pixels)
        let plain = MotionSynthesis.render(synthesis, clean: anchor, coarseAnchor: anchor, grid: G, output: 5)
        for k in 0..<5 {
            XCTAssertEqual(plain[k].pixels, synthesis.frame(latent: synthesis.anchor(t: Float(k + 1) / 6)).pixels)
        }
    }

    /// Lengths beyond the trained ones: the motion is decided at the nearest trained length and resampled.
    func testAMotionModelMakesLengthsBeyondItsTrainedRange() throws {
        let infiller = Infiller(model: Self.tinyMotionModel())
        XCTAssertEqual(infiller.trainedLengths, 2...4)
        XCTAssertEqual(infiller.allowedLengths, 1...Infiller.longestMotionInfill)
        let before = (0..<4).map { Self.scene(width: 48, height: 32, square: Float(2 + $0)) }
        let after = (0..<4).map { Self.scene(width: 48, height: 32, square: Float(30 + $0)) }
        for length in [1, 9, Infiller.longestMotionInfill] {
            let result = try infiller.run(InfillRequest(before: before, after: after, length: length))
            XCTAssertEqual(result.frames.count, length)
            XCTAssertEqual(result.notices.filter { $0.contains("resampled in time") }.count, 1, "\(result.notices)")
        }
        XCTAssertTrue(
            try infiller.run(InfillRequest(before: before, after: after, length: 4)).notices.allSatisfy {
                !$0.contains("resampled in time")
            })
        XCTAssertThrowsError(
            try infiller.run(
                InfillRequest(
                    before: before, after: after,
                    length: Infiller.longestMotionInfill + 1)))
    }

    /// A tiny untrained motion model (its output layer is zero, so it returns the anchor).
    static func tinyMotionModel() -> MavinModel {
        var c = ModelConfig.preset("motion")!
        c.name = "motion-test"
        c.resolution = 32
        c.frames = 8
        c.channels = [32, 32]
        c.heads = 2
        c.embeddingDim = 32
        c.contextDim = 32
        c.boundaryPatch = 8
        c.ranges = BoundaryRanges(startLow: 1, startHigh: 2, endLow: 5, endHigh: 6)
        c.residualScale = 4
        let net = MavinUNet(config: c)
        net.initialise(seed: 3)
        return MavinModel(network: net, codec: nil)
    }

    /// The tiny motion model with the motion anchor trained `steps` steps on the tiny model's data, options as
    /// `configure` sets them, and those options.
    static func trainedMotionModel(name: String, steps: Int, configure: (inout TrainOptions) -> Void) throws
        -> (Trainer, TrainOptions)
    {
        let tiny = TinyModel.shared
        var o = TrainOptions(
            data: [tiny.folder.appendingPathComponent("data").path],
            output: tiny.folder.appendingPathComponent("\(name).safetensors"),
            config: Self.tinyMotionModel().config)
        o.config.anchor = .motion
        o.steps = steps
        o.evalEvery = steps
        o.saveEvery = steps
        o.warmup = 1
        o.validationFraction = 0.25
        configure(&o)
        let trainer = Trainer(options: o)
        try trainer.run(log: { _ in })
        return (trainer, o)
    }

    /// Training the motion model with SEINE-like masking (the ablation): it runs and records the masking, the
    /// loss mask is the corrupted frames, and the photometric loss (and its gradient) is taken on exactly the
    /// corrupted frames between s and e, whichever of them the mask picked.
    func testSeineMaskedMotionTrainingMeasuresTheCorruptedFramesOfTheGap() throws {
        let (trainer, o) = try Self.trainedMotionModel(name: "seine-motion", steps: 2) { o in
            o.config.masking = .seine
            o.photometricWeight = 1000
        }
        XCTAssertEqual(try MavinModel.load(o.output).config.masking, .seine)
        let c = trainer.model!.config
        let per = c.latentChannels * c.latentSide * c.latentSide
        var rng = SplitMix64(seed: 5)
        var partial = 0
        for _ in 0..<12 {
            let (_, _, mask, _, cases) = trainer.batch([trainer.data.training[0]], rng: &rng)
            let item = cases[0]
            XCTAssertEqual(mask, item.noised.map { $0 ? 1 : 0 })
            XCTAssertFalse(item.noised[item.s] || item.noised[item.e])
            let gap = Array((item.s + 1)..<item.e)
            XCTAssertEqual(item.measured, gap.filter { item.noised[$0] })
            if item.measured.count < gap.count { partial += 1 }
            var gradient = [Float](repeating: 0, count: c.frames * per)
            let zero = [Float](repeating: 0, count: c.frames * per)
            _ = trainer.photometricLoss(cases, output: zero, dOut: &gradient, weight: 1)
            for f in 0..<c.frames {
                let touched = gradient[(f * per)..<((f + 1) * per)].contains { $0 != 0 }
                XCTAssertEqual(touched, item.measured.contains(f), "frame \(f) of \(item.noised)")
            }
        }
        XCTAssertGreaterThan(partial, 0, "some gap frames are left clean")
    }

    /// `--photometric-log`: the gradient added is that of λ × the frames' mean ln(MSE + 10⁻⁵), by central
    /// differences of the per-frame errors the loss reports along a random direction.
    func testLogPhotometricLossHasTheGradientOfTheMeanLogError() throws {
        let (trainer, _) = try Self.trainedMotionModel(name: "log-photometric", steps: 1) { o in
            o.photometricWeight = 2
            o.photometricInDecibels = true
        }
        let c = trainer.model!.config
        let count = c.frames * c.latentChannels * c.latentSide * c.latentSide
        var rng = SplitMix64(seed: 8)
        let (_, _, _, _, cases) = trainer.batch([trainer.data.training[0]], rng: &rng)
        let output = (0..<count).map { _ in Float.random(in: -0.3...0.3, using: &rng) }
        let direction = (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
        func loss(_ x: [Float]) -> Double {
            var logs: [Double] = []
            _ = trainer.photometricLoss(
                cases, output: x, dOut: nil, weight: 0, eachFrame: { logs.append(log(Double($0) + 1e-5)) })
            return 2 * logs.reduce(0, +) / Double(logs.count)
        }
        var gradient = [Float](repeating: 0, count: count)
        _ = trainer.photometricLoss(cases, output: output, dOut: &gradient, weight: 2)
        let analytic = zip(gradient, direction).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let h: Float = 3e-3
        let numeric =
            (loss(zip(output, direction).map { $0 + h * $1 }) - loss(zip(output, direction).map { $0 - h * $1 }))
            / Double(2 * h)
        XCTAssertGreaterThan(abs(numeric), 1e-3, "the direction moves the loss")
        XCTAssertEqual(analytic, numeric, accuracy: 0.05 * abs(numeric), "analytic \(analytic), numeric \(numeric)")
        // (A plain-MSE gradient is 1 / (MSE + ε), tens to hundreds of times, off this.)
    }

    func testInfillComesOutAtTheClipsOwnSizeAndAspect() throws {
        let model = Self.tinyMotionModel()
        XCTAssertNil(model.config.validate())
        let infiller = Infiller(model: model)
        for (w, h) in [(176, 144), (72, 128)] {
            let before = (0..<4).map { Self.scene(width: w, height: h, square: Float(10 + $0)) }
            let after = (0..<4).map { Self.scene(width: w, height: h, square: Float(20 + $0)) }
            var request = InfillRequest(before: before, after: after, length: 3)
            request.record = true
            let result = try infiller.run(request)
            XCTAssertEqual(result.frames.count, 3)
            for f in result.frames + result.steps[0].predicted {
                XCTAssertEqual(f.width, w)
                XCTAssertEqual(f.height, h)
            }
            XCTAssertTrue(result.notices.contains { $0.contains("pixels warped at \(w)×\(h)") }, "\(result.notices)")
        }
    }

    func testTheBoundaryFrameAloneEachSideIsEnough() throws {
        let infiller = Infiller(model: Self.tinyMotionModel())
        let request = InfillRequest(
            before: [Self.scene(width: 48, height: 32, square: 4)],
            after: [Self.scene(width: 48, height: 32, square: 10)], length: 4)
        let result = try infiller.run(request)
        XCTAssertEqual(result.frames.count, 4)
        XCTAssertEqual(result.notices.filter { $0.contains("is repeated") }.count, 2, "\(result.notices)")
        XCTAssertThrowsError(try infiller.run(InfillRequest(before: [], after: request.after, length: 4)))
    }

    func testEtaOutsideItsRangeIsRefused() {
        let infiller = Infiller(model: Self.tinyMotionModel())
        for eta: Float in [-1, 1e9, .nan] {
            var request = InfillRequest(
                before: [Self.scene(width: 32, height: 32, square: 4)],
                after: [Self.scene(width: 32, height: 32, square: 8)], length: 3)
            request.settings.eta = eta
            XCTAssertThrowsError(try infiller.run(request)) { XCTAssertTrue("\($0)".contains("eta"), "\($0)") }
        }
    }

    /// `ease` overrides the model's time curve per junction: 0 is the linear anchor, a value outside 0…100 is
    /// refused, and unset is the model's default.
    func testEaseSettingOverridesTheAnchorsTimeCurve() throws {
        let infiller = Infiller(model: Self.tinyMotionModel())
        // The clips move at a quarter of the gap's pace, so the paced curve keeps some easing (`paceGain`).
        let before = (0..<4).map { Self.scene(width: 48, height: 32, square: Float(5 + $0)) }
        let after = (0..<4).map { Self.scene(width: 48, height: 32, square: Float(24 + $0)) }
        func frames(_ pairs: String) throws -> [RGBImage] {
            var request = InfillRequest(before: before, after: after, length: 3)
            request.settings = try JunctionSettings.sampler(SamplerSettings(), applying: "strength=0," + pairs)
            return try infiller.run(request).frames
        }
        let linear = try frames("ease=0")
        let model = try frames("seed=0")
        let explicit = try frames("ease=\(ModelConfig.defaultTimeSharpness)")
        XCTAssertEqual(model.map(\.pixels), explicit.map(\.pixels))
        XCTAssertNotEqual(linear[0].pixels, model[0].pixels)
        // The eased first frame stays nearer xˢ than the linear one.
        let start = before[before.count - 1]
        XCTAssertGreaterThan(ImageQuality.psnr(model[0], start), ImageQuality.psnr(linear[0], start))
        XCTAssertThrowsError(try frames("ease=101")) { XCTAssertTrue("\($0)".contains("ease"), "\($0)") }
        var junction = Plan.Junction()
        XCTAssertNil(JunctionSettings.setting("ease")!.value(of: junction), "unset: a plan does not write it")
        try JunctionSettings.setting("ease")!.apply("4", to: &junction)
        XCTAssertEqual(junction.settings.timeSharpness, 4)
    }

    /// `warp = bicubic` samples the clips' pixels bicubically: at a sub-pixel motion its frames keep more of the
    /// texture's fine detail (Laplacian variance) than bilinear ones; unset is bicubic; a bad value is refused.
    func testWarpSettingChoosesTheOutputFilter() throws {
        let infiller = Infiller(model: Self.tinyMotionModel())
        // Fine texture moving 1.5 px over the gap: every output frame samples between pixels.
        func textured(_ dx: Float) -> RGBImage {
            var px = [UInt8](repeating: 0, count: 3 * 64 * 48)
            for y in 0..<48 {
                for x in 0..<64 {
                    let v = 128 + 90 * sin((Float(x) - dx) * 1.9) * cos(Float(y) * 1.7)
                    for c in 0..<3 { px[3 * (y * 64 + x) + c] = UInt8(max(0, min(255, v))) }
                }
            }
            return RGBImage(width: 64, height: 48, pixels: px)
        }
        func frames(_ pairs: String) throws -> [RGBImage] {
            var request = InfillRequest(before: [textured(0)], after: [textured(1.5)], length: 3)
            request.settings = try JunctionSettings.sampler(SamplerSettings(), applying: pairs)
            return try infiller.run(request).frames
        }
        func detail(_ f: RGBImage) -> Double {
            ImageQuality.laplacianVariance(f.luma(), width: f.width, height: f.height)
        }
        let unset = try frames("seed=0")
        let bilinear = try frames("warp=bilinear")
        let bicubic = try frames("warp=bicubic")
        XCTAssertEqual(unset.map(\.pixels), bicubic.map(\.pixels))
        XCTAssertEqual(bicubic[0].width, 64)
        XCTAssertGreaterThan(detail(bicubic[1]), 1.1 * detail(bilinear[1]), "bicubic keeps the fine texture")
        XCTAssertThrowsError(try frames("warp=nearest")) { XCTAssertTrue("\($0)".contains("warp"), "\($0)") }
    }

    func testCheckpointOfAMotionModelRoundTripsWithoutACodec() throws {
        let model = Self.tinyMotionModel()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mavin-motion-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url, overwrite: false)
        let back = try MavinModel.load(url)
        XCTAssertEqual(back.config, model.config)
        XCTAssertNil(back.codec)
        XCTAssertEqual(back.config.latentSpace, .motion)
    }
}
