import Foundation

/// What the network predicts.
public enum Prediction: String, Codable, Sendable, CaseIterable {
    /// ε, the noise (DDPM).
    case epsilon
    /// v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans & Ho): well-conditioned at high noise, where ε̂ ≈ x_t is trivial.
    case v
    /// x₀ itself: the conditional mean at every noise level, so an imperfect network errs
    /// towards smooth frames rather than leftover noise (measured: see Samples/models/README.md).
    case sample
}

/// The scaled-linear β schedule (Stable Diffusion's): √β linear from √0.00085 to √0.012 over 1000 steps.
public struct NoiseSchedule: Sendable {
    public let steps: Int
    public let alphasCumprod: [Double]

    public init(steps: Int = 1000, betaStart: Double = 0.00085, betaEnd: Double = 0.012) {
        self.steps = steps
        var abar: [Double] = []
        var prod = 1.0
        for i in 0..<steps {
            let s =
                betaStart.squareRoot() + (betaEnd.squareRoot() - betaStart.squareRoot()) * Double(i) / Double(steps - 1)
            prod *= 1 - s * s
            abar.append(prod)
        }
        alphasCumprod = abar
    }

    /// (√ᾱ_t, √(1−ᾱ_t)); t = −1 means "no noise" (ᾱ = 1), the DDIM final target.
    public func coefficients(_ t: Int) -> (signal: Float, noise: Float) {
        let a = t < 0 ? 1.0 : alphasCumprod[t]
        return (Float(a.squareRoot()), Float((1 - a).squareRoot()))
    }

    /// x_t = √ᾱ x₀ + √(1−ᾱ) ε (Eq. 1 of DDPM), elementwise into `out`.
    public func diffuse(
        _ x0: UnsafePointer<Float>, noise: UnsafePointer<Float>, t: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        let (a, b) = coefficients(t)
        for i in 0..<count { out[i] = a * x0[i] + b * noise[i] }
    }

    /// The regression target of the network for a noised element.
    @inline(__always)
    public func target(_ prediction: Prediction, x0: Float, noise: Float, t: Int) -> Float {
        switch prediction {
        case .epsilon: return noise
        case .v:
            let (a, b) = coefficients(t)
            return a * noise - b * x0
        case .sample: return x0
        }
    }

    /// Converts a network output at x_t into (x̂₀, ε̂).
    @inline(__always)
    public func split(_ prediction: Prediction, output: Float, xt: Float, t: Int) -> (x0: Float, eps: Float) {
        let (a, b) = coefficients(t)
        switch prediction {
        case .epsilon:
            return ((xt - b * output) / a, output)
        case .v:
            // x₀ = √ᾱ x_t − √(1−ᾱ) v ; ε = √(1−ᾱ) x_t + √ᾱ v
            return (a * xt - b * output, b * xt + a * output)
        case .sample:
            return (output, b > 0 ? (xt - a * output) / b : 0)
        }
    }

    /// The DDIM timesteps for `count` steps, descending from steps−1.
    public func ddimTimesteps(_ count: Int) -> [Int] {
        let n = max(1, min(count, steps))
        if n == 1 { return [steps - 1] }
        return (0..<n).map { i in Int((Double(steps - 1) * Double(n - 1 - i) / Double(n - 1)).rounded()) }
    }
}

/// One DDIM update (Song et al., Eq. 12) from t to tPrev with stochasticity η.
public struct DDIM: Sendable {
    public let schedule: NoiseSchedule
    public let eta: Float

    public init(schedule: NoiseSchedule, eta: Float = 0) {
        self.schedule = schedule
        self.eta = eta
    }

    /// x_{t_prev} = √ᾱ_prev x̂₀ + √(1−ᾱ_prev−σ²) ε̂ + σ z.
    public func step<G: RandomNumberGenerator>(xt: Float, x0: Float, eps: Float, t: Int, tPrev: Int, rng: inout G)
        -> Float
    {
        let aT = t < 0 ? 1.0 : schedule.alphasCumprod[t]
        let aP = tPrev < 0 ? 1.0 : schedule.alphasCumprod[tPrev]
        let sigma = Double(eta) * ((1 - aP) / (1 - aT) * (1 - aT / aP)).squareRoot()
        let dir = max(0, 1 - aP - sigma * sigma).squareRoot()
        var x = aP.squareRoot() * Double(x0) + dir * Double(eps)
        if sigma > 0 { x += sigma * Double(gaussian(&rng)) }
        return Float(x)
    }
}

/// A standard normal sample (Box–Muller).
@inline(__always)
public func gaussian<G: RandomNumberGenerator>(_ rng: inout G) -> Float {
    let u1 = Float.random(in: Float.ulpOfOne..<1, using: &rng)
    let u2 = Float.random(in: 0..<1, using: &rng)
    return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
}
