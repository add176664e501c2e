/// The geometry of a 2D convolution over a batch of images (frames as batch).
public struct Conv2dShape: Sendable, Equatable {
    public var batch: Int, inChannels: Int, height: Int, width: Int
    public var outChannels: Int, kernel: Int, stride: Int, padding: Int

    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int) {
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    var patch: Int { inChannels * kernel * kernel }
    var outPixels: Int { outHeight * outWidth }
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
    public var flops: Double { 2 * Double(batch * outChannels * outPixels * patch) }

    /// Images per GEMM so that the column buffer stays below ~32 MB.
    var chunk: Int { max(1, min(batch, (8 << 20) / max(1, patch * outPixels))) }
}

/// Unfolds `count` images into columns [patch, count·outPixels].
private func im2col(_ col: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ s: Conv2dShape, count: Int) {
    let hw = s.height * s.width, op = s.outPixels, cols = count * op
    parallelFor(s.patch, minimumPerThread: 4) { row in
        let c = row / (s.kernel * s.kernel), ky = (row / s.kernel) % s.kernel, kx = row % s.kernel
        let dst = col + row * cols
        for n in 0..<count {
            let src = inp + (n * s.inChannels + c) * hw
            var o = n * op
            for oy in 0..<s.outHeight {
                let iy = oy * s.stride - s.padding + ky
                if iy < 0 || iy >= s.height {
                    for _ in 0..<s.outWidth { dst[o] = 0; o += 1 }
                    continue
                }
                let srow = src + iy * s.width
                for ox in 0..<s.outWidth {
                    let ix = ox * s.stride - s.padding + kx
                    dst[o] = (ix >= 0 && ix < s.width) ? srow[ix] : 0
                    o += 1
                }
            }
        }
    }
}

/// Folds columns back, accumulating into dinp.
private func col2imAdd(_ dinp: UnsafeMutablePointer<Float>, _ col: UnsafePointer<Float>, _ s: Conv2dShape, count: Int) {
    let hw = s.height * s.width, op = s.outPixels, cols = count * op
    // One thread per input channel: rows of the same channel write the same pixels.
    parallelFor(s.inChannels) { c in
        for ky in 0..<s.kernel {
            for kx in 0..<s.kernel {
                let src = col + ((c * s.kernel + ky) * s.kernel + kx) * cols
                for n in 0..<count {
                    let dst = dinp + (n * s.inChannels + c) * hw
                    var o = n * op
                    for oy in 0..<s.outHeight {
                        let iy = oy * s.stride - s.padding + ky
                        if iy < 0 || iy >= s.height { o += s.outWidth; continue }
                        let drow = dst + iy * s.width
                        for ox in 0..<s.outWidth {
                            let ix = ox * s.stride - s.padding + kx
                            if ix >= 0 && ix < s.width { drow[ix] += src[o] }
                            o += 1
                        }
                    }
                }
            }
        }
    }
}

/// out [N, Cout, Ho, Wo] = conv(inp [N, Cin, H, W], weight [Cout, Cin, k, k]) + bias, im2col + one sgemm per chunk of images.
public func conv2dForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                          shape s: Conv2dShape, workspace ws: Workspace) {
    let op = s.outPixels
    if s.isPointwise {
        // 1×1: a GEMM per image straight from the input.
        for n in 0..<s.batch {
            let o = out + n * s.outChannels * op
            BLAS.sgemm(m: s.outChannels, n: op, k: s.inChannels, a: weight, lda: s.inChannels,
                       b: inp + n * s.inChannels * op, ldb: op, c: o, ldc: op)
            if let bias { for c in 0..<s.outChannels { let row = o + c * op; let b = bias[c]; for i in 0..<op { row[i] += b } } }
        }
        return
    }
    var n0 = 0
    while n0 < s.batch {
        let count = min(s.chunk, s.batch - n0)
        let cols = count * op
        let col = ws.buffer(0, s.patch * cols)
        let tmp = ws.buffer(1, s.outChannels * cols)
        im2col(col, inp + n0 * s.inChannels * s.height * s.width, s, count: count)
        BLAS.sgemm(m: s.outChannels, n: cols, k: s.patch, a: weight, lda: s.patch, b: col, ldb: cols, c: tmp, ldc: cols)
        // [Cout, count·op] → [count, Cout, op], adding the bias.
        parallelFor(count * s.outChannels) { j in
            let n = j / s.outChannels, c = j % s.outChannels
            let src = tmp + c * cols + n * op, dst = out + ((n0 + n) * s.outChannels + c) * op
            let b = bias?[c] ?? 0
            for i in 0..<op { dst[i] = src[i] + b }
        }
        n0 += count
    }
}

/// Accumulates dinp, dweight, dbias for `conv2dForward` (the columns are rebuilt from inp).
public func conv2dBackward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
                           dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           shape s: Conv2dShape, workspace ws: Workspace) {
    let op = s.outPixels
    if let dbias {
        for n in 0..<s.batch {
            for c in 0..<s.outChannels {
                let row = dout + (n * s.outChannels + c) * op
                var acc: Float = 0
                for i in 0..<op { acc += row[i] }
                dbias[c] += acc
            }
        }
    }
    if s.isPointwise {
        for n in 0..<s.batch {
            let d = dout + n * s.outChannels * op, x = inp + n * s.inChannels * op
            BLAS.sgemm(transB: true, m: s.outChannels, n: s.inChannels, k: op, a: d, lda: op, b: x, ldb: op, beta: 1, c: dweight, ldc: s.inChannels)
            if let dinp {
                BLAS.sgemm(transA: true, m: s.inChannels, n: op, k: s.outChannels, a: weight, lda: s.inChannels, b: d, ldb: op,
                           beta: 1, c: dinp + n * s.inChannels * op, ldc: op)
            }
        }
        return
    }
    var n0 = 0
    while n0 < s.batch {
        let count = min(s.chunk, s.batch - n0)
        let cols = count * op
        let col = ws.buffer(0, s.patch * cols)
        let dmat = ws.buffer(1, s.outChannels * cols)
        im2col(col, inp + n0 * s.inChannels * s.height * s.width, s, count: count)
        // dout chunk [count, Cout, op] → [Cout, count·op].
        parallelFor(count * s.outChannels) { j in
            let n = j / s.outChannels, c = j % s.outChannels
            (dmat + c * cols + n * op).update(from: dout + ((n0 + n) * s.outChannels + c) * op, count: op)
        }
        BLAS.sgemm(transB: true, m: s.outChannels, n: s.patch, k: cols, a: dmat, lda: cols, b: col, ldb: cols, beta: 1, c: dweight, ldc: s.patch)
        if let dinp {
            let dcol = ws.buffer(2, s.patch * cols)
            BLAS.sgemm(transA: true, m: s.patch, n: cols, k: s.outChannels, a: weight, lda: s.patch, b: dmat, ldb: cols, c: dcol, ldc: cols)
            col2imAdd(dinp + n0 * s.inChannels * s.height * s.width, dcol, s, count: count)
        }
        n0 += count
    }
}
