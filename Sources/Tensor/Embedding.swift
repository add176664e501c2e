import Foundation

/// Sinusoidal encoding of scalars (timesteps, infill lengths): for each value x,
/// [cos(x·f_0) … cos(x·f_{h−1}), sin(x·f_0) … sin(x·f_{h−1})] with
/// f_i = exp(−ln(10000)·i/h), h = dim/2 (the DDPM / diffusers convention with cos first).
public func sinusoidalEmbeddingForward(
    out: UnsafeMutablePointer<Float>, values: UnsafePointer<Float>, count: Int, dim: Int
) {
    let half = dim / 2
    for n in 0..<count {
        let x = values[n]
        for i in 0..<half {
            let f = exp(-log(10000) * Float(i) / Float(half))
            out[n * dim + i] = cos(x * f)
            out[n * dim + half + i] = sin(x * f)
        }
    }
}

/// d/dx of the encoding (for completeness: inputs are usually data, not parameters).
public func sinusoidalEmbeddingBackward(
    dvalues: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int, dim: Int
) {
    let half = dim / 2
    for n in 0..<count {
        let x = values[n]
        var acc: Float = 0
        for i in 0..<half {
            let f = exp(-log(10000) * Float(i) / Float(half))
            acc += -sin(x * f) * f * dout[n * dim + i] + cos(x * f) * f * dout[n * dim + half + i]
        }
        dvalues[n] += acc
    }
}

/// Mean squared error over the frames whose mask is non-zero: pred/target [frames, perFrame].
/// `weights` (one per frame) scale each frame's term; the mean stays over the masked
/// frames' elements, so weights of 1 give the plain loss.
/// Returns the loss; writes dpred (overwrites) for an upstream gradient of 1.
@discardableResult
public func maskedMSEForwardBackward(
    dpred: UnsafeMutablePointer<Float>?, pred: UnsafePointer<Float>, target: UnsafePointer<Float>,
    mask: [Float], weights: [Float]? = nil, perFrame: Int
) -> Float {
    precondition(weights == nil || weights!.count == mask.count, "one weight per frame")
    let active = mask.reduce(0, +)
    guard active > 0 else {
        if let dpred { dpred.update(repeating: 0, count: mask.count * perFrame) }
        return 0
    }
    let denom = active * Float(perFrame)
    var loss: Double = 0
    for f in 0..<mask.count {
        let m = mask[f] * (weights?[f] ?? 1)
        let p = pred + f * perFrame
        let t = target + f * perFrame
        var s: Double = 0
        for i in 0..<perFrame {
            let d = p[i] - t[i]
            s += Double(d * d)
            dpred?[f * perFrame + i] = m * 2 * d / denom
        }
        loss += Double(m) * s
    }
    return Float(loss / Double(denom))
}
