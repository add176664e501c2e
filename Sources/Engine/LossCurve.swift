import Foundation
import Media

/// A small line chart of training and validation loss (log scale), drawn by us.
public enum LossCurve {
    public static func render(_ history: [TrainRecord], width: Int = 640, height: Int = 360) -> RGBImage {
        var img = RGBImage(width: width, height: height, fill: (255, 255, 255))
        let margin = 40
        let train = smoothed(history.map { Double($0.loss) })
        let val = history.compactMap { r in r.valLoss.map { (r.step, Double($0)) } }
        let all = train + val.map(\.1)
        let lo = log10(max(1e-6, all.min() ?? 1e-3)), hi = log10(max(1e-6, all.max() ?? 1))
        let span = max(1e-6, hi - lo)
        let maxStep = Double(max(1, history.last?.step ?? 1)), minStep = Double(history.first?.step ?? 0)
        func px(_ step: Double, _ v: Double) -> (Int, Int) {
            let x = margin + Int((step - minStep) / max(1, maxStep - minStep) * Double(width - 2 * margin))
            let y = height - margin - Int((log10(max(1e-6, v)) - lo) / span * Double(height - 2 * margin))
            return (x, y)
        }
        func dot(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8), r: Int = 1) {
            for dy in -r...r { for dx in -r...r {
                let xx = x + dx, yy = y + dy
                if xx >= 0 && xx < width && yy >= 0 && yy < height { let i = 3 * (yy * width + xx); img.pixels[i] = c.0; img.pixels[i + 1] = c.1; img.pixels[i + 2] = c.2 }
            } }
        }
        // Axes and decade grid lines.
        for x in margin..<(width - margin) { dot(x, height - margin, (0, 0, 0), r: 0) }
        for y in margin..<(height - margin) { dot(margin, y, (0, 0, 0), r: 0) }
        var decade = floor(lo)
        while decade <= hi {
            let (_, y) = px(minStep, pow(10, decade))
            if y > margin && y < height - margin { for x in stride(from: margin, to: width - margin, by: 4) { dot(x, y, (190, 190, 190), r: 0) } }
            decade += 1
        }
        for (i, v) in train.enumerated() { let (x, y) = px(Double(history[i].step), v); dot(x, y, (40, 90, 200), r: 0) }
        for (s, v) in val { let (x, y) = px(Double(s), v); dot(x, y, (220, 60, 30), r: 2) }
        return img
    }

    /// Exponential moving average, so the curve is readable at a glance.
    static func smoothed(_ v: [Double]) -> [Double] {
        var out: [Double] = []
        var acc = v.first ?? 0
        for x in v { acc = 0.98 * acc + 0.02 * x; out.append(acc) }
        return out
    }
}
