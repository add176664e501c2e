/// Residual parameterisation of the infill (our addition to MAVIN, off in the
/// paper's setting): the diffusion runs on r₀ = k·(z₀ − A) where A is a
/// deterministic transition built from the two boundary latents, so the
/// network only has to learn what the plain transition gets wrong (motion,
/// occlusion, pose) and an untrained correction leaves A itself.
/// The network still sees latents: its input on infill frames is A + r_t.
public enum Anchor: String, Codable, Sendable, CaseIterable {
    /// Linear blend of z^s and z^e over the infill frames.
    case crossfade

    /// The anchor of every frame of a window [L, perFrame] whose boundary frames are s and e;
    /// frames outside s…e hold their own latents (they are references, never noised).
    public func make(window z: UnsafePointer<Float>, frames L: Int, perFrame: Int, s: Int, e: Int) -> [Float] {
        precondition(s >= 0 && e < L && e > s)
        var out = Array(UnsafeBufferPointer(start: z, count: L * perFrame))
        switch self {
        case .crossfade:
            for f in (s + 1)..<e {
                let w = Float(f - s) / Float(e - s)
                for i in 0..<perFrame {
                    out[f * perFrame + i] = (1 - w) * z[s * perFrame + i] + w * z[e * perFrame + i]
                }
            }
        }
        return out
    }
}
