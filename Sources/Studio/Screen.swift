import Foundation
import Media

/// Colour pairs of the Studio's text, set up from the theme.
enum ColourPair: Int16 {
    case header = 1
    case selected, title, focus, accent, error, progress, dim
}

/// A cell rectangle on the screen (0-based row and column).
struct CellRect: Equatable {
    var row: Int
    var col: Int
    var cols: Int
    var rows: Int
}

/// A picture to show on a cell rectangle; `key` names its content (size and every pixel).
struct Placement {
    var rect: CellRect
    var image: RGBImage
    var key: Int

    init(rect: CellRect, image: RGBImage) {
        self.rect = rect
        self.image = image
        var h = Hasher()
        h.combine(image.width)
        h.combine(image.height)
        image.pixels.withUnsafeBytes { h.combine(bytes: $0) }
        key = h.finalize()
    }
}

/// One frame of the Studio as a value: text runs in painting order and picture placements. `draw`
/// makes it from the state; `present` paints it; tests read it without a terminal.
struct Screen: Equatable {
    struct Style: Equatable {
        var pair: ColourPair?
        var bold = false
        var reverse = false
    }

    struct Run: Equatable {
        var row: Int
        var col: Int
        var text: String
        var style: Style
    }

    let cols: Int
    let rows: Int
    /// Text may be UTF-8; otherwise every glyph is written as its ASCII stand-in.
    let unicode: Bool
    var runs: [Run] = []
    var pictures: [Placement] = []
    /// Where the cursor shows (the command line), nil when hidden.
    var cursor: (row: Int, col: Int)?

    init(cols: Int, rows: Int, unicode: Bool = true) {
        self.cols = cols
        self.rows = rows
        self.unicode = unicode
    }

    /// `text` cut to `width` cells at (y, x), its last cell "…" ("~" in ASCII) when what is cut off is more than
    /// blanks, so a cut number never passes for a whole one; a reversed run is padded to its width.
    mutating func put(
        _ y: Int, _ x: Int, _ text: String, width: Int, _ pair: ColourPair? = nil, bold: Bool = false,
        reverse: Bool = false
    ) {
        guard width > 0, y >= 0, y < rows, x >= 0, x < cols else { return }
        let room = min(width, cols - x)
        let whole = Glyphs.text(text, unicode: unicode)
        var t = String(whole.prefix(room))
        if room > 1, whole.dropFirst(room).contains(where: { $0 != " " }) {
            t = String(t.dropLast()) + (unicode ? "…" : "~")
        }
        if t.count < width && reverse { t += String(repeating: " ", count: room - t.count) }
        runs.append(Run(row: y, col: x, text: t, style: Style(pair: pair, bold: bold, reverse: reverse)))
    }

    /// The rows as text, later runs over earlier ones, as the terminal would show them (pictures left out).
    func lines() -> [String] {
        var grid = [[Character]](repeating: [Character](repeating: " ", count: cols), count: rows)
        for run in runs {
            for (i, ch) in run.text.enumerated() where run.col + i < cols { grid[run.row][run.col + i] = ch }
        }
        return grid.map { String($0) }
    }

    /// All rows in one string, for `contains` checks.
    var text: String { lines().joined(separator: "\n") }

    static func == (a: Screen, b: Screen) -> Bool {
        a.cols == b.cols && a.rows == b.rows && a.runs == b.runs && a.cursor?.row == b.cursor?.row
            && a.cursor?.col == b.cursor?.col && a.pictures.map(\.rect) == b.pictures.map(\.rect)
            && a.pictures.map(\.key) == b.pictures.map(\.key)
    }
}
