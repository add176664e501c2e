import Foundation
import Media

extension Pictures {
    /// The quadrant glyphs by mask (bit 0 top left, 1 top right, 2 bottom left, 3 bottom right set = foreground):
    /// ▘ ▝ ▀ ▖ ▌ ▞ ▛ and █ for one colour. The masks 8…14 are these with the colours swapped.
    static let quadrantGlyphs: [Int: Character] = [
        1: "▘", 2: "▝", 3: "▀", 4: "▖", 5: "▌", 6: "▞", 7: "▛", 15: "█"
    ]

    /// Quadrant rendering (24-bit): each cell shows 2×2 pixels in two colours, twice the half-blocks' horizontal
    /// detail. Per cell the split of its four pixels into two groups with the least squared error to the groups'
    /// mean colours is chosen among the seven two-colour splits and the single colour; ties go to the simpler one.
    public static func quadrants(_ img: RGBImage, cols: Int, rows: Int, at origin: (row: Int, col: Int)) -> String {
        let pic = fit(img, width: cols * 2, height: rows * 2)
        var out = ""
        out.reserveCapacity(cols * rows * 40)
        var last: (fg: RGB, bg: RGB)?
        for r in 0..<rows {
            out += "\u{1B}[\(origin.row + r);\(origin.col)H"
            for c in 0..<cols {
                let px = [(0, 0), (1, 0), (0, 1), (1, 1)].map { dx, dy in pic.pixel(2 * c + dx, 2 * r + dy) }
                let (mask, fg, bg) = bestSplit(px)
                if last?.fg != fg || last?.bg != bg {
                    out += "\u{1B}[38;2;\(fg.r);\(fg.g);\(fg.b);48;2;\(bg.r);\(bg.g);\(bg.b)m"
                    last = (fg, bg)
                }
                out.append(quadrantGlyphs[mask] ?? "█")
            }
            out += "\u{1B}[0m"
            last = nil
        }
        return out
    }

    /// The mask (1…7, or 15 for one colour) and the two mean colours of the best split of four pixels.
    static func bestSplit(_ px: [(UInt8, UInt8, UInt8)]) -> (mask: Int, fg: RGB, bg: RGB) {
        func mean(_ members: [Int]) -> (Double, Double, Double) {
            let n = Double(members.count)
            return (
                members.reduce(0.0) { $0 + Double(px[$1].0) } / n, members.reduce(0.0) { $0 + Double(px[$1].1) } / n,
                members.reduce(0.0) { $0 + Double(px[$1].2) } / n
            )
        }
        func error(_ members: [Int], _ m: (Double, Double, Double)) -> Double {
            members.reduce(0.0) { acc, i in
                let d = (Double(px[i].0) - m.0, Double(px[i].1) - m.1, Double(px[i].2) - m.2)
                return acc + d.0 * d.0 + d.1 * d.1 + d.2 * d.2
            }
        }
        func rgb(_ m: (Double, Double, Double)) -> RGB {
            RGB(UInt8(m.0.rounded()), UInt8(m.1.rounded()), UInt8(m.2.rounded()))
        }
        let all = mean([0, 1, 2, 3])
        var best = (mask: 15, fg: rgb(all), bg: rgb(all), err: error([0, 1, 2, 3], all))
        for mask in 1...7 {
            let inside = (0..<4).filter { mask & (1 << $0) != 0 }
            let outside = (0..<4).filter { mask & (1 << $0) == 0 }
            let a = mean(inside)
            let b = mean(outside)
            let e = error(inside, a) + error(outside, b)
            if e < best.err - 1e-9 { best = (mask, rgb(a), rgb(b), e) }
        }
        return (best.mask, best.fg, best.bg)
    }
}
