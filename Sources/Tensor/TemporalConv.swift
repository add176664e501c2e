/// Convolution over the frame axis (kernel K, zero padding K/2) applied at every pixel:
/// a Conv1d over time with pixels as batch. Layout: inp/out [B, T, C, P] (P = H·W),
/// weight [Cout, Cin, K] (PyTorch Conv1d layout), bias [Cout].
///
/// Implemented as K GEMMs on a [C, T·P] view: tap k shifts the columns by (k − K/2)·P.
public struct TemporalConvShape: Sendable, Equatable {
    public var batch: Int, frames: Int, inChannels: Int, outChannels: Int, pixels: Int, kernel: Int
    public init(batch: Int, frames: Int, inChannels: Int, outChannels: Int, pixels: Int, kernel: Int = 3) {
        self.batch = batch
        self.frames = frames
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.pixels = pixels
        self.kernel = kernel
    }
}

/// [T, C, P] ↔ [C, T, P] for one batch item.
@inline(__always)
func swapFrameChannel(
    _ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, t: Int, c: Int, p: Int, frameMajorSource: Bool,
    accumulate: Bool = false
) {
    parallelFor(t * c, minimumPerThread: 8) { j in
        let ti = j / c
        let ci = j % c
        let a = frameMajorSource ? src + (ti * c + ci) * p : src + (ci * t + ti) * p
        let b = frameMajorSource ? dst + (ci * t + ti) * p : dst + (ti * c + ci) * p
        if accumulate { for i in 0..<p { b[i] += a[i] } } else { b.update(from: a, count: p) }
    }
}

public func temporalConvForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    shape s: TemporalConvShape, workspace ws: Workspace
) {
    let T = s.frames
    let P = s.pixels
    let TP = T * P
    let pad = s.kernel / 2
    let wk = ws.buffer(10, s.kernel * s.outChannels * s.inChannels)
    for k in 0..<s.kernel {
        for o in 0..<s.outChannels {
            for i in 0..<s.inChannels {
                wk[(k * s.outChannels + o) * s.inChannels + i] = weight[(o * s.inChannels + i) * s.kernel + k]
            }
        }
    }
    let xin = ws.buffer(11, s.inChannels * TP)
    let yout = ws.buffer(12, s.outChannels * TP)
    for b in 0..<s.batch {
        swapFrameChannel(xin, inp + b * s.inChannels * TP, t: T, c: s.inChannels, p: P, frameMajorSource: true)
        for o in 0..<s.outChannels {
            let v = bias?[o] ?? 0
            (yout + o * TP).update(repeating: v, count: TP)
        }
        for k in 0..<s.kernel {
            let shift = k - pad  // output frame t reads input frame t + shift
            let t0 = max(0, -shift)
            let t1 = min(T, T - shift)
            if t1 <= t0 { continue }
            BLAS.sgemm(
                m: s.outChannels, n: (t1 - t0) * P, k: s.inChannels,
                a: wk + k * s.outChannels * s.inChannels, lda: s.inChannels,
                b: xin + (t0 + shift) * P, ldb: TP, beta: 1, c: yout + t0 * P, ldc: TP)
        }
        swapFrameChannel(out + b * s.outChannels * TP, yout, t: T, c: s.outChannels, p: P, frameMajorSource: false)
    }
}

public func temporalConvBackward(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    shape s: TemporalConvShape, workspace ws: Workspace
) {
    let T = s.frames
    let P = s.pixels
    let TP = T * P
    let pad = s.kernel / 2
    let nw = s.outChannels * s.inChannels
    let wk = ws.buffer(10, s.kernel * nw)
    let dwk = ws.buffer(13, s.kernel * nw)
    dwk.update(repeating: 0, count: s.kernel * nw)
    for k in 0..<s.kernel {
        for o in 0..<s.outChannels {
            for i in 0..<s.inChannels {
                wk[(k * s.outChannels + o) * s.inChannels + i] = weight[(o * s.inChannels + i) * s.kernel + k]
            }
        }
    }
    let xin = ws.buffer(11, s.inChannels * TP)
    let dy = ws.buffer(12, s.outChannels * TP)
    let dx = ws.buffer(14, s.inChannels * TP)
    for b in 0..<s.batch {
        swapFrameChannel(xin, inp + b * s.inChannels * TP, t: T, c: s.inChannels, p: P, frameMajorSource: true)
        swapFrameChannel(dy, dout + b * s.outChannels * TP, t: T, c: s.outChannels, p: P, frameMajorSource: true)
        if let dbias {
            for o in 0..<s.outChannels {
                var acc: Float = 0
                let r = dy + o * TP
                for i in 0..<TP { acc += r[i] }
                dbias[o] += acc
            }
        }
        if dinp != nil { dx.update(repeating: 0, count: s.inChannels * TP) }
        for k in 0..<s.kernel {
            let shift = k - pad
            let t0 = max(0, -shift)
            let t1 = min(T, T - shift)
            if t1 <= t0 { continue }
            let n = (t1 - t0) * P
            BLAS.sgemm(
                transB: true, m: s.outChannels, n: s.inChannels, k: n, a: dy + t0 * P, lda: TP,
                b: xin + (t0 + shift) * P, ldb: TP, beta: 1, c: dwk + k * nw, ldc: s.inChannels)
            if dinp != nil {
                BLAS.sgemm(
                    transA: true, m: s.inChannels, n: n, k: s.outChannels, a: wk + k * nw, lda: s.inChannels,
                    b: dy + t0 * P, ldb: TP, beta: 1, c: dx + (t0 + shift) * P, ldc: TP)
            }
        }
        if let dinp {
            swapFrameChannel(
                dinp + b * s.inChannels * TP, dx, t: T, c: s.inChannels, p: P, frameMajorSource: false, accumulate: true
            )
        }
    }
    for k in 0..<s.kernel {
        for o in 0..<s.outChannels {
            for i in 0..<s.inChannels {
                dweight[(o * s.inChannels + i) * s.kernel + k] += dwk[(k * s.outChannels + o) * s.inChannels + i]
            }
        }
    }
}
