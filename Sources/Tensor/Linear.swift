/// y = x Wᵀ + b over rows: inp [rows, inDim], weight [outDim, inDim] (PyTorch layout), bias [outDim].
public func linearForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    rows: Int, inDim: Int, outDim: Int
) {
    if let bias {
        for r in 0..<rows { (out + r * outDim).update(from: bias, count: outDim) }
    }
    BLAS.sgemm(
        transB: true, m: rows, n: outDim, k: inDim, a: inp, lda: inDim, b: weight, ldb: inDim,
        beta: bias == nil ? 0 : 1, c: out, ldc: outDim)
}

/// Accumulates dinp += dout W, dweight += doutᵀ x, dbias += Σ_rows dout.
public func linearBackward(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rows: Int, inDim: Int, outDim: Int
) {
    if let dinp {
        BLAS.sgemm(
            m: rows, n: inDim, k: outDim, a: dout, lda: outDim, b: weight, ldb: inDim, beta: 1, c: dinp, ldc: inDim)
    }
    BLAS.sgemm(
        transA: true, m: outDim, n: inDim, k: rows, a: dout, lda: outDim, b: inp, ldb: inDim, beta: 1, c: dweight,
        ldc: inDim)
    if let dbias {
        for r in 0..<rows {
            let d = dout + r * outDim
            for o in 0..<outDim { dbias[o] += d[o] }
        }
    }
}
