import Foundation
import XCTest
@testable import Media
@testable import Studio

/// The escapes of a string: every `ESC _ G … ESC \` (kitty APC) with its keys and payload.
func kittyEscapes(_ s: String) -> [(keys: [String: String], payload: String)] {
    var out: [(keys: [String: String], payload: String)] = []
    var rest = Substring(s)
    while let start = rest.range(of: "\u{1B}_G"),
        let end = rest.range(of: "\u{1B}\\", range: start.upperBound..<rest.endIndex)
    {
        let body = rest[start.upperBound..<end.lowerBound]
        let parts = body.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
        var keys: [String: String] = [:]
        for kv in parts[0].split(separator: ",") {
            let pair = kv.split(separator: "=", maxSplits: 1)
            keys[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
        }
        out.append((keys, parts.count > 1 ? String(parts[1]) : ""))
        rest = rest[end.upperBound...]
    }
    return out
}

/// A known 5×3 image: every pixel a different colour.
func knownImage(width: Int = 5, height: Int = 3) -> RGBImage {
    var px: [UInt8] = []
    for y in 0..<height {
        for x in 0..<width { px += [UInt8((x * 50) % 256), UInt8((y * 100) % 256), UInt8((x * 13 + y * 71) % 256)] }
    }
    return RGBImage(width: width, height: height, pixels: px)
}

final class CapabilityTests: XCTestCase {
    // MARK: renderers

    func testKittyTransmitDecodesBackToTheImage() throws {
        // 64×48 RGB = 9 216 bytes → 12 288 base64 bytes → chunks of 4096, 4096, 4096.
        let img = knownImage(width: 64, height: 48)
        let escapes = KittyGraphics.transmit(img, id: 7)
        let parsed = kittyEscapes(escapes.joined())
        XCTAssertEqual(parsed.count, 3)
        XCTAssertEqual(parsed[0].keys, ["a": "t", "f": "24", "s": "64", "v": "48", "i": "7", "q": "2", "m": "1"])
        XCTAssertEqual(parsed[1].keys, ["m": "1", "q": "2"])
        XCTAssertEqual(parsed[2].keys, ["m": "0", "q": "2"])
        for p in parsed { XCTAssertLessThanOrEqual(p.payload.utf8.count, KittyGraphics.chunkSize) }
        let data = try XCTUnwrap(Data(base64Encoded: parsed.map(\.payload).joined()))
        XCTAssertEqual([UInt8](data), img.pixels, "the payload is the image's RGB bytes")
        // A small image is one escape, byte for byte.
        let tiny = RGBImage(width: 1, height: 1, pixels: [255, 0, 128])
        XCTAssertEqual(KittyGraphics.transmit(tiny, id: 3), ["\u{1B}_Ga=t,f=24,s=1,v=1,i=3,q=2,m=0;/wCA\u{1B}\\"])
        XCTAssertEqual(KittyGraphics.place(id: 3, cols: 10, rows: 4), "\u{1B}_Ga=p,i=3,c=10,r=4,C=1,q=2\u{1B}\\")
        XCTAssertEqual(KittyGraphics.free(id: 3), "\u{1B}_Ga=d,d=I,i=3,q=2\u{1B}\\")
    }

    func testITerm2PayloadIsAPNGOfTheImage() throws {
        let img = knownImage()
        let s = ITerm2Images.inline(img, cols: 6, rows: 2)
        XCTAssertTrue(s.hasPrefix("\u{1B}]1337;File=inline=1;size="))
        XCTAssertTrue(s.hasSuffix("\u{07}"))
        let colon = try XCTUnwrap(s.firstIndex(of: ":"))
        let args = s[s.index(s.startIndex, offsetBy: 12)..<colon].split(separator: ";").map(String.init)
        let b64 = String(s[s.index(after: colon)..<s.index(before: s.endIndex)])
        let png = try XCTUnwrap(Data(base64Encoded: b64))
        XCTAssertEqual(args, ["inline=1", "size=\(png.count)", "width=6", "height=2", "preserveAspectRatio=0"])
        XCTAssertEqual([UInt8](png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("iterm2-\(UUID().uuidString).png")
        try png.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let decoded = try PNG.read(file)
        XCTAssertEqual(decoded.width, 5)
        XCTAssertEqual(decoded.height, 3)
        XCTAssertEqual(decoded.rgb.pixels, img.pixels)
    }

    /// Our PNG writer (Sub filter, zlib level 1) against libpng's reader on a picture with noise, gradients and
    /// flat areas, wider than any SIMD run: every byte back as it was.
    func testOurPNGDecodesWithLibpngOnANoisyFrame() throws {
        var rng = SystemRandomNumberGenerator()
        let w = 257
        let h = 131
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                pixels[i] = UInt8((x * 255) / (w - 1))
                pixels[i + 1] = y < h / 2 ? 200 : UInt8.random(in: 0...255, using: &rng)
                pixels[i + 2] = UInt8((x ^ y) & 0xFF)
            }
        }
        let img = RGBImage(width: w, height: h, pixels: pixels)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("png-\(UUID().uuidString).png")
        let png = PNGMemory.encode(img)
        XCTAssertLessThan(png.count, pixels.count, "it compresses")
        try Data(png).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let decoded = try PNG.read(file)
        XCTAssertEqual(decoded.width, w)
        XCTAssertEqual(decoded.height, h)
        XCTAssertEqual(decoded.rgb.pixels, pixels)
    }

    /// kitty's answer to the temporary-file probe (id 32) turns on file transfer for kitty pictures, outside tmux
    /// only; the file escape names a file that holds exactly the pixels.
    func testKittyTempFileProbeAndTransfer() throws {
        let answered = Self.kitty.replacingOccurrences(of: "\u{1B}[?62;c", with: "\u{1B}_Gi=32;OK\u{1B}\\\u{1B}[?62;c")
        let a = Capabilities.parse(Array(answered.utf8))
        XCTAssertTrue(a.kittyGraphics)
        XCTAssertTrue(a.kittyTempFiles)
        let env = ["TERM": "xterm-kitty"]
        XCTAssertTrue(Capabilities.decide(answers: a, environment: env).kittyTempFiles)
        XCTAssertFalse(
            Capabilities.decide(answers: Capabilities.parse(Array(Self.kitty.utf8)), environment: env).kittyTempFiles)
        XCTAssertFalse(
            Capabilities.decide(answers: a, environment: env.merging(["TMUX": "/tmp/t,1,0"]) { $1 }).kittyTempFiles)
        let q = Capabilities.query(fileProbe: "/tmp/x-tty-graphics-protocol")
        XCTAssertTrue(
            q.contains(
                "\u{1B}_Gi=32,s=1,v=1,a=q,t=t,f=24;" + Data("/tmp/x-tty-graphics-protocol".utf8).base64EncodedString()))
        XCTAssertTrue(q.hasSuffix("\u{1B}[c"), "DA1 stays last")
        let img = knownImage()
        let escape = try XCTUnwrap(KittyGraphics.transmitFile(img, id: 7))
        XCTAssertTrue(escape.hasPrefix("\u{1B}_Ga=t,f=24,s=\(img.width),v=\(img.height),i=7,t=t,q=2;"))
        let b64 = escape.dropFirst(
            escape.distance(from: escape.startIndex, to: try XCTUnwrap(escape.firstIndex(of: ";"))) + 1
        )
        .dropLast(2)
        let path = String(decoding: try XCTUnwrap(Data(base64Encoded: String(b64))), as: UTF8.self)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertTrue(path.contains("tty-graphics-protocol"))
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), img.pixels)
    }

    func testTmuxPassthroughDoublesEveryEscape() {
        XCTAssertEqual(
            TmuxPassthrough.wrap("\u{1B}_Ga=p,i=1\u{1B}\\"),
            "\u{1B}Ptmux;\u{1B}\u{1B}_Ga=p,i=1\u{1B}\u{1B}\\\u{1B}\\")
        let sixel = Sixel.encode(knownImage())
        let wrapped = TmuxPassthrough.wrap(sixel)
        let escapes = Array(wrapped.utf8).filter { $0 == 0x1B }.count
        XCTAssertEqual(escapes, 2 * 2 + 2, "two ESCs in the sixel, doubled, plus ours")
        let inner = String(wrapped.dropFirst(7).dropLast(2))
        XCTAssertEqual(inner.replacingOccurrences(of: "\u{1B}\u{1B}", with: "\u{1B}"), sixel)
    }

    func testHalfBlockWithoutUnicodeIsSpacesOnColour() {
        let img = RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 0, 255])
        let s = Pictures.halfBlock(img, cols: 2, rows: 1, at: (row: 2, col: 3), mode: .truecolor, unicode: false)
        XCTAssertEqual(s, "\u{1B}[2;3H\u{1B}[48;2;255;0;0m \u{1B}[48;2;0;0;255m \u{1B}[0m")
        XCTAssertTrue(s.utf8.allSatisfy { $0 < 0x80 })
    }

    func testOKLabMappingKeepsHuesAndDitherBreaksBands() {
        // Grass green and a muted sky: RGB distance picks a grey-ish or wrong-hue entry, OKLab keeps the hue.
        XCTAssertEqual(Palette256.nearest((255, 0, 0)), 196)
        XCTAssertEqual(Palette256.nearest((128, 128, 128)), 244)
        for c: (UInt8, UInt8, UInt8) in [(70, 110, 50), (90, 140, 60), (120, 150, 90), (135, 170, 200)] {
            let old = Palette256.colour(Pictures.ansi256RGB(c))
            let new = Palette256.colour(Palette256.nearest(c))
            let target = Palette256.oklab(c)
            func deltaE(_ p: (UInt8, UInt8, UInt8)) -> Float {
                let q = Palette256.oklab(p)
                return sqrtf(powf(q.0 - target.0, 2) + powf(q.1 - target.1, 2) + powf(q.2 - target.2, 2))
            }
            XCTAssertLessThanOrEqual(deltaE(new), deltaE(old), "\(c): OKLab pick \(new) vs RGB pick \(old)")
        }
        // Shaded grass: RGB distance picks grey 239 (78,78,78); OKLab picks 58 (95,95,0), still a green-olive.
        XCTAssertEqual(Pictures.ansi256RGB((70, 110, 50)), 239)
        XCTAssertEqual(Palette256.nearest((70, 110, 50)), 58)
        // Lit grass: RGB picks 65 (95,135,95), a grey-green; OKLab 64 (95,135,0).
        XCTAssertEqual(Pictures.ansi256RGB((90, 140, 60)), 65)
        XCTAssertEqual(Palette256.nearest((90, 140, 60)), 64)
        // A slow horizontal gradient: undithered it is a few flat bands; dithered, each 4×4 block's
        // mean colour follows the gradient more closely.
        let w = 64
        let h = 4
        var px: [UInt8] = []
        for _ in 0..<h { for x in 0..<w { px += [UInt8(100 + x / 2), UInt8(140 + x / 2), UInt8(200 + x / 3)] } }
        func blockError(_ index: (Int, Int, (UInt8, UInt8, UInt8)) -> Int) -> Double {
            var err = 0.0
            for bx in stride(from: 0, to: w, by: 4) {
                var mean = [0.0, 0.0, 0.0]
                var want = [0.0, 0.0, 0.0]
                for y in 0..<h {
                    for x in bx..<(bx + 4) {
                        let k = 3 * (y * w + x)
                        let c = Palette256.colour(index(x, y, (px[k], px[k + 1], px[k + 2])))
                        mean[0] += Double(c.0)
                        mean[1] += Double(c.1)
                        mean[2] += Double(c.2)
                        want[0] += Double(px[k])
                        want[1] += Double(px[k + 1])
                        want[2] += Double(px[k + 2])
                    }
                }
                err += zip(mean, want).map { abs($0 - $1) / 16 }.reduce(0, +)
            }
            return err / Double(w / 4)
        }
        let flat = blockError { _, _, c in Palette256.nearest(c) }
        let dithered = blockError { x, y, c in Palette256.dithered(c, x: x, y: y) }
        XCTAssertLessThan(dithered, flat * 0.6, "dithered \(dithered) vs flat \(flat)")
    }

    func testGlyphsAreASCIIWithoutUnicode() {
        let ui =
            " Mavin Studio — Samples — model small L=32 l 2…22 · 256×144 ✗ ╰─ s=59 ✓ ▶ λ 0.10 x̂0 s−2 "
            + "█░▁▂▃▄▅▆▇ ↑/k"
        let plain = Glyphs.text(ui, unicode: false)
        XCTAssertTrue(plain.utf8.allSatisfy { $0 < 0x80 }, plain)
        XCTAssertEqual(
            plain,
            " Mavin Studio - Samples - model small L=32 l 2...22 . 256x144 x `- s=59 * > lambda 0.10 "
                + "x^0 s-2 #._.-=+*% Up/k")
        XCTAssertEqual(Glyphs.text(ui, unicode: true), ui)
        XCTAssertTrue(Capabilities.localeIsUTF8(["LANG": "en_US.UTF-8"]))
        XCTAssertFalse(Capabilities.localeIsUTF8(["LANG": "C"]))
        XCTAssertFalse(Capabilities.localeIsUTF8(["LC_ALL": "C", "LANG": "en_US.UTF-8"]))
        XCTAssertFalse(Capabilities.localeIsUTF8([:]))
    }

    func testTrueAspectFromTheMeasuredCell() {
        // A 16:9 clip 10 rows high on xterm's 6×13 cells: 10 × 13/6 × 16/9 = 38.5 → 39 columns (the old
        // fixed 2:1 guess gave 36, 8 % too narrow for the height, i.e. pictures 8 % too tall).
        XCTAssertEqual(StudioApp.columns(width: 256, height: 144, rows: 10, cellAspect: 13.0 / 6.0), 39)
        XCTAssertEqual(StudioApp.columns(width: 256, height: 144, rows: 10, cellAspect: 2), 36)
    }

    func testPlaybackKeepsTheClipsRate() {
        // 25 fps: 39 ms is not yet a frame, 41 ms is one, a 130 ms draw skips to the third frame.
        XCTAssertEqual(StudioApp.playbackStep(elapsed: 0.039, fps: 25).frames, 0)
        XCTAssertEqual(StudioApp.playbackStep(elapsed: 0.041, fps: 25).frames, 1)
        let slow = StudioApp.playbackStep(elapsed: 0.130, fps: 25)
        XCTAssertEqual(slow.frames, 3)
        XCTAssertEqual(slow.seconds, 0.12, accuracy: 1e-9)
        XCTAssertEqual(StudioApp.playbackStep(elapsed: 1, fps: 0).frames, 25, "an unknown rate plays at 25")
    }

    // MARK: detection from recorded answers

    /// Recorded with `mavin studio --detect --raw` under Xvfb: XTerm(379) -ti vt340 -bg white.
    static let xtermVT340 =
        "\u{1B}P>|XTerm(379)\u{1B}\\\u{1B}[?1;0;1024S\u{1B}[?2;0;600;390S"
        + "\u{1B}]11;rgb:ffff/ffff/ffff\u{1B}\\\u{1B}[?63;1;2;4;6;9;15;16;22;28c"
    /// Recorded: tmux 3.3a inside that xterm, allow-passthrough off, then on (the outer DA1 comes back).
    static let tmuxOff = "\u{1B}P>|tmux 3.3a\u{1B}\\\u{1B}[?1;2c"
    static let tmuxOn =
        "\u{1B}P>|tmux 3.3a\u{1B}\\\u{1B}[?1;2c\u{1B}P>|XTerm(379)\u{1B}\\"
        + "\u{1B}[?63;1;2;4;6;9;15;16;22;28c"
    /// Written from the terminals' documented reply formats (not recorded here: no such terminal on this machine).
    static let kitty =
        "\u{1B}P>|kitty(0.35.2)\u{1B}\\\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[4;1040;1800t\u{1B}[6;26;12t"
        + "\u{1B}]11;rgb:0000/0000/0000\u{1B}\\\u{1B}[?62;c"
    static let wezterm =
        "\u{1B}P>|WezTerm 20240203-110809-5046fc22\u{1B}\\\u{1B}[?1;0;256S\u{1B}[4;960;1600t"
        + "\u{1B}]11;rgb:1c1c/1c1c/1c1c\u{1B}\\\u{1B}[?65;4;6;18;22c"
    static let foot =
        "\u{1B}P>|foot(1.16.2)\u{1B}\\\u{1B}[?1;0;1024S\u{1B}[?2;0;1920;1080S\u{1B}[4;1080;1920t"
        + "\u{1B}[6;20;10t\u{1B}]11;rgb:ffff/ffff/ffff\u{1B}\\\u{1B}[?62;4;22c"

    func decide(
        _ answer: String?, _ env: [String: String], tmux: TmuxInfo? = nil, cell: PixelSize? = nil,
        columns: Int = 80, rows: Int = 24
    ) -> Capabilities {
        Capabilities.decide(
            answers: answer.map { Capabilities.parse(Array($0.utf8)) }, environment: env, tmux: tmux,
            winsizeCell: cell, columns: columns, rows: rows)
    }

    func testParserReadsEveryAnswer() {
        let x = Capabilities.parse(Array(Self.xtermVT340.utf8))
        XCTAssertEqual(x.version, "XTerm(379)")
        XCTAssertEqual(x.sixelColours, 1024)
        XCTAssertEqual(x.sixelGeometry, PixelSize(width: 600, height: 390))
        XCTAssertEqual(x.background, RGB(255, 255, 255))
        XCTAssertEqual(x.deviceAttributes, [63, 1, 2, 4, 6, 9, 15, 16, 22, 28])
        XCTAssertFalse(x.kittyGraphics)
        let k = Capabilities.parse(Array(Self.kitty.utf8))
        XCTAssertTrue(k.kittyGraphics)
        XCTAssertFalse(k.kittyTempFiles)
        XCTAssertEqual(k.windowPixels, PixelSize(width: 1800, height: 1040))
        XCTAssertEqual(k.cellPixels, PixelSize(width: 12, height: 26))
        XCTAssertEqual(k.background, RGB(0, 0, 0))
        let t = Capabilities.parse(Array(Self.tmuxOn.utf8))
        XCTAssertEqual(t.tmuxVersion, "tmux 3.3a")
        XCTAssertEqual(t.version, "XTerm(379)")
        XCTAssertEqual(t.deviceAttributes, [1, 2])
        XCTAssertEqual(t.outerDeviceAttributes, [63, 1, 2, 4, 6, 9, 15, 16, 22, 28])
        XCTAssertEqual(Capabilities.parseColour("rgb:80/40/ff"), RGB(128, 64, 255))
        XCTAssertEqual(Capabilities.parseColour("rgb:f/0/8"), RGB(255, 0, 136))
        XCTAssertFalse(Capabilities.parse([]).answeredAnything)
        XCTAssertTrue(Capabilities.endsWithDA1(Array(Self.foot.utf8)))
        XCTAssertFalse(Capabilities.endsWithDA1(Array("\u{1B}[6;20;10t".utf8)))
    }

    func testLadderOnRecordedTerminals() {
        let xterm = decide(Self.xtermVT340, ["TERM": "xterm"], cell: PixelSize(width: 6, height: 13))
        XCTAssertEqual(xterm.pictures, .sixel)
        XCTAssertEqual([xterm.cellWidth, xterm.cellHeight], [6, 13])
        XCTAssertTrue(xterm.lightBackground, "white background → light theme")
        XCTAssertFalse(xterm.tmuxPassthrough)

        let kitty = decide(Self.kitty, ["TERM": "xterm-kitty"])
        XCTAssertEqual(kitty.pictures, .kitty)
        XCTAssertEqual([kitty.cellWidth, kitty.cellHeight], [12, 26], "CSI 16 t")
        XCTAssertFalse(kitty.lightBackground)

        let wez = decide(Self.wezterm, ["TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"], columns: 160, rows: 48)
        XCTAssertEqual(wez.pictures, .iterm2)
        XCTAssertEqual([wez.cellWidth, wez.cellHeight], [10, 20], "CSI 14 t over 160×48 cells")
        XCTAssertTrue(wez.cellMeasured)

        let foot = decide(Self.foot, ["TERM": "foot"])
        XCTAssertEqual(foot.pictures, .sixel)
        XCTAssertEqual([foot.cellWidth, foot.cellHeight], [10, 20])
        XCTAssertTrue(foot.lightBackground)

        let tmuxEnv = ["TERM": "tmux-256color", "TMUX": "/tmp/tmux-0/default,1,0"]
        let off = decide(Self.tmuxOff, tmuxEnv, tmux: TmuxInfo(passthrough: false, clientTerm: "xterm"))
        XCTAssertEqual(off.pictures, .truecolor)
        XCTAssertFalse(off.tmuxPassthrough)
        XCTAssertTrue(off.warning?.contains("tmux set -g allow-passthrough on") == true, off.warning ?? "no warning")
        XCTAssertTrue(off.warning?.hasPrefix("for sixel or kitty pictures run `tmux") == true, "the fix first")
        XCTAssertTrue(off.warning?.hasSuffix("(inside tmux pictures are half-blocks until then)") == true)
        // Without UTF-8 they are drawn as whole coloured cells, and the advice says so.
        let plain = Capabilities.decide(
            answers: Capabilities.parse(Array(Self.tmuxOff.utf8)), environment: tmuxEnv,
            tmux: TmuxInfo(passthrough: false, clientTerm: "xterm"), unicode: false)
        XCTAssertEqual(plain.pictures, .truecolor)
        XCTAssertFalse(plain.warning?.contains("half-blocks until") ?? true, plain.warning ?? "no warning")
        XCTAssertTrue(plain.warning?.contains("pictures are coloured cells, one pixel each") == true)

        let on = decide(Self.tmuxOn, tmuxEnv, tmux: TmuxInfo(passthrough: true, clientTerm: "xterm"))
        XCTAssertEqual(on.pictures, .sixel)
        XCTAssertTrue(on.tmuxPassthrough)
        XCTAssertNil(on.warning)
        // Without focus reports a pane switch leaves the pane pictureless until Ctrl-L: said once, with the fix.
        let blind = decide(
            Self.tmuxOn, tmuxEnv, tmux: TmuxInfo(passthrough: true, clientTerm: "xterm", focusEvents: false))
        XCTAssertEqual(blind.pictures, .sixel)
        XCTAssertTrue(blind.warning?.contains("tmux set -g focus-events on") == true, blind.warning ?? "no warning")

        let kittyInTmux = decide(Self.tmuxOff, tmuxEnv, tmux: TmuxInfo(passthrough: true, clientTerm: "xterm-kitty"))
        XCTAssertEqual(kittyInTmux.pictures, .kitty)
        XCTAssertTrue(kittyInTmux.tmuxPassthrough)
    }

    func testNoAnswerFallsBackOnTheEnvironment() {
        let silent = ""  // the deadline passed with nothing read
        XCTAssertEqual(decide(silent, ["TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"]).pictures, .kitty)
        XCTAssertEqual(decide(silent, ["TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"]).pictures, .iterm2)
        XCTAssertEqual(decide(silent, ["TERM": "xterm-256color", "WEZTERM_PANE": "0"]).pictures, .iterm2)
        XCTAssertEqual(decide(silent, ["TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"]).pictures, .iterm2)
        XCTAssertEqual(decide(silent, ["TERM": "foot"]).pictures, .sixel)
        XCTAssertEqual(decide(silent, ["TERM": "xterm-256color", "COLORTERM": "truecolor"]).pictures, .truecolor)
        XCTAssertEqual(decide(silent, ["TERM": "xterm-256color"]).pictures, .ansi256)
        XCTAssertEqual(decide(silent, ["TERM": "xterm"]).pictures, .ansi256)
        let none = decide(nil, ["TERM": "xterm"])
        XCTAssertFalse(none.cellMeasured)
        XCTAssertEqual([none.cellWidth, none.cellHeight], [10, 20])
        XCTAssertNil(none.background)
        let dumb = decide(nil, ["TERM": "dumb"])
        XCTAssertEqual(dumb.pictures, .ascii)
        XCTAssertTrue(dumb.warning?.contains("TERM=dumb") == true)
        XCTAssertEqual(decide(Self.kitty, ["TERM": "xterm-kitty", "MAVIN_PICTURES": "sixel"]).pictures, .sixel)
        XCTAssertEqual(decide(Self.xtermVT340, ["TERM": "xterm", "MAVIN_PICTURES": "ascii"]).pictures, .ascii)
        XCTAssertEqual(decide(Self.xtermVT340, ["TERM": "xterm", "MAVIN_PICTURES": "iterm2"]).pictures, .iterm2)
    }

    func testQueryIsBatchedWithDA1Last() {
        let q = Capabilities.query
        XCTAssertTrue(q.hasPrefix("\u{1B}[>0q"))
        XCTAssertTrue(q.hasSuffix("\u{1B}[c"))
        for part in [
            "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\", "\u{1B}[?1;1;0S", "\u{1B}[?2;1;0S", "\u{1B}[14t",
            "\u{1B}[16t", "\u{1B}]11;?\u{1B}\\"
        ] {
            XCTAssertTrue(q.contains(part), part)
        }
        let through = Capabilities.tmuxQuery(passthrough: true)
        XCTAssertTrue(through.hasPrefix("\u{1B}Ptmux;\u{1B}\u{1B}[>0q\u{1B}\\"))
        XCTAssertTrue(through.hasSuffix("\u{1B}[c"))
        // tmux takes a bare APC (ESC _ … ESC \) as a window name: the kitty query goes only through passthrough.
        XCTAssertFalse(through.replacingOccurrences(of: "\u{1B}\u{1B}_G", with: "").contains("\u{1B}_G"))
        XCTAssertFalse(Capabilities.tmuxQuery(passthrough: false).contains("\u{1B}_G"))
        let withoutKitty = q.replacingOccurrences(of: Capabilities.kittyQuery, with: "")
        XCTAssertEqual(Capabilities.tmuxQuery(passthrough: false), withoutKitty)
    }
}
