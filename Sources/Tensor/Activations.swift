import CTensorShim
import Foundation

/// SiLU: x·σ(x).
public func siluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    parallelFor(count, minimumPerThread: 1 << 14) { i in out[i] = inp[i] / (1 + exp(-inp[i])) }
}

public func siluBackward(
    dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int
) {
    parallelFor(count, minimumPerThread: 1 << 14) { i in
        let s = 1 / (1 + exp(-inp[i]))
        dinp[i] += dout[i] * s * (1 + inp[i] * (1 - s))
    }
}

/// GELU, the exact erf form (PyTorch's nn.GELU() default, approximate='none').
public func geluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    parallelFor(count, minimumPerThread: 1 << 14) { i in
        let x = inp[i]
        out[i] = 0.5 * x * (1 + erf(x * 0.70710678118654752))
    }
}

public func geluBackward(
    dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int
) {
    parallelFor(count, minimumPerThread: 1 << 14) { i in
        let x = inp[i]
        let cdf = 0.5 * (1 + erf(x * 0.70710678118654752))
        let pdf = exp(-0.5 * x * x) * 0.39894228040143268
        dinp[i] += dout[i] * (cdf + x * pdf)
    }
}

/// Softmax over each row of length `dim` (max-subtracted).
public func softmaxForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows: Int, dim: Int) {
    parallelFor(rows, minimumPerThread: 16) { r in softmaxRow(out + r * dim, inp + r * dim, dim) }
}

@inline(__always) func softmaxRow(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
    mavin_softmax_row(y, x, Int32(n))
}

/// dinp += y ⊙ (dout − Σ dout·y), per row.
public func softmaxBackward(
    dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, out: UnsafePointer<Float>, rows: Int, dim: Int
) {
    parallelFor(rows, minimumPerThread: 16) { r in
        let y = out + r * dim
        let d = dout + r * dim
        let dx = dinp + r * dim
        var dot: Float = 0
        for i in 0..<dim { dot += d[i] * y[i] }
        for i in 0..<dim { dx[i] += y[i] * (d[i] - dot) }
    }
}
