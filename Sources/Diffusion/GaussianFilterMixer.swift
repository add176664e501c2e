import CFFTW
import Foundation

/// The Gaussian filter mixer (MAVIN §3.4, Eq. 4–7), used only at inference to
/// initialise the noise of the infill frames.
///
/// For infill frame n: take the diffused latent of the nearest boundary frame
/// (s when n ≤ (s+e)/2, else e) repeated over the infill, 3D-FFT it over
/// (frames, height, width), keep its low frequencies through a centred Gaussian
/// low-pass G with stop frequencies f_S(n) = f_T(n) = max(0, f0 − λ·d(n)·f0),
/// d(n) = min(|n−s|, |n−e|), add the high frequencies of fresh noise through
/// 1 − G, inverse-FFT, and keep frame n.
public final class GaussianFilterMixer {
    public var f0: Float
    public var lambda: Float
    private var plans: [PlanKey: Plans] = [:]

    private struct PlanKey: Hashable { let frames: Int, height: Int, width: Int, channels: Int }
    private final class Plans {
        let forward: fftwf_plan, inverse: fftwf_plan
        let buffer: UnsafeMutablePointer<fftwf_complex>
        let count: Int
        init(frames: Int, height: Int, width: Int, channels: Int) {
            count = frames * height * width * channels
            buffer = fftwf_alloc_complex(count)
            var dims: [Int32] = [Int32(frames), Int32(height), Int32(width)]
            let volume = Int32(frames * height * width)
            // One plan transforms every channel: channels are the "howmany" batch.
            forward = fftwf_plan_many_dft(
                3, &dims, Int32(channels), buffer, nil, 1, volume, buffer, nil, 1, volume, FFTW_FORWARD, FFTW_ESTIMATE)
            inverse = fftwf_plan_many_dft(
                3, &dims, Int32(channels), buffer, nil, 1, volume, buffer, nil, 1, volume, FFTW_BACKWARD, FFTW_ESTIMATE)
        }
        deinit {
            fftwf_destroy_plan(forward)
            fftwf_destroy_plan(inverse)
            fftwf_free(buffer)
        }
    }

    public init(f0: Float = 0.6, lambda: Float = 0.1) {
        self.f0 = f0
        self.lambda = lambda
    }

    /// Eq. 7: the stop frequency of infill frame n (window indices).
    public func stopFrequency(frame n: Int, boundaryStart s: Int, boundaryEnd e: Int) -> Float {
        max(0, f0 - lambda * Float(min(abs(n - s), abs(n - e))) * f0)
    }

    /// Eq. 5: the centred 3D Gaussian low-pass for stop frequencies (spatial fS, temporal fT),
    /// on frequencies normalised to [−1, 1) per axis; all zeros when a stop frequency is 0.
    public static func lowPass(frames T: Int, height H: Int, width W: Int, spatial fS: Float, temporal fT: Float)
        -> [Float]
    {
        var g = [Float](repeating: 0, count: T * H * W)
        guard fS > 0, fT > 0 else { return g }
        // FFT bin k holds frequency k/N (k < N/2) or (k−N)/N: normalise to [−1, 1).
        func freq(_ k: Int, _ n: Int) -> Float { n <= 1 ? 0 : 2 * Float(k < (n + 1) / 2 ? k : k - n) / Float(n) }
        for t in 0..<T {
            let ft = freq(t, T)
            for y in 0..<H {
                let fy = freq(y, H)
                for x in 0..<W {
                    let fx = freq(x, W)
                    g[(t * H + y) * W + x] = exp(-(fx * fx + fy * fy) / (2 * fS * fS) - ft * ft / (2 * fT * fT))
                }
            }
        }
        return g
    }

    /// Mixes the initial noise of the infill frames s+1…e−1.
    /// - boundaryStart/End: diffused latents z_T^s and z_T^e, each [channels, H, W].
    /// - noise: fresh ε for the infill, [l, channels, H, W]; returns the mixed [l, channels, H, W].
    public func mix(
        boundaryStart zs: [Float], boundaryEnd ze: [Float], noise: [Float],
        s: Int, e: Int, channels C: Int, height H: Int, width W: Int
    ) -> [Float] {
        let l = e - s - 1
        precondition(l >= 1 && noise.count == l * C * H * W && zs.count == C * H * W && ze.count == C * H * W)
        let key = PlanKey(frames: l, height: H, width: W, channels: C)
        let plan = plans[key] ?? Plans(frames: l, height: H, width: W, channels: C)
        plans[key] = plan
        let volume = l * H * W
        // Layout for FFTW: [channel][frame][y][x].
        func load(_ value: (Int, Int, Int) -> Float) {
            let b = UnsafeMutableRawPointer(plan.buffer).assumingMemoryBound(to: Float.self)
            for c in 0..<C {
                for f in 0..<l {
                    for p in 0..<(H * W) {
                        let i = (c * l + f) * H * W + p
                        b[2 * i] = value(f, c, p)
                        b[2 * i + 1] = 0
                    }
                }
            }
        }
        func spectrum() -> [Float] {
            fftwf_execute(plan.forward)
            let b = UnsafeMutableRawPointer(plan.buffer).assumingMemoryBound(to: Float.self)
            return Array(UnsafeBufferPointer(start: b, count: 2 * plan.count))
        }
        var boundarySpectra: [[Float]] = []
        for side in 0..<2 {
            let z = side == 0 ? zs : ze
            load { _, c, p in z[c * H * W + p] }
            boundarySpectra.append(spectrum())
        }
        load { f, c, p in noise[(f * C + c) * H * W + p] }
        let noiseSpectrum = spectrum()
        var out = [Float](repeating: 0, count: noise.count)
        let b = UnsafeMutableRawPointer(plan.buffer).assumingMemoryBound(to: Float.self)
        for f in 0..<l {
            let n = s + 1 + f
            let fr = stopFrequency(frame: n, boundaryStart: s, boundaryEnd: e)
            let g = Self.lowPass(frames: l, height: H, width: W, spatial: fr, temporal: fr)
            let source = n <= (s + e) / 2 ? boundarySpectra[0] : boundarySpectra[1]
            // Eq. 6: F(z) ⊙ G + F(ε) ⊙ (1 − G)
            for c in 0..<C {
                for j in 0..<volume {
                    let i = c * volume + j
                    let w = g[j]
                    b[2 * i] = source[2 * i] * w + noiseSpectrum[2 * i] * (1 - w)
                    b[2 * i + 1] = source[2 * i + 1] * w + noiseSpectrum[2 * i + 1] * (1 - w)
                }
            }
            fftwf_execute(plan.inverse)
            let scale = 1 / Float(volume)
            for c in 0..<C {
                for p in 0..<(H * W) {
                    out[(f * C + c) * H * W + p] = b[2 * ((c * l + f) * H * W + p)] * scale
                }
            }
        }
        return out
    }
}
