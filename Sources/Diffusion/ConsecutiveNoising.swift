/// How training corrupts a window.
public enum Masking: String, Codable, Sendable, CaseIterable {
    /// MAVIN (§3.3): only the middle clip z^{s+1}…z^{e−1} is noised; references stay clean.
    case consecutive
    /// The SEINE-like alternative (ablation): each frame is corrupted independently at random. With a residual
    /// anchor the boundary frames s and e, which the anchor is built from, stay clean, and a corrupted frame
    /// outside s…e gets the anchor carried past the gap's ends (`Anchor.make(outside:)`).
    case seine
}

/// One training example built from a clean latent window z₀ [L, perFrame]:
/// the network input (noised frames where `noised`, clean elsewhere), the mask
/// channel, the regression target, and the loss mask (noised frames only).
public struct NoisedWindow {
    public var input: [Float]
    public var target: [Float]
    public var noised: [Bool]
    public var s: Int, e: Int
    public var t: Int

    public var infillLength: Int { e - s - 1 }
    public var lossMask: [Float] { noised.map { $0 ? 1 : 0 } }
    /// 1 for reference (clean) frames: the model's extra input channel.
    public var referenceMask: [Float] { noised.map { $0 ? 0 : 1 } }
}

public enum ConsecutiveNoising {
    public static func make<G: RandomNumberGenerator>(
        clean z0: UnsafePointer<Float>, frames L: Int, perFrame: Int,
        ranges: BoundaryRanges, schedule: NoiseSchedule, prediction: Prediction,
        masking: Masking = .consecutive, anchor: Anchor? = nil, anchorSharpness: Float = 0,
        residualScale k: Float = 1, timestep: Int? = nil,
        boundaries: (s: Int, e: Int)? = nil,
        using rng: inout G
    ) -> NoisedWindow {
        // Boundaries drawn by the caller (motion latents depend on them), else drawn here.
        let (s, e) = boundaries ?? ranges.sample(using: &rng)
        let t = timestep ?? Int.random(in: 0..<schedule.steps, using: &rng)
        var noised = [Bool](repeating: false, count: L)
        switch masking {
        case .consecutive:
            for f in (s + 1)..<e { noised[f] = true }
        case .seine:
            // Same expected number of corrupted frames as the consecutive infill, placed anywhere (but on the
            // boundary frames when an anchor is built from them).
            let candidates = (0..<L).filter { anchor == nil || ($0 != s && $0 != e) }
            let p = Double(e - s - 1) / Double(candidates.count)
            for f in candidates { noised[f] = Double.random(in: 0..<1, using: &rng) < p }
            if !noised.contains(true) { noised[candidates[Int.random(in: 0..<candidates.count, using: &rng)]] = true }
        }
        // Residual parameterisation: diffuse k·(z₀ − A) and show the network A + r_t (see Anchor).
        let base0 = anchor?.make(
            window: z0, frames: L, perFrame: perFrame, s: s, e: e, sharpness: anchorSharpness,
            outside: masking == .seine)
        var input = [Float](repeating: 0, count: L * perFrame)
        var target = [Float](repeating: 0, count: L * perFrame)
        let (a, b) = schedule.coefficients(t)
        for f in 0..<L {
            let base = f * perFrame
            if noised[f] {
                for i in 0..<perFrame {
                    let eps = gaussian(&rng)
                    let shift = base0?[base + i] ?? 0
                    let x0 = base0 == nil ? z0[base + i] : k * (z0[base + i] - shift)
                    input[base + i] = shift + a * x0 + b * eps
                    target[base + i] = schedule.target(prediction, x0: x0, noise: eps, t: t)
                }
            } else {
                for i in 0..<perFrame { input[base + i] = z0[base + i] }
            }
        }
        return NoisedWindow(input: input, target: target, noised: noised, s: s, e: e, t: t)
    }
}
