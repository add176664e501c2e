import Diffusion
import Foundation

/// Everything that fixes the network's shape and meaning; stored as JSON in the
/// checkpoint's `__metadata__["mavin.config"]`, so a file describes itself.
/// What the diffusion runs on (see `ModelConfig.space`).
public enum LatentSpace: String, Codable, Sendable {
    case pixels
    case motion
}

public struct ModelConfig: Codable, Equatable, Sendable {
    public var name: String
    /// Frame side in pixels (square frames).
    public var resolution: Int
    /// Window length L.
    public var frames: Int
    /// Codec: p×p blocks to K components.
    public var codecPatch: Int
    public var latentChannels: Int
    /// U-Net channels per level (level 0 at latent resolution).
    public var channels: [Int]
    public var heads: Int
    public var embeddingDim: Int
    /// Boundary frame guidance: token width and pixel patch of the boundary encoder; nil = −BFG.
    public var contextDim: Int?
    public var boundaryPatch: Int
    public var prediction: Prediction
    public var ranges: BoundaryRanges
    public var masking: Masking
    /// Residual parameterisation (see `Anchor`); nil = the paper's: the network's target is z₀ itself.
    public var anchor: Anchor?
    /// k in r₀ = k·(z₀ − A): scales the residual to unit spread (measured on the training data).
    public var residualScale: Float?
    /// The anchor's blend curve (`Anchor.weight`): nil or 0 = linear crossfade.
    public var anchorSharpness: Float?
    /// What a latent holds: nil or `.pixels`, the PCA codec's frame latents; `.motion`, each frame's
    /// flows to both boundary frames and a blend weight, on a latentSide² grid (the output is built
    /// by warping the clips' own pixels, at their own size).
    public var space: LatentSpace?
    /// Motion models: m is also the frame's time, τ = 1 − m at each point. The fine anchor's flows are
    /// taken at τ, so a correction of m retimes the motion with the flows' full detail (a pose change
    /// that happens late, a hold near a boundary) as well as reweighing the blend (1 − τ)·W(xˢ) + τ·W(xᵉ).
    /// nil or false: m only blends, around a visibility-weighted anchor (the first motion model).
    public var timedBlend: Bool?
    /// Motion models: sharpness of the anchor's time curve (`Anchor.eased`): the frame at position t of the
    /// gap moves as at time eased(t), so the frames next to a boundary keep its pose and the change happens
    /// in the middle. nil = `defaultTimeSharpness`; 0 = linear motion (the anchor these checkpoints were
    /// trained with before it: measured lower with them too, see Samples/models/README.md).
    public var timeSharpness: Float?
    /// Motion models: where the eased time applies (`TimeEasing`); nil = `defaultTimeEasing`.
    public var timeEasing: TimeEasing?

    public var latentSpace: LatentSpace { space ?? .pixels }

    /// `anchorSharpness` with nil read as 0: the linear crossfade.
    public var blendSharpness: Float { anchorSharpness ?? 0 }

    public var latentSide: Int { resolution / codecPatch }
    public var timesBlend: Bool { timedBlend ?? false }
    /// `timeSharpness` with nil read as the default.
    public var motionTimeSharpness: Float { timeSharpness ?? ModelConfig.defaultTimeSharpness }
    /// The highest-PSNR sharpness on the tuning transitions (seeds 80000+, l = 12) among 0, 8, 12, 16, 24.
    public static let defaultTimeSharpness: Float = 16
    /// `timeEasing` with nil read as the default.
    public var motionTimeEasing: TimeEasing { timeEasing ?? ModelConfig.defaultTimeEasing }
    /// Paced: with the flows' spatial propagation (`DISFlow.Settings.propagation`), the highest mean PSNR and
    /// MS-SSIM over the five tuning sets (synthetic seeds 80000+ still, `--camera` and auto-camera, three
    /// opencv-doc clips and real set 2, none of them the shared footage; Samples/models/README.md), and CLIP-RS
    /// above `references`' without propagation. (`references` was the best without it.)
    public static let defaultTimeEasing = TimeEasing.paced
    public var bfg: Bool { contextDim != nil }

    public static func preset(_ name: String) -> ModelConfig? {
        if name == "motion" {
            // Motion space on a 16² grid of 128² frames; l from 2 to 12 (s ∈ 1…6, e ∈ 9…14).
            var c = ModelConfig(
                name: "motion", resolution: 128, frames: 16, codecPatch: 8,
                latentChannels: Anchor.motionPlanes, channels: [64, 128], heads: 4, embeddingDim: 256,
                contextDim: 128, boundaryPatch: 16, prediction: .sample,
                ranges: BoundaryRanges(startLow: 1, startHigh: 6, endLow: 9, endHigh: 14),
                masking: .consecutive)
            c.anchor = .motion
            c.space = .motion
            c.timedBlend = true
            return c
        }
        switch name {
        case "tiny":
            return ModelConfig(
                name: "tiny", resolution: 32, frames: 8, codecPatch: 8, latentChannels: 12, channels: [32, 32],
                heads: 2, embeddingDim: 64, contextDim: 32, boundaryPatch: 8, prediction: .v,
                ranges: BoundaryRanges(startLow: 1, startHigh: 2, endLow: 5, endHigh: 6), masking: .consecutive)
        case "small":
            // x₀-prediction: measured cleaner than v within this machine's training budget (Samples/models/README.md).
            return ModelConfig(
                name: "small", resolution: 128, frames: 16, codecPatch: 8, latentChannels: 48, channels: [64, 128],
                heads: 4, embeddingDim: 256, contextDim: 128, boundaryPatch: 16, prediction: .sample,
                // l from 8 to 12 (triangular, peak 10): the gaps the product is evaluated on.
                ranges: BoundaryRanges(startLow: 1, startHigh: 3, endLow: 12, endHigh: 14), masking: .consecutive)
        default: return nil
        }
    }

    /// A problem with the config in words, or nil.
    public func validate() -> String? {
        // Sizes first: everything after divides by them.
        let sizes: [(String, Int)] = [
            ("resolution", resolution), ("frames", frames), ("codecPatch", codecPatch),
            ("latentChannels", latentChannels), ("heads", heads),
            ("embeddingDim", embeddingDim), ("boundaryPatch", boundaryPatch)
        ]
        for (key, value) in sizes where value <= 0 { return "\(key) is \(value); it must be a positive whole number" }
        if let d = contextDim, d <= 0 {
            return "contextDim is \(d); it must be positive (or absent: no boundary guidance)"
        }
        if let c = channels.first(where: { $0 <= 0 }) {
            return "U-Net channels \(channels) include \(c); each must be positive"
        }
        // Bounds before any product of sizes, which could otherwise overflow.
        let limits: [(String, Int, Int)] = [
            ("resolution", resolution, 4096), ("frames", frames, 1024), ("codecPatch", codecPatch, resolution),
            ("boundaryPatch", boundaryPatch, resolution), ("latentChannels", latentChannels, 4096),
            ("heads", heads, 1024), ("embeddingDim", embeddingDim, 65536), ("contextDim", contextDim ?? 1, 65536)
        ]
        for (key, value, limit) in limits where value > limit {
            return "\(key) is \(value); at most \(limit) is allowed"
        }
        if let c = channels.first(where: { $0 > 65536 }) {
            return "U-Net channels \(channels) include \(c); at most 65536"
        }
        if resolution % codecPatch != 0 {
            return "resolution \(resolution) is not a multiple of the codec patch \(codecPatch)"
        }
        if latentSide % 2 != 0 { return "latent side \(latentSide) must be even (one downsampling level)" }
        if channels.count != 2 { return "the U-Net has exactly 2 levels; got \(channels.count)" }
        // GroupNorm runs over min(32, C) groups on every stage's input and output channels.
        let normed = [channels[0], channels[1], 2 * channels[1], channels[0] + channels[1]]
        if let c = normed.first(where: { $0 > 32 && $0 % 32 != 0 }) {
            return "U-Net channels \(channels) put \(c) channels in a GroupNorm of 32 groups; use multiples of 32"
        }
        if channels.contains(where: { $0 % heads != 0 }) {
            return "channels \(channels) must be divisible by heads \(heads)"
        }
        if latentChannels > 3 * codecPatch * codecPatch { return "more latent channels than block values" }
        if resolution % boundaryPatch != 0 { return "resolution must be a multiple of the boundary patch" }
        if latentSpace == .motion && latentChannels != Anchor.motionPlanes {
            return "a motion latent has \(Anchor.motionPlanes) channels (got \(latentChannels))"
        }
        if (anchor == .motion) != (latentSpace == .motion) {
            return "the motion anchor goes with the motion latent space"
        }
        if let k = residualScale, !(k.isFinite && k > 0) { return "residual scale must be a positive number" }
        if let a = anchorSharpness, !(a.isFinite && a >= 0 && a <= 100) {
            return "anchor sharpness must be within 0…100"
        }
        if let a = timeSharpness, !(a.isFinite && a >= 0 && a <= 100) {
            return "time sharpness must be within 0…100"
        }
        return ranges.validate(window: frames)
    }

    public func json() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Where a motion model's anchor takes its time from the eased curve rather than the linear one.
public enum TimeEasing: String, Codable, Sendable, CaseIterable {
    /// Every point: the frames next to a boundary keep its pose (right for a pose change on a still camera).
    case uniform
    /// Everything but the camera: the dominant affine motion of each flow (a pan, zoom or roll) moves at the
    /// frame's own linear time, what moves apart from it at the eased time.
    case camera
    /// As `camera`, and the rest eased only where the two flows between the boundary frames disagree (what the
    /// flow cannot follow, such as fast thin limbs); where they agree it moves linearly too.
    case adaptive
    /// As `camera`, with the curve's slope at each end taken from the clip's own pace there (the motion from the
    /// frame before xˢ, and to the frame after xᵉ, along the gap's motion): a take that carries on through
    /// the gap moves linearly, a clip that stops at the cut eases; without those frames, as `camera`.
    case references
    /// As `references`, with the camera's part of the motion paced by its clips too, measured the same way: a
    /// camera the two boundary frames alone show (on a still shot, the fit takes up part of the subject's motion)
    /// is eased with the rest. Higher PSNR on still shots, lower MS-SSIM and CLIP-RS where the camera moves
    /// (Samples/models/README.md).
    case paced
}
