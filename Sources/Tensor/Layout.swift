/// Data movement ops: nearest ×2 upsampling, channel concat/split, axis permutes
/// (how the model turns [B·T, C, H, W] into spatial or temporal token sequences).

/// inp [N, C, H, W] → out [N, C, 2H, 2W], nearest neighbour.
public func upsample2xForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, planes: Int, height: Int, width: Int
) {
    let W2 = 2 * width
    parallelFor(planes, minimumPerThread: 4) { p in
        let x = inp + p * height * width
        let y = out + p * 4 * height * width
        for i in 0..<height {
            let row = y + 2 * i * W2
            for j in 0..<width {
                let v = x[i * width + j]
                row[2 * j] = v
                row[2 * j + 1] = v
            }
            (row + W2).update(from: row, count: W2)
        }
    }
}

public func upsample2xBackward(
    dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, planes: Int, height: Int, width: Int
) {
    let W2 = 2 * width
    parallelFor(planes, minimumPerThread: 4) { p in
        let dx = dinp + p * height * width
        let dy = dout + p * 4 * height * width
        for i in 0..<height {
            let r0 = dy + 2 * i * W2
            let r1 = r0 + W2
            for j in 0..<width { dx[i * width + j] += r0[2 * j] + r0[2 * j + 1] + r1[2 * j] + r1[2 * j + 1] }
        }
    }
}

/// [N, C1, P] ⧺ [N, C2, P] → [N, C1 + C2, P].
public func concatChannelsForward(
    out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    n: Int, channelsA: Int, channelsB: Int, pixels: Int
) {
    let ca = channelsA * pixels
    let cb = channelsB * pixels
    for i in 0..<n {
        (out + i * (ca + cb)).update(from: a + i * ca, count: ca)
        (out + i * (ca + cb) + ca).update(from: b + i * cb, count: cb)
    }
}

/// Splits the gradient back, accumulating into da and db (either may be nil).
public func concatChannelsBackward(
    da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
    n: Int, channelsA: Int, channelsB: Int, pixels: Int
) {
    let ca = channelsA * pixels
    let cb = channelsB * pixels
    for i in 0..<n {
        let src = dout + i * (ca + cb)
        if let da {
            let d = da + i * ca
            for j in 0..<ca { d[j] += src[j] }
        }
        if let db {
            let d = db + i * cb
            for j in 0..<cb { d[j] += src[ca + j] }
        }
    }
}

/// out = inp with its 4 axes permuted: out.shape[i] = shape[perm[i]].
/// With `accumulate`, adds into out (the backward of a permute is the inverse permute, accumulated).
public func permute4(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, shape: [Int], perm: [Int], accumulate: Bool = false
) {
    precondition(shape.count == 4 && perm.count == 4)
    var inStride = [0, 0, 0, 0]
    inStride[3] = 1
    for i in stride(from: 2, through: 0, by: -1) { inStride[i] = inStride[i + 1] * shape[i + 1] }
    let os = perm.map { shape[$0] }
    let st = perm.map { inStride[$0] }
    let (s0, s1, s2, s3) = (st[0], st[1], st[2], st[3])
    let (n1, n2, n3) = (os[1], os[2], os[3])
    parallelFor(os[0] * n1, minimumPerThread: 4) { j in
        let i0 = j / n1
        let i1 = j % n1
        var o = (i0 * n1 + i1) * n2 * n3
        let base = i0 * s0 + i1 * s1
        for i2 in 0..<n2 {
            let b2 = base + i2 * s2
            if accumulate {
                for i3 in 0..<n3 {
                    out[o] += inp[b2 + i3 * s3]
                    o += 1
                }
            } else {
                for i3 in 0..<n3 {
                    out[o] = inp[b2 + i3 * s3]
                    o += 1
                }
            }
        }
    }
}

/// The inverse of a permutation (for permute4's backward).
public func inversePermutation(_ perm: [Int]) -> [Int] {
    var inv = [Int](repeating: 0, count: perm.count)
    for (i, p) in perm.enumerated() { inv[p] = i }
    return inv
}
