import Foundation

// Bilinear backward warping: each output pixel samples the image at its own position plus a flow
// vector, in pixels. This is PyTorch's grid_sample(mode="bilinear", padding_mode="border",
// align_corners=True) with the grid written as pixel displacements: sample positions outside the
// image are clamped to its border, and a clamped coordinate passes no gradient to the flow
// (as in PyTorch). Images are planar [C, H, W]; a flow is [2, H, W] (u = x, then v = y).

/// The four neighbours of a sample position and its fractional offsets; a coordinate outside
/// 0…size−1 is clamped to the border, and `clamped` says so (it then passes no gradient).
struct BilinearTap {
    var x0: Int, x1: Int, y0: Int, y1: Int
    var fx: Float, fy: Float
    var clampedX: Bool, clampedY: Bool

    @inline(__always) init(x: Float, y: Float, width w: Int, height h: Int) {
        func clamp(_ v: Float, _ size: Int) -> (Float, Bool) {
            let hi = Float(size - 1)
            if v <= 0 { return (0, v < 0) }
            if v >= hi { return (hi, v > hi) }
            return (v, false)
        }
        let (sx, cx) = clamp(x, w)
        let (sy, cy) = clamp(y, h)
        x0 = Int(sx)
        y0 = Int(sy)
        x1 = min(x0 + 1, w - 1)
        y1 = min(y0 + 1, h - 1)
        fx = sx - Float(x0)
        fy = sy - Float(y0)
        clampedX = cx
        clampedY = cy
    }

    /// The bilinear value of plane p (row length w) at this position.
    @inline(__always) func sample(_ p: UnsafePointer<Float>, width w: Int) -> Float {
        let top = p[y0 * w + x0] + (p[y0 * w + x1] - p[y0 * w + x0]) * fx
        let bottom = p[y1 * w + x0] + (p[y1 * w + x1] - p[y1 * w + x0]) * fx
        return top + (bottom - top) * fy
    }

    /// Adds g to plane d's four neighbours with the bilinear weights (the adjoint of `sample`).
    @inline(__always) func scatter(_ g: Float, into d: UnsafeMutablePointer<Float>, width w: Int) {
        d[y0 * w + x0] += g * (1 - fx) * (1 - fy)
        d[y0 * w + x1] += g * fx * (1 - fy)
        d[y1 * w + x0] += g * (1 - fx) * fy
        d[y1 * w + x1] += g * fx * fy
    }

    /// The sample position of a resize's output pixel (pixel centres aligned, clamped to the source's border).
    @inline(__always) init(resizeX x: Int, y: Int, scaleX sx: Float, scaleY sy: Float, width w: Int, height h: Int) {
        self.init(x: (Float(x) + 0.5) * sx - 0.5, y: (Float(y) + 0.5) * sy - 0.5, width: w, height: h)
    }
}

/// out[c, y, x] = image[c] at (x + u[y, x], y + v[y, x]), bilinear, border-clamped.
public func warpForward(
    out: UnsafeMutablePointer<Float>, image: UnsafePointer<Float>, flow: UnsafePointer<Float>,
    channels: Int, height h: Int, width w: Int
) {
    let plane = h * w
    parallelFor(h, minimumPerThread: max(1, 4096 / max(1, w))) { y in
        for x in 0..<w {
            let i = y * w + x
            let t = BilinearTap(x: Float(x) + flow[i], y: Float(y) + flow[plane + i], width: w, height: h)
            for c in 0..<channels { out[c * plane + i] = t.sample(image + c * plane, width: w) }
        }
    }
}

/// Accumulates dL/dimage and dL/dflow from dL/dout. The image gradient scatters into four
/// neighbours, so it runs serially over rows; the flow gradient is local to each pixel.
public func warpBackward(
    dimage: UnsafeMutablePointer<Float>?, dflow: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, image: UnsafePointer<Float>, flow: UnsafePointer<Float>,
    channels: Int, height h: Int, width w: Int
) {
    let plane = h * w
    for y in 0..<h {
        for x in 0..<w {
            let i = y * w + x
            let t = BilinearTap(x: Float(x) + flow[i], y: Float(y) + flow[plane + i], width: w, height: h)
            let (x0, x1, y0, y1, fx, fy) = (t.x0, t.x1, t.y0, t.y1, t.fx, t.fy)
            var gu: Float = 0
            var gv: Float = 0
            for c in 0..<channels {
                let g = dout[c * plane + i]
                let p = image + c * plane
                if let dimage { t.scatter(g, into: dimage + c * plane, width: w) }
                let p00 = p[y0 * w + x0]
                let p01 = p[y0 * w + x1]
                let p10 = p[y1 * w + x0]
                let p11 = p[y1 * w + x1]
                gu += g * ((1 - fy) * (p01 - p00) + fy * (p11 - p10))
                gv += g * ((1 - fx) * (p10 - p00) + fx * (p11 - p01))
            }
            if let dflow {
                if !t.clampedX { dflow[i] += gu }
                if !t.clampedY { dflow[plane + i] += gv }
            }
        }
    }
}

/// Resizes planes [C, h, w] to [C, H, W] bilinearly, pixel centres aligned
/// (PyTorch's interpolate(mode="bilinear", align_corners=False)).
public func resizeBilinear(
    _ planes: [Float], channels: Int, width w: Int, height h: Int,
    toWidth W: Int, height H: Int
) -> [Float] {
    precondition(planes.count == channels * w * h && W > 0 && H > 0)
    var out = [Float](repeating: 0, count: channels * W * H)
    let sx = Float(w) / Float(W)
    let sy = Float(h) / Float(H)
    planes.withUnsafeBufferPointer { f in
        out.withUnsafeMutableBufferPointer { o in
            let src = f.baseAddress!
            let dst = o.baseAddress!
            parallelFor(H, minimumPerThread: max(1, 4096 / W)) { y in
                for x in 0..<W {
                    let t = BilinearTap(resizeX: x, y: y, scaleX: sx, scaleY: sy, width: w, height: h)
                    for c in 0..<channels { dst[c * W * H + y * W + x] = t.sample(src + c * w * h, width: w) }
                }
            }
        }
    }
    return out
}

/// Resizes a flow [2, h, w] to [2, H, W] (`resizeBilinear`) and scales its vectors to the new pixel size.
public func resizeFlow(_ flow: [Float], width w: Int, height h: Int, toWidth W: Int, height H: Int) -> [Float] {
    var out = resizeBilinear(flow, channels: 2, width: w, height: h, toWidth: W, height: H)
    let sx = Float(W) / Float(w)
    let sy = Float(H) / Float(h)
    for i in 0..<(W * H) {
        out[i] *= sx
        out[W * H + i] *= sy
    }
    return out
}

/// The adjoint of `resizeBilinear`: accumulates into dplanes [C, h, w] the gradient of planes [C, H, W].
public func resizeBilinearBackward(
    dplanes: inout [Float], dout: [Float], channels: Int, width w: Int, height h: Int,
    fromWidth W: Int, height H: Int
) {
    precondition(dplanes.count == channels * w * h && dout.count == channels * W * H)
    let sx = Float(w) / Float(W)
    let sy = Float(h) / Float(H)
    dout.withUnsafeBufferPointer { g in
        dplanes.withUnsafeMutableBufferPointer { d in
            for y in 0..<H {
                for x in 0..<W {
                    let t = BilinearTap(resizeX: x, y: y, scaleX: sx, scaleY: sy, width: w, height: h)
                    for c in 0..<channels {
                        t.scatter(g[c * W * H + y * W + x], into: d.baseAddress! + c * w * h, width: w)
                    }
                }
            }
        }
    }
}

/// Cubic convolution weights of the four taps around a sample at fractional offset t (Keys, A = −0.75,
/// PyTorch's bicubic constant).
@inline(__always) func cubicWeights(_ t: Float) -> (Float, Float, Float, Float) {
    let a: Float = -0.75
    func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
    func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return (far(t + 1), near(t), near(1 - t), far(2 - t))
}

/// Bicubic backward warp, forward only (the output renderer: bilinear halves the finest detail at a
/// half-pixel offset, bicubic keeps most of it). PyTorch's grid_sample(mode="bicubic",
/// padding_mode="border", align_corners=True): taps outside the image take the border's value.
public func warpBicubicForward(
    out: UnsafeMutablePointer<Float>, image: UnsafePointer<Float>, flow: UnsafePointer<Float>,
    channels: Int, height h: Int, width w: Int
) {
    let plane = h * w
    parallelFor(h, minimumPerThread: max(1, 2048 / max(1, w))) { y in
        for x in 0..<w {
            let i = y * w + x
            let sx = Float(x) + flow[i]
            let sy = Float(y) + flow[plane + i]
            let fx = sx.rounded(.down)
            let fy = sy.rounded(.down)
            let wx = cubicWeights(sx - fx)
            let wy = cubicWeights(sy - fy)
            let ix = Int(max(-4, min(Float(w + 4), fx)))
            let iy = Int(max(-4, min(Float(h + 4), fy)))
            let cols = (
                min(max(ix - 1, 0), w - 1), min(max(ix, 0), w - 1), min(max(ix + 1, 0), w - 1),
                min(max(ix + 2, 0), w - 1)
            )
            let rows = (
                min(max(iy - 1, 0), h - 1) * w, min(max(iy, 0), h - 1) * w, min(max(iy + 1, 0), h - 1) * w,
                min(max(iy + 2, 0), h - 1) * w
            )
            for c in 0..<channels {
                let p = image + c * plane
                func row(_ r: Int) -> Float {
                    wx.0 * p[r + cols.0] + wx.1 * p[r + cols.1] + wx.2 * p[r + cols.2] + wx.3 * p[r + cols.3]
                }
                out[c * plane + i] = wy.0 * row(rows.0) + wy.1 * row(rows.1) + wy.2 * row(rows.2) + wy.3 * row(rows.3)
            }
        }
    }
}
