import Foundation
import Media

/// How the Studio shows frames, best first (notcurses' capability ladder).
public enum PictureMode: String, CaseIterable, Sendable {
    case sixel
    case truecolor   // half-block ▀ with 24-bit colour
    case ansi256     // half-block with the 256-colour palette
    case ascii       // shades of characters
}

/// Pure renderers: image → terminal bytes, no terminal needed (unit-tested).
public enum Pictures {
    /// Nearest-neighbour-free box resize to exactly w×h (area average), for thumbnails.
    public static func fit(_ img: RGBImage, width w: Int, height h: Int) -> RGBImage {
        if img.width == w && img.height == h { return img }
        return img.resized(width: max(1, w), height: max(1, h))
    }

    /// Half-block rendering for a region of `cols`×`rows` cells at (row, col) (1-based CUP
    /// coordinates): each cell shows two pixels, the upper as foreground of ▀, the lower as background.
    public static func halfBlock(_ img: RGBImage, cols: Int, rows: Int, at origin: (row: Int, col: Int), mode: PictureMode) -> String {
        let pic = fit(img, width: cols, height: rows * 2)
        var out = ""
        out.reserveCapacity(cols * rows * 24)
        for r in 0..<rows {
            out += "\u{1B}[\(origin.row + r);\(origin.col)H"
            var last = ""
            for c in 0..<cols {
                let top = pic.pixel(c, 2 * r), bottom = pic.pixel(c, 2 * r + 1)
                let sgr: String
                if mode == .ansi256 {
                    sgr = "\u{1B}[38;5;\(ansi256(top));48;5;\(ansi256(bottom))m"
                } else {
                    sgr = "\u{1B}[38;2;\(top.0);\(top.1);\(top.2);48;2;\(bottom.0);\(bottom.1);\(bottom.2)m"
                }
                if sgr != last { out += sgr; last = sgr }
                out += "▀"
            }
            out += "\u{1B}[0m"
        }
        return out
    }

    /// The xterm 256-colour index nearest to an RGB colour (6×6×6 cube or the grey ramp).
    public static func ansi256(_ c: (UInt8, UInt8, UInt8)) -> Int {
        func level(_ v: UInt8) -> Int { v < 48 ? 0 : (v < 115 ? 1 : (Int(v) - 35) / 40) }
        let steps = [0, 95, 135, 175, 215, 255]
        let r = level(c.0), g = level(c.1), b = level(c.2)
        let cube = 16 + 36 * r + 6 * g + b
        let cubeErr = sq(Int(c.0) - steps[r]) + sq(Int(c.1) - steps[g]) + sq(Int(c.2) - steps[b])
        let grey = (Int(c.0) + Int(c.1) + Int(c.2)) / 3
        let gi = max(0, min(23, (grey - 3) / 10))
        let gv = 8 + 10 * gi
        let greyErr = sq(Int(c.0) - gv) + sq(Int(c.1) - gv) + sq(Int(c.2) - gv)
        return greyErr < cubeErr ? 232 + gi : cube
    }

    @inline(__always) static func sq(_ x: Int) -> Int { x * x }

    /// ASCII shades (for terminals with no colour), one character per cell.
    public static func ascii(_ img: RGBImage, cols: Int, rows: Int) -> [String] {
        let ramp = Array(" .:-=+*#%@")
        let pic = fit(img, width: cols, height: rows)
        return (0..<rows).map { r in
            String((0..<cols).map { c -> Character in
                let p = pic.pixel(c, r)
                let l = (299 * Int(p.0) + 587 * Int(p.1) + 114 * Int(p.2)) / 1000
                return ramp[min(ramp.count - 1, l * ramp.count / 256)]
            })
        }
    }
}

/// Our sixel encoder: median-cut palette (up to 255 colours), one pass per colour per
/// 6-pixel band, `!n` run-length for repeats.
public enum Sixel {
    public static func encode(_ img: RGBImage) -> String {
        let (palette, indices) = GIFQuantizer.quantize(img)
        let colours = palette.count / 3
        var out = "\u{1B}P0;1;0q\"1;1;\(img.width);\(img.height)"
        for i in 0..<colours {
            let r = Int(palette[3 * i]) * 100 / 255, g = Int(palette[3 * i + 1]) * 100 / 255, b = Int(palette[3 * i + 2]) * 100 / 255
            out += "#\(i);2;\(r);\(g);\(b)"
        }
        let w = img.width
        var bandStart = 0
        var used = [Bool](repeating: false, count: colours)
        var row = [UInt8](repeating: 0, count: w)
        while bandStart < img.height {
            let bandH = min(6, img.height - bandStart)
            for i in 0..<colours { used[i] = false }
            for y in bandStart..<(bandStart + bandH) { for x in 0..<w { used[Int(indices[y * w + x])] = true } }
            var first = true
            for colour in 0..<colours where used[colour] {
                if !first { out += "$" }
                first = false
                out += "#\(colour)"
                for x in 0..<w {
                    var bits: UInt8 = 0
                    for dy in 0..<bandH where Int(indices[(bandStart + dy) * w + x]) == colour { bits |= 1 << dy }
                    row[x] = bits
                }
                var x = 0
                while x < w {
                    var run = 1
                    while x + run < w && row[x + run] == row[x] { run += 1 }
                    let ch = Character(UnicodeScalar(63 + row[x]))
                    if run > 3 { out += "!\(run)\(ch)" } else { out += String(repeating: ch, count: run) }
                    x += run
                }
            }
            out += "-"
            bandStart += 6
        }
        return out + "\u{1B}\\"
    }
}
