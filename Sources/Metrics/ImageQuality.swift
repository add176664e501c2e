import Foundation
import Media

/// Frame-quality measures. SSIM follows scikit-image's `structural_similarity` with
/// `gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255`
/// (Wang et al.: 11-tap Gaussian, K1 = 0.01, K2 = 0.03), computed on BT.601 luma.
/// MS-SSIM follows pytorch_msssim's `ms_ssim` (5 scales, weights 0.0448, 0.2856,
/// 0.3001, 0.2363, 0.1333, valid filtering, 2×2 average pooling), on the same luma;
/// at scales smaller than the 11-pixel window the window narrows to the largest odd
/// size that fits (pytorch_msssim refuses such images; 128² frames need it).
public enum ImageQuality {
    /// PSNR in dB of two RGB frames (255 peak); identical frames give 100.
    public static func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
        precondition(a.width == b.width && a.height == b.height)
        var se = 0.0
        for i in 0..<a.pixels.count { let d = Double(a.pixels[i]) - Double(b.pixels[i]); se += d * d }
        let mse = se / Double(a.pixels.count)
        return mse == 0 ? 100 : min(100, 10 * log10(255 * 255 / mse))
    }

    /// Normalised 1-d Gaussian taps (radius = ⌊truncate·σ + 0.5⌋, scipy's rule).
    static func gaussianTaps(sigma: Double = 1.5, radius: Int) -> [Double] {
        let w = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let s = w.reduce(0, +)
        return w.map { $0 / s }
    }

    /// Separable Gaussian filter with scipy's 'reflect' boundary (d c b a | a b c d | d c b a):
    /// the plane is padded once, then each pass is a plain dot product per pixel.
    static func gaussianReflect(_ x: [Double], width: Int, height: Int, taps: [Double]) -> [Double] {
        let r = taps.count / 2
        func reflect(_ i: Int, _ n: Int) -> Int {
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i - 1 : 2 * n - i - 1 }
            return i
        }
        let pw = width + 2 * r
        let cols = (0..<pw).map { reflect($0 - r, width) }
        var tmp = [Double](repeating: 0, count: width * height), out = tmp
        var row = [Double](repeating: 0, count: pw)
        taps.withUnsafeBufferPointer { k in
            for y in 0..<height {
                for j in 0..<pw { row[j] = x[y * width + cols[j]] }
                row.withUnsafeBufferPointer { rp in
                    for xx in 0..<width {
                        var s = 0.0
                        for t in 0..<k.count { s += k[t] * rp[xx + t] }
                        tmp[y * width + xx] = s
                    }
                }
            }
            let rowsIdx = (0..<(height + 2 * r)).map { reflect($0 - r, height) }
            tmp.withUnsafeBufferPointer { tp in
                out.withUnsafeMutableBufferPointer { op in
                    for y in 0..<height {
                        for t in 0..<k.count {
                            let src = tp.baseAddress! + rowsIdx[y + t] * width, w = k[t]
                            let dst = op.baseAddress! + y * width
                            for xx in 0..<width { dst[xx] += w * src[xx] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Mean SSIM of two luma planes (values 0…255), scikit-image's definition.
    public static func ssim(luma a: [Float], _ b: [Float], width: Int, height: Int) -> Double {
        let taps = gaussianTaps(radius: Int(3.5 * 1.5 + 0.5))
        let x = a.map(Double.init), y = b.map(Double.init)
        var xx = x, yy = y, xy = x
        for i in 0..<x.count { xx[i] = x[i] * x[i]; yy[i] = y[i] * y[i]; xy[i] = x[i] * y[i] }
        let ux = gaussianReflect(x, width: width, height: height, taps: taps)
        let uy = gaussianReflect(y, width: width, height: height, taps: taps)
        let uxx = gaussianReflect(xx, width: width, height: height, taps: taps)
        let uyy = gaussianReflect(yy, width: width, height: height, taps: taps)
        let uxy = gaussianReflect(xy, width: width, height: height, taps: taps)
        let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
        let pad = 5
        var total = 0.0, n = 0
        for r in pad..<max(pad, height - pad) { for c in pad..<max(pad, width - pad) {
            let i = r * width + c
            let vx = uxx[i] - ux[i] * ux[i], vy = uyy[i] - uy[i] * uy[i], vxy = uxy[i] - ux[i] * uy[i]
            total += ((2 * ux[i] * uy[i] + c1) * (2 * vxy + c2)) / ((ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2))
            n += 1
        } }
        return n == 0 ? 1 : total / Double(n)
    }

    public static func ssim(_ a: RGBImage, _ b: RGBImage) -> Double {
        ssim(luma: a.luma(), b.luma(), width: a.width, height: a.height)
    }

    /// 'valid' separable Gaussian (pytorch_msssim's gaussian_filter).
    static func gaussianValid(_ x: [Double], width: Int, height: Int, taps: [Double]) -> ([Double], Int, Int) {
        let k = taps.count, ow = width - k + 1, oh = height - k + 1
        var tmp = [Double](repeating: 0, count: ow * height)
        for y in 0..<height { for xx in 0..<ow {
            var s = 0.0
            for j in 0..<k { s += taps[j] * x[y * width + xx + j] }
            tmp[y * ow + xx] = s
        } }
        var out = [Double](repeating: 0, count: ow * oh)
        for y in 0..<oh { for xx in 0..<ow {
            var s = 0.0
            for j in 0..<k { s += taps[j] * tmp[(y + j) * ow + xx] }
            out[y * ow + xx] = s
        } }
        return (out, ow, oh)
    }

    /// (ssim, cs) means of one scale, pytorch_msssim's `_ssim`.
    static func ssimAndContrast(_ x: [Double], _ y: [Double], width: Int, height: Int) -> (Double, Double) {
        let side = min(width, height)
        let win = min(11, side % 2 == 1 ? side : side - 1)
        let coords = (0..<win).map { Double($0 - win / 2) }
        var taps = coords.map { exp(-($0 * $0) / (2 * 1.5 * 1.5)) }
        let s = taps.reduce(0, +)
        taps = taps.map { $0 / s }
        let (mu1, ow, oh) = gaussianValid(x, width: width, height: height, taps: taps)
        let mu2 = gaussianValid(y, width: width, height: height, taps: taps).0
        let xx = gaussianValid(x.map { $0 * $0 }, width: width, height: height, taps: taps).0
        let yy = gaussianValid(y.map { $0 * $0 }, width: width, height: height, taps: taps).0
        let xy = gaussianValid(zip(x, y).map { $0 * $1 }, width: width, height: height, taps: taps).0
        let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
        var ssimSum = 0.0, csSum = 0.0
        for i in 0..<(ow * oh) {
            let s1 = xx[i] - mu1[i] * mu1[i], s2 = yy[i] - mu2[i] * mu2[i], s12 = xy[i] - mu1[i] * mu2[i]
            let cs = (2 * s12 + c2) / (s1 + s2 + c2)
            csSum += cs
            ssimSum += (2 * mu1[i] * mu2[i] + c1) / (mu1[i] * mu1[i] + mu2[i] * mu2[i] + c1) * cs
        }
        let n = Double(ow * oh)
        return (ssimSum / n, csSum / n)
    }

    /// 2×2 average pooling with zero padding on odd sides (avg_pool2d, count_include_pad).
    static func pool(_ x: [Double], width: Int, height: Int) -> ([Double], Int, Int) {
        let pw = width % 2, ph = height % 2
        let ow = (width + 2 * pw - 2) / 2 + 1, oh = (height + 2 * ph - 2) / 2 + 1
        var out = [Double](repeating: 0, count: ow * oh)
        for y in 0..<oh { for xx in 0..<ow {
            var s = 0.0
            for dy in 0..<2 { for dx in 0..<2 {
                let iy = 2 * y + dy - ph, ix = 2 * xx + dx - pw
                if iy >= 0 && iy < height && ix >= 0 && ix < width { s += x[iy * width + ix] }
            } }
            out[y * ow + xx] = s / 4
        } }
        return (out, ow, oh)
    }

    public static let msssimWeights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]

    public static func msssim(luma a: [Float], _ b: [Float], width: Int, height: Int) -> Double {
        var x = a.map(Double.init), y = b.map(Double.init), w = width, h = height
        var result = 1.0
        for (level, weight) in msssimWeights.enumerated() {
            let (s, cs) = ssimAndContrast(x, y, width: w, height: h)
            if level == msssimWeights.count - 1 {
                result *= pow(max(0, s), weight)
            } else {
                result *= pow(max(0, cs), weight)
                let px = pool(x, width: w, height: h), py = pool(y, width: w, height: h)
                x = px.0; y = py.0; w = px.1; h = px.2
            }
        }
        return result
    }

    public static func msssim(_ a: RGBImage, _ b: RGBImage) -> Double {
        msssim(luma: a.luma(), b.luma(), width: a.width, height: a.height)
    }
}
