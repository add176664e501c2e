import Foundation

/// The geometry of a 2D convolution over a batch of images (frames as batch).
public struct Conv2dShape: Sendable, Equatable {
    public var batch: Int, inChannels: Int, height: Int, width: Int
    public var outChannels: Int, kernel: Int, stride: Int, padding: Int

    public init(
        batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int, kernel: Int, stride: Int = 1,
        padding: Int
    ) {
        self.batch = batch
        self.inChannels = inChannels
        self.height = height
        self.width = width
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    var patch: Int { inChannels * kernel * kernel }
    var outPixels: Int { outHeight * outWidth }
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
    public var flops: Double { 2 * Double(batch * outChannels * outPixels * patch) }
}

/// Unfolds `count` consecutive images into columns [patch, count·outPixels] (single-threaded:
/// callers parallelise over image chunks so each column block stays in cache).
private func im2col(_ col: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ s: Conv2dShape, count: Int) {
    let hw = s.height * s.width
    let op = s.outPixels
    let cols = count * op
    for row in 0..<s.patch {
        let c = row / (s.kernel * s.kernel)
        let ky = (row / s.kernel) % s.kernel
        let kx = row % s.kernel
        let dst = col + row * cols
        for n in 0..<count {
            let src = inp + (n * s.inChannels + c) * hw
            var o = n * op
            for oy in 0..<s.outHeight {
                let iy = oy * s.stride - s.padding + ky
                if iy < 0 || iy >= s.height {
                    (dst + o).update(repeating: 0, count: s.outWidth)
                    o += s.outWidth
                    continue
                }
                let srow = src + iy * s.width
                if s.stride == 1 {
                    // Interior run copied at once; only the padded edges are special.
                    let lo = max(0, s.padding - kx)
                    let hi = min(s.outWidth, s.width + s.padding - kx)
                    for ox in 0..<lo { dst[o + ox] = 0 }
                    if hi > lo { (dst + o + lo).update(from: srow + lo - s.padding + kx, count: hi - lo) }
                    for ox in max(hi, lo)..<s.outWidth { dst[o + ox] = 0 }
                    o += s.outWidth
                } else {
                    for ox in 0..<s.outWidth {
                        let ix = ox * s.stride - s.padding + kx
                        dst[o] = (ix >= 0 && ix < s.width) ? srow[ix] : 0
                        o += 1
                    }
                }
            }
        }
    }
}

/// Folds columns back, accumulating into dinp (single-threaded, like im2col).
private func col2imAdd(_ dinp: UnsafeMutablePointer<Float>, _ col: UnsafePointer<Float>, _ s: Conv2dShape, count: Int) {
    let hw = s.height * s.width
    let op = s.outPixels
    let cols = count * op
    for row in 0..<s.patch {
        let c = row / (s.kernel * s.kernel)
        let ky = (row / s.kernel) % s.kernel
        let kx = row % s.kernel
        let src = col + row * cols
        for n in 0..<count {
            let dst = dinp + (n * s.inChannels + c) * hw
            var o = n * op
            for oy in 0..<s.outHeight {
                let iy = oy * s.stride - s.padding + ky
                if iy < 0 || iy >= s.height {
                    o += s.outWidth
                    continue
                }
                let drow = dst + iy * s.width
                if s.stride == 1 {
                    let lo = max(0, s.padding - kx)
                    let hi = min(s.outWidth, s.width + s.padding - kx)
                    if hi > lo {
                        let d = drow + lo - s.padding + kx
                        let sr = src + o + lo
                        for j in 0..<(hi - lo) { d[j] += sr[j] }
                    }
                    o += s.outWidth
                    continue
                }
                for ox in 0..<s.outWidth {
                    let ix = ox * s.stride - s.padding + kx
                    if ix >= 0 && ix < s.width { drow[ix] += src[o] }
                    o += 1
                }
            }
        }
    }
}

/// Splits the batch into chunks of images processed by one worker each, with
/// OpenBLAS single-threaded meanwhile: small GEMMs on cache-resident columns beat
/// one big multi-threaded GEMM on columns that spill to memory.
private struct ConvPlan {
    let batch: Int
    let imagesPerChunk: Int
    let chunks: Int
    let workers: Int

    init(_ s: Conv2dShape) {
        // At least 256 columns per GEMM, at most ~2 MB of columns.
        let perImage = max(1, s.patch * s.outPixels)
        var k = max(1, (256 + s.outPixels - 1) / s.outPixels)
        k = max(1, min(k, (1 << 19) / perImage, s.batch))
        batch = s.batch
        imagesPerChunk = k
        chunks = (s.batch + k - 1) / k
        workers = min(kernelWorkers, chunks)
    }

    /// Runs body(worker, firstImage, count) over all chunks.
    func run(_ body: (Int, Int, Int) -> Void) {
        forEachWithSerialBLAS(items: chunks, workers: workers) { w, c in
            let n0 = c * imagesPerChunk
            body(w, n0, min(imagesPerChunk, batch - n0))
        }
    }
}

/// out [N, Cout, Ho, Wo] = conv(inp [N, Cin, H, W], weight [Cout, Cin, k, k]) + bias (im2col + sgemm per image chunk).
public func conv2dForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    shape s: Conv2dShape, workspace ws: Workspace
) {
    let op = s.outPixels
    let hw = s.height * s.width
    let plan = ConvPlan(s)
    let k = plan.imagesPerChunk
    let cols = (0..<plan.workers).map { ws.buffer(30 + $0, s.patch * k * op) }
    let tmps = (0..<plan.workers).map { ws.buffer(40 + $0, k > 1 ? s.outChannels * k * op : 1) }
    plan.run { w, n0, count in
        let n = count * op
        let src: UnsafePointer<Float>
        if s.isPointwise && count == 1 {
            src = inp + n0 * s.inChannels * hw
        } else if s.isPointwise {
            // [count, Cin, op] → [Cin, count·op]
            for i in 0..<count {
                for c in 0..<s.inChannels {
                    (cols[w] + c * n + i * op).update(from: inp + ((n0 + i) * s.inChannels + c) * hw, count: op)
                }
            }
            src = UnsafePointer(cols[w])
        } else {
            im2col(cols[w], inp + n0 * s.inChannels * hw, s, count: count)
            src = UnsafePointer(cols[w])
        }
        let dst = count == 1 ? out + n0 * s.outChannels * op : tmps[w]
        BLAS.sgemm(m: s.outChannels, n: n, k: s.patch, a: weight, lda: s.patch, b: src, ldb: n, c: dst, ldc: n)
        for i in 0..<count {
            for c in 0..<s.outChannels {
                let o = out + ((n0 + i) * s.outChannels + c) * op
                let b = bias?[c] ?? 0
                if count == 1 {
                    if bias != nil { for j in 0..<op { o[j] += b } }
                } else {
                    let t = dst + c * n + i * op
                    for j in 0..<op { o[j] = t[j] + b }
                }
            }
        }
    }
}

/// Accumulates dinp, dweight, dbias for `conv2dForward` (the columns are rebuilt from inp).
public func conv2dBackward(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    shape s: Conv2dShape, workspace ws: Workspace
) {
    let op = s.outPixels
    let hw = s.height * s.width
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
    let plan = ConvPlan(s)
    let k = plan.imagesPerChunk
    let nw = s.outChannels * s.patch
    let cols = (0..<plan.workers).map { ws.buffer(30 + $0, s.patch * k * op) }
    let dmats = (0..<plan.workers).map { ws.buffer(40 + $0, s.outChannels * k * op) }
    let dcols = (0..<plan.workers).map { ws.buffer(50 + $0, s.patch * k * op) }
    let dws = (0..<plan.workers).map { ws.buffer(60 + $0, nw) }
    for p in dws { p.update(repeating: 0, count: nw) }
    plan.run { w, n0, count in
        let n = count * op
        let col = cols[w]
        let dmat = dmats[w]
        if s.isPointwise {
            for i in 0..<count {
                for c in 0..<s.inChannels {
                    (col + c * n + i * op).update(from: inp + ((n0 + i) * s.inChannels + c) * hw, count: op)
                }
            }
        } else {
            im2col(col, inp + n0 * s.inChannels * hw, s, count: count)
        }
        // dout chunk [count, Cout, op] → [Cout, count·op]
        for i in 0..<count {
            for c in 0..<s.outChannels {
                (dmat + c * n + i * op).update(from: dout + ((n0 + i) * s.outChannels + c) * op, count: op)
            }
        }
        BLAS.sgemm(
            transB: true, m: s.outChannels, n: s.patch, k: n, a: dmat, lda: n, b: col, ldb: n, beta: 1, c: dws[w],
            ldc: s.patch)
        guard let dinp else { return }
        let dcol = dcols[w]
        BLAS.sgemm(
            transA: true, m: s.patch, n: n, k: s.outChannels, a: weight, lda: s.patch, b: dmat, ldb: n, c: dcol, ldc: n)
        if s.isPointwise {
            for i in 0..<count {
                for c in 0..<s.inChannels {
                    let d = dinp + ((n0 + i) * s.inChannels + c) * hw
                    let src = dcol + c * n + i * op
                    for j in 0..<op { d[j] += src[j] }
                }
            }
        } else {
            col2imAdd(dinp + n0 * s.inChannels * hw, dcol, s, count: count)
        }
    }
    for p in dws { for i in 0..<nw { dweight[i] += p[i] } }
}
