import Core
import Diffusion
import Foundation
import MavinModel
import Media
import Tensor

/// Options of a training run (the `mavin train` flags).
public struct TrainOptions: Sendable {
    public var data: [String]
    public var output: URL
    public var config: ModelConfig
    public var steps = 4000
    public var batch = 2
    public var learningRate: Float = 3e-4
    public var warmup = 200
    /// Decay to this fraction of the learning rate over the last `decaySteps` steps (cosine); 0 = constant.
    public var decaySteps = 0
    public var finalLearningRateFraction: Float = 0.1
    public var weightDecay: Float = 0.01
    public var emaDecay: Float = 0.999
    public var clip: Float = 1.0
    public var sampleRate = 2
    public var validationFraction = 0.1
    public var evalEvery = 250
    public var saveEvery = 250
    public var seed: UInt64 = 0
    public var resume = false
    /// Initialise weights (and codec) from another checkpoint of the same shape.
    public var initFrom: URL?
    /// Relative loss (needs the residual anchor and x₀ prediction): each infill frame's
    /// squared error is weighted by (1 + ε) / (ε + m), m = the frame's mean r₀², i.e.
    /// how far the anchor is from the truth there. A frame the anchor already gets
    /// nearly right then counts as much in relative terms as one it gets badly wrong,
    /// which is what a frame-averaged PSNR (a mean of log errors) rewards; a frame at
    /// the average distance (m = 1, since r₀ is scaled to unit rms) weighs 1. nil: plain MSE.
    public var relativeLossEpsilon: Float?
    /// Motion models: weight λ of a photometric loss through the warp synthesis (the frames built from
    /// the network's x̂₀ against the true frames, mean squared RGB error in [0, 1]) added to the latent
    /// loss, so the network learns what the output is judged by, not only the flow estimator's targets.
    public var photometricWeight: Float?
    /// The photometric loss as the frames' mean ln(MSE + 10⁻⁵), λ times that, instead of their mean MSE: the
    /// mean of log errors is what a frame-averaged PSNR measures. Under a plain MSE the frames next to the
    /// boundaries, whose errors are small, barely count, and a network that trades a little of them for the
    /// hard middle frames lowers the MSE but the PSNR too. With it, λ of a few units matches the gradient scale
    /// that λ = 1000 gives a plain MSE of 10⁻³.
    public var photometricInDecibels = false
    /// Share of training windows noised at t = T − 1, where one-step sampling starts (the rest uniform in
    /// 0…T−1). Near T the input carries almost nothing of x₀, so uniform timesteps rarely train the
    /// prediction that inference uses most. nil: uniform only.
    public var pureNoiseShare: Float?
    /// Share of training windows whose gap is centred on a labelled transition of a synthetic take (its
    /// manifest's), as the evaluation's cases and a user's cuts between two actions are; the rest anywhere in a
    /// take, where the gap mostly holds one action carrying on. Validation then measures such windows too.
    /// nil: anywhere only.
    public var transitionShare: Float?

    public init(data: [String], output: URL, config: ModelConfig) {
        self.data = data
        self.output = output
        self.config = config
    }

    public var stateURL: URL { URL(fileURLWithPath: output.path + ".state.safetensors") }
    public var logURL: URL { URL(fileURLWithPath: output.path + ".log.jsonl") }
    public var curveURL: URL { URL(fileURLWithPath: output.path + ".loss.png") }
}

/// One line of the training log and one event of the training job.
public struct TrainRecord: Codable, Sendable {
    public var step: Int
    public var loss: Float
    public var lr: Float
    public var gradNorm: Float
    public var seconds: Double
    public var valLoss: Float?
    /// Motion models with a photometric loss: its value (training batch, and validation).
    public var photometric: Float?
    public var valPhotometric: Float?
    /// The same validation frames built from the anchor alone (no correction): what the network must beat.
    public var valAnchorPhotometric: Float?
    /// The network's frames from pure noise (t = T − 1, where one-step sampling starts): what inference sees.
    public var valInferencePhotometric: Float?
    /// The validation frames' mean PSNR (dB) from pure noise and of the anchor alone: what evaluation averages.
    public var valInferenceFramePSNR: Float?
    public var valAnchorFramePSNR: Float?
}

/// A mean squared error of RGB in [0, 1] as PSNR.
func decibels(_ mse: Float) -> Float { -10 * log10(max(1e-10, mse)) }

/// What the photometric loss needs of one training window: its frames (as the model saw them) and boundaries.
struct PhotometricCase {
    var frames: [RGBImage]
    var s: Int
    var e: Int
    /// The corrupted frames of the window: the photometric loss is taken on those between s and e (all of them
    /// with consecutive masking; SEINE-like masking leaves some of them clean and corrupts some outside).
    var noised: [Bool]
    /// The frames the loss is taken on.
    var measured: [Int] { ((s + 1)..<e).filter { noised[$0] } }
}

/// Consecutive-noising training with variable-length sampling, AdamW, EMA,
/// validation on held-out videos, atomic checkpoints and resume.
public final class Trainer {
    public let options: TrainOptions
    public private(set) var model: MavinModel!
    public private(set) var data: TrainingData!
    let schedule = NoiseSchedule()
    private var rng: SplitMix64
    private var history: [TrainRecord] = []
    private let cancelFlag: CancelFlag
    /// Checkpoints this run wrote: a run that wrote none and fails takes its new log with it.
    private var checkpointsWritten = 0

    public init(options: TrainOptions, cancel: CancelFlag = CancelFlag()) {
        self.options = options
        self.rng = SplitMix64(seed: options.seed)
        self.cancelFlag = cancel
    }

    /// Refuses to resume a checkpoint whose config differs from the one this run asks for, naming both and
    /// every setting that differs. The residual scale is measured from the data, so it is not compared.
    static func checkResumable(_ saved: ModelConfig, at path: String, asked: ModelConfig) throws {
        var a = saved
        var b = asked
        a.residualScale = nil
        b.residualScale = nil
        guard a != b else { return }
        func fields(_ c: ModelConfig) -> [String: String] {
            let data = (try? JSONEncoder().encode(c)) ?? Data()
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            return object.mapValues { "\($0)".replacingOccurrences(of: "\n", with: " ") }
        }
        let old = fields(a)
        let new = fields(b)
        let keys = Set(old.keys).union(new.keys).sorted().filter { old[$0] != new[$0] }
        let differences = keys.map { "\($0) \(old[$0] ?? "none") vs \(new[$0] ?? "none")" }.joined(separator: ", ")
        throw EngineError.resumeMismatch(path: path, saved: saved.name, asked: asked.name, differences: differences)
    }

    /// Loads data, builds or resumes the model, then trains; `event` sees every record.
    public func run(log: (String) -> Void = { print($0) }, event: (TrainRecord) -> Void = { _ in }) throws {
        let o = options
        if let problem = o.config.validate() { throw EngineError.invalidConfig(problem) }
        if let share = o.pureNoiseShare, !(0...1).contains(share) {
            throw EngineError.badTrainingOption(option: "--pure-noise \(share)", rule: "the share must be within 0…1")
        }
        if let share = o.transitionShare, !(0...1).contains(share) {
            throw EngineError.badTrainingOption(option: "--transitions \(share)", rule: "the share must be within 0…1")
        }
        if let lambda = o.photometricWeight {
            guard lambda > 0, lambda.isFinite else {
                throw EngineError.badTrainingOption(option: "--photometric \(lambda)", rule: "the weight λ must be > 0")
            }
            guard o.config.latentSpace == .motion, o.config.prediction == .sample else {
                let rule =
                    "the loss builds frames from x̂₀ through the warp: it needs --config motion and --prediction sample"
                throw EngineError.badTrainingOption(option: "--photometric", rule: rule)
            }
        }
        if o.photometricInDecibels && o.photometricWeight == nil {
            throw EngineError.badTrainingOption(
                option: "--photometric-log",
                rule: "it changes the photometric loss: give its weight with --photometric λ")
        }
        if let eps = o.relativeLossEpsilon {
            guard eps > 0, eps.isFinite else {
                throw EngineError.badTrainingOption(option: "--relative-loss \(eps)", rule: "ε must be > 0")
            }
            guard o.config.anchor != nil, o.config.prediction == .sample else {
                let rule = "it weighs frames by the anchor's error: it needs --anchor crossfade and --prediction sample"
                throw EngineError.badTrainingOption(option: "--relative-loss", rule: rule)
            }
        }
        if !o.resume {
            // A new run never writes over, nor appends to, what is already at its outputs.
            let there = [o.output, o.stateURL, o.logURL, o.curveURL].map(\.path).filter {
                var info = stat()
                return lstat($0, &info) == 0
            }
            if !there.isEmpty { throw EngineError.trainingOutputExists(there) }
        }
        // On resume the checkpoint's config must be the one asked for: the data is read at its size.
        let existing = o.resume ? try MavinModel.load(o.output) : nil
        if let existing { try Self.checkResumable(existing.config, at: o.output.path, asked: o.config) }
        let videos = try TrainingData.videos(in: o.data)
        log("reading \(videos.count) videos at \(o.config.resolution)² (every \(o.sampleRate) frames)…")
        data = try TrainingData(
            videos: videos, resolution: o.config.resolution, frames: o.config.frames, sampleRate: o.sampleRate,
            validationFraction: o.validationFraction,
            // Motion latents are in frame units: squash like the Infiller, so aspect never matters.
            fit: o.config.latentSpace == .motion ? .stretch : .crop, log: log)
        log(
            "windows: \(data.training.count) training, \(data.validation.count) validation, "
                + "\(data.droppedForCuts) dropped at shot cuts"
        )
        if let share = o.transitionShare, share > 0 {
            let count = data.transitionWindows(among: data.training).transitions.count
            guard count > 0 else {
                throw EngineError.badTrainingOption(
                    option: "--transitions \(share)",
                    rule: "the training videos have no labelled transitions (a `mavin synth-dataset` folder's "
                        + "manifest.json lists them)")
            }
            log("transitions: \(count) labelled in the training videos, \(Int(share * 100))% of windows centred on one")
        }

        var startStep = 0
        if let existing {
            model = existing
            startStep = try loadState(into: existing)
            log("resumed \(o.output.path) at step \(startStep)")
            if let codec = existing.codec {
                log("encoding latents…")
                data.encodeAll(with: codec)
            }
        } else {
            var config = o.config
            let source = try o.initFrom.map { try MavinModel.load($0) }
            if let source {
                // −BFG may start from a +BFG checkpoint (the ablation): its boundary encoder and cross-attention are
                // left out.
                guard source.config.channels == config.channels, source.config.latentChannels == config.latentChannels,
                    source.config.bfg || !config.bfg, source.config.frames == config.frames
                else {
                    throw EngineError.initShapeMismatch(path: o.initFrom?.path ?? "")
                }
                if source.config.bfg != config.bfg {
                    log("boundary frame guidance off: the source's boundary encoder and cross-attention are not loaded")
                }
            }
            var codec: LatentCodec?
            if config.latentSpace == .pixels {
                if let source { codec = source.codec }
                if codec == nil {
                    log(
                        "fitting the latent codec (PCA of \(config.codecPatch)² blocks → "
                            + "\(config.latentChannels) components)…"
                    )
                    codec = data.fitCodec(patch: config.codecPatch, components: config.latentChannels)
                }
                log("encoding latents…")
                codec.map { data.encodeAll(with: $0) }
            }
            if let anchor = config.anchor, config.residualScale == nil {
                let spread = residualSpread(anchor: anchor)
                config.residualScale = 1 / max(spread, 1e-3)
                log(
                    String(
                        format: "residual to the %@ anchor (sharpness %.1f): rms %.4f → scale %.3f", anchor.rawValue,
                        config.blendSharpness, spread, config.residualScale!))
            }
            let net = MavinUNet(config: config)
            if let source, let from = o.initFrom {
                let snapshot = try SafeTensorsFile(
                    data: try SafeTensorsFile.serialize(source.network.store.tensors(.values)))
                try net.store.load(snapshot)
                if source.config.anchor != config.anchor || source.config.blendSharpness != config.blendSharpness
                    || source.config.prediction != config.prediction
                {
                    // The output means something else now: start it at zero (an anchor then starts as the plain
                    // transition).
                    net.zeroOutputLayer()
                    log("output layer reset: the source predicted another target")
                }
                net.store.syncEMA()
                model = MavinModel(network: net, codec: codec, provenance: ["mavin.init_from": from.lastPathComponent])
                log("initialised from \(from.path)")
            } else {
                net.initialise(seed: o.seed &+ 17)
                model = MavinModel(network: net, codec: codec)
            }
        }
        if let codec = model.codec {
            let recon = reconstructionPSNR(codec)
            model.provenance["mavin.codec_psnr"] = String(format: "%.2f", recon)
            log(String(format: "codec reconstruction: %.2f dB", recon))
        }
        if let eps = o.relativeLossEpsilon { model.provenance["mavin.relative_loss"] = String(eps) }
        if let lambda = o.photometricWeight { model.provenance["mavin.photometric"] = String(lambda) }
        if o.photometricInDecibels { model.provenance["mavin.photometric_loss"] = "mean ln MSE" }
        if let share = o.transitionShare { model.provenance["mavin.transitions"] = String(share) }
        if let share = o.pureNoiseShare { model.provenance["mavin.pure_noise"] = String(share) }
        log("model: \(model.network.parameterCount) parameters")
        if o.resume, let old = try? LossCurve.read(o.logURL) {
            // Steps logged after the last checkpoint are run again: drop their lines so none is there twice.
            history = old.filter { $0.step <= startStep }
            if history.count != old.count {
                let lines = try history.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) + "\n" }
                    .joined()
                try AtomicOutput.write(Data(lines.utf8), to: o.logURL, overwrite: true)
            }
        }
        let logExisted = FileManager.default.fileExists(atPath: o.logURL.path)
        do { try train(from: startStep, log: log, event: event) } catch {
            // A failed run (a full disk, say) that saved nothing leaves no log of steps no checkpoint holds.
            if !logExisted && checkpointsWritten == 0 { unlink(o.logURL.path) }
            throw error
        }
    }

    /// Root-mean-square of z₀ − A over the infill frames of up to 256 training windows.
    private func residualSpread(anchor: Anchor) -> Float {
        let c = options.config
        let perFrame = c.latentChannels * c.latentSide * c.latentSide
        var r = SplitMix64(seed: 99)
        var total = 0.0
        var n = 0
        // Motion latents cost 2L flow estimates a window: fewer windows measure the spread as well.
        let windows = c.latentSpace == .motion ? 48 : 256
        for _ in 0..<min(windows, data.training.count) {
            let w = data.training[Int.random(in: 0..<data.training.count, using: &r)]
            let (s, e) = c.ranges.sample(using: &r)
            let z = cleanWindow(w, s: s, e: e, config: c)
            let a = z.withUnsafeBufferPointer {
                anchor.make(
                    window: $0.baseAddress!, frames: c.frames, perFrame: perFrame, s: s, e: e,
                    sharpness: c.blendSharpness)
            }
            for i in ((s + 1) * perFrame)..<(e * perFrame) {
                let d = Double(z[i] - a[i])
                total += d * d
                n += 1
            }
        }
        return Float((total / Double(max(1, n))).squareRoot())
    }

    /// The clean latent window [L, perFrame]: the codec's latents, or motion latents for these boundaries.
    func cleanWindow(_ w: TrainingData.Window, s: Int, e: Int, config c: ModelConfig) -> [Float] {
        switch c.latentSpace {
        case .pixels: return data.window(w).latents
        case .motion: return MotionLatent.encode(window: motionFrames(w), s: s, e: e, grid: c.latentSide)
        }
    }

    /// A window's frames for a motion model: two in three seen through a random moving camera
    /// (`CameraMotion`), fixed per window so that validation and the residual spread are repeatable.
    func motionFrames(_ w: TrainingData.Window) -> [RGBImage] {
        let frames = Array(data.frames(w))
        var r = SplitMix64(seed: UInt64(w.clip) &* 1_000_003 &+ UInt64(w.start) &+ options.seed)
        guard Int.random(in: 0..<3, using: &r) > 0 else { return frames }
        return CameraMotion.random(frames: frames.count, side: data.resolution, using: &r).apply(frames)
    }

    private func reconstructionPSNR(_ codec: LatentCodec) -> Double {
        var total = 0.0
        var n = 0
        for clip in data.clips.prefix(4) {
            for i in stride(from: 0, to: clip.frames.count, by: max(1, clip.frames.count / 8)) {
                let back = RGBImage(
                    width: data.resolution, height: data.resolution,
                    planar: codec.decode(clip.latents[i], resolution: data.resolution))
                var se = 0.0
                for j in 0..<back.pixels.count {
                    let d = Double(back.pixels[j]) - Double(clip.frames[i].pixels[j])
                    se += d * d
                }
                total += 10 * log10(255 * 255 / max(1e-10, se / Double(back.pixels.count)))
                n += 1
            }
        }
        return total / Double(max(1, n))
    }

    func learningRate(at step: Int) -> Float {
        let o = options
        var lr = o.learningRate * min(1, Float(step + 1) / Float(max(1, o.warmup)))
        if o.decaySteps > 0 {
            let start = o.steps - o.decaySteps
            if step > start {
                let u = Float(step - start) / Float(o.decaySteps)
                let f = o.finalLearningRateFraction
                lr *= f + (1 - f) * 0.5 * (1 + cos(.pi * min(1, u)))
            }
        }
        return lr
    }

    /// Builds a batch of noised windows; `weights` are the relative loss's (all 1 without it).
    func batch(
        _ windows: [TrainingData.Window], timesteps: [Int]? = nil, relative epsilon: Float? = nil,
        boundaries fixed: [(s: Int, e: Int)?]? = nil, rng: inout SplitMix64
    )
        -> (UNetInput, target: [Float], mask: [Float], weights: [Float], cases: [PhotometricCase])
    {
        let c = model.config
        let perFrame = c.latentChannels * c.latentSide * c.latentSide
        var lat: [Float] = []
        var target: [Float] = []
        var mask: [Float] = []
        var refs: [Float] = []
        var weights: [Float] = []
        var ts: [Float] = []
        var ls: [Float] = []
        var px: [Float] = []
        var cases: [PhotometricCase] = []
        for (i, w) in windows.enumerated() {
            let frames = c.latentSpace == .motion ? motionFrames(w)[...] : data.frames(w)
            // Motion latents depend on the boundaries, so they are drawn first; pixel latents draw them inside.
            let boundaries = fixed?[i] ?? (c.latentSpace == .motion ? c.ranges.sample(using: &rng) : nil)
            let z0 =
                boundaries.map { MotionLatent.encode(window: Array(frames), s: $0.s, e: $0.e, grid: c.latentSide) }
                ?? data.window(w).latents
            let noised = z0.withUnsafeBufferPointer {
                ConsecutiveNoising.make(
                    clean: $0.baseAddress!, frames: c.frames, perFrame: perFrame, ranges: c.ranges,
                    schedule: schedule, prediction: c.prediction, masking: c.masking,
                    anchor: c.anchor, anchorSharpness: c.blendSharpness, residualScale: c.residualScale ?? 1,
                    timestep: timesteps?[i], boundaries: boundaries, using: &rng)
            }
            lat += noised.input
            target += noised.target
            mask += noised.lossMask
            refs += noised.referenceMask
            for f in 0..<c.frames {
                guard let eps = epsilon, noised.noised[f] else {
                    weights.append(1)
                    continue
                }
                // With x₀ prediction and an anchor, the target is r₀ = k·(z₀ − A) itself.
                let m =
                    noised.target[(f * perFrame)..<((f + 1) * perFrame)].reduce(0) { $0 + $1 * $1 } / Float(perFrame)
                weights.append((1 + eps) / (eps + m))
            }
            ts.append(Float(noised.t))
            ls.append(Float(noised.infillLength))
            if c.latentSpace == .motion {
                cases.append(PhotometricCase(frames: Array(frames), s: noised.s, e: noised.e, noised: noised.noised))
            }
            if c.bfg {
                let f = Array(frames)
                px += f[noised.s].planarFloats()
                px += f[noised.e].planarFloats()
            }
        }
        return (
            UNetInput(latents: lat, referenceMask: refs, timesteps: ts, lengths: ls, boundaryPixels: px), target, mask,
            weights,
            cases
        )
    }

    /// Mean photometric loss of the batch's infill frames (`MotionSynthesis.photometric`) built from the
    /// network's output, and, when `dOut` is given, λ times its gradient added there.
    func photometricLoss(
        _ cases: [PhotometricCase], output: UnsafePointer<Float>, dOut: UnsafeMutablePointer<Float>?,
        weight: Float, eachFrame: (Float) -> Void = { _ in }
    ) -> Float {
        let c = model.config
        let G = c.latentSide
        let perFrame = c.latentChannels * G * G
        let k = c.residualScale ?? 1
        let frames = max(1, cases.reduce(0) { $0 + $1.measured.count })
        var total: Float = 0
        // The anchor the sampler corrects by default, so that the network learns corrections to it (its
        // photometric loss warps bilinearly whatever the sampler's filter).
        let anchor = SamplerSettings().motionAnchor(for: c)
        for (b, item) in cases.enumerated() {
            let synthesis = MotionSynthesis(
                start: item.frames[item.s], end: item.frames[item.e], timed: c.timesBlend,
                timeSharpness: anchor.timeSharpness, easing: anchor.timeEasing,
                neighbours: MotionSynthesis.Neighbours(
                    previous: item.s > 0 ? item.frames[item.s - 1] : nil,
                    next: item.e + 1 < item.frames.count ? item.frames[item.e + 1] : nil, steps: item.e - item.s),
                carry: anchor.carry)
            let measured = item.measured
            let results = parallelMap(measured.count) { j -> (Float, [Float]) in
                let f = measured[j]
                let base = (b * c.frames + f) * perFrame
                // x̂₀ = A + r̂₀/k, so the correction to the coarse anchor is r̂₀/k.
                let delta = (0..<perFrame).map { output[base + $0] / k }
                return synthesis.photometric(
                    correction: delta, grid: G, t: Float(f - item.s) / Float(item.e - item.s), truth: item.frames[f])
            }
            for (j, r) in results.enumerated() {
                total += r.0 / Float(frames)
                eachFrame(r.0)
                guard let dOut else { continue }
                let base = (b * c.frames + measured[j]) * perFrame
                // d ln(MSE + ε) = d MSE / (MSE + ε).
                let scale = weight / (k * Float(frames)) / (options.photometricInDecibels ? r.0 + 1e-5 : 1)
                for j in 0..<perFrame { dOut[base + j] += scale * r.1[j] }
            }
        }
        return total
    }

    /// `count` windows of `windows`, each with its boundaries when it is centred on a labelled transition: with
    /// probability `share` (`TrainOptions.transitionShare`) a transition of `centred` (the same windows' transitions)
    /// and boundaries are drawn and the window placed around it, where the set has that window; otherwise (and
    /// always without a share) a window anywhere, its boundaries drawn later.
    func draw(
        _ count: Int, from windows: [TrainingData.Window], centred: TrainingData.TransitionWindows?, share: Float?,
        rng: inout SplitMix64
    ) -> ([TrainingData.Window], [(s: Int, e: Int)?]) {
        var out: ([TrainingData.Window], [(s: Int, e: Int)?]) = ([], [])
        for _ in 0..<count {
            if let share, let centred, !centred.transitions.isEmpty, Float.random(in: 0..<1, using: &rng) < share {
                let t = centred.transitions[Int.random(in: 0..<centred.transitions.count, using: &rng)]
                let b = model.config.ranges.sample(using: &rng)
                if let w = centred.window(centredOn: t, s: b.s, e: b.e) {
                    out.0.append(w)
                    out.1.append(b)
                    continue
                }
            }
            out.0.append(windows[Int.random(in: 0..<windows.count, using: &rng)])
            out.1.append(nil)
        }
        return out
    }

    /// Mean validation loss of the EMA weights on fixed windows, noise and timesteps.
    func validationLoss() -> Validation? {
        guard !data.validation.isEmpty else { return nil }
        let net = model.network
        net.store.swapEMA()
        defer { net.store.swapEMA() }
        var vrng = SplitMix64(seed: 4242)
        /// Up to 16 of `all`, spread evenly.
        func sixteen<T>(_ all: [T]) -> [T] {
            Swift.stride(from: 0, to: all.count, by: max(1, all.count / 16)).prefix(16).map { all[$0] }
        }
        var picks: [(TrainingData.Window, (s: Int, e: Int)?)] = sixteen(data.validation.map { ($0, nil) })
        if options.transitionShare != nil {
            // Centred on the validation takes' transitions, as training's share is (fixed boundaries, repeatable).
            let among = data.transitionWindows(among: data.validation)
            let centred = among.transitions.compactMap { t -> (TrainingData.Window, (s: Int, e: Int)?)? in
                let b = model.config.ranges.sample(using: &vrng)
                return among.window(centredOn: t, s: b.s, e: b.e).map { ($0, b) }
            }
            if !centred.isEmpty { picks = sixteen(centred) }
        }
        let ts = [50, 200, 400, 600, 800, 950]
        var total: Float = 0
        var n = 0
        var photometric: Float = 0
        var anchorPhotometric: Float = 0
        var inference: Float = 0
        var framePSNR = (anchor: [Float](), inference: [Float]())
        let perFrame = model.config.latentChannels * model.config.latentSide * model.config.latentSide
        for (i, (w, b)) in picks.enumerated() {
            // Unweighted: comparable across runs.
            let (input, target, mask, _, cases) = batch(
                [w], timesteps: [ts[i % ts.count]], boundaries: [b], rng: &vrng)
            let out = net.forward(input)
            total += maskedMSEForwardBackward(dpred: nil, pred: out.ptr, target: target, mask: mask, perFrame: perFrame)
            if options.photometricWeight != nil {
                photometric += photometricLoss(cases, output: out.ptr, dOut: nil, weight: 0)
                let zero = [Float](repeating: 0, count: target.count)
                anchorPhotometric += photometricLoss(
                    cases, output: zero, dOut: nil, weight: 0, eachFrame: { framePSNR.anchor.append(decibels($0)) })
                let (pure, _, _, _, same) = batch([w], timesteps: [schedule.steps - 1], boundaries: [b], rng: &vrng)
                let guess = net.forward(pure)
                inference += photometricLoss(
                    same, output: guess.ptr, dOut: nil, weight: 0,
                    eachFrame: { framePSNR.inference.append(decibels($0)) })
            }
            n += 1
        }
        guard options.photometricWeight != nil else { return Validation(latent: total / Float(n)) }
        func mean(_ v: [Float]) -> Float { v.reduce(0, +) / Float(max(1, v.count)) }
        return Validation(
            latent: total / Float(n), photometric: photometric / Float(n),
            anchorPhotometric: anchorPhotometric / Float(n),
            inference: inference / Float(n), anchorFramePSNR: mean(framePSNR.anchor),
            inferenceFramePSNR: mean(framePSNR.inference))
    }

    /// Validation of the EMA weights: the latent loss, and for motion models with a photometric loss its mean
    /// MSE (at the validation timesteps, from pure noise, and of the anchor alone) and the frames' mean PSNR
    /// from pure noise and of the anchor (what evaluation averages).
    struct Validation {
        var latent: Float
        var photometric: Float?
        var anchorPhotometric: Float?
        var inference: Float?
        var anchorFramePSNR: Float?
        var inferenceFramePSNR: Float?
    }

    private func train(from startStep: Int, log: (String) -> Void, event: (TrainRecord) -> Void) throws {
        let o = options
        let net = model.network
        let perFrame = model.config.latentChannels * model.config.latentSide * model.config.latentSide
        let dOut = Buffer()
        let t0 = Date()
        var step = startStep
        var recent: [Float] = []
        var recentPhotometric: Float = 0
        // The training windows' transitions, found once for every step's draw.
        let centred = o.transitionShare == nil ? nil : data.transitionWindows(among: data.training)
        while step < o.steps {
            if cancelFlag.isCancelled {
                try checkpoint(step: step, log: log)
                throw EngineError.cancelled
            }
            let (windows, boundaries) = draw(
                o.batch, from: data.training, centred: centred, share: o.transitionShare, rng: &rng)
            let timesteps = windows.map { _ in
                let pure = o.pureNoiseShare.map { Float.random(in: 0..<1, using: &rng) < $0 } ?? false
                return pure ? schedule.steps - 1 : Int.random(in: 0..<schedule.steps, using: &rng)
            }
            let (input, target, mask, weights, cases) = batch(
                windows, timesteps: timesteps,
                relative: o.relativeLossEpsilon, boundaries: boundaries, rng: &rng)
            net.store.zeroGrad()
            let out = net.forward(input)
            dOut.resize(out.count)
            let loss = maskedMSEForwardBackward(
                dpred: dOut.ptr, pred: out.ptr, target: target, mask: mask, weights: weights, perFrame: perFrame)
            let photometric = o.photometricWeight.map {
                photometricLoss(cases, output: out.ptr, dOut: dOut.ptr, weight: $0)
            }
            guard loss.isFinite, photometric?.isFinite ?? true else {
                throw EngineError.diverged(step: step, loss: loss)
            }
            net.backward(dOut)
            let norm = net.store.clipGradNorm(o.clip)
            let lr = learningRate(at: step)
            net.store.adamWStep(lr: lr, weightDecay: o.weightDecay)
            net.store.updateEMA(decay: min(o.emaDecay, Float(1 + step) / Float(10 + step)))
            step += 1
            model.step = step
            recent.append(loss)
            var record = TrainRecord(
                step: step, loss: loss, lr: lr, gradNorm: norm, seconds: Date().timeIntervalSince(t0),
                valLoss: nil, photometric: photometric)
            recentPhotometric += photometric ?? 0
            if step % o.evalEvery == 0 || step == o.steps {
                let v = validationLoss()
                record.valLoss = v?.latent
                record.valPhotometric = v?.photometric
                record.valAnchorPhotometric = v?.anchorPhotometric
                record.valInferencePhotometric = v?.inference
                record.valAnchorFramePSNR = v?.anchorFramePSNR
                record.valInferenceFramePSNR = v?.inferenceFramePSNR
            }
            history.append(record)
            try appendLog(record)
            event(record)
            if step % 25 == 0 || record.valLoss != nil {
                let mean = recent.reduce(0, +) / Float(max(1, recent.count))
                let photo =
                    o.photometricWeight == nil
                    ? ""
                    : String(format: "  photometric %.2f dB", decibels(recentPhotometric / Float(max(1, recent.count))))
                let valPhoto =
                    record.valPhotometric.map { value in
                        let anchor =
                            record.valAnchorPhotometric.map { String(format: ", anchor %.2f dB", decibels($0)) } ?? ""
                        let pure =
                            record.valInferencePhotometric.map { String(format: ", from noise %.2f dB", decibels($0)) }
                            ?? ""
                        var frames = ""
                        if let a = record.valAnchorFramePSNR, let f = record.valInferenceFramePSNR {
                            frames = String(format: "; frame mean: from noise %.2f dB, anchor %.2f dB", f, a)
                        }
                        return String(format: " (%.2f dB", decibels(value)) + pure + anchor + frames + ")"
                    } ?? ""
                recent.removeAll()
                recentPhotometric = 0
                let rate = Date().timeIntervalSince(t0) / Double(step - startStep)
                log(
                    String(
                        format: "step %d/%d  loss %.4f  lr %.2e  |g| %.2f  %.2f s/step  eta %@%@", step, o.steps, mean,
                        lr, norm, rate,
                        formatDuration(rate * Double(o.steps - step)),
                        record.valLoss.map { String(format: "  val %.4f", $0) + valPhoto } ?? "") + photo)
            }
            if step % o.saveEvery == 0 || step == o.steps { try checkpoint(step: step, log: log) }
        }
    }

    private func appendLog(_ r: TrainRecord) throws {
        let line = String(decoding: try JSONEncoder().encode(r), as: UTF8.self) + "\n"
        // Whole lines or none: a full disk cuts no line in half (FileHandle.write would trap there).
        try FileProblem.append(Data(line.utf8), to: options.logURL.path)
    }

    /// Model (EMA weights) and full optimiser state, each written atomically.
    public func checkpoint(step: Int, log: (String) -> Void) throws {
        defer { checkpointsWritten += 1 }
        let net = model.network
        try model.save(to: options.output, buffer: .ema, overwrite: true)
        var views: [(String, [Int], UnsafePointer<Float>)] = []
        for b in ParameterStore.Buffer.allCases {
            views += net.store.tensors(b).map { ("\(b.rawValue)/\($0.0)", $0.1, $0.2) }
        }
        let meta = [
            "mavin.step": String(step), "mavin.adam_step": String(net.store.step), "mavin.rng": String(rng.state),
            "mavin.config": model.config.json()
        ]
        try AtomicOutput.write(
            try SafeTensorsFile.serialize(views, metadata: meta), to: options.stateURL, overwrite: true)
        if history.count >= 2 {
            try? PNG.write(LossCurve.render(history), to: options.curveURL, overwrite: true)
        }
        log("checkpoint: \(options.output.path) (step \(step))")
    }

    private func loadState(into model: MavinModel) throws -> Int {
        let file = try SafeTensorsFile(url: options.stateURL)
        guard file.metadata["mavin.config"] == model.config.json() else {
            throw EngineError.stateMismatch(path: options.stateURL.path)
        }
        let store = model.network.store
        for b in ParameterStore.Buffer.allCases { try store.load(file, into: b, prefix: "\(b.rawValue)/") }
        store.step = Int(file.metadata["mavin.adam_step"] ?? "0") ?? 0
        if let s = file.metadata["mavin.rng"].flatMap(UInt64.init) { rng = SplitMix64(seed: s) }
        return Int(file.metadata["mavin.step"] ?? "0") ?? 0
    }
}
