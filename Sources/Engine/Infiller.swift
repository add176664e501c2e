import Diffusion
import Foundation
import MavinModel
import Media
import Metrics
import Tensor

/// How the transition is made (MAVIN §3.5).
public enum InfillMode: String, Codable, Sendable, CaseIterable {
    /// l new frames are inserted between the two clips.
    case insert
    /// The clips are joined and the l frames around the junction are replaced.
    case regenerate
}

/// GFM and sampler settings of one junction.
public struct SamplerSettings: Codable, Equatable, Sendable {
    public var steps = 1  // with strength, chosen on two tuning sets (Samples/models/README.md)
    public var seed: UInt64 = 0
    public var eta: Float = 0
    public var gfm = true
    public var f0: Float = 0.6
    public var lambda: Float = 0.1
    /// Add back the boundary frames' fine detail that the latent codec drops (see `Infiller.run`).
    public var detail = true
    /// How much of the network's correction to the anchor each step keeps (models with an anchor):
    /// 0 returns the anchor, 1 the network's full estimate.
    public var strength: Float = 1
    /// Every strength a request, plan or Studio field may hold.
    public static let strengthRange: ClosedRange<Float> = 0...2
    /// The rule, as every refusal of a strength states it.
    public static var strengthRule: String { String(format: "strength must be within %g…%g", strengthRange.lowerBound, strengthRange.upperBound) }
    public init() {}
}

/// Everything needed to generate one transition.
public struct InfillRequest {
    /// The preceding clip's frames, ending at its boundary frame xˢ.
    public var before: [RGBImage]
    /// The following clip's frames, starting at its boundary frame xᵉ.
    public var after: [RGBImage]
    public var length: Int
    public var mode: InfillMode = .insert
    public var settings = SamplerSettings()
    /// Ground truth of the l generated frames, for live CLIP-RS and final scores.
    public var truth: [RGBImage]?
    /// Keep x̂₀ and x_t of every step (for step-through inspection).
    public var record = false

    public init(before: [RGBImage], after: [RGBImage], length: Int) {
        self.before = before
        self.after = after
        self.length = length
    }
}

/// One recorded denoising step.
public struct StepRecord: Sendable {
    public var index: Int
    public var timestep: Int
    /// Latents of the infill frames: the prediction x̂₀ and the state x_t entering the step.
    public var predictedClean: [[Float]]
    public var noisy: [[Float]]
}

public struct InfillProgress: Sendable {
    public var step: Int           // 1…total
    public var total: Int
    public var timestep: Int
    public var elapsed: Double
    public var eta: Double
    /// x̂₀ of the infill frames, decoded.
    public var preview: [RGBImage]
    /// CLIP-RS of x̂₀ against the truth, when one was given.
    public var clipRS: Double?
}

public struct InfillResult: Sendable {
    /// The l generated frames at the model's resolution.
    public var frames: [RGBImage]
    /// References used before and after, at the model's resolution.
    public var referencesBefore: Int
    public var referencesAfter: Int
    public var seconds: Double
    public var scores: Scores?
    public var steps: [StepRecord]
    public var notices: [String]
}

/// Errors of a request, naming what is allowed.
public enum InfillError: Error, CustomStringConvertible, Equatable {
    case lengthOutOfRange(Int, allowed: ClosedRange<Int>)
    case clipTooShort(which: String, frames: Int, needed: Int)
    case badSettings(String)

    public var description: String {
        switch self {
        case .lengthOutOfRange(let l, let r): return "infill length \(l) is outside what the model was trained for (\(r.lowerBound)…\(r.upperBound) frames)"
        case .clipTooShort(let w, let n, let k): return "the \(w) clip has \(n) frames; this length needs at least \(k)"
        case .badSettings(let m): return m
        }
    }
}

/// Generates a transition with the model: DDIM from GFM-initialised noise, the
/// reference frames clean in the window, one progress event per step.
public final class Infiller {
    public let model: MavinModel
    let schedule = NoiseSchedule()
    public init(model: MavinModel) { self.model = model }

    public var allowedLengths: ClosedRange<Int> { model.config.ranges.lengths }

    /// Frames each side needs for an infill of length l.
    public func references(for l: Int) -> (before: Int, after: Int) {
        let c = model.config
        let (s, e) = c.ranges.placement(length: l, window: c.frames)
        return (s + 1, c.frames - e)
    }

    public func run(_ r: InfillRequest, cancel: CancelFlag = CancelFlag(), progress: (InfillProgress) -> Void = { _ in }) throws -> InfillResult {
        let c = model.config, R = c.resolution, l = r.length
        guard allowedLengths.contains(l) else { throw InfillError.lengthOutOfRange(l, allowed: allowedLengths) }
        guard r.settings.steps >= 1 && r.settings.steps <= 1000 else { throw InfillError.badSettings("steps must be 1…1000 (got \(r.settings.steps))") }
        guard r.settings.f0 >= 0 && r.settings.f0 <= 1, r.settings.lambda >= 0 && r.settings.lambda <= 1 else {
            throw InfillError.badSettings("f0 and λ must be within 0…1")
        }
        guard SamplerSettings.strengthRange.contains(r.settings.strength) else {
            throw InfillError.badSettings(SamplerSettings.strengthRule + String(format: " (got %g)", r.settings.strength))
        }
        let (needBefore, needAfter) = references(for: l)
        guard r.before.count >= needBefore else { throw InfillError.clipTooShort(which: "preceding", frames: r.before.count, needed: needBefore) }
        guard r.after.count >= needAfter else { throw InfillError.clipTooShort(which: "following", frames: r.after.count, needed: needAfter) }
        var notices: [String] = []
        func fit(_ f: RGBImage) -> RGBImage {
            if f.width == R && f.height == R { return f }
            return f.resized(width: R, height: R)
        }
        if let f = r.before.first, f.width != R || f.height != R {
            notices.append("frames are \(f.width)×\(f.height); resized to the model's \(R)×\(R)")
        }
        let t0 = Date()
        let (s, e) = c.ranges.placement(length: l, window: c.frames)
        let refsBefore = r.before.suffix(needBefore).map(fit), refsAfter = r.after.prefix(needAfter).map(fit)
        let perFrame = c.latentChannels * c.latentSide * c.latentSide
        var window = [[Float]](repeating: [Float](repeating: 0, count: perFrame), count: c.frames)
        for (i, f) in refsBefore.enumerated() { window[i] = model.codec.encode(f.planarFloats(), resolution: R) }
        for (i, f) in refsAfter.enumerated() { window[e + i] = model.codec.encode(f.planarFloats(), resolution: R) }
        let timesteps = schedule.ddimTimesteps(r.settings.steps)
        var rng = SplitMix64(seed: r.settings.seed)

        // Residual parameterisation (Anchor): the sampler runs on r = k·(z − A); the network sees A + r_t.
        let anchor: [Float]? = c.anchor.map { a in
            Array(window.joined()).withUnsafeBufferPointer {
                a.make(window: $0.baseAddress!, frames: c.frames, perFrame: perFrame, s: s, e: e, sharpness: c.blendSharpness)
            }
        }
        let k = c.residualScale ?? 1
        /// The sampler's variable of boundary frame f: z itself, or its residual k·(z − A), which is zero.
        func sampled(_ f: Int) -> [Float] {
            guard let anchor else { return window[f] }
            return (0..<perFrame).map { k * (window[f][$0] - anchor[f * perFrame + $0]) }
        }
        /// Infill frame values shown to the network or decoded, from the sampler's variable.
        func latent(_ v: Float, frame f: Int, index j: Int, clean: Bool) -> Float {
            guard let anchor else { return v }
            return anchor[(s + 1 + f) * perFrame + j] + (clean ? v / k : v)
        }

        // Initial noise of the infill frames: GFM (Eq. 4–7) or plain Gaussian.
        let noise = (0..<(l * perFrame)).map { _ in gaussian(&rng) }
        var xt: [Float]
        if r.settings.gfm {
            let (a, b) = schedule.coefficients(timesteps[0])
            let zs = sampled(s).map { a * $0 + b * gaussian(&rng) }
            let ze = sampled(e).map { a * $0 + b * gaussian(&rng) }
            let mixer = GaussianFilterMixer(f0: r.settings.f0, lambda: r.settings.lambda)
            xt = mixer.mix(boundaryStart: zs, boundaryEnd: ze, noise: noise, s: s, e: e,
                           channels: c.latentChannels, height: c.latentSide, width: c.latentSide)
        } else {
            xt = noise
        }
        var mask = [Float](repeating: 1, count: c.frames)
        for f in (s + 1)..<e { mask[f] = 0 }
        let boundaryPixels = c.bfg ? refsBefore[s].planarFloats() + refsAfter[0].planarFloats() : []
        let ddim = DDIM(schedule: schedule, eta: r.settings.eta)
        let keep = anchor == nil ? 1 : r.settings.strength  // share of the correction kept (residual models only)
        var records: [StepRecord] = []
        var x0 = [Float](repeating: 0, count: l * perFrame), clean = x0
        let truth = r.truth.map { MeasuredTruth($0.map(fit)) }  // measured once for every step's CLIP-RS
        // The codec keeps the K most energetic block components; what it drops of the two boundary
        // frames (x − D(E(x)): edges, texture) is blended back along the anchor's curve, so static
        // regions come out as sharp as the clips around them instead of at the codec's reconstruction.
        let detail: (start: [Float], end: [Float])? = r.settings.detail ? {
            func lost(_ frame: RGBImage, _ z: [Float]) -> [Float] {
                let x = frame.planarFloats(), back = model.codec.decode(z, resolution: R)
                return (0..<x.count).map { x[$0] - back[$0] }
            }
            return (lost(refsBefore[s], window[s]), lost(refsAfter[0], window[e]))
        }() : nil
        /// Infill latents [l × perFrame] → RGB frames (clamped), with the boundary detail when asked for.
        func frames(_ latents: [Float]) -> [RGBImage] {
            (0..<l).map { f in
                var px = model.codec.decode(Array(latents[(f * perFrame)..<((f + 1) * perFrame)]), resolution: R)
                if let detail {
                    let w = Anchor.weight(frame: s + 1 + f, s: s, e: e, sharpness: c.blendSharpness)
                    for j in px.indices { px[j] += (1 - w) * detail.start[j] + w * detail.end[j] }
                }
                return RGBImage(width: R, height: R, planar: px)
            }
        }
        for (i, t) in timesteps.enumerated() {
            if cancel.isCancelled { throw EngineError.cancelled }
            for f in 0..<l { window[s + 1 + f] = (0..<perFrame).map { latent(xt[f * perFrame + $0], frame: f, index: $0, clean: false) } }
            let input = UNetInput(latents: Array(window.joined()), referenceMask: mask, timesteps: [Float(t)],
                                  lengths: [Float(l)], boundaryPixels: boundaryPixels)
            let out = model.network.forward(input)
            let tPrev = i + 1 < timesteps.count ? timesteps[i + 1] : -1
            var next = [Float](repeating: 0, count: xt.count)
            for f in 0..<l {
                let base = (s + 1 + f) * perFrame
                for j in 0..<perFrame {
                    let q = f * perFrame + j
                    var (p0, eps) = schedule.split(c.prediction, output: out.ptr[base + j], xt: xt[q], t: t)
                    p0 *= keep
                    x0[q] = p0
                    next[q] = ddim.step(xt: xt[q], x0: p0, eps: eps, t: t, tPrev: tPrev, rng: &rng)
                }
            }
            clean = (0..<(l * perFrame)).map { latent(x0[$0], frame: $0 / perFrame, index: $0 % perFrame, clean: true) }
            if r.record {
                records.append(StepRecord(index: i, timestep: t,
                                          predictedClean: (0..<l).map { Array(clean[($0 * perFrame)..<(($0 + 1) * perFrame)]) },
                                          noisy: (0..<l).map { window[s + 1 + $0] }))
            }
            xt = next
            let preview = frames(clean)
            let elapsed = Date().timeIntervalSince(t0)
            let rs = truth?.clipRS(preview)
            progress(InfillProgress(step: i + 1, total: timesteps.count, timestep: t, elapsed: elapsed,
                                    eta: elapsed / Double(i + 1) * Double(timesteps.count - i - 1), preview: preview, clipRS: rs))
        }
        let result = frames(clean)
        let scores = truth.map { Scores.measure(generated: result, truth: $0) }
        return InfillResult(frames: result, referencesBefore: needBefore, referencesAfter: needAfter,
                            seconds: Date().timeIntervalSince(t0), scores: scores, steps: records, notices: notices)
    }

    /// One latent [K·h·w] → an RGB frame (clamped).
    public func decode(latent: [Float]) -> RGBImage {
        let c = model.config
        return RGBImage(width: c.resolution, height: c.resolution, planar: model.codec.decode(latent, resolution: c.resolution))
    }
}

extension InfillMode {
    /// The frames each side keeps: insert keeps everything; regenerate drops the
    /// ⌈l/2⌉ last frames of the preceding clip and the ⌊l/2⌋ first of the following one,
    /// which the generated frames replace.
    public func trim<T>(before: [T], after: [T], length l: Int) -> (before: [T], after: [T]) {
        let r = replaced(length: l)
        return (Array(before.dropLast(r.before)), Array(after.dropFirst(r.after)))
    }

    /// Frames of each clip that the generated ones replace (none when inserting).
    public func replaced(length l: Int) -> (before: Int, after: Int) {
        self == .regenerate ? ((l + 1) / 2, l / 2) : (0, 0)
    }
}
