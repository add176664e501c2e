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
        var out = [UInt8]()
        out.reserveCapacity(cols * rows * 44)
        func number(_ n: Int) { appendDecimal(n, to: &out) }
        let glyphs = (0...15).map { Array(String(quadrantGlyphs[$0] ?? "█").utf8) }
        pic.pixels.withUnsafeBufferPointer { px in
            for r in 0..<rows {
                out += Array("\u{1B}[".utf8)
                number(origin.row + r)
                out.append(UInt8(ascii: ";"))
                number(origin.col)
                out.append(UInt8(ascii: "H"))
                var last: (RGB, RGB)?
                for c in 0..<cols {
                    let top = 3 * (2 * r * pic.width + 2 * c)
                    let bottom = top + 3 * pic.width
                    let cell = [top, top + 3, bottom, bottom + 3].map { (px[$0], px[$0 + 1], px[$0 + 2]) }
                    let (mask, fg, bg) = bestSplit(cell)
                    if last?.0 != fg || last?.1 != bg {
                        out += Array("\u{1B}[38;2;".utf8)
                        for (k, v) in [fg.r, fg.g, fg.b].enumerated() {
                            if k > 0 { out.append(UInt8(ascii: ";")) }
                            number(Int(v))
                        }
                        out += Array(";48;2;".utf8)
                        for (k, v) in [bg.r, bg.g, bg.b].enumerated() {
                            if k > 0 { out.append(UInt8(ascii: ";")) }
                            number(Int(v))
                        }
                        out.append(UInt8(ascii: "m"))
                        last = (fg, bg)
                    }
                    out += glyphs[mask]
                }
                out += Array("\u{1B}[0m".utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The mask (1…7, or 15 for one colour) and the two mean colours of the best split of four pixels. For a
    /// split, the squared error is Σ|p|² − |Σp|²/n per group, so only sums are needed.
    static func bestSplit(_ px: [(UInt8, UInt8, UInt8)]) -> (mask: Int, fg: RGB, bg: RGB) {
        let v = px.map { (Int($0.0), Int($0.1), Int($0.2)) }
        let squares = v.reduce(0) { $0 + $1.0 * $1.0 + $1.1 * $1.1 + $1.2 * $1.2 }
        func sums(_ mask: Int) -> (Int, Int, Int, Int) {
            var s = (0, 0, 0, 0)
            for i in 0..<4 where mask & (1 << i) != 0 {
                s.0 += v[i].0
                s.1 += v[i].1
                s.2 += v[i].2
                s.3 += 1
            }
            return s
        }
        func colour(_ s: (Int, Int, Int, Int)) -> RGB {
            let n = max(1, s.3)
            return RGB(UInt8((s.0 + n / 2) / n), UInt8((s.1 + n / 2) / n), UInt8((s.2 + n / 2) / n))
        }
        // Error × 12 (the common multiple of the group sizes 1…4) keeps it in integers.
        func explained(_ s: (Int, Int, Int, Int)) -> Int {
            s.3 == 0 ? 0 : 12 * (s.0 * s.0 + s.1 * s.1 + s.2 * s.2) / s.3
        }
        let all = sums(15)
        var best = (mask: 15, err: 12 * squares - explained(all))
        for mask in 1...7 {
            let e = 12 * squares - explained(sums(mask)) - explained(sums(15 & ~mask))
            if e < best.err { best = (mask, e) }
        }
        if best.mask == 15 { return (15, colour(all), colour(all)) }
        return (best.mask, colour(sums(best.mask)), colour(sums(15 & ~best.mask)))
    }
}
