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
        var out = [UInt8]()
        out.reserveCapacity(cols * rows * 40)
        func number(_ n: Int) {
            if n >= 100 { out.append(UInt8(48 + n / 100)) }
            if n >= 10 { out.append(UInt8(48 + (n / 10) % 10)) }
            out.append(UInt8(48 + n % 10))
        }
        let esc: UInt8 = 0x1B, lb = UInt8(ascii: "["), semi = UInt8(ascii: ";")
        let block: [UInt8] = [0xE2, 0x96, 0x80]  // ▀
        pic.pixels.withUnsafeBufferPointer { px in
            for r in 0..<rows {
                out += [esc, lb]; number(origin.row + r); out.append(semi); number(origin.col); out.append(UInt8(ascii: "H"))
                var last: (Int, Int) = (-1, -1)
                for c in 0..<cols {
                    let t = 3 * ((2 * r) * pic.width + c), b = 3 * ((2 * r + 1) * pic.width + c)
                    if mode == .ansi256 {
                        let fg = ansi256((px[t], px[t + 1], px[t + 2])), bg = ansi256((px[b], px[b + 1], px[b + 2]))
                        if fg != last.0 || bg != last.1 {
                            out += [esc, lb, 51, 56, semi, 53, semi]; number(fg)
                            out += [semi, 52, 56, semi, 53, semi]; number(bg); out.append(UInt8(ascii: "m"))
                            last = (fg, bg)
                        }
                    } else {
                        let fg = Int(px[t]) << 16 | Int(px[t + 1]) << 8 | Int(px[t + 2]), bg = Int(px[b]) << 16 | Int(px[b + 1]) << 8 | Int(px[b + 2])
                        if fg != last.0 || bg != last.1 {
                            out += [esc, lb, 51, 56, semi, 50, semi]; number(Int(px[t])); out.append(semi); number(Int(px[t + 1])); out.append(semi); number(Int(px[t + 2]))
                            out += [semi, 52, 56, semi, 50, semi]; number(Int(px[b])); out.append(semi); number(Int(px[b + 1])); out.append(semi); number(Int(px[b + 2]))
                            out.append(UInt8(ascii: "m"))
                            last = (fg, bg)
                        }
                    }
                    out += block
                }
                out += [esc, lb, 48, UInt8(ascii: "m")]
            }
        }
        return String(decoding: out, as: UTF8.self)
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
        var out = [UInt8]()
        out.reserveCapacity(img.width * img.height)
        func text(_ s: String) { out += Array(s.utf8) }
        func number(_ n: Int) {
            if n >= 1000 { out.append(UInt8(48 + n / 1000)) }
            if n >= 100 { out.append(UInt8(48 + (n / 100) % 10)) }
            if n >= 10 { out.append(UInt8(48 + (n / 10) % 10)) }
            out.append(UInt8(48 + n % 10))
        }
        text("\u{1B}P0;1;0q\"1;1;\(img.width);\(img.height)")
        for i in 0..<colours {
            let r = Int(palette[3 * i]) * 100 / 255, g = Int(palette[3 * i + 1]) * 100 / 255, b = Int(palette[3 * i + 2]) * 100 / 255
            text("#\(i);2;\(r);\(g);\(b)")
        }
        let w = img.width
        // Per band: one pass builds every colour's 6-bit column pattern.
        var bits = [UInt8](repeating: 0, count: colours * w)
        var used = [Bool](repeating: false, count: colours)
        var bandStart = 0
        indices.withUnsafeBufferPointer { idx in
            while bandStart < img.height {
                let bandH = min(6, img.height - bandStart)
                for dy in 0..<bandH {
                    let row = (bandStart + dy) * w
                    for x in 0..<w {
                        let c = Int(idx[row + x])
                        used[c] = true
                        bits[c * w + x] |= 1 << dy
                    }
                }
                var first = true
                for colour in 0..<colours where used[colour] {
                    if !first { out.append(UInt8(ascii: "$")) }
                    first = false
                    out.append(UInt8(ascii: "#")); number(colour)
                    let base = colour * w
                    var x = 0
                    while x < w {
                        let v = bits[base + x]
                        var run = 1
                        while x + run < w && bits[base + x + run] == v { run += 1 }
                        let ch = 63 + v
                        if run > 3 { out.append(UInt8(ascii: "!")); number(run); out.append(ch) } else { for _ in 0..<run { out.append(ch) } }
                        x += run
                    }
                    for i in 0..<w { bits[base + i] = 0 }
                    used[colour] = false
                }
                out.append(UInt8(ascii: "-"))
                bandStart += 6
            }
        }
        out += [0x1B, UInt8(ascii: "\\")]
        return String(decoding: out, as: UTF8.self)
    }
}
