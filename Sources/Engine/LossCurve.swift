import Core
import Foundation
import Media
import Metrics

/// A small line chart of training and validation loss (log scale) with labelled axes and a legend, drawn by us.
public enum LossCurve {
    public static func render(_ history: [TrainRecord], width: Int = 640, height: Int = 360) -> RGBImage {
        var img = RGBImage(width: width, height: height, fill: (255, 255, 255))
        let margin = 40
        let train = smoothed(history.map { Double($0.loss) })
        let val = history.compactMap { r in r.valLoss.map { (r.step, Double($0)) } }
        let all = train + val.map(\.1)
        let lo = log10(max(1e-6, all.min() ?? 1e-3))
        let hi = log10(max(1e-6, all.max() ?? 1))
        let span = max(1e-6, hi - lo)
        let maxStep = Double(max(1, history.last?.step ?? 1))
        let minStep = Double(history.first?.step ?? 0)
        func px(_ step: Double, _ v: Double) -> (Int, Int) {
            let x = margin + Int((step - minStep) / max(1, maxStep - minStep) * Double(width - 2 * margin))
            let y = height - margin - Int((log10(max(1e-6, v)) - lo) / span * Double(height - 2 * margin))
            return (x, y)
        }
        func dot(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8), r: Int = 1) {
            for dy in -r...r {
                for dx in -r...r {
                    let xx = x + dx
                    let yy = y + dy
                    if xx >= 0 && xx < width && yy >= 0 && yy < height {
                        let i = 3 * (yy * width + xx)
                        img.pixels[i] = c.0
                        img.pixels[i + 1] = c.1
                        img.pixels[i + 2] = c.2
                    }
                }
            }
        }
        // Axes and decade grid lines.
        for x in margin..<(width - margin) { dot(x, height - margin, (0, 0, 0), r: 0) }
        for y in margin..<(height - margin) { dot(margin, y, (0, 0, 0), r: 0) }
        let ink: (UInt8, UInt8, UInt8) = (60, 60, 60)
        // Grid at 1, 2 and 5 × each decade (labelled), so a curve spanning less than a decade still has a scale.
        var decade = floor(lo)
        while decade <= hi {
            for m in [1.0, 2.0, 5.0] {
                let v = m * pow(10, decade)
                let (_, y) = px(minStep, v)
                guard y >= margin && y <= height - margin else { continue }
                for x in stride(from: margin, to: width - margin, by: 4) {
                    dot(x, y, m == 1 ? (170, 170, 170) : (215, 215, 215), r: 0)
                }
                BitmapFont.draw(Self.label(v), into: &img, x: 2, y: y - 2, colour: ink)
            }
            decade += 1
        }
        // Step ticks: five along the x axis, then the axis names and the legend.
        for k in 0...4 {
            let step = minStep + Double(k) / 4 * (maxStep - minStep)
            let (x, _) = px(step, pow(10, lo))
            for dy in 0..<4 { dot(x, height - margin + dy, (0, 0, 0), r: 0) }
            let text = String(Int(step.rounded()))
            BitmapFont.draw(text, into: &img, x: x - 2 * text.count, y: height - margin + 7, colour: ink)
        }
        BitmapFont.draw("STEP", into: &img, x: width / 2 - 8, y: height - 14, colour: ink)
        BitmapFont.draw("LOSS (LOG)", into: &img, x: 2, y: 8, colour: ink)
        for x in (width - 190)..<(width - 178) { dot(x, 12, (40, 90, 200), r: 0) }
        BitmapFont.draw("TRAINING (EMA)", into: &img, x: width - 172, y: 10, colour: ink)
        dot(width - 184, 24, (220, 60, 30), r: 2)
        BitmapFont.draw("VALIDATION", into: &img, x: width - 172, y: 22, colour: ink)
        for (i, v) in train.enumerated() {
            let (x, y) = px(Double(history[i].step), v)
            dot(x, y, (40, 90, 200), r: 0)
        }
        for (s, v) in val {
            let (x, y) = px(Double(s), v)
            dot(x, y, (220, 60, 30), r: 2)
        }
        return img
    }

    /// The records of a training log (`CKPT.log.jsonl`, one JSON object a line); lines that are not records are
    /// skipped.
    public static func read(_ url: URL) throws -> [TrainRecord] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EngineError.unreadableTrainingLog(path: url.path, reason: FileProblem.reason(error))
        }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n").compactMap {
            try? JSONDecoder().decode(TrainRecord.self, from: Data($0.utf8))
        }
    }

    /// A grid value as the 3×5 font can write it (digits, point, minus): 0.02, 0.5, 2, 10.
    static func label(_ v: Double) -> String {
        v >= 1 ? String(Int(v.rounded())) : String(format: "%.\(max(1, Int(ceil(-log10(v) - 1e-9))))f", v)
    }

    /// Exponential moving average, so the curve is readable at a glance.
    static func smoothed(_ v: [Double]) -> [Double] {
        var out: [Double] = []
        var acc = v.first ?? 0
        for x in v {
            acc = 0.98 * acc + 0.02 * x
            out.append(acc)
        }
        return out
    }
}
