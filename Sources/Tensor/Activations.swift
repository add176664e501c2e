import CTensorShim
import Foundation

/// SiLU: x·σ(x) (vectorised in CTensorShim).
public func siluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    parallelRanges(count, minimumPerThread: 1 << 14) { lo, hi in mavin_silu(out + lo, inp + lo, Int32(hi - lo)) }
}

public func siluBackward(
    dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int
) {
    parallelRanges(count, minimumPerThread: 1 << 14) { lo, hi in
        mavin_silu_backward(dinp + lo, dout + lo, inp + lo, Int32(hi - lo))
    }
}

/// GELU, the exact erf form (PyTorch's nn.GELU() default, approximate='none'); erf to 1.5e-7 (CTensorShim).
public func geluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    parallelRanges(count, minimumPerThread: 1 << 14) { lo, hi in mavin_gelu(out + lo, inp + lo, Int32(hi - lo)) }
}

public func geluBackward(
    dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int
) {
    parallelRanges(count, minimumPerThread: 1 << 14) { lo, hi in
        mavin_gelu_backward(dinp + lo, dout + lo, inp + lo, Int32(hi - lo))
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
