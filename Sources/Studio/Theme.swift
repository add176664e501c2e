import Engine
import Foundation
import TOMLKit

/// Colours and glyphs of the Studio, from Themes/NAME.toml (validated: unknown keys
/// and colour names are errors that list what is allowed).
public struct Theme: Equatable, Sendable {
    public static let colourNames = ["default", "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
    public static let colourKeys = [
        "header_fg", "header_bg", "title", "selected_fg", "selected_bg", "focus", "dim", "accent", "error", "progress"
    ]
    public static let glyphKeys = ["bar_full", "bar_empty", "spark"]

    public var name: String
    /// ncurses colour numbers (−1 = default).
    public var colours: [String: Int16]
    public var barFull: String
    public var barEmpty: String
    public var spark: [Character]

    public static func parse(_ text: String, source: String) throws -> Theme {
        let t: TOMLTable
        do { t = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw ThemeError.invalid(source, "TOML syntax error at line \(e.source.begin.line): \(e.description)")
        }
        for k in t.keys where !["name", "colors", "glyphs"].contains(k) {
            throw ThemeError.invalid(source, "unknown key '\(k)' (allowed: name, [colors], [glyphs])")
        }
        var theme = Theme(
            name: t["name"]?.string ?? source, colours: [:], barFull: "█", barEmpty: "░", spark: Array("▁▂▃▄▅▆▇█"))
        let colours = t["colors"]?.table ?? TOMLTable()
        for k in colours.keys where !colourKeys.contains(k) {
            throw ThemeError.invalid(
                source, "unknown colour key '\(k)' (allowed: \(colourKeys.joined(separator: ", ")))")
        }
        for k in colourKeys {
            guard let v = colours[k]?.string else { throw ThemeError.invalid(source, "[colors] needs \(k)") }
            guard let i = colourNames.firstIndex(of: v) else {
                throw ThemeError.invalid(
                    source, "\(k) = \"\(v)\" is not a colour (use \(colourNames.joined(separator: ", ")))")
            }
            theme.colours[k] = Int16(i) - 1
        }
        let glyphs = t["glyphs"]?.table ?? TOMLTable()
        for k in glyphs.keys where !glyphKeys.contains(k) {
            throw ThemeError.invalid(source, "unknown glyph key '\(k)' (allowed: \(glyphKeys.joined(separator: ", ")))")
        }
        if let g = glyphs["bar_full"]?.string {
            guard g.count == 1 else { throw ThemeError.invalid(source, "bar_full must be one character") }
            theme.barFull = g
        }
        if let g = glyphs["bar_empty"]?.string {
            guard g.count == 1 else { throw ThemeError.invalid(source, "bar_empty must be one character") }
            theme.barEmpty = g
        }
        if let g = glyphs["spark"]?.string {
            guard g.count >= 2 else { throw ThemeError.invalid(source, "spark needs at least two characters") }
            theme.spark = Array(g)
        }
        return theme
    }

    /// A theme by name (Themes/NAME.toml beside the working folder or the executable) or by path.
    public static func load(_ nameOrPath: String, near folder: String) throws -> Theme {
        var candidates = [nameOrPath]
        if !nameOrPath.hasSuffix(".toml") {
            candidates = [
                "Themes/\(nameOrPath).toml", (folder as NSString).appendingPathComponent("../Themes/\(nameOrPath).toml")
            ]
            let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            candidates.append(exe.appendingPathComponent("../../Themes/\(nameOrPath).toml").path)
            // Installed: <prefix>/share/mavin/themes/NAME.toml beside <prefix>/bin/mavin.
            candidates.append(DefaultModel.shareFolder().appendingPathComponent("themes/\(nameOrPath).toml").path)
        }
        for c in candidates where FileManager.default.fileExists(atPath: c) {
            guard let text = try? String(contentsOfFile: c, encoding: .utf8) else {
                throw ThemeError.invalid(c, "not UTF-8 text")
            }
            return try parse(text, source: c)
        }
        if nameOrPath == "dark" { return .builtIn }
        if nameOrPath == "light" { return .builtInLight }
        throw ThemeError.notFound(nameOrPath)
    }

    /// The dark theme, compiled in, so the Studio starts even without Themes/.
    public static let builtIn = Theme(
        name: "dark",
        colours: [
            "header_fg": 0, "header_bg": 6, "title": 6, "selected_fg": 0, "selected_bg": 3,
            "focus": 3, "dim": 7, "accent": 2, "error": 1, "progress": 2
        ],
        barFull: "█", barEmpty: "░", spark: Array("▁▂▃▄▅▆▇█"))
}

extension Theme {
    /// Themes/light.toml compiled in, so a light background always finds its theme.
    public static let builtInLight = Theme(
        name: "light",
        colours: [
            "header_fg": 7, "header_bg": 4, "title": 4,
            "selected_fg": 7, "selected_bg": 4, "focus": 5,
            "dim": 0, "accent": 2, "error": 1, "progress": 4
        ],
        barFull: "█", barEmpty: "·", spark: Array("▁▂▃▄▅▆▇█"))
}

public enum ThemeError: Error, CustomStringConvertible {
    case invalid(String, String)
    case notFound(String)
    public var description: String {
        switch self {
        case .invalid(let s, let m): return "theme \(s): \(m)"
        case .notFound(let n):
            return "no theme '\(n)' (built in: dark, light, high-contrast in Themes/; or give a path to a .toml file)"
        }
    }
}
