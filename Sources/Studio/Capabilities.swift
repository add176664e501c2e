import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// How the Studio shows frames, best first (notcurses' capability ladder).
public enum PictureMode: String, CaseIterable, Sendable {
    case kitty  // kitty graphics protocol: transmit once by id, place by id
    case iterm2  // iTerm2 inline images (OSC 1337 File=…), a PNG per picture
    case sixel
    case quadrants  // quadrant blocks ▘▝▀▖▌▞▛ with 24-bit colour: 2×2 pixels a cell (MAVIN_PICTURES=quadrants)
    case truecolor  // half-block ▀ with 24-bit colour
    case ansi256  // half-block with the 256-colour palette, OKLab-nearest and dithered
    case ascii  // shades of characters

    /// Names MAVIN_PICTURES accepts.
    static let forcedNames: [String: PictureMode] = [
        "kitty": .kitty, "iterm2": .iterm2, "iterm": .iterm2, "sixel": .sixel, "truecolor": .truecolor,
        "24bit": .truecolor, "quadrants": .quadrants, "256": .ansi256, "ansi256": .ansi256, "ascii": .ascii
    ]
}

/// An RGB colour with 8 bits per channel.
public struct RGB: Equatable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// Relative luminance (Rec. 709 weights on the gamma-encoded values), 0…1.
    public var luminance: Double { (0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b)) / 255 }
}

/// A size in pixels.
public struct PixelSize: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// What the terminal said to the batched query, parsed from its raw answer bytes.
public struct TerminalAnswers: Equatable, Sendable {
    /// XTVERSION (`DCS > | name ST`), e.g. "xterm(390)", "kitty(0.35.2)", "WezTerm 20240203", "foot(1.16.2)".
    public var version: String?
    /// The kitty graphics query (`a=q`) was answered OK.
    public var kittyGraphics = false
    /// The kitty query by temporary file (`t=t`, id 32) was answered OK: the terminal reads files of this
    /// machine, so pictures can go as raw files instead of base64 through the tty.
    public var kittyTempFiles = false
    /// XTSMGRAPHICS: sixel colour registers and the largest sixel image.
    public var sixelColours: Int?
    public var sixelGeometry: PixelSize?
    /// `CSI 14 t` (text area) and `CSI 16 t` (one cell) in pixels.
    public var windowPixels: PixelSize?
    public var cellPixels: PixelSize?
    /// OSC 11: the background colour.
    public var background: RGB?
    /// DA1 attributes (`CSI ? 63 ; 4 ; … c`); nil when the terminal did not answer at all.
    public var deviceAttributes: [Int]?
    /// Inside tmux: tmux's own XTVERSION ("tmux 3.3a"), and a second DA1, the outer terminal's answer
    /// to the DA1 sent through passthrough (tmux answers its own at once, the outer one comes later).
    public var tmuxVersion: String?
    public var outerDeviceAttributes: [Int]?

    public init() {}

    public var answeredAnything: Bool { self != TerminalAnswers() }
}

/// tmux, as asked with `tmux show-options` / `display-message`, when we run inside it.
public struct TmuxInfo: Equatable, Sendable {
    public var passthrough: Bool
    /// The outer terminal's TERM (`#{client_termname}`), e.g. "xterm-kitty".
    public var clientTerm: String
    /// `#{client_termfeatures}`, e.g. ["256", "RGB", "sixel", …].
    public var clientFeatures: [String]
    /// `focus-events on`: tmux tells the pane when it is shown again, so the Studio can repaint its pictures.
    public var focusEvents: Bool
    public init(passthrough: Bool, clientTerm: String = "", clientFeatures: [String] = [], focusEvents: Bool = true) {
        self.passthrough = passthrough
        self.clientTerm = clientTerm
        self.clientFeatures = clientFeatures
        self.focusEvents = focusEvents
    }
}

/// What the terminal can show, detected once at start-up, and why.
public struct Capabilities: Sendable {
    public var pictures: PictureMode
    /// Cell size in pixels: measured (`CSI 16 t`, `CSI 14 t`, TIOCGWINSZ) or guessed 10×20.
    public var cellWidth: Int
    public var cellHeight: Int
    public var cellMeasured: Bool
    /// The background colour the terminal reported (OSC 11), if it did.
    public var background: RGB?
    /// Text may use UTF-8 (the locale's codeset); otherwise every glyph has an ASCII stand-in.
    public var unicode: Bool
    /// Inside tmux with allow-passthrough on: pixel escapes are wrapped in `DCS tmux; … ST`.
    public var tmuxPassthrough: Bool
    /// kitty reads pictures from temporary files of this machine (answered to the `t=t` query).
    public var kittyTempFiles = false
    /// Something the user should know (TERM=dumb, tmux passthrough off), said once.
    public var warning: String?
    /// One line per decision, for `mavin studio --detect`.
    public var reasons: [String]

    public var reason: String { reasons.joined(separator: "; ") }

    /// Cell height over cell width (2 when unknown), for pictures at their true aspect.
    public var cellAspect: Double { Double(max(1, cellHeight)) / Double(max(1, cellWidth)) }

    /// The background is light (luminance above one half).
    public var lightBackground: Bool { (background?.luminance ?? 0) > 0.5 }

    // MARK: the ladder

    /// What a picture mode that draws with characters puts on the screen, in words: without UTF-8 the half-block
    /// and quadrant modes colour whole cells (`Pictures.halfBlock`), one pixel each.
    static func drawnAs(_ mode: PictureMode, unicode: Bool) -> String {
        switch mode {
        case .ascii: return "ASCII shades"
        case _ where !unicode: return "coloured cells, one pixel each (no half-blocks: the locale is not UTF-8)"
        case .quadrants: return "quadrant blocks"
        default: return "half-blocks"
        }
    }

    /// The one place that decides: MAVIN_PICTURES, then the terminal's answers, then environment hints.
    /// `answers` is nil when nothing was asked (not a terminal); `winsizeCell` is TIOCGWINSZ's pixels per cell.
    public static func decide(
        answers: TerminalAnswers?, environment env: [String: String], tmux: TmuxInfo? = nil,
        winsizeCell: PixelSize? = nil, columns: Int = 0, rows: Int = 0,
        unicode: Bool = true
    ) -> Capabilities {
        var why: [String] = []
        let a = answers ?? TerminalAnswers()
        let term = env["TERM"] ?? ""
        let program = env["TERM_PROGRAM"] ?? ""
        let colorterm = (env["COLORTERM"] ?? "").lowercased()
        let version = a.version ?? ""
        let inTmux = env["TMUX"] != nil || term.hasPrefix("tmux") || term.hasPrefix("screen") || a.tmuxVersion != nil
        let passthrough = inTmux && (tmux?.passthrough ?? false)
        var warning: String?
        // Inside tmux without passthrough: said with what the pictures are drawn as, once that is decided.
        var adviseTmuxPassthrough = false

        if let answers, answers.answeredAnything {
            why.append("terminal answered: " + describe(answers))
        } else if answers != nil {
            why.append("terminal did not answer the query")
        } else {
            why.append("no terminal to ask (/dev/tty cannot be opened): environment hints only")
        }
        let (cell, measured, cellWhy) = measureCell(a, winsizeCell: winsizeCell, columns: columns, rows: rows)
        why.append(cellWhy)
        if let bg = a.background {
            why.append(String(format: "background rgb(%d,%d,%d), luminance %.2f", bg.r, bg.g, bg.b, bg.luminance))
        }
        why.append(unicode ? "locale is UTF-8" : "locale is not UTF-8: ASCII glyphs")

        func result(_ mode: PictureMode, _ reason: String) -> Capabilities {
            why.append("pictures: \(mode.rawValue) (\(reason))")
            var usePassthrough = passthrough && (mode == .kitty || mode == .sixel || mode == .iterm2)
            if !inTmux { usePassthrough = false }
            var said = warning
            if adviseTmuxPassthrough && ![.kitty, .sixel, .iterm2].contains(mode) {
                // The fix first: a long line is cut at the screen's edge, and the command is what to keep.
                let advice =
                    "for sixel or kitty pictures run `tmux set -g allow-passthrough on` and restart the Studio "
                    + "(inside tmux pictures are \(drawnAs(mode, unicode: unicode)) until then)"
                said = said.map { $0 + "; " + advice } ?? advice
            }
            // tmux keeps no pixels: shown again after a pane or window switch, the pane has none until it
            // repaints, and only a focus report tells the Studio when.
            if usePassthrough, let tmux, !tmux.focusEvents {
                why.append("tmux: focus-events off")
                let hint =
                    "pictures vanish after a tmux pane or window switch until Ctrl-L; "
                    + "`tmux set -g focus-events on` repaints them by itself"
                said = said.map { $0 + "; " + hint } ?? hint
            }
            var caps = Capabilities(
                pictures: mode, cellWidth: cell.width, cellHeight: cell.height, cellMeasured: measured,
                background: a.background, unicode: unicode, tmuxPassthrough: usePassthrough,
                warning: said, reasons: why)
            if mode == .kitty && a.kittyTempFiles && !inTmux {
                caps.kittyTempFiles = true
                caps.reasons.append("kitty reads temporary files: pictures go as files (t=t)")
            }
            return caps
        }

        if term == "dumb" {
            warning =
                "TERM=dumb cannot move the cursor or show colour, so the Studio cannot draw; "
                + "run it with TERM=xterm-256color (or use mavin infill / compose in scripts)"
        }
        if let forced = env["MAVIN_PICTURES"] {
            if let mode = PictureMode.forcedNames[forced.lowercased()] {
                return result(mode, "MAVIN_PICTURES=\(forced)")
            }
            why.append("MAVIN_PICTURES=\(forced) is not one of kitty, iterm2, sixel, truecolor, 256, ascii; ignored")
        }
        if term == "dumb" || term.isEmpty { return result(.ascii, "TERM=\(term.isEmpty ? "unset" : term)") }

        if inTmux {
            let outer = tmux?.clientTerm ?? ""
            let features = tmux?.clientFeatures ?? []
            if let tmux {
                let state = tmux.passthrough ? "on" : "off"
                why.append("tmux: allow-passthrough \(state), outer TERM \(outer.isEmpty ? "?" : outer)")
            }
            if let d = a.outerDeviceAttributes {
                why.append("outer terminal through passthrough: DA1 " + d.map(String.init).joined(separator: ";"))
            }
            let outerKitty =
                a.kittyGraphics || outer.contains("kitty") || outer.contains("ghostty")
                || env["KITTY_WINDOW_ID"] != nil
            let outerSixel =
                a.outerDeviceAttributes?.contains(4) == true || features.contains("sixel")
                || outer.hasPrefix("foot") || outer.contains("mlterm")
            adviseTmuxPassthrough = !passthrough
            if passthrough {
                if outerKitty { return result(.kitty, "tmux passthrough to \(outer.isEmpty ? "kitty" : outer)") }
                if outer.contains("wezterm") || env["WEZTERM_PANE"] != nil {
                    return result(.iterm2, "tmux passthrough to WezTerm")
                }
                if outerSixel { return result(.sixel, "tmux passthrough, outer terminal has sixel") }
            }
            if a.deviceAttributes?.contains(4) == true {
                return result(.sixel, "tmux with sixel support (DA1 has 4)")
            }
            return result(.truecolor, "tmux (24-bit half-blocks)")
        }
        if a.kittyGraphics { return result(.kitty, "kitty graphics query answered OK") }
        if version.hasPrefix("iTerm2") || program == "iTerm.app" || env["LC_TERMINAL"] == "iTerm2" {
            return result(.iterm2, version.hasPrefix("iTerm2") ? "XTVERSION \(version)" : "TERM_PROGRAM=iTerm.app")
        }
        if version.hasPrefix("WezTerm") {
            return result(.iterm2, "XTVERSION \(version)")
        }
        if a.deviceAttributes?.contains(4) == true { return result(.sixel, "DA1 reports sixel (4)") }
        if answers == nil || !a.answeredAnything {
            // No answer: environment hints only.
            if env["KITTY_WINDOW_ID"] != nil || term == "xterm-kitty" || term.contains("ghostty") {
                return result(.kitty, env["KITTY_WINDOW_ID"] != nil ? "KITTY_WINDOW_ID set" : "TERM=\(term)")
            }
            if program == "WezTerm" || env["WEZTERM_PANE"] != nil {
                return result(.iterm2, program == "WezTerm" ? "TERM_PROGRAM=WezTerm" : "WEZTERM_PANE set")
            }
            if term.hasPrefix("foot") || term.hasPrefix("mlterm") { return result(.sixel, "TERM=\(term)") }
        }
        if colorterm == "truecolor" || colorterm == "24bit" || term.contains("direct") {
            return result(.truecolor, "COLORTERM=\(colorterm.isEmpty ? "-" : colorterm)")
        }
        if version.hasPrefix("kitty") || version.hasPrefix("foot") || version.hasPrefix("WezTerm") {
            return result(.truecolor, "XTVERSION \(version)")
        }
        if term.contains("256") { return result(.ansi256, "TERM=\(term)") }
        if term == "vt100" || term == "vt220" { return result(.ascii, "TERM=\(term)") }
        return result(.ansi256, "TERM=\(term)")
    }

    /// Pixels per cell: `CSI 16 t`, else `CSI 14 t` over the grid, else TIOCGWINSZ, else 10×20 guessed.
    static func measureCell(
        _ a: TerminalAnswers, winsizeCell: PixelSize?, columns: Int,
        rows: Int
    ) -> (PixelSize, Bool, String) {
        if let c = a.cellPixels, c.width > 0, c.height > 0 {
            return (c, true, "cell \(c.width)×\(c.height) px (CSI 16 t)")
        }
        if let w = a.windowPixels, w.width > 0, w.height > 0, columns > 0, rows > 0 {
            let c = PixelSize(width: w.width / columns, height: w.height / rows)
            if c.width > 0 && c.height > 0 {
                return (c, true, "cell \(c.width)×\(c.height) px (CSI 14 t over the grid)")
            }
        }
        if let c = winsizeCell, c.width > 0, c.height > 0 {
            return (c, true, "cell \(c.width)×\(c.height) px (TIOCGWINSZ)")
        }
        return (PixelSize(width: 10, height: 20), false, "cell size unknown: guessed 10×20 px")
    }

    static func describe(_ a: TerminalAnswers) -> String {
        var parts: [String] = []
        if let v = a.tmuxVersion { parts.append("XTVERSION \(v)") }
        if let v = a.version { parts.append("XTVERSION \(v)") }
        if a.kittyGraphics { parts.append("kitty graphics OK") }
        if let n = a.sixelColours { parts.append("\(n) sixel colours") }
        if let g = a.sixelGeometry { parts.append("sixel max \(g.width)×\(g.height)") }
        if let w = a.windowPixels { parts.append("window \(w.width)×\(w.height) px") }
        if let d = a.deviceAttributes { parts.append("DA1 " + d.map(String.init).joined(separator: ";")) }
        return parts.isEmpty ? "background only" : parts.joined(separator: ", ")
    }

    // MARK: the batched query

    /// Every question in one write, DA1 last: every terminal answers DA1, so its reply ends the wait.
    /// XTVERSION, the kitty graphics query (a 1×1 RGB image, id 31), XTSMGRAPHICS colour registers
    /// and sixel geometry, text-area and cell pixels, the background colour.
    public static let query = "\u{1B}[>0q" + kittyQuery + plainQuestions

    /// The kitty graphics query: a 1×1 RGB image, id 31, answered `ESC _ G i=31;OK ESC \` by kitty.
    static let kittyQuery = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\"

    /// The same 1×1 image as a temporary file (id 32): kitty answers OK only when it can read files of this
    /// machine (not over ssh), and deletes the file once read.
    static func kittyFileQuery(path: String) -> String {
        "\u{1B}_Gi=32,s=1,v=1,a=q,t=t,f=24;" + Data(path.utf8).base64EncodedString() + "\u{1B}\\"
    }

    /// The batched query with the temporary-file probe before DA1.
    public static func query(fileProbe path: String) -> String {
        "\u{1B}[>0q" + kittyQuery + kittyFileQuery(path: path) + plainQuestions
    }
    /// XTSMGRAPHICS (colour registers, sixel geometry), CSI 14 t, CSI 16 t, OSC 11, then DA1.
    static let plainQuestions =
        "\u{1B}[?1;1;0S" + "\u{1B}[?2;1;0S" + "\u{1B}[14t" + "\u{1B}[16t"
        + "\u{1B}]11;?\u{1B}\\" + "\u{1B}[c"

    /// Inside tmux (or screen) a bare APC would rename the window, so the kitty query only goes
    /// through passthrough; with passthrough on, XTVERSION, OSC 11 and DA1 go to the outer terminal too.
    public static func tmuxQuery(passthrough: Bool) -> String {
        let outer =
            passthrough
            ? TmuxPassthrough.wrap("\u{1B}[>0q") + TmuxPassthrough.wrap(kittyQuery)
                + TmuxPassthrough.wrap("\u{1B}]11;?\u{1B}\\") + TmuxPassthrough.wrap("\u{1B}[c") : ""
        return outer + "\u{1B}[>0q" + plainQuestions
    }

    /// Parses the answer bytes: DCS (XTVERSION), APC (kitty), OSC 11, and CSI replies
    /// (`? … S` XTSMGRAPHICS, `4;h;w t`, `6;h;w t`, `? … c` DA1). Anything else is skipped.
    public static func parse(_ bytes: [UInt8]) -> TerminalAnswers {
        var a = TerminalAnswers()
        let esc: UInt8 = 0x1B
        var i = 0
        /// The body of a string sequence up to ST (ESC \) or BEL, and the index after it.
        func stringBody(from start: Int) -> ([UInt8], Int) {
            var j = start
            while j < bytes.count {
                if bytes[j] == 0x07 { return (Array(bytes[start..<j]), j + 1) }
                if bytes[j] == esc && j + 1 < bytes.count && bytes[j + 1] == UInt8(ascii: "\\") {
                    return (Array(bytes[start..<j]), j + 2)
                }
                j += 1
            }
            return (Array(bytes[start..<j]), j)
        }
        while i + 1 < bytes.count {
            guard bytes[i] == esc else {
                i += 1
                continue
            }
            let kind = bytes[i + 1]
            switch kind {
            case UInt8(ascii: "P"):
                let (body, next) = stringBody(from: i + 2)
                let text = String(decoding: body, as: UTF8.self)
                if text.hasPrefix(">|tmux") {
                    a.tmuxVersion = String(text.dropFirst(2))
                } else if text.hasPrefix(">|") {
                    a.version = String(text.dropFirst(2))
                }
                i = next
            case UInt8(ascii: "_"):
                let (body, next) = stringBody(from: i + 2)
                let text = String(decoding: body, as: UTF8.self)
                if text.hasPrefix("G"), let semi = text.firstIndex(of: ";"), text[text.index(after: semi)...] == "OK" {
                    let keys = text.dropFirst().prefix(upTo: semi).split(separator: ",")
                    if keys.contains("i=32") { a.kittyTempFiles = true } else { a.kittyGraphics = true }
                }
                i = next
            case UInt8(ascii: "]"):
                let (body, next) = stringBody(from: i + 2)
                let text = String(decoding: body, as: UTF8.self)
                if text.hasPrefix("11;") { a.background = parseColour(String(text.dropFirst(3))) }
                i = next
            case UInt8(ascii: "["):
                var j = i + 2
                var isPrivate = false
                if j < bytes.count && (bytes[j] == UInt8(ascii: "?") || bytes[j] == UInt8(ascii: ">")) {
                    isPrivate = bytes[j] == UInt8(ascii: "?")
                    j += 1
                }
                let paramStart = j
                while j < bytes.count && bytes[j] >= 0x30 && bytes[j] <= 0x3F { j += 1 }
                guard j < bytes.count else {
                    i = j
                    continue
                }
                let final = bytes[j]
                let fields = String(decoding: bytes[paramStart..<j], as: UTF8.self)
                    .split(separator: ";", omittingEmptySubsequences: false)
                let params = fields.map { Int($0) ?? 0 }
                applyCSI(&a, isPrivate: isPrivate, params: params, final: final)
                i = j + 1
            default:
                i += 2
            }
        }
        return a
    }

    static func applyCSI(_ a: inout TerminalAnswers, isPrivate: Bool, params: [Int], final: UInt8) {
        switch final {
        case UInt8(ascii: "c") where isPrivate:
            if a.deviceAttributes == nil {
                a.deviceAttributes = params
            } else {
                a.outerDeviceAttributes = params
            }
        case UInt8(ascii: "S") where isPrivate && params.count >= 3 && params[1] == 0:
            if params[0] == 1 { a.sixelColours = params[2] }
            if params[0] == 2 && params.count >= 4 { a.sixelGeometry = PixelSize(width: params[2], height: params[3]) }
        case UInt8(ascii: "t") where !isPrivate && params.count >= 3:
            let size = PixelSize(width: params[2], height: params[1])
            if params[0] == 4 { a.windowPixels = size }
            if params[0] == 6 { a.cellPixels = size }
        default:
            break
        }
    }

    /// `rgb:RRRR/GGGG/BBBB` (1 to 4 hex digits per channel) or `#RRGGBB`.
    static func parseColour(_ text: String) -> RGB? {
        if text.hasPrefix("rgb:") {
            let parts = text.dropFirst(4).split(separator: "/")
            guard parts.count == 3 else { return nil }
            var channels: [UInt8] = []
            for p in parts {
                guard (1...4).contains(p.count), let v = Int(p, radix: 16) else { return nil }
                let maximum = (1 << (4 * p.count)) - 1
                channels.append(UInt8((v * 255 + maximum / 2) / maximum))
            }
            return RGB(channels[0], channels[1], channels[2])
        }
        if text.hasPrefix("#"), text.count == 7, let v = Int(text.dropFirst(), radix: 16) {
            return RGB(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
        }
        return nil
    }

    /// The locale's text is UTF-8: the first of LC_ALL, LC_CTYPE, LANG that is set names UTF-8.
    public static func localeIsUTF8(_ env: [String: String]) -> Bool {
        let chosen = [env["LC_ALL"], env["LC_CTYPE"], env["LANG"]].compactMap { $0 }.first { !$0.isEmpty } ?? ""
        let lower = chosen.lowercased()
        return lower.contains("utf-8") || lower.contains("utf8")
    }

    // MARK: asking the real terminal

    /// Asks the terminal (one batched write, answers read until DA1 or the deadline), asks tmux,
    /// reads TIOCGWINSZ, and decides.
    public static func detect(
        environment env: [String: String] = ProcessInfo.processInfo.environment,
        deadline: Double = 0.5
    ) -> Capabilities {
        detectRecording(environment: env, deadline: deadline).capabilities
    }

    /// `detect`, also returning the terminal's raw answer bytes (nil when nothing was asked).
    public static func detectRecording(
        environment env: [String: String] = ProcessInfo.processInfo.environment,
        deadline: Double = 0.5
    ) -> (capabilities: Capabilities, answer: [UInt8]?) {
        let tmux = askTmux(env)
        let throughTmux = tmux?.passthrough == true
        let term = env["TERM"] ?? ""
        let multiplexed = env["TMUX"] != nil || term.hasPrefix("tmux") || term.hasPrefix("screen")
        // Outside a multiplexer, one 3-byte probe file asks whether kitty reads files of this machine; kitty
        // deletes it once read, and it is removed here in any case.
        let probe = multiplexed ? nil : KittyGraphics.writeTempFile([0, 0, 0])
        defer { if let probe { try? FileManager.default.removeItem(atPath: probe) } }
        let question =
            multiplexed ? tmuxQuery(passthrough: throughTmux) : probe.map { query(fileProbe: $0) } ?? query
        let raw = term == "dumb" ? nil : ask(question, deadline: deadline, answersOfDA1: throughTmux ? 2 : 1)
        let (cell, cols, rows) = terminalSize()
        let caps = decide(
            answers: raw.map(parse), environment: env, tmux: tmux, winsizeCell: cell,
            columns: cols, rows: rows, unicode: localeIsUTF8(env))
        return (caps, raw)
    }

    /// TIOCGWINSZ: pixels per cell (nil when the terminal leaves the pixel fields 0), columns, rows.
    public static func terminalSize() -> (PixelSize?, Int, Int) {
        var ws = Glibc.winsize()
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        defer { if fd >= 0 { close(fd) } }
        guard fd >= 0, ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return (nil, 0, 0) }
        let cell = PixelSize(width: Int(ws.ws_xpixel) / Int(ws.ws_col), height: Int(ws.ws_ypixel) / Int(ws.ws_row))
        return (cell.width > 0 && cell.height > 0 ? cell : nil, Int(ws.ws_col), Int(ws.ws_row))
    }

    /// tmux's allow-passthrough and the outer terminal, when $TMUX is set.
    public static func askTmux(_ env: [String: String]) -> TmuxInfo? {
        guard env["TMUX"] != nil else { return nil }
        func tmux(_ args: [String]) -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["tmux"] + args
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.nullDevice
            do { try p.run() } catch { return "" }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let pass = tmux(["show-options", "-gqv", "allow-passthrough"])
        let focus = tmux(["show-options", "-gqv", "focus-events"])
        let client = tmux(["display-message", "-p", "#{client_termname}|#{client_termfeatures}"])
        let parts = client.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return TmuxInfo(
            passthrough: pass == "on" || pass == "all", clientTerm: parts.first ?? "",
            clientFeatures: parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : [],
            focusEvents: focus == "on")
    }

    /// Writes the batched query to the controlling terminal (/dev/tty, so a redirected stdout does
    /// not matter) and reads the answers until DA1 (`ESC [ ? … c`) or the deadline.
    public static func ask(_ question: String = query, deadline seconds: Double, answersOfDA1: Int = 1) -> [UInt8]? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var old = termios()
        guard tcgetattr(fd, &old) == 0 else { return nil }
        var raw = old
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(fd, TCSANOW, &raw)
        defer { tcsetattr(fd, TCSANOW, &old) }
        _ = question.withCString { write(fd, $0, strlen($0)) }
        var reply = [UInt8]()
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var fds = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&fds, 1, 20) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            reply += buffer[0..<n]
            // DA1 ends the wait; through tmux, the outer terminal's DA1 (the second) does.
            if endsWithDA1(reply) && (answersOfDA1 == 1 || parse(reply).outerDeviceAttributes != nil) { break }
        }
        return reply
    }

    /// The reply so far ends with a DA1 answer (`ESC [ ? digits;… c`).
    static func endsWithDA1(_ b: [UInt8]) -> Bool {
        guard b.last == UInt8(ascii: "c") else { return false }
        var j = b.count - 2
        while j >= 0 && (b[j] >= 0x30 && b[j] <= 0x3B) { j -= 1 }
        return j >= 2 && b[j] == UInt8(ascii: "?") && b[j - 1] == UInt8(ascii: "[") && b[j - 2] == 0x1B
    }
}
