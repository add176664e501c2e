/// ASCII stand-ins for every non-ASCII glyph the Studio draws, for locales that are not UTF-8
/// (ncurses would otherwise print UTF-8 bytes as `~@~T`). Anything not in the table becomes `?`,
/// so no byte ≥ 0x80 ever reaches such a terminal.
public enum Glyphs {
    static let table: [Character: String] = [
        "—": "-", "–": "-", "−": "-", "─": "-", "╰": "`", "│": "|", "×": "x", "✗": "x", "✓": "*", "✔": "*",
        "▶": ">", "λ": "lambda", "→": "->", "←": "<-", "↑": "Up", "↓": "Down", "…": "...", "·": ".", "•": "*",
        "█": "#", "░": ".", "▒": ":", "▁": "_", "▂": ".", "▃": "-", "▄": "=", "▅": "+", "▆": "*", "▇": "%",
        "²": "2", "³": "3", "°": "deg", "≤": "<=", "≥": ">=", "ε": "eps", "x̂": "x^", "⇧": "Shift-"
    ]

    /// `text` unchanged when `unicode`, else with every non-ASCII character replaced.
    public static func text(_ text: String, unicode: Bool) -> String {
        guard !unicode, !text.utf8.allSatisfy({ $0 < 0x80 }) else { return text }
        var out = ""
        for ch in text {
            if ch.isASCII {
                out.append(ch)
            } else if let s = table[ch] {
                out += s
            } else {
                // A base letter with combining marks keeps its letter.
                let base = ch.unicodeScalars.first.map { $0.isASCII ? String($0) : "?" } ?? "?"
                out += base
            }
        }
        return out
    }
}
