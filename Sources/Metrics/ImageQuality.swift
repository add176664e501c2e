import CMetricsShim
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
        for i in 0..<a.pixels.count {
            let d = Double(a.pixels[i]) - Double(b.pixels[i])
            se += d * d
        }
        let mse = se / Double(a.pixels.count)
        return mse == 0 ? 100 : min(100, 10 * log10(255 * 255 / mse))
    }

    /// Normalised Gaussian taps exp(−x²/2σ²), x = −⌊n/2⌋…⌊n/2⌋ (scipy's and pytorch_msssim's windows agree for n = 11).
    static func gaussianTaps(count n: Int, sigma: Float = 1.5) -> [Float] {
        let w = (0..<n).map { i -> Float in
            let x = Float(i - n / 2)
            return exp(-x * x / (2 * sigma * sigma))
        }
        let s = w.reduce(0, +)
        return w.map { $0 / s }
    }

    static let c1: Float = (0.01 * 255) * (0.01 * 255), c2: Float = (0.03 * 255) * (0.03 * 255)

    /// Means of the SSIM map and of the contrast-structure term over the 'valid' region,
    /// with an n-tap window (fused C kernel). Planes narrower than the window count as equal.
    static func ssimAndContrast(_ x: [Float], _ y: [Float], width: Int, height: Int, window n: Int) -> (
        ssim: Double, cs: Double
    ) {
        guard width >= n && height >= n else { return (1, 1) }
        var sum: Float = 0
        for v in x { sum += v }
        for v in y { sum += v }
        let shift = sum / Float(2 * max(1, x.count))
        var s = 0.0
        var cs = 0.0
        let taps = gaussianTaps(count: n)
        guard mavin_ssim_valid(x, y, Int32(width), Int32(height), taps, Int32(n), shift, c1, c2, &s, &cs) == 1 else {
            fatalError("out of memory measuring SSIM")
        }
        // Both are at most 1 (equal images); the float sums can land a hair above it.
        return (min(1, s), min(1, cs))
    }

    /// Mean SSIM of two luma planes (values 0…255), scikit-image's definition: its
    /// 'same' filtering followed by cropping 5 pixels from every side is exactly the
    /// 'valid' filtering computed here.
    public static func ssim(luma a: [Float], _ b: [Float], width: Int, height: Int) -> Double {
        ssimAndContrast(a, b, width: width, height: height, window: 11).ssim
    }

    public static func ssim(_ a: RGBImage, _ b: RGBImage) -> Double {
        ssim(luma: a.luma(), b.luma(), width: a.width, height: a.height)
    }

    /// 2×2 average pooling with zero padding on odd sides (avg_pool2d, count_include_pad).
    static func pool(_ x: [Float], width: Int, height: Int) -> ([Float], Int, Int) {
        let pw = width % 2
        let ph = height % 2
        let ow = (width + 2 * pw - 2) / 2 + 1
        let oh = (height + 2 * ph - 2) / 2 + 1
        var out = [Float](repeating: 0, count: ow * oh)
        x.withUnsafeBufferPointer { p in
            for y in 0..<oh {
                for xx in 0..<ow {
                    var s: Float = 0
                    for dy in 0..<2 {
                        for dx in 0..<2 {
                            let iy = 2 * y + dy - ph
                            let ix = 2 * xx + dx - pw
                            if iy >= 0 && iy < height && ix >= 0 && ix < width { s += p[iy * width + ix] }
                        }
                    }
                    out[y * ow + xx] = s / 4
                }
            }
        }
        return (out, ow, oh)
    }

    public static let msssimWeights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]

    /// SSIM and MS-SSIM of two luma planes in one pass: MS-SSIM's first scale is
    /// scikit-image's SSIM (same 11-tap window, same pixels), so it is measured once.
    public static func ssimAndMSSSIM(luma a: [Float], _ b: [Float], width: Int, height: Int) -> (
        ssim: Double, msssim: Double
    ) {
        var x = a
        var y = b
        var w = width
        var h = height
        var result = 1.0
        var first = 1.0
        for (level, weight) in msssimWeights.enumerated() {
            let side = min(w, h)
            let win = min(11, side % 2 == 1 ? side : side - 1)
            let (s, cs) = ssimAndContrast(x, y, width: w, height: h, window: win)
            if level == 0 { first = s }
            if level == msssimWeights.count - 1 {
                result *= pow(max(0, s), weight)
            } else {
                result *= pow(max(0, cs), weight)
                let px = pool(x, width: w, height: h)
                let py = pool(y, width: w, height: h)
                x = px.0
                y = py.0
                w = px.1
                h = px.2
            }
        }
        return (first, result)
    }

    public static func msssim(luma a: [Float], _ b: [Float], width: Int, height: Int) -> Double {
        ssimAndMSSSIM(luma: a, b, width: width, height: height).msssim
    }

    public static func msssim(_ a: RGBImage, _ b: RGBImage) -> Double {
        msssim(luma: a.luma(), b.luma(), width: a.width, height: a.height)
    }

    /// Variance of the 4-neighbour Laplacian of a luma plane (OpenCV's Laplacian with ksize 1),
    /// over the interior pixels: the usual focus measure.
    public static func laplacianVariance(_ p: [Float], width w: Int, height h: Int) -> Double {
        guard w >= 3, h >= 3 else { return 0 }
        var sum = 0.0
        var squares = 0.0
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) {
                let i = y * w + x
                let v = Double(p[i - 1] + p[i + 1] + p[i - w] + p[i + w] - 4 * p[i])
                sum += v
                squares += v * v
            }
        }
        let n = Double((w - 2) * (h - 2))
        return squares / n - (sum / n) * (sum / n)
    }
}
