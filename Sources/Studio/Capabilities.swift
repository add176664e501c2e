import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the terminal can show, detected once at start-up.
public struct Capabilities: Sendable {
    public var pictures: PictureMode
    /// Cell size in pixels (for sixel images), when the terminal reports it.
    public var cellWidth: Int
    public var cellHeight: Int
    public var reason: String

    /// MAVIN_PICTURES=sixel|truecolor|256|ascii overrides; else DA1 attribute 4 → sixel
    /// (not inside tmux, which drops sixel), COLORTERM=truecolor/24bit or tmux → 24-bit
    /// half-blocks, a 256-colour TERM → 256-colour half-blocks, else ASCII.
    public static func detect(environment env: [String: String] = ProcessInfo.processInfo.environment,
                              queryDA1: () -> String? = { Capabilities.readDA1() }) -> Capabilities {
        var (cw, ch) = cellPixels()
        if let forced = env["MAVIN_PICTURES"] {
            let mode: PictureMode? = ["sixel": .sixel, "truecolor": .truecolor, "24bit": .truecolor, "256": .ansi256, "ascii": .ascii][forced]
            if let mode { return Capabilities(pictures: mode, cellWidth: cw > 0 ? cw : 10, cellHeight: ch > 0 ? ch : 20, reason: "MAVIN_PICTURES=\(forced)") }
        }
        let term = env["TERM"] ?? "", colorterm = (env["COLORTERM"] ?? "").lowercased()
        let inTmux = env["TMUX"] != nil || term.hasPrefix("tmux") || term.hasPrefix("screen")
        if !inTmux, let da1 = queryDA1() {
            let attrs = da1.trimmingCharacters(in: CharacterSet(charactersIn: "\u{1B}[?c")).split(separator: ";")
            if attrs.contains("4") {
                if cw <= 0 || ch <= 0 { cw = 10; ch = 20 }
                return Capabilities(pictures: .sixel, cellWidth: cw, cellHeight: ch, reason: "DA1 reports sixel")
            }
        }
        if colorterm == "truecolor" || colorterm == "24bit" || inTmux || term.contains("direct") {
            return Capabilities(pictures: .truecolor, cellWidth: cw, cellHeight: ch, reason: inTmux ? "tmux (24-bit half-blocks)" : "COLORTERM=\(colorterm)")
        }
        if term.contains("256") { return Capabilities(pictures: .ansi256, cellWidth: cw, cellHeight: ch, reason: "TERM=\(term)") }
        if term.isEmpty || term == "dumb" || term == "vt100" {
            return Capabilities(pictures: .ascii, cellWidth: cw, cellHeight: ch, reason: "TERM=\(term.isEmpty ? "unset" : term)")
        }
        return Capabilities(pictures: .ansi256, cellWidth: cw, cellHeight: ch, reason: "TERM=\(term)")
    }

    /// Cell size from TIOCGWINSZ's pixel fields (0 when the terminal does not fill them in).
    static func cellPixels() -> (Int, Int) {
        var ws = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return (0, 0) }
        return (Int(ws.ws_xpixel) / Int(ws.ws_col), Int(ws.ws_ypixel) / Int(ws.ws_row))
    }

    /// Sends Primary Device Attributes (ESC [ c) and reads the reply for up to 300 ms.
    public static func readDA1() -> String? {
        guard isatty(0) != 0, isatty(1) != 0 else { return nil }
        var old = termios()
        guard tcgetattr(0, &old) == 0 else { return nil }
        var raw = old
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(0, TCSANOW, &raw)
        defer { tcsetattr(0, TCSANOW, &old) }
        let q = "\u{1B}[c"
        _ = q.withCString { write(1, $0, strlen($0)) }
        var reply = [UInt8]()
        let deadline = Date().addingTimeInterval(0.3)
        while Date() < deadline {
            var fds = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            if poll(&fds, 1, 50) > 0 {
                var b: UInt8 = 0
                if read(0, &b, 1) == 1 { reply.append(b); if b == UInt8(ascii: "c") { break } }
            }
        }
        return reply.isEmpty ? nil : String(decoding: reply, as: UTF8.self)
    }
}
