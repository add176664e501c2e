import Foundation
import Media

/// A non-negative integer's decimal digits appended as ASCII: the numbers inside escape sequences, written into
/// the renderers' byte buffers without building a String each.
func appendDecimal(_ n: Int, to out: inout [UInt8]) {
    if n >= 10 { appendDecimal(n / 10, to: &out) }
    out.append(UInt8(48 + n % 10))
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
    /// With `unicode` false (a locale that is not UTF-8) each cell is a space on one pixel's colour.
    /// 256 colours: the OKLab-nearest palette entry after a 4×4 ordered dither (Palette256).
    public static func halfBlock(
        _ img: RGBImage, cols: Int, rows: Int, at origin: (row: Int, col: Int),
        mode: PictureMode, unicode: Bool = true
    ) -> String {
        let perCell = unicode ? 2 : 1
        let pic = fit(img, width: cols, height: rows * perCell)
        var out = [UInt8]()
        out.reserveCapacity(cols * rows * 40)
        func number(_ n: Int) { appendDecimal(n, to: &out) }
        func rgb(_ px: UnsafeBufferPointer<UInt8>, _ k: Int) {
            number(Int(px[k]))
            out.append(UInt8(ascii: ";"))
            number(Int(px[k + 1]))
            out.append(UInt8(ascii: ";"))
            number(Int(px[k + 2]))
        }
        let esc: UInt8 = 0x1B
        let lb = UInt8(ascii: "[")
        let semi = UInt8(ascii: ";")
        let block: [UInt8] = unicode ? [0xE2, 0x96, 0x80] : [UInt8(ascii: " ")]  // ▀ or a space
        pic.pixels.withUnsafeBufferPointer { px in
            for r in 0..<rows {
                out += [esc, lb]
                number(origin.row + r)
                out.append(semi)
                number(origin.col)
                out.append(UInt8(ascii: "H"))
                var last: (Int, Int) = (-1, -1)
                for c in 0..<cols {
                    let t = 3 * ((perCell * r) * pic.width + c)
                    let b = 3 * ((perCell * r + perCell - 1) * pic.width + c)
                    if mode == .ansi256 {
                        let fg = Palette256.dithered((px[t], px[t + 1], px[t + 2]), x: c, y: perCell * r)
                        let bg = Palette256.dithered((px[b], px[b + 1], px[b + 2]), x: c, y: perCell * r + perCell - 1)
                        if fg != last.0 || bg != last.1 {
                            out += [esc, lb]
                            if unicode {
                                out += [51, 56, semi, 53, semi]
                                number(fg)
                                out.append(semi)
                            }
                            out += [52, 56, semi, 53, semi]
                            number(bg)
                            out.append(UInt8(ascii: "m"))
                            last = (fg, bg)
                        }
                    } else {
                        let fg = Int(px[t]) << 16 | Int(px[t + 1]) << 8 | Int(px[t + 2])
                        let bg = Int(px[b]) << 16 | Int(px[b + 1]) << 8 | Int(px[b + 2])
                        if fg != last.0 || bg != last.1 {
                            out += [esc, lb]
                            if unicode {
                                out += [51, 56, semi, 50, semi]
                                rgb(px, t)
                                out.append(semi)
                            }
                            out += [52, 56, semi, 50, semi]
                            rgb(px, b)
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

    /// The xterm 256-colour index nearest to an RGB colour in RGB distance (the old mapping, kept for comparison).
    public static func ansi256RGB(_ c: (UInt8, UInt8, UInt8)) -> Int {
        func level(_ v: UInt8) -> Int { v < 48 ? 0 : (v < 115 ? 1 : (Int(v) - 35) / 40) }
        let steps = [0, 95, 135, 175, 215, 255]
        let r = level(c.0)
        let g = level(c.1)
        let b = level(c.2)
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
            String(
                (0..<cols).map { c -> Character in
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
        func number(_ n: Int) { appendDecimal(n, to: &out) }
        text("\u{1B}P0;1;0q\"1;1;\(img.width);\(img.height)")
        for i in 0..<colours {
            let r = Int(palette[3 * i]) * 100 / 255
            let g = Int(palette[3 * i + 1]) * 100 / 255
            let b = Int(palette[3 * i + 2]) * 100 / 255
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
                    out.append(UInt8(ascii: "#"))
                    number(colour)
                    let base = colour * w
                    var x = 0
                    while x < w {
                        let v = bits[base + x]
                        var run = 1
                        while x + run < w && bits[base + x + run] == v { run += 1 }
                        let ch = 63 + v
                        if run > 3 {
                            out.append(UInt8(ascii: "!"))
                            number(run)
                            out.append(ch)
                        } else {
                            for _ in 0..<run { out.append(ch) }
                        }
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

/// The xterm 256-colour palette's fixed part (16…255: the 6×6×6 cube and the 24 greys), matched in
/// OKLab (Björn Ottosson's perceptual space), so a grass green stays green rather than becoming
/// the nearest grey by RGB distance; a 4×4 Bayer offset before matching breaks gradients' bands.
public enum Palette256 {
    /// sRGB of index i (16…255).
    public static func colour(_ index: Int) -> (UInt8, UInt8, UInt8) {
        if index >= 232 {
            let v = UInt8(8 + 10 * (index - 232))
            return (v, v, v)
        }
        let steps: [UInt8] = [0, 95, 135, 175, 215, 255]
        let i = index - 16
        return (steps[i / 36], steps[(i / 6) % 6], steps[i % 6])
    }

    /// sRGB (0…255) → OKLab (L, a, b).
    public static func oklab(_ c: (UInt8, UInt8, UInt8)) -> (Float, Float, Float) {
        func linear(_ v: UInt8) -> Float {
            let x = Float(v) / 255
            return x <= 0.04045 ? x / 12.92 : powf((x + 0.055) / 1.055, 2.4)
        }
        let r = linear(c.0)
        let g = linear(c.1)
        let b = linear(c.2)
        let l = cbrtf(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b)
        let m = cbrtf(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b)
        let s = cbrtf(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
        return (
            0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
            1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
            0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s
        )
    }

    static let labs: [(Float, Float, Float)] = (16..<256).map { oklab(colour($0)) }

    /// The index (16…255) nearest in OKLab, by search over all 240 entries.
    public static func nearest(_ c: (UInt8, UInt8, UInt8)) -> Int {
        let p = oklab(c)
        var best = 16
        var bestD = Float.infinity
        for (k, q) in labs.enumerated() {
            let d = (p.0 - q.0) * (p.0 - q.0) + (p.1 - q.1) * (p.1 - q.1) + (p.2 - q.2) * (p.2 - q.2)
            if d < bestD {
                bestD = d
                best = 16 + k
            }
        }
        return best
    }

    /// `nearest` of every colour on a 32-level grid per channel (bin centres), built once.
    static let table: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 32 * 32 * 32)
        for r in 0..<32 {
            for g in 0..<32 {
                for b in 0..<32 {
                    let c = (UInt8(r * 8 + 4), UInt8(g * 8 + 4), UInt8(b * 8 + 4))
                    t[(r << 10) | (g << 5) | b] = UInt8(nearest(c))
                }
            }
        }
        return t
    }()

    /// The 4×4 Bayer matrix, thresholds 0…15.
    static let bayer: [Int] = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5]
    /// Offset amplitude in sRGB steps: about half the cube's 40-level spacing.
    public static let ditherSpread = 24

    /// The palette index for pixel (x, y): the colour moved by the Bayer threshold, then the table.
    @inline(__always)
    public static func dithered(_ c: (UInt8, UInt8, UInt8), x: Int, y: Int) -> Int {
        let offset = (2 * bayer[(y & 3) << 2 | (x & 3)] - 15) * ditherSpread / 32
        func q(_ v: UInt8) -> Int { max(0, min(255, Int(v) + offset)) >> 3 }
        return Int(table[(q(c.0) << 10) | (q(c.1) << 5) | q(c.2)])
    }
}
