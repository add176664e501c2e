import Foundation
import Media

/// What the terminal shows of pictures, and the one rule that keeps it true.
///
/// Pictures are written behind ncurses' back, so ncurses believes their cells are blank. When the
/// placements (rectangles or content) differ from the ones shown, or a full repaint is asked for, every
/// old picture area is erased before ncurses draws the text (ECH per row: sixel and iTerm2 pixels are
/// erased, half-blocks overwritten by blanks; kitty placements deleted), then every new picture is drawn
/// after it. When only the text changed, the same pictures are drawn again, since ncurses may have
/// cleared to the end of a line across one. Inside tmux with passthrough the outer terminal holds the
/// pixels, which tmux cannot erase cell by cell: a change of geometry asks for a full repaint instead.
struct PictureLayer {
    /// The bytes of one frame: `before` goes out before ncurses' refresh, `after` after it.
    struct Output: Equatable {
        var before = ""
        var after = ""
        /// ncurses must clear and repaint the whole screen (a tmux passthrough picture changed place).
        var clearScreen = false

        var isEmpty: Bool { before.isEmpty && after.isEmpty && !clearScreen }
    }

    let caps: Capabilities
    /// What was last drawn: rectangles and content keys.
    private(set) var shown: [(rect: CellRect, key: Int)] = []
    /// kitty: content key → image id already stored in the terminal, oldest first.
    private var kittyIDs: [Int: Int] = [:]
    private var kittyOrder: [Int] = []
    private var nextKittyID = 1
    static let kittyKept = 96

    init(caps: Capabilities) { self.caps = caps }

    static let beginSync = "\u{1B}[?2026h"
    static let endSync = "\u{1B}[?2026l"
    static let saveCursor = "\u{1B}7"
    static let restoreCursor = "\u{1B}8"
    static let resetAttributes = "\u{1B}[0m"

    /// `ESC [ row ; col H ESC [ n X` for each row of `r`: the cells blanked, whatever pixels were on them.
    static func erase(_ r: CellRect) -> String {
        (r.row..<(r.row + r.rows)).map { "\u{1B}[\($0 + 1);\(r.col + 1)H\u{1B}[\(r.cols)X" }.joined()
    }

    /// Pixel escapes go through tmux wrapped in its passthrough DCS when that is on.
    func outer(_ escape: String) -> String { caps.tmuxPassthrough ? TmuxPassthrough.wrap(escape) : escape }

    /// The bytes that take the terminal from what it shows to `next`. `textChanged`: ncurses will write
    /// text this frame; `force`: repaint everything (Ctrl-L, a resize, the pane regained focus).
    mutating func update(_ next: [Placement], textChanged: Bool, force: Bool) -> Output {
        let rects = next.map(\.rect)
        let geometryChanged = rects != shown.map(\.rect)
        let changed = geometryChanged || next.map(\.key) != shown.map(\.key)
        guard changed || textChanged || force else { return Output() }
        var output = Output()
        if force { forgetStoredImages() }
        if changed || force {
            switch caps.pictures {
            case .sixel, .iterm2, .quadrants, .truecolor, .ansi256:
                if !shown.isEmpty {
                    output.before =
                        Self.beginSync + Self.saveCursor + Self.resetAttributes
                        + shown.map { Self.erase($0.rect) }.joined() + Self.restoreCursor
                }
                let pixelsOutside = caps.tmuxPassthrough && ![.truecolor, .ansi256, .quadrants].contains(caps.pictures)
                if pixelsOutside && (geometryChanged || force) { output.clearScreen = true }
            case .kitty, .ascii: break
            }
        }
        shown = next.map { ($0.rect, $0.key) }
        guard !next.isEmpty || caps.pictures == .kitty else {
            // The erase began a synchronized update; end it once ncurses has drawn.
            if !output.before.isEmpty { output.after = Self.endSync }
            return output
        }
        var out = Self.beginSync + Self.saveCursor
        if caps.pictures == .kitty { out += outer(KittyGraphics.deletePlacements) }
        for p in next { out += draw(p) }
        out += Self.restoreCursor + Self.endSync
        output.after = out
        return output
    }

    /// A full repaint retransmits kitty images: clearing the screen may have dropped them.
    private mutating func forgetStoredImages() {
        kittyIDs.removeAll()
        kittyOrder.removeAll()
    }

    private mutating func draw(_ p: Placement) -> String {
        let cup = "\u{1B}[\(p.rect.row + 1);\(p.rect.col + 1)H"
        switch caps.pictures {
        case .kitty:
            var out = ""
            let id: Int
            if let known = kittyIDs[p.key] {
                id = known
            } else {
                id = nextKittyID
                nextKittyID = nextKittyID % 4_000_000 + 1
                kittyIDs[p.key] = id
                kittyOrder.append(p.key)
                if caps.kittyTempFiles, let file = KittyGraphics.transmitFile(p.image, id: id) {
                    out += outer(file)
                } else {
                    for escape in KittyGraphics.transmit(p.image, id: id) { out += outer(escape) }
                }
                if kittyOrder.count > Self.kittyKept, let oldest = kittyOrder.first, let old = kittyIDs[oldest] {
                    kittyOrder.removeFirst()
                    kittyIDs[oldest] = nil
                    out += outer(KittyGraphics.free(id: old))
                }
            }
            return out + cup + outer(KittyGraphics.place(id: id, cols: p.rect.cols, rows: p.rect.rows))
        case .iterm2:
            return cup + outer(ITerm2Images.inline(p.image, cols: p.rect.cols, rows: p.rect.rows))
        case .sixel:
            let img = Pictures.fit(
                p.image, width: p.rect.cols * max(1, caps.cellWidth), height: p.rect.rows * max(1, caps.cellHeight))
            return cup + outer(Sixel.encode(img))
        case .quadrants where caps.unicode:
            return Pictures.quadrants(
                p.image, cols: p.rect.cols, rows: p.rect.rows, at: (p.rect.row + 1, p.rect.col + 1))
        case .truecolor, .ansi256, .quadrants:
            return Pictures.halfBlock(
                p.image, cols: p.rect.cols, rows: p.rect.rows, at: (p.rect.row + 1, p.rect.col + 1),
                mode: caps.pictures, unicode: caps.unicode)
        case .ascii:
            return ""
        }
    }
}
