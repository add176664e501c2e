import Foundation
import XCTest
@testable import Media
@testable import Studio

/// A minimal sixel decoder (palette, `#`, `!` repeats, `$`, `-`), only for testing our encoder.
func decodeSixel(_ s: String) -> RGBImage? {
    let chars = Array(s.unicodeScalars)
    guard let q = chars.firstIndex(of: "q") else { return nil }
    var i = q + 1
    var width = 0
    var height = 0
    func number() -> Int {
        var n = 0
        while i < chars.count, let d = Int(String(chars[i])), chars[i].isASCII, chars[i].properties.numericType != nil {
            n = n * 10 + d
            i += 1
        }
        return n
    }
    if chars[i] == "\"" {
        i += 1
        _ = number()
        i += 1
        _ = number()
        i += 1
        width = number()
        i += 1
        height = number()
    }
    guard width > 0, height > 0 else { return nil }
    var img = RGBImage(width: width, height: height)
    var palette: [Int: (UInt8, UInt8, UInt8)] = [:]
    var colour = 0
    var x = 0
    var band = 0
    while i < chars.count {
        let c = chars[i]
        if c == "\u{1B}" { break }
        if c == "#" {
            i += 1
            let n = number()
            if i < chars.count, chars[i] == ";" {
                i += 1
                _ = number()
                i += 1
                let r = number()
                i += 1
                let g = number()
                i += 1
                let b = number()
                palette[n] = (UInt8(r * 255 / 100), UInt8(g * 255 / 100), UInt8(b * 255 / 100))
            }
            colour = n
            continue
        }
        if c == "$" {
            x = 0
            i += 1
            continue
        }
        if c == "-" {
            x = 0
            band += 1
            i += 1
            continue
        }
        var repeatCount = 1
        if c == "!" {
            i += 1
            repeatCount = number()
        }
        let v = Int(chars[i].value) - 63
        for _ in 0..<repeatCount {
            for bit in 0..<6 where v & (1 << bit) != 0 {
                let y = band * 6 + bit
                if y < height && x < width, let p = palette[colour] {
                    let k = 3 * (y * width + x)
                    img.pixels[k] = p.0
                    img.pixels[k + 1] = p.1
                    img.pixels[k + 2] = p.2
                }
            }
            x += 1
        }
        i += 1
    }
    return img
}

let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Samples")

final class RendererTests: XCTestCase {
    /// Text cut to its cells ends in "…" ("~" in ASCII) when more than blanks is cut off, so a cut number
    /// (CLIP-RS 0.975 in 9 cells) never reads as a whole one; cut padding stays as it is.
    func testCutTextSaysItIsCut() {
        for (unicode, mark) in [(true, "…"), (false, "~")] {
            var screen = Screen(cols: 20, rows: 3, unicode: unicode)
            screen.put(0, 0, "CLIP-RS 0.975", width: 9)
            screen.put(1, 0, "abc      ", width: 5)
            screen.put(2, 15, "256×144", width: 9)
            let lines = screen.lines()
            XCTAssertEqual(lines[0], "CLIP-RS " + mark + String(repeating: " ", count: 11))
            XCTAssertEqual(lines[1], "abc" + String(repeating: " ", count: 17))
            XCTAssertEqual(String(lines[2].suffix(5)), (unicode ? "256×" : "256x") + mark, "cut by the screen's edge")
        }
    }

    /// The hint bar names H and L only where they move by 10 (s, e, steps, seed); on the other fields they move by
    /// 1, as h and l, and are left out.
    func testHintsCallHAndLWhatTheyDo() {
        let big = KeyMap.hints(for: .junction, bigSteps: true)
        let small = KeyMap.hints(for: .junction, bigSteps: false)
        XCTAssertTrue(big.contains("H −10") && big.contains("L +10"), big)
        XCTAssertFalse(small.contains("−10") || small.contains("+10") || small.contains("H "), small)
        XCTAssertTrue(small.contains("←/h −step") && small.contains("→/l +step"), small)
    }

    func testHalfBlockBytesForAKnownImage() {
        // 2×2: top row red, green; bottom row blue, white → one cell row of two ▀ cells.
        let img = RGBImage(width: 2, height: 2, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
        let s = Pictures.halfBlock(img, cols: 2, rows: 1, at: (row: 3, col: 5), mode: .truecolor)
        XCTAssertEqual(
            s, "\u{1B}[3;5H\u{1B}[38;2;255;0;0;48;2;0;0;255m▀\u{1B}[38;2;0;255;0;48;2;255;255;255m▀\u{1B}[0m")
        let s256 = Pictures.halfBlock(img, cols: 2, rows: 1, at: (row: 1, col: 1), mode: .ansi256)
        XCTAssertEqual(s256, "\u{1B}[1;1H\u{1B}[38;5;196;48;5;21m▀\u{1B}[38;5;46;48;5;231m▀\u{1B}[0m")
        XCTAssertEqual(Palette256.nearest((128, 128, 128)), 244)
        XCTAssertEqual(
            Pictures.ascii(RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 255, 255, 255]), cols: 2, rows: 1), [" @"])
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
            for i in 0..<frame.pixels.count {
                let d = Double(frame.pixels[i]) - Double(decoded.pixels[i])
                se += d * d
            }
            let psnr = 10 * log10(255 * 255 / (se / Double(frame.pixels.count)))
            XCTAssertGreaterThanOrEqual(psnr, 30, "\(name): \(psnr) dB")
        }
    }

    func testThemesAndKeyMap() throws {
        let themes = samples.deletingLastPathComponent().appendingPathComponent("Themes")
        for name in ["dark", "light", "high-contrast"] {
            let t = try Theme.parse(
                try String(contentsOf: themes.appendingPathComponent("\(name).toml"), encoding: .utf8), source: name)
            XCTAssertEqual(t.name, name)
            XCTAssertEqual(t.colours.count, Theme.colourKeys.count)
        }
        XCTAssertThrowsError(try Theme.parse("name = \"x\"\n[colors]\nheader_fg = \"purple\"\n", source: "bad")) {
            XCTAssertTrue("\($0)".contains("not a colour"))
        }
        XCTAssertThrowsError(try Theme.parse("colour = 1\n", source: "bad")) {
            XCTAssertTrue("\($0)".contains("unknown key"))
        }
        // No key is bound twice in one context, and help lists every binding.
        for ctx in [KeyContext.global, .library, .sequence, .junction, .preview, .compare, .stepThrough] {
            let keys = KeyMap.bindings.filter { $0.context == ctx }.flatMap(\.keys)
            XCTAssertEqual(keys.count, Set(keys).count, "\(ctx)")
        }
        let help = KeyMap.helpLines().joined(separator: "\n")
        for b in KeyMap.bindings { XCTAssertTrue(help.contains(b.help), b.help) }
        XCTAssertEqual(KeyMap.action(for: Int32(UInt8(ascii: "q")), in: .library), .quit)
        XCTAssertEqual(KeyMap.action(for: Int32(UInt8(ascii: "]")), in: .library, mode: .stepThrough), .nextStep)
        // The hint bar speaks a person's words, never the case names.
        let junction = KeyMap.hints(for: .junction, mode: .stepThrough)
        XCTAssertTrue(junction.hasPrefix("←/h −step  →/l +step  H −10  L +10  [ step back  ] step on"), junction)
        XCTAssertTrue(junction.hasSuffix("t step through  v compare  ? help  q quit"), junction)
        for ctx in [KeyContext.global, .library, .sequence, .junction] {
            let h = KeyMap.hints(for: ctx, mode: .stepThrough)
            for a in StudioAction.allCases where a.rawValue.contains(where: \.isUppercase) {
                XCTAssertFalse(h.contains(a.rawValue), "\(a.rawValue) in \(h)")
            }
        }
        XCTAssertEqual(StudioApp.helpScrollStep(Int32(UInt8(ascii: "j"))), 1)
        XCTAssertEqual(StudioApp.helpScrollStep(Int32(UInt8(ascii: "k"))), -1)
        XCTAssertNil(StudioApp.helpScrollStep(Int32(UInt8(ascii: "q"))))
    }
}
