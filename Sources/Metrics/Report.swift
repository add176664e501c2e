import Foundation
import Media

/// Mean scores of one method over the cases of an evaluation.
public struct MethodScores: Codable, Equatable, Sendable {
    public var ms_ssim: Double
    public var psnr: Double
    public var clip_rs: Double
    public var ssim: Double
    public var seconds: Double
    /// Laplacian-variance ratio generated / true (`Scores.sharpness`); nil in reports written before it.
    public var sharpness: Double?
    /// Mean PSNR at each position of the gap (1…l), when every case had the same length.
    public var psnr_by_position: [Double]?
    /// Synthetic cases: mean IoU of the animal's silhouette against the truth's (`Silhouette`).
    public var silhouette_iou: Double?
    /// Mean adjacent similarity at each pair of the gap (`Scores.adjacent`), when every case had the same length.
    public var similarity_by_pair: [Double]?

    public init(
        ms_ssim: Double, psnr: Double, clip_rs: Double, ssim: Double, seconds: Double, sharpness: Double? = nil,
        psnr_by_position: [Double]? = nil, silhouette_iou: Double? = nil, similarity_by_pair: [Double]? = nil
    ) {
        self.ms_ssim = ms_ssim
        self.psnr = psnr
        self.clip_rs = clip_rs
        self.ssim = ssim
        self.seconds = seconds
        self.sharpness = sharpness
        self.psnr_by_position = psnr_by_position
        self.silhouette_iou = silhouette_iou
        self.similarity_by_pair = similarity_by_pair
    }
}

/// One case's scores by method, for finding which transitions a change helps or hurts.
public struct CaseScores: Codable, Equatable, Sendable {
    /// The case as the progress line names it: its label (a synthetic case's actions) and where its gap lies.
    public var name: String
    public var video: String
    public var s: Int
    public var e: Int
    /// Method → (MS-SSIM, PSNR, CLIP-RS) of this case.
    public var methods: [String: Metric]

    public struct Metric: Codable, Equatable, Sendable {
        public var ms_ssim: Double
        public var psnr: Double
        public var clip_rs: Double
        public init(ms_ssim: Double, psnr: Double, clip_rs: Double) {
            self.ms_ssim = ms_ssim
            self.psnr = psnr
            self.clip_rs = clip_rs
        }
    }

    public init(name: String, video: String, s: Int, e: Int, methods: [String: Metric]) {
        self.name = name
        self.video = video
        self.s = s
        self.e = e
        self.methods = methods
    }
}

/// A Table-1-style evaluation: methods × (MS-SSIM, PSNR, CLIP-RS, seconds per case).
public struct EvalReport: Codable, Sendable {
    public var cases: Int
    public var similarity: String
    public var methods: [String: MethodScores]
    /// Row order of the tables.
    public var order: [String]
    public var title: String
    /// The truth's mean adjacent similarity at each pair of the gap, beside the methods' `similarity_by_pair`.
    public var truth_similarity_by_pair: [Double]?
    /// Every case's own scores (the JSON only; nil in reports written before it).
    public var per_case: [CaseScores]?

    public init(
        cases: Int, similarity: String, methods: [String: MethodScores], order: [String], title: String,
        truthSimilarityByPair: [Double]? = nil, perCase: [CaseScores]? = nil
    ) {
        self.cases = cases
        self.similarity = similarity
        self.methods = methods
        self.order = order
        self.title = title
        truth_similarity_by_pair = truthSimilarityByPair
        per_case = perCase
    }

    public func markdown() -> String {
        var s = "### \(title)\n\n\(cases) cases; CLIP-RS similarity: \(similarity). Best of each column in bold.\n\n"
        let silhouettes = order.contains { methods[$0]?.silhouette_iou != nil }
        s +=
            "| method | MS-SSIM ↑ | PSNR (dB) ↑ | CLIP-RS ↑ | SSIM ↑ | sharpness (1 = truth) | "
            + (silhouettes ? "silhouette IoU ↑ | " : "") + "seconds / case |\n"
        s += "|---|---|---|---|---|---|" + (silhouettes ? "---|" : "") + "---|\n"
        let best = (
            ms: order.compactMap { methods[$0]?.ms_ssim }.max(), psnr: order.compactMap { methods[$0]?.psnr }.max(),
            rs: order.compactMap { methods[$0]?.clip_rs }.max(), ssim: order.compactMap { methods[$0]?.ssim }.max(),
            iou: order.compactMap { methods[$0]?.silhouette_iou }.max()
        )
        func cell(_ v: Double, _ b: Double?, _ f: String) -> String {
            let t = String(format: f, v)
            return v == b ? "**\(t)**" : t
        }
        for name in order {
            guard let m = methods[name] else { continue }
            let sharp = m.sharpness.map { String(format: "%.2f", $0) } ?? "–"
            s +=
                "| \(name) | \(cell(m.ms_ssim, best.ms, "%.4f")) | \(cell(m.psnr, best.psnr, "%.2f")) | "
                + "\(cell(m.clip_rs, best.rs, "%.4f")) | \(cell(m.ssim, best.ssim, "%.4f")) | \(sharp) | "
            if silhouettes { s += (m.silhouette_iou.map { cell($0, best.iou, "%.3f") } ?? "–") + " | " }
            s += "\(String(format: "%.2f", m.seconds)) |\n"
        }
        let pairs = truth_similarity_by_pair.map { [("truth", $0)] } ?? []
        return s
            + positionTable(
                order.compactMap { name in methods[name]?.psnr_by_position.map { (name, $0) } },
                format: "%.1f"
            ) { "PSNR (dB) at each frame of the gap, 1 = next to xˢ, \($0) = next to xᵉ" }
            + positionTable(
                pairs + order.compactMap { name in methods[name]?.similarity_by_pair.map { (name, $0) } },
                format: "%.3f"
            ) {
                "Adjacent similarity at each pair of the gap, what CLIP-RS compares with the truth's (higher: the "
                    + "frames change less), 1 = frames 1–2, \($0) = frames \($0)–\($0 + 1)"
            }
    }

    /// A value at each frame or pair of the gap (where a method gains or loses: next to the boundaries or in the
    /// middle), one row a method; empty unless every row has the same count.
    func positionTable(_ rows: [(String, [Double])], format: String, heading: (Int) -> String) -> String {
        guard let l = rows.first?.1.count, l > 0, rows.allSatisfy({ $0.1.count == l }) else { return "" }
        var s = "\n\(heading(l)):\n\n"
        s +=
            "| method | " + (1...l).map(String.init).joined(separator: " | ") + " |\n|---|"
            + String(repeating: "---|", count: l) + "\n"
        for (name, v) in rows {
            s += "| \(name) | " + v.map { String(format: format, $0) }.joined(separator: " | ") + " |\n"
        }
        return s
    }

    /// Grouped bars: MS-SSIM, CLIP-RS and PSNR/40, one colour per method, values printed.
    public func chart() -> RGBImage {
        let rows = order.filter { methods[$0] != nil }
        let W = 760
        let H = 120 + 24 * max(1, rows.count) + 160
        var img = RGBImage(width: W, height: H, fill: (255, 255, 255))
        let palette: [(UInt8, UInt8, UInt8)] = [
            (214, 39, 40), (31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75),
            (227, 119, 194), (127, 127, 127)
        ]
        BitmapFont.draw(title.uppercased(), into: &img, x: 10, y: 8, scale: 2, colour: (0, 0, 0))
        let metrics: [(String, (MethodScores) -> Double, Double)] = [
            ("MS-SSIM", { $0.ms_ssim }, 1), ("CLIP-RS", { $0.clip_rs }, 1), ("PSNR/40", { $0.psnr / 40 }, 1)
        ]
        let top = 40
        let chartH = 150
        let barW = max(6, 110 / max(1, rows.count))
        for (mi, (name, get, _)) in metrics.enumerated() {
            let x0 = 30 + mi * 200
            BitmapFont.draw(name, into: &img, x: x0, y: top + chartH + 6, scale: 2, colour: (0, 0, 0))
            for (ri, r) in rows.enumerated() {
                let v = max(0, min(1, get(methods[r]!)))
                let bh = Int(v * Double(chartH))
                let bx = x0 + ri * barW
                for y in (top + chartH - bh)..<(top + chartH) {
                    for x in bx..<(bx + barW - 1) {
                        let i = 3 * (y * W + x)
                        img.pixels[i] = palette[ri % palette.count].0
                        img.pixels[i + 1] = palette[ri % palette.count].1
                        img.pixels[i + 2] = palette[ri % palette.count].2
                    }
                }
            }
            for x in x0..<(x0 + rows.count * barW) {
                let i = 3 * ((top + chartH) * W + x)
                img.pixels[i] = 0
                img.pixels[i + 1] = 0
                img.pixels[i + 2] = 0
            }
        }
        // Legend with the numbers.
        for (ri, r) in rows.enumerated() {
            let y = top + chartH + 30 + ri * 22
            let c = palette[ri % palette.count]
            for yy in y..<(y + 12) {
                for x in 10..<22 {
                    let i = 3 * (yy * W + x)
                    img.pixels[i] = c.0
                    img.pixels[i + 1] = c.1
                    img.pixels[i + 2] = c.2
                }
            }
            let m = methods[r]!
            BitmapFont.draw(
                String(
                    format: "%@  MS-SSIM %.3f  PSNR %.2f  CLIP-RS %.3f", r.uppercased(), m.ms_ssim, m.psnr, m.clip_rs),
                into: &img, x: 30, y: y, scale: 2, colour: (0, 0, 0))
        }
        return img
    }
}

/// Rows of frames with a label per row: ground truth and each method, frame by frame.
public func contactSheet(rows: [(String, [RGBImage])], scale: Int = 1) -> RGBImage {
    let fw = rows.first?.1.first?.width ?? 64
    let fh = rows.first?.1.first?.height ?? 64
    let cols = rows.map(\.1.count).max() ?? 1
    let labelH = 14
    let gap = 2
    let W = cols * (fw + gap) + gap
    let H = rows.count * (fh + labelH + gap) + gap
    var img = RGBImage(width: W, height: H, fill: (24, 24, 24))
    for (ri, (label, frames)) in rows.enumerated() {
        let y0 = gap + ri * (fh + labelH + gap)
        BitmapFont.draw(label.uppercased(), into: &img, x: gap + 2, y: y0 + 2, scale: 2, colour: (240, 240, 240))
        for (ci, f) in frames.enumerated() {
            let x0 = gap + ci * (fw + gap)
            let g = f.width == fw && f.height == fh ? f : f.resized(width: fw, height: fh)
            for y in 0..<fh {
                let dst = 3 * ((y0 + labelH + y) * W + x0)
                img.pixels.replaceSubrange(dst..<(dst + 3 * fw), with: g.pixels[(3 * y * fw)..<(3 * (y + 1) * fw)])
            }
        }
    }
    return img
}

/// A 3×5 pixel font for labels in generated images (digits, capitals, a few signs).
public enum BitmapFont {
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
        "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 2, 2], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        "A": [2, 5, 7, 5, 5], "B": [6, 5, 6, 5, 6], "C": [3, 4, 4, 4, 3], "D": [6, 5, 5, 5, 6], "E": [7, 4, 6, 4, 7],
        "F": [7, 4, 6, 4, 4], "G": [3, 4, 5, 5, 3], "H": [5, 5, 7, 5, 5], "I": [7, 2, 2, 2, 7], "J": [1, 1, 1, 5, 2],
        "K": [5, 5, 6, 5, 5], "L": [4, 4, 4, 4, 7], "M": [5, 7, 7, 5, 5], "N": [6, 5, 5, 5, 5], "O": [2, 5, 5, 5, 2],
        "P": [6, 5, 6, 4, 4], "Q": [2, 5, 5, 6, 3], "R": [6, 5, 6, 5, 5], "S": [3, 4, 2, 1, 6], "T": [7, 2, 2, 2, 2],
        "U": [5, 5, 5, 5, 7], "V": [5, 5, 5, 5, 2], "W": [5, 5, 7, 7, 5], "X": [5, 5, 2, 5, 5], "Y": [5, 5, 2, 2, 2],
        "Z": [7, 1, 2, 4, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0], ":": [0, 2, 0, 2, 0], "/": [1, 1, 2, 4, 4],
        "(": [1, 2, 2, 2, 1], ")": [4, 2, 2, 2, 4], "%": [5, 1, 2, 4, 5], "=": [0, 7, 0, 7, 0], "+": [0, 2, 7, 2, 0],
        "_": [0, 0, 0, 0, 7], "λ": [4, 2, 2, 5, 5], ",": [0, 0, 0, 2, 4]
    ]

    public static func draw(
        _ text: String, into img: inout RGBImage, x: Int, y: Int, scale: Int = 1, colour: (UInt8, UInt8, UInt8)
    ) {
        var cx = x
        for ch in text {
            if let g = glyphs[ch] {
                for (row, bits) in g.enumerated() {
                    for col in 0..<3 where bits & (4 >> col) != 0 {
                        for dy in 0..<scale {
                            for dx in 0..<scale {
                                let px = cx + col * scale + dx
                                let py = y + row * scale + dy
                                if px >= 0 && px < img.width && py >= 0 && py < img.height {
                                    let i = 3 * (py * img.width + px)
                                    img.pixels[i] = colour.0
                                    img.pixels[i + 1] = colour.1
                                    img.pixels[i + 2] = colour.2
                                }
                            }
                        }
                    }
                }
            }
            cx += 4 * scale
        }
    }
}
