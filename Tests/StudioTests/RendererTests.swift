import Foundation
import XCTest
@testable import Media
@testable import Studio

/// A minimal sixel decoder (palette, `#`, `!` repeats, `$`, `-`), only for testing our encoder.
func decodeSixel(_ s: String) -> RGBImage? {
    let chars = Array(s.unicodeScalars)
    guard let q = chars.firstIndex(of: "q") else { return nil }
    var i = q + 1
    var width = 0, height = 0
    func number() -> Int {
        var n = 0
        while i < chars.count, let d = Int(String(chars[i])), chars[i].isASCII, chars[i].properties.numericType != nil { n = n * 10 + d; i += 1 }
        return n
    }
    if chars[i] == "\"" { i += 1; _ = number(); i += 1; _ = number(); i += 1; width = number(); i += 1; height = number() }
    guard width > 0, height > 0 else { return nil }
    var img = RGBImage(width: width, height: height)
    var palette: [Int: (UInt8, UInt8, UInt8)] = [:]
    var colour = 0, x = 0, band = 0
    while i < chars.count {
        let c = chars[i]
        if c == "\u{1B}" { break }
        if c == "#" {
            i += 1
            let n = number()
            if i < chars.count, chars[i] == ";" {
                i += 1; _ = number(); i += 1
                let r = number(); i += 1
                let g = number(); i += 1
                let b = number()
                palette[n] = (UInt8(r * 255 / 100), UInt8(g * 255 / 100), UInt8(b * 255 / 100))
            }
            colour = n
            continue
        }
        if c == "$" { x = 0; i += 1; continue }
        if c == "-" { x = 0; band += 1; i += 1; continue }
        var repeatCount = 1
        if c == "!" { i += 1; repeatCount = number() }
        let v = Int(chars[i].value) - 63
        for _ in 0..<repeatCount {
            for bit in 0..<6 where v & (1 << bit) != 0 {
                let y = band * 6 + bit
                if y < height && x < width, let p = palette[colour] {
                    let k = 3 * (y * width + x)
                    img.pixels[k] = p.0; img.pixels[k + 1] = p.1; img.pixels[k + 2] = p.2
                }
            }
            x += 1
        }
        i += 1
    }
    return img
}

let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Samples")

final class RendererTests: XCTestCase {
    func testHalfBlockBytesForAKnownImage() {
        // 2×2: top row red, green; bottom row blue, white → one cell row of two ▀ cells.
        let img = RGBImage(width: 2, height: 2, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
        let s = Pictures.halfBlock(img, cols: 2, rows: 1, at: (row: 3, col: 5), mode: .truecolor)
        XCTAssertEqual(s, "\u{1B}[3;5H\u{1B}[38;2;255;0;0;48;2;0;0;255m▀\u{1B}[38;2;0;255;0;48;2;255;255;255m▀\u{1B}[0m")
        let s256 = Pictures.halfBlock(img, cols: 2, rows: 1, at: (row: 1, col: 1), mode: .ansi256)
        XCTAssertEqual(s256, "\u{1B}[1;1H\u{1B}[38;5;196;48;5;21m▀\u{1B}[38;5;46;48;5;231m▀\u{1B}[0m")
        XCTAssertEqual(Pictures.ansi256((128, 128, 128)), 244)
        XCTAssertEqual(Pictures.ascii(RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 255, 255, 255]), cols: 2, rows: 1), [" @"])
    }

    func testSixelRoundTripOnSampleFrames() throws {
        for (name, index) in [("graze.mp4", 10), ("rear.mp4", 40), ("bunny.mp4", 30)] {
            let frame = try VideoReader(path: samples.appendingPathComponent(name).path).frame(at: index)
            let encoded = Sixel.encode(frame)
            XCTAssertTrue(encoded.hasPrefix("\u{1B}P"))
            XCTAssertTrue(encoded.hasSuffix("\u{1B}\\"))
            XCTAssertTrue(encoded.contains("!"), "run-length used")
            let decoded = try XCTUnwrap(decodeSixel(encoded))
            var se = 0.0
            for i in 0..<frame.pixels.count { let d = Double(frame.pixels[i]) - Double(decoded.pixels[i]); se += d * d }
            let psnr = 10 * log10(255 * 255 / (se / Double(frame.pixels.count)))
            XCTAssertGreaterThanOrEqual(psnr, 30, "\(name): \(psnr) dB")
        }
    }

    func testCapabilityLadder() {
        func detect(_ env: [String: String], da1: String? = nil) -> PictureMode { Capabilities.detect(environment: env, queryDA1: { da1 }).pictures }
        XCTAssertEqual(detect(["TERM": "xterm"], da1: "\u{1B}[?63;1;2;4;6;9;15;22c"), .sixel)
        XCTAssertEqual(detect(["TERM": "xterm", "TMUX": "/tmp/x"], da1: "\u{1B}[?63;4c"), .truecolor, "tmux drops sixel")
        XCTAssertEqual(detect(["TERM": "xterm-256color", "COLORTERM": "truecolor"], da1: "\u{1B}[?62;22c"), .truecolor)
        XCTAssertEqual(detect(["TERM": "xterm-256color"], da1: "\u{1B}[?62;22c"), .ansi256)
        XCTAssertEqual(detect(["TERM": "dumb"]), .ascii)
        XCTAssertEqual(detect(["TERM": "xterm", "MAVIN_PICTURES": "ascii"], da1: "\u{1B}[?63;4c"), .ascii)
    }

    func testThemesAndKeyMap() throws {
        let themes = samples.deletingLastPathComponent().appendingPathComponent("Themes")
        for name in ["dark", "light", "high-contrast"] {
            let t = try Theme.parse(try String(contentsOf: themes.appendingPathComponent("\(name).toml"), encoding: .utf8), source: name)
            XCTAssertEqual(t.name, name)
            XCTAssertEqual(t.colours.count, Theme.colourKeys.count)
        }
        XCTAssertThrowsError(try Theme.parse("name = \"x\"\n[colors]\nheader_fg = \"purple\"\n", source: "bad")) { XCTAssertTrue("\($0)".contains("not a colour")) }
        XCTAssertThrowsError(try Theme.parse("colour = 1\n", source: "bad")) { XCTAssertTrue("\($0)".contains("unknown key")) }
        // No key is bound twice in one context, and help lists every binding.
        for ctx in [KeyContext.global, .library, .sequence, .junction, .stepThrough] {
            let keys = KeyMap.bindings.filter { $0.context == ctx }.flatMap(\.keys)
            XCTAssertEqual(keys.count, Set(keys).count, "\(ctx)")
        }
        let help = KeyMap.helpLines().joined(separator: "\n")
        for b in KeyMap.bindings { XCTAssertTrue(help.contains(b.help), b.help) }
        XCTAssertEqual(KeyMap.action(for: Int32(UInt8(ascii: "q")), in: .library, stepping: false), .quit)
        XCTAssertEqual(KeyMap.action(for: Int32(UInt8(ascii: "]")), in: .library, stepping: true), .nextStep)
    }
}
