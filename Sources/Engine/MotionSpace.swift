import Core
import Diffusion
import Foundation
import MavinModel
import Media
import Metrics
import Tensor

/// The motion-space latent (DESIGN.md, "Where the pixels come from"): for frame n of a window,
/// the backward flows to both boundary frames, F_{n→s} and F_{n→e}, and the blend weight m of the
/// warped xˢ, on a G×G grid. A frame is synthesised from the boundary frames' own pixels at their
/// own size: x̂ₙ = m·W(xˢ, F_{n→s}) + (1 − m)·W(xᵉ, F_{n→e}).
///
/// Flows are stored in frame units (a displacement of a whole frame width or height = `flowScale`),
/// so a latent means the same motion at any picture size or aspect ratio.
public enum MotionLatent {
    /// Channel layout of one frame: [u→s, v→s, u→e, v→e, m] (the motion anchor's).
    public static let channels = Anchor.motionPlanes
    public static let toStart = Anchor.motionToStart
    public static let toEnd = Anchor.motionToEnd
    public static let blend = Anchor.motionBlend
    public static let flowScale: Float = 4

    /// Flow estimation used for latents: DIS at the model's resolution.
    static let settings = DISFlow.Settings()

    /// Latents [L, 5, G, G] of a window of R×R frames whose boundary frames are s and e: each known
    /// frame's flows to xˢ and xᵉ (DIS, straight to the boundary), pooled to the grid, and m from which
    /// warp explains the frame better (photometric error of each, averaged over a grid cell). Unknown
    /// frames (nil: the infill at inference) get zeros.
    public static func encode(window frames: [RGBImage?], s: Int, e: Int, grid G: Int) -> [Float] {
        guard let first = frames[s], let last = frames[e] else { preconditionFailure("the boundary frames are known") }
        let R = first.width
        precondition(frames.allSatisfy { $0 == nil || ($0!.width == R && $0!.height == R) } && R % G == 0)
        let boundaryLuma = [first.luma(), last.luma()]
        let planar = [first.planarFloats(), last.planarFloats()]
        let perFrame = channels * G * G
        let rows: [[Float]] = parallelMap(frames.count) { n in
            var latent = [Float](repeating: 0, count: perFrame)
            guard let frame = frames[n] else { return latent }
            let luma = frame.luma()
            let x = frame.planarFloats()
            var errors: [[Float]] = []
            for (k, target) in [s, e].enumerated() {
                let flow: FlowField =
                    n == target
                    ? FlowField(width: R, height: R)
                    : DISFlow.flow(from: luma, to: boundaryLuma[k], width: R, height: R, settings: settings)
                let planes = flow.u + flow.v
                let pooled = pool(planes, side: R, grid: G)
                let base = (k == 0 ? toStart : toEnd) * G * G
                for i in 0..<(2 * G * G) { latent[base + i] = pooled[i] / Float(R) * flowScale }
                var warped = [Float](repeating: 0, count: 3 * R * R)
                warpForward(out: &warped, image: planar[k], flow: planes, channels: 3, height: R, width: R)
                var err = [Float](repeating: 0, count: R * R)
                for c in 0..<3 {
                    for i in 0..<(R * R) { err[i] += abs(warped[c * R * R + i] - x[c * R * R + i]) }
                }
                errors.append(pool(err, side: R, grid: G))
            }
            for i in 0..<(G * G) {
                // m = share of the start frame: 1 where its warp explains the frame and the end's does not.
                let es = errors[0][i]
                let ee = errors[1][i]
                latent[blend * G * G + i] = n <= s ? 1 : (n >= e ? 0 : (ee + 1e-3) / (es + ee + 2e-3))
            }
            return latent
        }
        return Array(rows.joined())
    }

    /// Average pooling of planes [P, side, side] to [P, grid, grid].
    static func pool(_ planes: [Float], side: Int, grid: Int) -> [Float] {
        let cell = side / grid
        let count = planes.count / (side * side)
        var out = [Float](repeating: 0, count: count * grid * grid)
        let norm = 1 / Float(cell * cell)
        for p in 0..<count {
            for y in 0..<side {
                for x in 0..<side {
                    out[(p * grid + y / cell) * grid + x / cell] += planes[(p * side + y) * side + x] * norm
                }
            }
        }
        return out
    }
}

/// Builds output frames from the boundary frames' own pixels at their own size (MotionLatent).
public struct MotionSynthesis {
    public let start: RGBImage
    public let end: RGBImage
    let startPlanar: [Float]
    let endPlanar: [Float]
    /// Bidirectional flow between the boundary frames at the working size, in working pixels.
    let forward: FlowField
    let backward: FlowField
    /// Forward–backward consistency of each (1 visible, small where occluded), at the working size.
    let visibleStart: [Float]
    let visibleEnd: [Float]

    /// The working size of the flows between the boundary frames: their aspect, longest side at most `longSide`
    /// (640, chosen on the real tuning clips: 384 / 512 / 640 / 768 gave 22.55 / 23.02 / 23.15 / 23.12 dB; a 12-frame
    /// 720p infill stays within its 5 s budget on 2 cores). Flows are upsampled to the output.
    public static func workingSize(width: Int, height: Int, longSide: Int = 640) -> (Int, Int) {
        let scale = min(1, Float(longSide) / Float(max(width, height)))
        return (max(8, Int((Float(width) * scale).rounded())), max(8, Int((Float(height) * scale).rounded())))
    }

    /// m is also the time (`ModelConfig.timesBlend`): τ = 1 − m at each point, the flows follow it.
    public let timed: Bool
    /// How the output frames sample the boundary frames (`frame(latent:)`); training's photometric loss is
    /// always bilinear.
    public var warp = WarpFilter.standard
    /// Sharpness of the anchor's time curve (`ModelConfig.timeSharpness`): the frame at position t moves as at
    /// time `Anchor.eased(t)`. 0 is linear motion.
    public let timeSharpness: Float
    /// With `TimeEasing.adaptive`: how far each working point's time follows the eased curve rather than the
    /// linear one (1 where the two flows disagree, 0 where they agree); empty: the eased curve everywhere.
    let easeShare: [Float]
    /// The parts of the two flows that move at the eased time: all of them, or with `TimeEasing.camera`
    /// what is left after the camera's motion (`cameraForward`, `cameraBackward`, moved at the frame's own
    /// linear time; nil otherwise).
    let localForward: FlowField
    let localBackward: FlowField
    let cameraForward: FlowField?
    let cameraBackward: FlowField?
    /// With `TimeEasing.references` or `paced`: how much of the clips' own pace the time curve keeps at each end,
    /// in 0…1 (`photometricPace` times `paceGain`): 0 starts or ends at a standstill (the eased curve), 1 at the
    /// gap's mean speed (linear time). 0 at both ends otherwise.
    public let pace: (start: Float, end: Float)
    /// The same for the camera's part of the motion (`photometricPace`, with `TimeEasing.paced`); 1 at both ends
    /// (linear time, as `camera` and `references` move it) otherwise.
    public let cameraPace: (start: Float, end: Float)
    /// How far each clip's own motion at its boundary carries into the gap (`carry`, in frames; 0: not at all),
    /// and that motion: the flows from xˢ to the frame before it and from xᵉ to the frame after it, at the working
    /// size (nil where the neighbour is not known or `carry` is 0), and the steps from xˢ to xᵉ.
    public let carry: Float
    let carriedStart: FlowField?
    let carriedEnd: FlowField?
    let carrySteps: Float

    /// The frame before `start` in its clip, the frame after `end` in its, and the steps from `start` to `end`
    /// at the clips' frame rate (the output length + 1): what lets `TimeEasing.references` measure the pace.
    public struct Neighbours {
        public var previous: RGBImage?
        public var next: RGBImage?
        public var steps: Int
        public init(previous: RGBImage?, next: RGBImage?, steps: Int) {
            self.previous = previous
            self.next = next
            self.steps = steps
        }
    }

    public init(
        start: RGBImage, end: RGBImage, timed: Bool = false, timeSharpness: Float = 0,
        easing: TimeEasing = .uniform, neighbours: Neighbours? = nil, carry: Float = 0
    ) {
        precondition(start.width == end.width && start.height == end.height)
        self.start = start
        self.end = end
        self.timed = timed
        self.timeSharpness = timeSharpness
        startPlanar = start.planarFloats()
        endPlanar = end.planarFloats()
        let (w, h) = MotionSynthesis.workingSize(width: start.width, height: start.height)
        let a = start.resized(width: w, height: h).luma()
        let b = end.resized(width: w, height: h).luma()
        // The neighbours at the working size, resized once for carry's flows and the pace (`references`, `paced`).
        let usesNeighbours = carry > 0 || easing == .references || easing == .paced
        func working(_ image: RGBImage?) -> [Float]? {
            usesNeighbours ? image?.resized(width: w, height: h).luma() : nil
        }
        let previous = working(neighbours?.previous)
        let next = working(neighbours?.next)
        // The pair between the boundary frames, and with `carry` each boundary frame's flow to its neighbour.
        let sides = [(a, b), (b, a), carry > 0 ? previous.map { (a, $0) } : nil, carry > 0 ? next.map { (b, $0) } : nil]
        let flows = parallelMap(sides.count) { k in
            sides[k].map { DISFlow.flow(from: $0.0, to: $0.1, width: w, height: h) }
        }
        let pair = [flows[0]!, flows[1]!]
        self.carry = carry
        carriedStart = flows[2]
        carriedEnd = flows[3]
        carrySteps = Float(neighbours?.steps ?? 0)
        // Timed models blend by time alone, (1 − τ)·W(xˢ) + τ·W(xᵉ): no visibility needed.
        visibleStart = timed ? [] : FlowInterpolation.visibility(pair[0], pair[1])
        visibleEnd = timed ? [] : FlowInterpolation.visibility(pair[1], pair[0])
        forward = pair[0]
        backward = pair[1]
        if easing != .uniform && timeSharpness > 0 {
            let consistent = (
                FlowInterpolation.consistency(pair[0], pair[1]), FlowInterpolation.consistency(pair[1], pair[0])
            )
            easeShare = easing == .adaptive ? MotionSynthesis.disagreement(consistent, width: w, height: h) : []
            // The dominant affine motion of each flow, fitted where the pair is consistent and robustly (a
            // Cauchy weight of 1 px at 128², scaled with the working size).
            let scale = Float(max(w, h)) / 128
            let cf = pair[0].affineFit(weights: consistent.0, scale: scale)
            let cb = pair[1].affineFit(weights: consistent.1, scale: scale)
            func minus(_ f: FlowField, _ g: FlowField) -> FlowField {
                var out = f
                for i in out.u.indices {
                    out.u[i] -= g.u[i]
                    out.v[i] -= g.v[i]
                }
                return out
            }
            let lf = minus(pair[0], cf)
            let lb = minus(pair[1], cb)
            cameraForward = cf
            cameraBackward = cb
            localForward = lf
            localBackward = lb
            if easing == .references || easing == .paced, let neighbours {
                func slope(
                    _ neighbour: [Float]?, from grid: [Float], local: FlowField, camera: FlowField
                ) -> (camera: Float, local: Float) {
                    guard let neighbour else { return (1, 0) }
                    return MotionSynthesis.photometricPace(
                        boundary: grid, neighbour: neighbour, width: w, height: h,
                        local: local, camera: camera, steps: Float(neighbours.steps), scale: scale,
                        measuresCamera: easing == .paced)
                }
                // At xˢ the frame before it, moved back along F_{s→e}; at xᵉ the frame after it, along F_{e→s}.
                let ends = parallelMap(2) { k in
                    k == 0
                        ? slope(previous, from: a, local: lf, camera: cf)
                        : slope(next, from: b, local: lb, camera: cb)
                }
                let gain = MotionSynthesis.paceGain
                pace = (min(1, gain * ends[0].local), min(1, gain * ends[1].local))
                cameraPace = (ends[0].camera, ends[1].camera)
            } else {
                pace = (0, 0)
                cameraPace = (1, 1)
            }
        } else {
            easeShare = []
            cameraForward = nil
            cameraBackward = nil
            localForward = pair[0]
            localBackward = pair[1]
            pace = (0, 0)
            cameraPace = (1, 1)
        }
    }

    /// What the measured local pace (`photometricPace`) is multiplied by before the time curve keeps it (capped
    /// at 1). The measure projects one step of the clip's motion on the gap's mean step, and a motion that is not
    /// a straight, steady path through the gap (limbs, a turning rider) projects short: on the real tuning clips,
    /// continuous takes where 1 is right, it averages 0.65 at each end. 1.5 ≈ 1/0.65 was also the best of
    /// 1 / 1.5 / 2 / 3 on the four tuning sets' mean PSNR (26.318 / 26.342 / 26.338 / 26.314 dB), with CLIP-RS
    /// 0.9302 / 0.9307 / 0.9309 / 0.9309; a synthetic clip that stops at the cut still measures 0 and stays eased
    /// (Samples/models/README.md).
    public static let paceGain: Float = 1.5

    /// How much of the gap's mean speed a clip still has at its boundary frame, in 0…1, for the camera's part of
    /// the motion and for the rest, measured on the pixels: the (p_c, p) for which the neighbouring frame N (the
    /// frame before xˢ, or after xᵉ) is the boundary frame B moved one step back along the gap's motion at those
    /// paces, N(q) ≈ B(q + (p_c·C(q) + p·L(q)) / n), with C the camera's part of the boundary's flow through the gap
    /// (`camera`), L the rest (`local`) and n = `steps` the steps it spans. Gauss–Newton on both over the points
    /// the gap moves by more than `scale` working pixels, both planes lightly blurred (σ = 1). A clip at rest at
    /// its boundary gives 0, one carrying on at the gap's pace 1; a camera that only the fit between the two
    /// boundary frames sees (a still shot whose subject's motion it partly took) gives p_c near 0, a pan that runs
    /// on through the cut 1. No flow between the two frames is needed: at a clip's frame rate that step is a
    /// pixel or less, where a flow estimator's smoothing and its preference for no motion in weak texture shrink
    /// it. Without `measuresCamera` the camera's pace is 1 and p alone is fitted, over the points L moves.
    static func photometricPace(
        boundary: [Float], neighbour: [Float], width w: Int, height h: Int, local: FlowField, camera: FlowField,
        steps n: Float, scale: Float, measuresCamera: Bool = true
    ) -> (camera: Float, local: Float) {
        let b = FlowInterpolation.blurred(boundary, width: w, height: h, sigma: 1)
        let nb = FlowInterpolation.blurred(neighbour, width: w, height: h, sigma: 1)
        let delta: Float = 0.25
        var pc: Float = 1
        var pl: Float = 0.5
        for _ in 0..<5 {
            // Normal equations of the two paces: [[cc, cl], [cl, ll]] · Δ = [rc, rl].
            var cc: Double = 0
            var cl: Double = 0
            var ll: Double = 0
            var rc: Double = 0
            var rl: Double = 0
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x
                    let (lu, lv) = (local.u[i], local.v[i])
                    let (cu, cv) = (camera.u[i], camera.v[i])
                    let moved = measuresCamera ? max(lu * lu + lv * lv, cu * cu + cv * cv) : lu * lu + lv * lv
                    guard moved > scale * scale else { continue }
                    func at(_ c: Float, _ l: Float) -> Float {
                        FlowInterpolation.sampleClamped(
                            b, w, h, Float(x) + (c * cu + l * lu) / n, Float(y) + (c * cv + l * lv) / n)
                    }
                    let r = Double(nb[i] - at(pc, pl))
                    // The camera's column only when its pace is fitted: two samples a point saved otherwise.
                    let gc = measuresCamera ? Double((at(pc + delta, pl) - at(pc - delta, pl)) / (2 * delta)) : 0
                    let gl = Double((at(pc, pl + delta) - at(pc, pl - delta)) / (2 * delta))
                    cc += gc * gc
                    cl += gc * gl
                    ll += gl * gl
                    rc += r * gc
                    rl += r * gl
                }
            }
            // A pace that next to nothing in the picture measures (a camera the fit finds barely moving, or no
            // motion of the scene's own) keeps its start: the camera's 1 (linear time, as `TimeEasing.camera`).
            if !measuresCamera || cc < 1e-2 * ll {
                if ll > 0 { pl = min(1.5, max(-0.5, pl + Float(rl / ll))) }
                continue
            }
            if ll < 1e-2 * cc {
                pc = min(1.5, max(-0.5, pc + Float(rc / cc)))
                continue
            }
            // Levenberg damping of the 2 × 2 normal equations.
            cc *= 1.001
            ll *= 1.001
            let det = cc * ll - cl * cl
            guard det > 0 else { break }
            pc = min(1.5, max(-0.5, pc + Float((ll * rc - cl * rl) / det)))
            pl = min(1.5, max(-0.5, pl + Float((cc * rl - cl * rc) / det)))
        }
        return (min(1, max(0, pc)), min(1, max(0, pl)))
    }

    /// Where the flows between the boundary frames cannot both be right, in 0…1 on the working grid: one
    /// minus the lower of the two forward–backward consistencies (`FlowInterpolation.consistency`, given) at each
    /// point, spread by a Gaussian of σ = 1/32 of the longer side (a transition frame's moving parts lie
    /// between where the two boundary frames have them) and doubled, so that a limb a few points wide still
    /// reaches 1. What the flows follow both ways (a pan, a rigid move, a face turning) stays near 0.
    static func disagreement(_ consistent: ([Float], [Float]), width w: Int, height h: Int) -> [Float] {
        let raw = (0..<(w * h)).map { 1 - min(consistent.0[$0], consistent.1[$0]) }
        let spread = FlowInterpolation.blurred(raw, width: w, height: h, sigma: Float(max(w, h)) / 32)
        return spread.map { min(1, 2 * $0) }
    }

    public var workingWidth: Int { forward.width }
    public var workingHeight: Int { forward.height }

    /// Coefficients of F_{s→e} and F_{e→s} in the flows to xˢ and xᵉ at time τ under linear motion,
    /// and their derivatives with respect to τ.
    @inline(__always) static func coefficients(_ t: Float)
        -> (toStart: (Float, Float), toEnd: (Float, Float), dStart: (Float, Float), dEnd: (Float, Float))
    {
        ((-(1 - t) * t, t * t), ((1 - t) * (1 - t), -t * (1 - t)), (2 * t - 1, 2 * t), (-2 * (1 - t), 2 * t - 1))
    }

    /// The anchor's time of the frame at position t of the gap: t eased by `timeSharpness`.
    /// Next to a boundary a transition's true frame is nearly the boundary frame (the limbs' motion over
    /// the whole gap is no straight path, and a flow between the boundary poses is least right there), so
    /// linear motion put the flow's errors into the frames that repeating xˢ or xᵉ gets almost exact.
    /// With a measured `pace` the curve keeps that share of the clips' own speed at each end: a blend of t and the
    /// eased curve whose weight on t goes from `pace.start` to `pace.end` across the gap, so its slope at 0 is
    /// about `pace.start` and at 1 about `pace.end`.
    public func time(_ t: Float) -> Float {
        MotionSynthesis.curve(t, keeping: pace, sharpness: timeSharpness)
    }

    /// The time of the camera's part of the motion (`TimeEasing.camera`, `references`, `paced`): as `time`, with
    /// `cameraPace`, which only `paced` measures (linear otherwise).
    public func cameraTime(_ t: Float) -> Float {
        MotionSynthesis.curve(t, keeping: cameraPace, sharpness: timeSharpness)
    }

    /// keep·t + (1 − keep)·eased(t), keep going from `pace.start` to `pace.end` across the gap.
    static func curve(_ t: Float, keeping pace: (start: Float, end: Float), sharpness: Float) -> Float {
        let eased = Anchor.eased(t, sharpness: sharpness)
        let keep = (1 - t) * pace.start + t * pace.end
        return keep * t + (1 - keep) * eased
    }

    /// The motion of the frame at position t with a correction on the working grid (latent units):
    /// the anchor at the eased time plus the correction, or, when `timed`, the flows of linear motion
    /// taken at each point's own time τ = time(t) − δm (clamped to 0…1) plus the flow correction, and
    /// m = 1 − τ. τ is returned for the gradient (nil when not timed).
    public func motion(correction up: [Float], t: Float) -> (motion: [Float], tau: [Float]?) {
        let base = time(t)
        let camera = cameraTime(t)
        guard timed else {
            var motion = anchor(t: base, linear: camera)
            for i in motion.indices { motion[i] += up[i] }
            carryClipMotion(&motion, correction: up, t: t)
            return (motion, nil)
        }
        let n = workingWidth * workingHeight
        var out = up
        var tau = [Float](repeating: 0, count: n)
        let mBase = MotionLatent.blend * n
        for i in 0..<n {
            let eased = easeShare.isEmpty ? base : t + easeShare[i] * (base - t)
            let time = min(1, max(0, eased - up[mBase + i]))
            tau[i] = time
            addLinearFlows(to: &out, at: i, time: time, linear: camera)
            out[mBase + i] = 1 - time
        }
        carryClipMotion(&out, correction: up, t: t)
        return (out, tau)
    }

    /// Near a boundary the clip's own motion carries on into the gap (`carry` c > 0): the frame k steps from xˢ
    /// takes as its flow to xˢ the motion xˢ had, k·F_{s→s−1}, with the weight `carryWeight`, the rest from the
    /// anchor (the network's correction is kept as it is); the same at xᵉ with F_{e→e+1}. Where a clip's motion
    /// runs on through the gap the two agree; where it stops at the cut (a new action begins) the frames next to
    /// the boundary still move on by about c steps of it instead of standing still.
    func carryClipMotion(_ out: inout [Float], correction up: [Float], t: Float) {
        guard carry > 0 else { return }
        let n = workingWidth * workingHeight
        let su = MotionLatent.flowScale / Float(workingWidth)
        let sv = MotionLatent.flowScale / Float(workingHeight)
        let sides = [
            (carriedStart, t * carrySteps, MotionLatent.toStart),
            (carriedEnd, (1 - t) * carrySteps, MotionLatent.toEnd)
        ]
        let weights = carryWeights(t: t)
        for ((flow, k, channel), lambda) in zip(sides, [weights.start, weights.end]) {
            guard let flow, lambda > 0 else { continue }
            let base = channel * n
            for i in 0..<n {
                let u = out[base + i] - up[base + i]
                let v = out[base + n + i] - up[base + n + i]
                out[base + i] += lambda * (k * flow.u[i] * su - u)
                out[base + n + i] += lambda * (k * flow.v[i] * sv - v)
            }
        }
    }

    /// The carried motion's weights at position t (`carryWeight`) on xˢ's side and on xᵉ's, 0 where nothing is
    /// carried.
    func carryWeights(t: Float) -> (start: Float, end: Float) {
        guard carry > 0 else { return (0, 0) }
        func weight(_ flow: FlowField?, _ k: Float) -> Float {
            flow == nil || k <= 0 ? 0 : MotionSynthesis.carryWeight(steps: k, carry: carry, gap: carrySteps)
        }
        return (weight(carriedStart, t * carrySteps), weight(carriedEnd, (1 - t) * carrySteps))
    }

    /// The weight of the carried motion k steps from its boundary, in a gap of n steps: min(1, c/k), so that
    /// where the anchor stands still the frame moves by c steps of the clip's motion at most, tapered by
    /// 1 − 2k/n to nothing at the gap's middle, where both warps are blended and a carried motion that the other
    /// side does not share would show twice. (Tuning sets, mean of four: c = 1.5 or 2 without the taper lost
    /// MS-SSIM on the synthetic sets; with it, c = 2 gave the highest CLIP-RS at the same PSNR as 1.5;
    /// Samples/models/README.md.)
    static func carryWeight(steps k: Float, carry c: Float, gap n: Float) -> Float {
        min(1, c / k) * max(0, 1 - 2 * k / n)
    }

    /// `carry` of the shipped sampler.
    public static let defaultCarry: Float = 2

    /// Adds the flows of linear motion at `time` at working point i to `out` [5, h, w] (latent units):
    /// F_{τ→s} = −(1−τ)τ·F_{s→e} + τ²·F_{e→s} and F_{τ→e} = (1−τ)²·F_{s→e} − τ(1−τ)·F_{e→s}, the camera's
    /// part of the flows (if split off) at `linear` instead (the camera's time, `cameraTime`).
    @inline(__always) func addLinearFlows(to out: inout [Float], at i: Int, time: Float, linear: Float) {
        let n = workingWidth * workingHeight
        let su = MotionLatent.flowScale / Float(workingWidth)
        let sv = MotionLatent.flowScale / Float(workingHeight)
        let toS = MotionLatent.toStart * n
        let toE = MotionLatent.toEnd * n
        func add(_ f: FlowField, _ b: FlowField, _ k: (toStart: (Float, Float), toEnd: (Float, Float))) {
            out[toS + i] += (k.toStart.0 * f.u[i] + k.toStart.1 * b.u[i]) * su
            out[toS + n + i] += (k.toStart.0 * f.v[i] + k.toStart.1 * b.v[i]) * sv
            out[toE + i] += (k.toEnd.0 * f.u[i] + k.toEnd.1 * b.u[i]) * su
            out[toE + n + i] += (k.toEnd.0 * f.v[i] + k.toEnd.1 * b.v[i]) * sv
        }
        let k = MotionSynthesis.coefficients(time)
        add(localForward, localBackward, (k.toStart, k.toEnd))
        if let cameraForward, let cameraBackward {
            let c = MotionSynthesis.coefficients(linear)
            add(cameraForward, cameraBackward, (c.toStart, c.toEnd))
        }
    }

    /// The anchor of infill frame at position t ∈ (0, 1) on the working grid, in latent units:
    /// intermediate flows under linear motion, F_{t→s} = −(1−t)t·F_{s→e} + t²·F_{e→s} and
    /// F_{t→e} = (1−t)²·F_{s→e} − t(1−t)·F_{e→s}, and m = (1−t)·vis_s / ((1−t)·vis_s + t·vis_e)
    /// (timed: m = 1 − t).
    public func anchor(t: Float, linear: Float? = nil) -> [Float] {
        let w = workingWidth
        let h = workingHeight
        let n = w * h
        var out = [Float](repeating: 0, count: MotionLatent.channels * n)
        for i in 0..<n { addLinearFlows(to: &out, at: i, time: t, linear: linear ?? t) }
        if timed {
            for i in 0..<n { out[MotionLatent.blend * n + i] = 1 - t }
            return out
        }
        let su = MotionLatent.flowScale / Float(w)
        let sv = MotionLatent.flowScale / Float(h)
        let toS = MotionLatent.toStart * n
        let toE = MotionLatent.toEnd * n
        // Visibility is looked up where each warp samples, as in the flow baseline.
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                let ax = Float(x) + out[toS + i] / su
                let ay = Float(y) + out[toS + n + i] / sv
                let bx = Float(x) + out[toE + i] / su
                let by = Float(y) + out[toE + n + i] / sv
                let ws = (1 - t) * FlowInterpolation.sampleClamped(visibleStart, w, h, ax, ay)
                let we = t * FlowInterpolation.sampleClamped(visibleEnd, w, h, bx, by)
                out[MotionLatent.blend * n + i] = ws / max(1e-4, ws + we)
            }
        }
        return out
    }

    /// A frame from a motion latent on the working grid [5, h, w] (latent units), at the boundary
    /// frames' own size: both full-resolution frames warped by the upsampled flows and blended by m.
    public func frame(latent: [Float]) -> RGBImage {
        let w = workingWidth
        let h = workingHeight
        let W = start.width
        let H = start.height
        let n = w * h
        var planes: [[Float]] = []
        for k in [MotionLatent.toStart, MotionLatent.toEnd] {
            var flow = Array(latent[(k * n)..<((k + 2) * n)])
            for i in 0..<n {
                flow[i] *= Float(w) / MotionLatent.flowScale
                flow[n + i] *= Float(h) / MotionLatent.flowScale
            }
            planes.append(resizeFlow(flow, width: w, height: h, toWidth: W, height: H))
        }
        let m = Array(latent[(MotionLatent.blend * n)..<((MotionLatent.blend + 1) * n)])
        let mFull = resizeBilinear(m, channels: 1, width: w, height: h, toWidth: W, height: H)
        var a = [Float](repeating: 0, count: 3 * W * H)
        var b = a
        // Bicubic by default (`WarpFilter.standard`): as sharp as the clips, a little lower PSNR than bilinear.
        let sample = warp == .bicubic ? warpBicubicForward : warpForward
        sample(&a, startPlanar, planes[0], 3, H, W)
        sample(&b, endPlanar, planes[1], 3, H, W)
        let N = W * H
        var px = [UInt8](repeating: 0, count: 3 * N)
        for i in 0..<N {
            let weight = min(1, max(0, mFull[i]))
            for c in 0..<3 {
                let v = weight * a[c * N + i] + (1 - weight) * b[c * N + i]
                px[3 * i + c] = UInt8(max(0, min(255, (v * 255).rounded())))
            }
        }
        return RGBImage(width: W, height: H, pixels: px)
    }

    /// Photometric loss of the frame at position t built from the fine anchor plus a correction
    /// δ [5, G, G] (latent units, as `render` applies it), against the true frame: mean squared error
    /// over RGB in [0, 1], and its gradient with respect to δ, back through the blend, both warps
    /// (`warpBackward`) and the upsampling (`resizeBilinearBackward`). Frames at the working size only
    /// (training runs at the model's resolution).
    public func photometric(correction delta: [Float], grid G: Int, t: Float, truth: RGBImage) -> (
        loss: Float, gradient: [Float]
    ) {
        let w = workingWidth
        let h = workingHeight
        precondition(start.width == w && start.height == h && truth.width == w && truth.height == h)
        let n = w * h
        let planes = MotionLatent.channels
        let up = resizeBilinear(delta, channels: planes, width: G, height: G, toWidth: w, height: h)
        let (motion, tau) = self.motion(correction: up, t: t)
        let su = Float(w) / MotionLatent.flowScale
        let sv = Float(h) / MotionLatent.flowScale
        func pixels(_ k: Int) -> [Float] {
            var f = Array(motion[(k * n)..<((k + 2) * n)])
            for i in 0..<n {
                f[i] *= su
                f[n + i] *= sv
            }
            return f
        }
        let flowS = pixels(MotionLatent.toStart)
        let flowE = pixels(MotionLatent.toEnd)
        var a = [Float](repeating: 0, count: 3 * n)
        var b = a
        warpForward(out: &a, image: startPlanar, flow: flowS, channels: 3, height: h, width: w)
        warpForward(out: &b, image: endPlanar, flow: flowE, channels: 3, height: h, width: w)
        let x = truth.planarFloats()
        let mBase = MotionLatent.blend * n
        var loss: Float = 0
        var ga = [Float](repeating: 0, count: 3 * n)
        var gb = ga
        var dmotion = [Float](repeating: 0, count: planes * n)
        var mGradient = [Float](repeating: 0, count: n)
        let norm = 1 / Float(3 * n)
        for i in 0..<n {
            let raw = motion[mBase + i]
            let m = min(1, max(0, raw))
            var gm: Float = 0
            for c in 0..<3 {
                let j = c * n + i
                let d = m * a[j] + (1 - m) * b[j] - x[j]
                loss += d * d * norm
                let g = 2 * d * norm
                ga[j] = g * m
                gb[j] = g * (1 - m)
                gm += g * (a[j] - b[j])
            }
            mGradient[i] = gm
            if raw > 0 && raw < 1 { dmotion[mBase + i] = gm }
        }
        var dS = [Float](repeating: 0, count: 2 * n)
        var dE = dS
        warpBackward(
            dimage: nil, dflow: &dS, dout: ga, image: startPlanar, flow: flowS, channels: 3, height: h, width: w)
        warpBackward(dimage: nil, dflow: &dE, dout: gb, image: endPlanar, flow: flowE, channels: 3, height: h, width: w)
        for i in 0..<n {
            dmotion[MotionLatent.toStart * n + i] = dS[i] * su
            dmotion[(MotionLatent.toStart + 1) * n + i] = dS[n + i] * sv
            dmotion[MotionLatent.toEnd * n + i] = dE[i] * su
            dmotion[(MotionLatent.toEnd + 1) * n + i] = dE[n + i] * sv
        }
        if let tau {
            // Through τ = t − δm: the flows move with τ and m = 1 − τ; with `carry` the anchor's share of each flow
            // is 1 − λ.
            let carried = carryWeights(t: t)
            for i in 0..<n where tau[i] > 0 && tau[i] < 1 {
                let k = MotionSynthesis.coefficients(tau[i])
                // Only the part moved at τ (the camera's follows the frame's own time).
                let (f, b) = (localForward, localBackward)
                let gs =
                    (dS[i] * (k.dStart.0 * f.u[i] + k.dStart.1 * b.u[i])
                        + dS[n + i] * (k.dStart.0 * f.v[i] + k.dStart.1 * b.v[i]))
                let ge =
                    (dE[i] * (k.dEnd.0 * f.u[i] + k.dEnd.1 * b.u[i])
                        + dE[n + i] * (k.dEnd.0 * f.v[i] + k.dEnd.1 * b.v[i]))
                // dS, dE are gradients per working pixel of flow, as are the flows' derivatives here.
                let dTau = (1 - carried.start) * gs + (1 - carried.end) * ge - mGradient[i]
                dmotion[mBase + i] = -dTau
            }
        }
        var gradient = [Float](repeating: 0, count: planes * G * G)
        resizeBilinearBackward(
            dplanes: &gradient, dout: dmotion, channels: planes, width: G, height: G,
            fromWidth: w, height: h)
        return (loss, gradient)
    }

    /// Output frames of clean infill latents [l × 5·G·G]: the fine anchor of each frame (flows between
    /// the boundary frames at the working size) plus the network's correction to the coarse anchor it
    /// was given, upsampled (latents are in frame units, so resizing needs no rescaling).
    /// `output` frames come out (default l): another count puts frame k at t = k / (output + 1) and
    /// interpolates the corrections linearly in time between the sampled frames (zero at the boundaries,
    /// which need none). Without an anchor the latent is the motion itself.
    public static func render(
        _ synthesis: MotionSynthesis, clean: [Float], coarseAnchor: [Float]?, grid G: Int,
        output: Int? = nil
    ) -> [RGBImage] {
        let perFrame = MotionLatent.channels * G * G
        let l = clean.count / perFrame
        let count = output ?? l
        let w = synthesis.workingWidth
        let h = synthesis.workingHeight
        /// Correction of sampled frame j ∈ 0…l+1 (the boundaries' is zero); without an anchor, the motion
        /// of the nearest sampled frame.
        func sampled(_ j: Int) -> [Float] {
            guard let coarseAnchor else {
                let nearest = min(l, max(1, j))
                return Array(clean[((nearest - 1) * perFrame)..<(nearest * perFrame)])
            }
            guard j >= 1, j <= l else { return [Float](repeating: 0, count: perFrame) }
            let range = ((j - 1) * perFrame)..<(j * perFrame)
            return (0..<perFrame).map { clean[range.lowerBound + $0] - coarseAnchor[range.lowerBound + $0] }
        }
        return parallelMap(count) { k in
            let t = Float(k + 1) / Float(count + 1)
            // Position among the sampled frames, which sit at j / (l + 1).
            let u = t * Float(l + 1)
            let j = min(l, Int(u.rounded(.down)))
            let a = u - Float(j)
            let low = sampled(j)
            let high = a > 0 ? sampled(j + 1) : low
            let coarse = (0..<perFrame).map { low[$0] + a * (high[$0] - low[$0]) }
            let up = resizeBilinear(coarse, channels: MotionLatent.channels, width: G, height: G, toWidth: w, height: h)
            guard coarseAnchor != nil else { return synthesis.frame(latent: up) }
            return synthesis.frame(latent: synthesis.motion(correction: up, t: t).motion)
        }
    }
}

/// How a motion model's output frames sample the boundary frames' pixels.
public enum WarpFilter: String, Codable, Sendable, CaseIterable {
    /// Bilinear (what training's photometric loss goes through): the highest PSNR on the tuning sets, but softer
    /// than the clips (Laplacian-variance ratio 0.54–0.65 of the truth's), so the cut into the transition shows.
    case bilinear
    /// Bicubic (Keys, A = −0.75): as sharp as the clips (0.79–0.80 on the tuning sets), 0.08–0.21 dB lower PSNR
    /// (its overshoot keeps the wrong detail where the flow is wrong) and higher CLIP-RS.
    case bicubic

    /// Bicubic: the only filter that meets issue #14's sharpness requirement (≥ 0.8) on the real tuning clips;
    /// Samples/models/README.md has the trade.
    public static let standard = WarpFilter.bicubic
}
