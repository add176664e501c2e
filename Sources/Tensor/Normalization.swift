import Foundation

/// Group normalisation (eps as PyTorch's nn.GroupNorm, default 1e-5): inp [N, C, P];
/// saves mean and rstd [N, G] for the backward pass.
public func groupNormForward(
    out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
    inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    n: Int, channels: Int, pixels: Int, groups: Int, eps: Float = 1e-5
) {
    let cg = channels / groups
    let m = cg * pixels
    parallelFor(n * groups) { j in
        let ni = j / groups
        let g = j % groups
        let x = inp + (ni * channels + g * cg) * pixels
        var s: Double = 0
        var ss: Double = 0
        for i in 0..<m {
            let v = Double(x[i])
            s += v
            ss += v * v
        }
        let mu = s / Double(m)
        let variance = max(0, ss / Double(m) - mu * mu)
        let r = Float(1 / (variance + Double(eps)).squareRoot())
        mean[j] = Float(mu)
        rstd[j] = r
        let y = out + (ni * channels + g * cg) * pixels
        for c in 0..<cg {
            let w = weight[g * cg + c] * r
            let b = bias[g * cg + c] - Float(mu) * w
            let xr = x + c * pixels
            let yr = y + c * pixels
            for i in 0..<pixels { yr[i] = xr[i] * w + b }
        }
    }
}

public func groupNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
    n: Int, channels: Int, pixels: Int, groups: Int
) {
    let cg = channels / groups
    let m = Float(cg * pixels)
    // Parameter gradients: per channel, summed over the batch (serial over n to avoid races).
    for ni in 0..<n {
        for c in 0..<channels {
            let g = c / cg
            let j = ni * groups + g
            let x = inp + (ni * channels + c) * pixels
            let d = dout + (ni * channels + c) * pixels
            var sw: Float = 0
            var sb: Float = 0
            let mu = mean[j]
            let r = rstd[j]
            for i in 0..<pixels {
                sw += d[i] * (x[i] - mu) * r
                sb += d[i]
            }
            dweight[c] += sw
            dbias[c] += sb
        }
    }
    parallelFor(n * groups) { j in
        let ni = j / groups
        let g = j % groups
        let mu = mean[j]
        let r = rstd[j]
        var sumD: Float = 0
        var sumDX: Float = 0
        for c in 0..<cg {
            let ch = g * cg + c
            let w = weight[ch]
            let x = inp + (ni * channels + ch) * pixels
            let d = dout + (ni * channels + ch) * pixels
            for i in 0..<pixels {
                let dx = d[i] * w
                sumD += dx
                sumDX += dx * (x[i] - mu) * r
            }
        }
        let meanD = sumD / m
        let meanDX = sumDX / m
        for c in 0..<cg {
            let ch = g * cg + c
            let w = weight[ch]
            let x = inp + (ni * channels + ch) * pixels
            let d = dout + (ni * channels + ch) * pixels
            let dx = dinp + (ni * channels + ch) * pixels
            for i in 0..<pixels { dx[i] += r * (d[i] * w - meanD - (x[i] - mu) * r * meanDX) }
        }
    }
}

/// Layer normalisation over the last dimension `dim` of `rows` rows (eps 1e-5).
public func layerNormForward(
    out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
    inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    rows: Int, dim: Int, eps: Float = 1e-5
) {
    parallelFor(rows, minimumPerThread: 16) { r in
        let x = inp + r * dim
        let y = out + r * dim
        var s: Float = 0
        for i in 0..<dim { s += x[i] }
        let mu = s / Float(dim)
        var v: Float = 0
        for i in 0..<dim {
            let d = x[i] - mu
            v += d * d
        }
        let rs = 1 / (v / Float(dim) + eps).squareRoot()
        mean[r] = mu
        rstd[r] = rs
        for i in 0..<dim { y[i] = (x[i] - mu) * rs * weight[i] + bias[i] }
    }
}

public func layerNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, dim: Int
) {
    for r in 0..<rows {
        let x = inp + r * dim
        let d = dout + r * dim
        let mu = mean[r]
        let rs = rstd[r]
        for i in 0..<dim {
            dweight[i] += d[i] * (x[i] - mu) * rs
            dbias[i] += d[i]
        }
    }
    parallelFor(rows, minimumPerThread: 16) { r in
        let x = inp + r * dim
        let d = dout + r * dim
        let dx = dinp + r * dim
        let mu = mean[r]
        let rs = rstd[r]
        var sumD: Float = 0
        var sumDX: Float = 0
        for i in 0..<dim {
            let g = d[i] * weight[i]
            sumD += g
            sumDX += g * (x[i] - mu) * rs
        }
        let mD = sumD / Float(dim)
        let mDX = sumDX / Float(dim)
        for i in 0..<dim { dx[i] += rs * (d[i] * weight[i] - mD - (x[i] - mu) * rs * mDX) }
    }
}
