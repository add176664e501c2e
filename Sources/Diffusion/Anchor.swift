import Foundation

/// Residual parameterisation of the infill (our addition to MAVIN, off in the
/// paper's setting): the diffusion runs on r₀ = k·(z₀ − A) where A is a
/// deterministic transition built from the two boundary latents, so the
/// network only has to learn what the plain transition gets wrong (motion,
/// occlusion, pose) and an untrained correction leaves A itself.
/// The network still sees latents: its input on infill frames is A + r_t.
public enum Anchor: String, Codable, Sendable, CaseIterable {
    /// Blend of z^s and z^e over the infill frames, along `Anchor.weight`'s curve.
    case crossfade
    /// Motion-space latents (`MotionLatent`: per frame [u→s, v→s, u→e, v→e, m] planes): the
    /// intermediate flows of linear motion between the boundary frames, from xˢ's flow to xᵉ and
    /// xᵉ's flow to xˢ, and m = 1 − u (u = the frame's position in the gap).
    case motion

    /// Planes per frame of a motion latent, and where its flows to xˢ, to xᵉ and its blend weight start.
    public static let motionPlanes = 5
    public static let motionToStart = 0
    public static let motionToEnd = 2
    public static let motionBlend = 4

    /// Weight of the end boundary at frame f of the infill s…e: the position u = (f − s)/(e − s)
    /// eased by a logistic of the given sharpness, rescaled to 0 at s and 1 at e. Sharpness 0 is
    /// the linear crossfade; large values approach holding each boundary for half the gap.
    /// (An eased curve scores higher per-frame PSNR on transitions: the frames next to a
    /// boundary stay close to it, where real motion usually is; see Samples/models/README.md.)
    public static func weight(frame f: Int, s: Int, e: Int, sharpness a: Float) -> Float {
        eased(Float(f - s) / Float(e - s), sharpness: a)
    }

    /// The position u ∈ [0, 1] eased by a logistic of the given sharpness, rescaled to 0 at 0 and 1 at 1
    /// (sharpness 0: u itself). `weight`'s curve, and the motion anchor's time curve.
    public static func eased(_ u: Float, sharpness a: Float) -> Float {
        guard a > 1e-3 else { return u }
        func logistic(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
        let lo = logistic(-a / 2)
        let hi = logistic(a / 2)
        return (logistic(a * (u - 0.5)) - lo) / (hi - lo)
    }

    /// The anchor of every frame of a window [L, perFrame] whose boundary frames are s and e;
    /// frames outside s…e hold their own latents (they are references, never noised), unless `outside`:
    /// then they too get the transition's rule carried past its ends (SEINE-like masking corrupts them),
    /// the crossfade holding the nearer boundary and the motion anchor extrapolating the linear motion.
    public func make(
        window z: UnsafePointer<Float>, frames L: Int, perFrame: Int, s: Int, e: Int, sharpness: Float = 0,
        outside: Bool = false
    )
        -> [Float]
    {
        precondition(s >= 0 && e < L && e > s)
        var out = Array(UnsafeBufferPointer(start: z, count: L * perFrame))
        let frames = (outside ? 0..<L : (s + 1)..<e).filter { $0 != s && $0 != e }
        switch self {
        case .crossfade:
            for f in frames {
                let w = Anchor.weight(frame: min(e, max(s, f)), s: s, e: e, sharpness: sharpness)
                for i in 0..<perFrame {
                    out[f * perFrame + i] = (1 - w) * z[s * perFrame + i] + w * z[e * perFrame + i]
                }
            }
        case .motion:
            let n = perFrame / Anchor.motionPlanes
            precondition(n * Anchor.motionPlanes == perFrame, "a motion latent has \(Anchor.motionPlanes) planes")
            let forward = z + s * perFrame + Anchor.motionToEnd * n  // F_{s→e}
            let backward = z + e * perFrame + Anchor.motionToStart * n  // F_{e→s}
            for f in frames {
                let t = Float(f - s) / Float(e - s)
                let base = f * perFrame
                // Eq. of Super SloMo / the issue: F_{t→s} = −(1−t)t·F_{s→e} + t²·F_{e→s},
                // F_{t→e} = (1−t)²·F_{s→e} − t(1−t)·F_{e→s}, both planes (u then v).
                for i in 0..<(2 * n) {
                    out[base + Anchor.motionToStart * n + i] = -(1 - t) * t * forward[i] + t * t * backward[i]
                    out[base + Anchor.motionToEnd * n + i] = (1 - t) * (1 - t) * forward[i] - t * (1 - t) * backward[i]
                }
                for i in 0..<n { out[base + Anchor.motionBlend * n + i] = min(1, max(0, 1 - t)) }
            }
        }
        return out
    }
}
