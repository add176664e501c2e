import CShim
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

    /// Gaussian filtering of the five SSIM planes (x, y, x², y², xy) with the C kernel.
    static func filteredMoments(_ a: [Float], _ b: [Float], width: Int, height: Int, taps: [Float], valid: Bool)
        -> (ux: [Float], uy: [Float], uxx: [Float], uyy: [Float], uxy: [Float], w: Int, h: Int) {
        let n = width * height
        let ow = valid ? width - taps.count + 1 : width, oh = valid ? height - taps.count + 1 : height
        var xx = [Float](repeating: 0, count: n), yy = xx, xy = xx
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            xx.withUnsafeMutableBufferPointer { px in yy.withUnsafeMutableBufferPointer { py in xy.withUnsafeMutableBufferPointer { pxy in
                for i in 0..<n { px[i] = pa[i] * pa[i]; py[i] = pb[i] * pb[i]; pxy[i] = pa[i] * pb[i] }
            } } }
        } }
        var tmp = [Float](repeating: 0, count: n)
        func filter(_ p: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: max(1, ow * oh))
            mavin_separable_filter(p, &out, &tmp, Int32(width), Int32(height), taps, Int32(taps.count), valid ? 1 : 0)
            return out
        }
        return (filter(a), filter(b), filter(xx), filter(yy), filter(xy), ow, oh)
    }

    /// Mean SSIM of two luma planes (values 0…255), scikit-image's definition.
    public static func ssim(luma a: [Float], _ b: [Float], width: Int, height: Int) -> Double {
        let taps = gaussianTaps(radius: Int(3.5 * 1.5 + 0.5)).map(Float.init)
        // Centre the planes (SSIM is shift-invariant in its moments) so float variances stay exact.
        let shift = (a.reduce(0, +) + b.reduce(0, +)) / Float(2 * max(1, a.count))
        let m = filteredMoments(a.map { $0 - shift }, b.map { $0 - shift }, width: width, height: height, taps: taps, valid: false)
        let c1: Float = (0.01 * 255) * (0.01 * 255), c2: Float = (0.03 * 255) * (0.03 * 255)
        let pad = 5
        var total = 0.0, n = 0
        m.ux.withUnsafeBufferPointer { ux0 in m.uy.withUnsafeBufferPointer { uy0 in m.uxx.withUnsafeBufferPointer { uxx in
        m.uyy.withUnsafeBufferPointer { uyy in m.uxy.withUnsafeBufferPointer { uxy in
            for r in pad..<max(pad, height - pad) {
                var rowSum: Float = 0
                for c in pad..<max(pad, width - pad) {
                    let i = r * width + c
                    let ux = ux0[i] + shift, uy = uy0[i] + shift
                    let vx = uxx[i] - ux0[i] * ux0[i], vy = uyy[i] - uy0[i] * uy0[i], vxy = uxy[i] - ux0[i] * uy0[i]
                    rowSum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
                    n += 1
                }
                total += Double(rowSum)
            }
        } } } } }
        return n == 0 ? 1 : total / Double(n)
    }

    public static func ssim(_ a: RGBImage, _ b: RGBImage) -> Double {
        ssim(luma: a.luma(), b.luma(), width: a.width, height: a.height)
    }

    /// (ssim, cs) means of one scale, pytorch_msssim's `_ssim` ('valid' Gaussian filtering).
    static func ssimAndContrast(_ x: [Double], _ y: [Double], width: Int, height: Int) -> (Double, Double) {
        let side = min(width, height)
        let win = min(11, side % 2 == 1 ? side : side - 1)
        let coords = (0..<win).map { Double($0 - win / 2) }
        var taps = coords.map { exp(-($0 * $0) / (2 * 1.5 * 1.5)) }
        let s = taps.reduce(0, +)
        taps = taps.map { $0 / s }
        let shift = (x.reduce(0, +) + y.reduce(0, +)) / Double(2 * max(1, x.count))
        let m = filteredMoments(x.map { Float($0 - shift) }, y.map { Float($0 - shift) }, width: width, height: height, taps: taps.map(Float.init), valid: true)
        let c1: Float = (0.01 * 255) * (0.01 * 255), c2: Float = (0.03 * 255) * (0.03 * 255)
        var ssimSum = 0.0, csSum = 0.0
        let sh = Float(shift)
        m.ux.withUnsafeBufferPointer { ux in m.uy.withUnsafeBufferPointer { uy in m.uxx.withUnsafeBufferPointer { uxx in
        m.uyy.withUnsafeBufferPointer { uyy in m.uxy.withUnsafeBufferPointer { uxy in
            for i in 0..<(m.w * m.h) {
                let mu1 = ux[i] + sh, mu2 = uy[i] + sh
                let s1 = uxx[i] - ux[i] * ux[i], s2 = uyy[i] - uy[i] * uy[i], s12 = uxy[i] - ux[i] * uy[i]
                let cs = (2 * s12 + c2) / (s1 + s2 + c2)
                csSum += Double(cs)
                ssimSum += Double((2 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1) * cs)
            }
        } } } } }
        let n = Double(m.w * m.h)
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
