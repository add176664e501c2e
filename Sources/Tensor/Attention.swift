import Foundation

/// Multi-head scaled dot-product attention, scale 1/√d.
/// q [B, Nq, H·d], k and v [B, Nk, H·d] (heads interleaved in the last axis, as
/// PyTorch's MultiheadAttention lays them out before its reshape), out [B, Nq, H·d].
/// The probabilities [B, H, Nq, Nk] are saved for the backward pass.
public struct AttentionShape: Sendable, Equatable {
    public var batch: Int, queries: Int, keys: Int, heads: Int, headDim: Int
    public init(batch: Int, queries: Int, keys: Int, heads: Int, headDim: Int) {
        self.batch = batch
        self.queries = queries
        self.keys = keys
        self.heads = heads
        self.headDim = headDim
    }
    public var width: Int { heads * headDim }
    public var probabilities: Int { batch * heads * queries * keys }
    public var flops: Double { 4 * Double(batch * heads * queries * keys * headDim) }
}

public func attentionForward(
    out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    shape s: AttentionShape
) {
    let D = s.width
    let scale = 1 / Float(s.headDim).squareRoot()
    forEachWithSerialBLAS(items: s.batch * s.heads, workers: kernelWorkers) { _, j in
        let b = j / s.heads
        let h = j % s.heads
        let p = probs + j * s.queries * s.keys
        BLAS.sgemm(
            transB: true, m: s.queries, n: s.keys, k: s.headDim, alpha: scale,
            a: q + b * s.queries * D + h * s.headDim, lda: D,
            b: k + b * s.keys * D + h * s.headDim, ldb: D, c: p, ldc: s.keys)
        for i in 0..<s.queries { softmaxRow(p + i * s.keys, p + i * s.keys, s.keys) }
        BLAS.sgemm(
            m: s.queries, n: s.headDim, k: s.keys, a: p, lda: s.keys,
            b: v + b * s.keys * D + h * s.headDim, ldb: D,
            c: out + b * s.queries * D + h * s.headDim, ldc: D)
    }
}

/// Accumulates dq, dk, dv. Different heads write disjoint columns, so heads run in parallel;
/// batch items of one head never run at once on two workers (they share no rows either).
public func attentionBackward(
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, probs: UnsafePointer<Float>,
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    shape s: AttentionShape, workspace ws: Workspace
) {
    let D = s.width
    let scale = 1 / Float(s.headDim).squareRoot()
    let workers = min(kernelWorkers, s.batch * s.heads)
    let scratch = (0..<workers).map { ws.buffer(20 + $0, s.queries * s.keys) }
    forEachWithSerialBLAS(items: s.batch * s.heads, workers: workers) { w, j in
        let b = j / s.heads
        let h = j % s.heads
        let dp = scratch[w]
        let p = probs + j * s.queries * s.keys
        let off = h * s.headDim
        let qb = q + b * s.queries * D + off
        let kb = k + b * s.keys * D + off
        let vb = v + b * s.keys * D + off
        let dob = dout + b * s.queries * D + off
        // dV += Pᵀ dO ; dP = dO Vᵀ
        BLAS.sgemm(
            transA: true, m: s.keys, n: s.headDim, k: s.queries, a: p, lda: s.keys, b: dob, ldb: D,
            beta: 1, c: dv + b * s.keys * D + off, ldc: D)
        BLAS.sgemm(
            transB: true, m: s.queries, n: s.keys, k: s.headDim, a: dob, lda: D, b: vb, ldb: D, c: dp, ldc: s.keys)
        // dS = P ⊙ (dP − rowsum(dP ⊙ P)), in place.
        for i in 0..<s.queries {
            let pr = p + i * s.keys
            let dr = dp + i * s.keys
            var dot: Float = 0
            for jj in 0..<s.keys { dot += pr[jj] * dr[jj] }
            for jj in 0..<s.keys { dr[jj] = pr[jj] * (dr[jj] - dot) }
        }
        // dQ += scale dS K ; dK += scale dSᵀ Q
        BLAS.sgemm(
            m: s.queries, n: s.headDim, k: s.keys, alpha: scale, a: dp, lda: s.keys, b: kb, ldb: D,
            beta: 1, c: dq + b * s.queries * D + off, ldc: D)
        BLAS.sgemm(
            transA: true, m: s.keys, n: s.headDim, k: s.queries, alpha: scale, a: dp, lda: s.keys, b: qb, ldb: D,
            beta: 1, c: dk + b * s.keys * D + off, ldc: D)
    }
}
