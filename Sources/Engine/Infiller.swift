import Core
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
    public var steps = 1  // steps, strength and gfm: chosen on the tuning set (Samples/models/README.md)
    public var seed: UInt64 = 0
    public var eta: Float = 0
    /// Off by default: with the motion model's residual the boundary latents it mixes in are zero, and the
    /// correlated noise it leaves cost PSNR on the tuning set (GFM on is the paper's; `gfm = true`).
    public var gfm = false
    public var f0: Float = 0.6
    public var lambda: Float = 0.1
    /// Add back the boundary frames' fine detail that the latent codec drops (see `Infiller.run`).
    public var detail = true
    /// How much of the network's correction to the anchor each step keeps (models with an anchor):
    /// 0 returns the anchor, 1 the network's full estimate. 0 by default: with the reference-eased anchor every
    /// strength above it scored lower on all four tuning sets (Samples/models/README.md); the paper's sampler,
    /// the network deciding the motion step by step, is `strength = 1`.
    public var strength: Float = 0
    /// Motion models: sharpness of the anchor's time curve (`ModelConfig.timeSharpness`); nil = the model's.
    /// 0 is linear motion, right for a steady camera pan or a rigid move at constant speed.
    public var timeSharpness: Float?
    /// Motion models: where the eased time applies (`ModelConfig.timeEasing`); nil = the model's.
    public var timeEasing: TimeEasing?
    /// Motion models: how the output frames sample the clips' pixels; nil = `WarpFilter.standard`.
    public var warp: WarpFilter?
    /// Motion models: how many frames each clip's own motion at its boundary carries into the transition
    /// (`MotionSynthesis.carry`); nil = `MotionSynthesis.defaultCarry`.
    public var carry: Float?
    /// Every setting's range and parser: `JunctionSettings`.
    public init() {}

    /// The anchor's settings of a motion model as the infiller uses them, each unset one resolved.
    public struct MotionAnchor: Equatable, Sendable {
        public var timeSharpness: Float
        public var timeEasing: TimeEasing
        public var carry: Float
        public var warp: WarpFilter
    }

    /// These settings' anchor for a model: where one is unset, the model's time curve
    /// (`ModelConfig.motionTimeSharpness`, `motionTimeEasing`), `MotionSynthesis.defaultCarry` and
    /// `WarpFilter.standard`. The one place those defaults are applied (the infiller, training's anchor, the
    /// Studio's inspector).
    public func motionAnchor(for config: ModelConfig) -> MotionAnchor {
        MotionAnchor(
            timeSharpness: timeSharpness ?? config.motionTimeSharpness,
            timeEasing: timeEasing ?? config.motionTimeEasing,
            carry: carry ?? MotionSynthesis.defaultCarry, warp: warp ?? .standard)
    }
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

/// One recorded denoising step, as pictures: what the network predicted (x̂₀) and the state it
/// saw (x_t), both rendered the way the output is (decoded, or warped from the boundary frames).
public struct StepRecord: Sendable {
    public var index: Int
    public var timestep: Int
    public var predicted: [RGBImage]
    public var noisy: [RGBImage]
}

public struct InfillProgress: Sendable {
    public var step: Int  // 1…total
    public var total: Int
    public var timestep: Int
    public var elapsed: Double
    public var eta: Double
    /// x̂₀ of the infill frames, decoded.
    public var preview: [RGBImage]
    /// CLIP-RS of x̂₀ against the truth, when one was given.
    public var clipRS: Double?
    /// Relative smoothness of xˢ, x̂₀, xᵉ against the clips' own pace (`clipRSAgainstClips`): needs no truth.
    public var paceRS: Double?
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
        case .lengthOutOfRange(let l, let r):
            return "infill length \(l) is outside what this model makes (\(r.lowerBound)…\(r.upperBound) frames); "
                + "choose a length in that range"
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

    /// The lengths the network was trained on (variable-length sampling's range).
    public var trainedLengths: ClosedRange<Int> { model.config.ranges.lengths }

    /// Longest infill of a motion model: beyond its trained lengths the motion is decided at the nearest
    /// trained length and resampled in time (`MotionSynthesis.render`), as the paper's 2…22 frames ask.
    public static let longestMotionInfill = 24

    /// What a length outside the trained ones is told: the motion is decided at the nearest trained length and
    /// resampled in time. Nil for a trained length.
    public func resamplingNote(for length: Int) -> String? {
        let l = modelLength(for: length)
        guard l != length else { return nil }
        let trained = "\(trainedLengths.lowerBound)…\(trainedLengths.upperBound)"
        return "the model was trained on \(trained) frames: "
            + "the motion of the \(counted(length, "frame")) is decided at \(l) and resampled in time"
    }

    /// The lengths a request may ask for: the trained ones, and for a motion model 1…24.
    public var allowedLengths: ClosedRange<Int> {
        guard model.config.latentSpace == .motion else { return trainedLengths }
        return min(1, trainedLengths.lowerBound)...max(Infiller.longestMotionInfill, trainedLengths.upperBound)
    }

    /// The length the network samples for a requested one: itself when trained, else the nearest trained length.
    public func modelLength(for l: Int) -> Int {
        min(max(l, trainedLengths.lowerBound), trainedLengths.upperBound)
    }

    /// Frames each side needs for an infill of length l.
    public func references(for l: Int) -> (before: Int, after: Int) {
        let c = model.config
        let (s, e) = c.ranges.placement(length: modelLength(for: l), window: c.frames)
        return (s + 1, c.frames - e)
    }

    public func run(
        _ r: InfillRequest, cancel: CancelFlag = CancelFlag(), progress: (InfillProgress) -> Void = { _ in }
    ) throws -> InfillResult {
        let c = model.config
        let R = c.resolution
        guard allowedLengths.contains(r.length) else {
            throw InfillError.lengthOutOfRange(r.length, allowed: allowedLengths)
        }
        // l: the frames the network samples; r.length: the frames that come out (motion models resample in time).
        let l = modelLength(for: r.length)
        if let problem = JunctionSettings.check(r.settings) { throw InfillError.badSettings(problem) }
        let (needBefore, needAfter) = references(for: l)
        // Down to the boundary frame alone a side: missing references repeat the outermost frame there
        // (a still clip, which the model has seen), and the notice says so.
        guard let first = r.before.first, !r.after.isEmpty else {
            throw InfillError.clipTooShort(
                which: r.before.isEmpty ? "preceding" : "following",
                frames: 0, needed: 1)
        }
        var notices: [String] = []
        if c.latentSpace == .pixels, c.anchor != nil, r.settings.strength == 0 {
            // The default strength was tuned for motion models; a pixel-space model's anchor is a crossfade.
            notices.append(
                "strength 0 gives this pixel-space model's anchor, a crossfade: its tuned sampler is strength = 1, "
                    + "gfm = true")
        }
        if let note = resamplingNote(for: r.length) { notices.append(note) }
        var before = r.before
        var after = r.after
        if before.count < needBefore {
            notices.append(
                "the preceding clip has \(before.count) of the \(needBefore) reference frames; its first is repeated")
            before = [RGBImage](repeating: first, count: needBefore - before.count) + before
        }
        if after.count < needAfter, let last = after.last {
            notices.append(
                "the following clip has \(after.count) of the \(needAfter) reference frames; its last is repeated")
            after += [RGBImage](repeating: last, count: needAfter - after.count)
        }
        let native = (width: before[before.count - 1].width, height: before[before.count - 1].height)
        func fit(_ f: RGBImage) -> RGBImage {
            if f.width == R && f.height == R { return f }
            return f.resized(width: R, height: R)
        }
        if native.width != R || native.height != R {
            notices.append(
                c.latentSpace == .motion
                    ? "frames are \(native.width)×\(native.height); motion decided at \(R)×\(R), pixels warped at "
                        + "\(native.width)×\(native.height)"
                    : "frames are \(native.width)×\(native.height); resized to the model's \(R)×\(R)")
        }
        let t0 = Date()
        let (s, e) = c.ranges.placement(length: l, window: c.frames)
        let refsBefore = before.suffix(needBefore).map(fit)
        let refsAfter = after.prefix(needAfter).map(fit)
        let perFrame = c.latentChannels * c.latentSide * c.latentSide
        var window = [[Float]](repeating: [Float](repeating: 0, count: perFrame), count: c.frames)
        /// Clean infill latents [l × perFrame] → output frames, given the anchor (motion models).
        let render: ([Float], [Float]?) -> [RGBImage]
        switch c.latentSpace {
        case .pixels:
            guard let codec = model.codec else { throw InfillError.badSettings("this pixel-space model has no codec") }
            for (i, f) in refsBefore.enumerated() { window[i] = codec.encode(f.planarFloats(), resolution: R) }
            for (i, f) in refsAfter.enumerated() { window[e + i] = codec.encode(f.planarFloats(), resolution: R) }
            render = pixelRenderer(
                codec, detail: r.settings.detail, start: refsBefore[s], end: refsAfter[0],
                latents: (window[s], window[e]), s: s, e: e, length: l)
        case .motion:
            var frames = [RGBImage?](repeating: nil, count: c.frames)
            for (i, f) in refsBefore.enumerated() { frames[i] = f }
            for (i, f) in refsAfter.enumerated() { frames[e + i] = f }
            let latents = MotionLatent.encode(window: frames, s: s, e: e, grid: c.latentSide)
            for f in 0..<c.frames { window[f] = Array(latents[(f * perFrame)..<((f + 1) * perFrame)]) }
            let start = before[before.count - 1]
            let end = after[0]
            let anchor = r.settings.motionAnchor(for: c)
            var synthesis = MotionSynthesis(
                start: start, end: end.resized(width: start.width, height: start.height),
                timed: c.timesBlend, timeSharpness: anchor.timeSharpness, easing: anchor.timeEasing,
                neighbours: MotionSynthesis.Neighbours(
                    previous: r.before.count > 1 ? r.before[r.before.count - 2] : nil,
                    next: r.after.count > 1 ? r.after[1].resized(width: start.width, height: start.height) : nil,
                    steps: r.length + 1),
                carry: anchor.carry)
            synthesis.warp = anchor.warp
            render = { clean, anchor in
                MotionSynthesis.render(
                    synthesis, clean: clean, coarseAnchor: anchor, grid: c.latentSide,
                    output: r.length)
            }
        }
        let timesteps = schedule.ddimTimesteps(r.settings.steps)
        var rng = SplitMix64(seed: r.settings.seed)

        // Residual parameterisation (Anchor): the sampler runs on r = k·(z − A); the network sees A + r_t.
        let anchor: [Float]? = c.anchor.map { a in
            Array(window.joined()).withUnsafeBufferPointer {
                a.make(
                    window: $0.baseAddress!, frames: c.frames, perFrame: perFrame, s: s, e: e,
                    sharpness: c.blendSharpness)
            }
        }
        let anchorInfill = anchor.map { Array($0[((s + 1) * perFrame)..<(e * perFrame)]) }
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
            xt = mixer.mix(
                boundaryStart: zs, boundaryEnd: ze, noise: noise, s: s, e: e,
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
        var x0 = [Float](repeating: 0, count: l * perFrame)
        var clean = x0
        // Measured once for every step's CLIP-RS, at the size the frames come out.
        let outputSize = c.latentSpace == .motion ? native : (R, R)
        let truth = r.truth.map { t in MeasuredTruth(t.map { $0.resized(width: outputSize.0, height: outputSize.1) }) }
        func frames(_ latents: [Float]) -> [RGBImage] { render(latents, anchorInfill) }
        // Smoothness against the clips' own pace: the clips are measured once, each step only its frames,
        // with the boundary frames at the size the frames come out.
        let clipPace = ClipPace(references: [r.before, r.after])
        let ends = [before[before.count - 1], after[0]].map { $0.resized(width: outputSize.0, height: outputSize.1) }
        for (i, t) in timesteps.enumerated() {
            if cancel.isCancelled { throw EngineError.cancelled }
            for f in 0..<l {
                window[s + 1 + f] = (0..<perFrame).map {
                    latent(xt[f * perFrame + $0], frame: f, index: $0, clean: false)
                }
            }
            let input = UNetInput(
                latents: Array(window.joined()), referenceMask: mask, timesteps: [Float(t)],
                lengths: [Float(l)], boundaryPixels: boundaryPixels)
            // Strength 0 keeps none of the correction: the network is not run and x̂₀ is the anchor at every
            // step (ε the noise that x_t then holds).
            let out = keep == 0 ? nil : model.network.forward(input)
            let noiseScale = max(1e-6, schedule.coefficients(t).noise)
            let tPrev = i + 1 < timesteps.count ? timesteps[i + 1] : -1
            var next = [Float](repeating: 0, count: xt.count)
            for f in 0..<l {
                let base = (s + 1 + f) * perFrame
                for j in 0..<perFrame {
                    let q = f * perFrame + j
                    var (p0, eps) = (Float(0), xt[q] / noiseScale)
                    if let out {
                        (p0, eps) = schedule.split(c.prediction, output: out.ptr[base + j], xt: xt[q], t: t)
                        p0 *= keep
                    }
                    x0[q] = p0
                    next[q] = ddim.step(xt: xt[q], x0: p0, eps: eps, t: t, tPrev: tPrev, rng: &rng)
                }
            }
            clean = (0..<(l * perFrame)).map { latent(x0[$0], frame: $0 / perFrame, index: $0 % perFrame, clean: true) }
            let preview = frames(clean)
            if r.record {
                let state = Array(window[(s + 1)..<e].joined())
                records.append(StepRecord(index: i, timestep: t, predicted: preview, noisy: frames(state)))
            }
            xt = next
            let elapsed = Date().timeIntervalSince(t0)
            let rs = truth?.clipRS(preview)
            let pace = clipPace?.score(transition: [ends[0]] + preview + [ends[1]])
            progress(
                InfillProgress(
                    step: i + 1, total: timesteps.count, timestep: t, elapsed: elapsed,
                    eta: elapsed / Double(i + 1) * Double(timesteps.count - i - 1), preview: preview,
                    clipRS: rs, paceRS: pace))
        }
        let result = frames(clean)
        let scores = truth.map { Scores.measure(generated: result, truth: $0) }
        return InfillResult(
            frames: result, referencesBefore: needBefore, referencesAfter: needAfter,
            seconds: Date().timeIntervalSince(t0), scores: scores, steps: records, notices: notices)
    }

    /// Pixel-space rendering: infill latents [l × perFrame] → RGB frames (clamped) through the codec.
    /// The codec keeps the K most energetic block components; what it drops of the two boundary
    /// frames (x − D(E(x)): edges, texture) is blended back along the anchor's curve when `detail`
    /// is on, so static regions come out as sharp as the clips around them.
    func pixelRenderer(
        _ codec: LatentCodec, detail: Bool, start: RGBImage, end: RGBImage,
        latents: ([Float], [Float]), s: Int, e: Int, length l: Int
    ) -> ([Float], [Float]?) -> [RGBImage] {
        let c = model.config
        let R = c.resolution
        let perFrame = c.latentChannels * c.latentSide * c.latentSide
        func lost(_ frame: RGBImage, _ z: [Float]) -> [Float] {
            let x = frame.planarFloats()
            let back = codec.decode(z, resolution: R)
            return (0..<x.count).map { x[$0] - back[$0] }
        }
        let carried = detail ? (lost(start, latents.0), lost(end, latents.1)) : nil
        let sharpness = c.blendSharpness
        return { clean, _ in
            (0..<l).map { f in
                var px = codec.decode(Array(clean[(f * perFrame)..<((f + 1) * perFrame)]), resolution: R)
                if let carried {
                    let w = Anchor.weight(frame: s + 1 + f, s: s, e: e, sharpness: sharpness)
                    for j in px.indices { px[j] += (1 - w) * carried.0[j] + w * carried.1[j] }
                }
                return RGBImage(width: R, height: R, planar: px)
            }
        }
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
