import Foundation
import Tensor

/// Frames at the model's resolution ↔ latents, by PCA of non-overlapping p×p RGB
/// blocks: a frame [3, R, R] in [0, 1] becomes [K, R/p, R/p].
///
/// Chosen by measurement (see README): a learned autoencoder costs hours of this
/// machine to train, and raw space-to-depth leaves 192 channels of mostly-noise
/// detail for a 64-channel U-Net to carry. PCA keeps the K most energetic
/// directions (block means and smooth gradients first), fits in seconds, and is
/// exactly invertible on its subspace. One global scale (not per-component
/// whitening) keeps the natural spectrum, so coarse structure survives noise longer.
public struct LatentCodec: Sendable {
    public let patch: Int
    public let components: Int
    /// [K, 3·p·p] orthonormal rows.
    public let basis: [Float]
    /// [3·p·p] mean block.
    public let mean: [Float]
    /// Latent = scale · projection; chosen so the latents have unit mean variance.
    public let scale: Float

    public var blockSize: Int { 3 * patch * patch }

    public init(patch: Int, components: Int, basis: [Float], mean: [Float], scale: Float) {
        self.patch = patch
        self.components = components
        self.basis = basis
        self.mean = mean
        self.scale = scale
    }

    /// Blocks of a planar frame as rows [blocks, 3·p·p] (channel-major inside a block).
    func blocks(_ frame: UnsafePointer<Float>, resolution R: Int) -> [Float] {
        let p = patch
        let g = R / p
        let d = blockSize
        var rows = [Float](repeating: 0, count: g * g * d)
        for by in 0..<g {
            for bx in 0..<g {
                let r = (by * g + bx) * d
                for c in 0..<3 {
                    for y in 0..<p {
                        for x in 0..<p {
                            rows[r + (c * p + y) * p + x] = frame[(c * R + by * p + y) * R + bx * p + x]
                        }
                    }
                }
            }
        }
        return rows
    }

    /// Fits the basis to frames [n, 3, R, R] (planar, [0, 1]).
    public static func fit(frames: [[Float]], resolution R: Int, patch: Int, components K: Int) -> LatentCodec {
        let d = 3 * patch * patch
        let probe = LatentCodec(patch: patch, components: K, basis: [], mean: [], scale: 1)
        var rows: [Float] = []
        for f in frames { f.withUnsafeBufferPointer { rows += probe.blocks($0.baseAddress!, resolution: R) } }
        let n = rows.count / d
        var mean = [Float](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += rows[i * d + j] } }
        for j in 0..<d { mean[j] /= Float(n) }
        for i in 0..<n { for j in 0..<d { rows[i * d + j] -= mean[j] } }
        var cov = [Float](repeating: 0, count: d * d)
        BLAS.sgemm(
            transA: true, m: d, n: d, k: n, alpha: 1 / Float(max(1, n - 1)), a: rows, lda: d, b: rows, ldb: d, c: &cov,
            ldc: d)
        let (values, vectors) = symmetricEigen(cov.map(Double.init), n: d)
        let order = values.indices.sorted { values[$0] > values[$1] }.prefix(K)
        var basis = [Float](repeating: 0, count: K * d)
        for (k, idx) in order.enumerated() { for j in 0..<d { basis[k * d + j] = Float(vectors[j * d + idx]) } }
        let meanVariance = order.reduce(0.0) { $0 + max(0, values[$1]) } / Double(K)
        return LatentCodec(
            patch: patch, components: K, basis: basis, mean: mean,
            scale: Float(1 / max(1e-8, meanVariance).squareRoot()))
    }

    /// One planar frame [3, R, R] → latent [K, R/p, R/p].
    public func encode(_ frame: [Float], resolution R: Int) -> [Float] {
        let g = R / patch
        let d = blockSize
        let nb = g * g
        var rows = frame.withUnsafeBufferPointer { blocks($0.baseAddress!, resolution: R) }
        for i in 0..<nb { for j in 0..<d { rows[i * d + j] -= mean[j] } }
        var coeff = [Float](repeating: 0, count: nb * components)  // [blocks, K]
        BLAS.sgemm(
            transB: true, m: nb, n: components, k: d, alpha: scale, a: rows, lda: d, b: basis, ldb: d, c: &coeff,
            ldc: components)
        var z = [Float](repeating: 0, count: components * nb)
        for b in 0..<nb { for k in 0..<components { z[k * nb + b] = coeff[b * components + k] } }
        return z
    }

    /// Latent [K, R/p, R/p] → planar frame [3, R, R] (not clamped).
    public func decode(_ z: [Float], resolution R: Int) -> [Float] {
        let g = R / patch
        let d = blockSize
        let nb = g * g
        let p = patch
        var coeff = [Float](repeating: 0, count: nb * components)
        for b in 0..<nb { for k in 0..<components { coeff[b * components + k] = z[k * nb + b] } }
        var rows = [Float](repeating: 0, count: nb * d)
        BLAS.sgemm(
            m: nb, n: d, k: components, alpha: 1 / scale, a: coeff, lda: components, b: basis, ldb: d, c: &rows, ldc: d)
        var frame = [Float](repeating: 0, count: 3 * R * R)
        for by in 0..<g {
            for bx in 0..<g {
                let r = (by * g + bx) * d
                for c in 0..<3 {
                    for y in 0..<p {
                        for x in 0..<p {
                            frame[(c * R + by * p + y) * R + bx * p + x] =
                                rows[r + (c * p + y) * p + x] + mean[(c * p + y) * p + x]
                        }
                    }
                }
            }
        }
        return frame
    }
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations.
/// Returns eigenvalues and the eigenvectors as columns of a row-major n×n matrix.
public func symmetricEigen(_ matrix: [Double], n: Int, sweeps: Int = 30) -> ([Double], [Double]) {
    var a = matrix
    var v = [Double](repeating: 0, count: n * n)
    for i in 0..<n { v[i * n + i] = 1 }
    for _ in 0..<sweeps {
        var off = 0.0
        for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
        if off < 1e-22 { break }
        for p in 0..<(n - 1) {
            for q in (p + 1)..<n {
                let apq = a[p * n + q]
                if abs(apq) < 1e-30 { continue }
                let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot()
                let s = t * c
                for k in 0..<n {
                    let akp = a[k * n + p]
                    let akq = a[k * n + q]
                    a[k * n + p] = c * akp - s * akq
                    a[k * n + q] = s * akp + c * akq
                }
                for k in 0..<n {
                    let apk = a[p * n + k]
                    let aqk = a[q * n + k]
                    a[p * n + k] = c * apk - s * aqk
                    a[q * n + k] = s * apk + c * aqk
                }
                for k in 0..<n {
                    let vkp = v[k * n + p]
                    let vkq = v[k * n + q]
                    v[k * n + p] = c * vkp - s * vkq
                    v[k * n + q] = s * vkp + c * vkq
                }
            }
        }
    }
    return ((0..<n).map { a[$0 * n + $0] }, v)
}
