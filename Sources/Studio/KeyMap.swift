import CNcurses
import Core

/// Everything a key can do in the Studio.
public enum StudioAction: String, CaseIterable, Sendable {
    case quit, help, nextPane, previousPane, command, up, down, left, right, bigLeft, bigRight
    case add, remove, moveUp, moveDown, generate, cancel, export, stepThrough, compare
    case previousStep, nextStep, toggleNoisy, previousFrame, nextFrame, play, save, escape, redraw
}

/// Where a binding applies: everywhere, in the focused pane, or in a mode (step-through, compare) over any pane.
public enum KeyContext: String, Sendable {
    case global, library, sequence, junction, preview, compare, stepThrough

    /// As the help overlay titles its section and the status line names the place.
    var title: String { self == .stepThrough ? "step-through" : rawValue }

    /// Where a person finds these keys: "the sequence pane", "step-through (t)".
    var place: String {
        switch self {
        case .global: return "every pane"
        case .library, .sequence, .junction, .preview: return "the \(rawValue) pane"
        case .compare: return "compare (v)"
        case .stepThrough: return "step-through (t)"
        }
    }
}

/// One row of the key map: the single source for dispatch and for the help overlay.
public struct KeyBinding: Sendable {
    public let keys: [Int32]
    public let label: String
    public let action: StudioAction
    public let context: KeyContext
    public let help: String
}

public enum KeyMap {
    static func k(_ c: Character) -> Int32 { Int32(c.asciiValue!) }

    public static let bindings: [KeyBinding] = [
        KeyBinding(keys: [k("q")], label: "q", action: .quit, context: .global, help: "quit (the plan is autosaved)"),
        KeyBinding(keys: [k("?")], label: "?", action: .help, context: .global, help: "this help"),
        KeyBinding(keys: [9], label: "Tab", action: .nextPane, context: .global, help: "next pane"),
        KeyBinding(keys: [KEY_BTAB], label: "S-Tab", action: .previousPane, context: .global, help: "previous pane"),
        KeyBinding(
            keys: [k(":")], label: ":", action: .command, context: .global,
            help: "command line (:export PATH, :set f0 0.5, :open PATH, :w [PATH], :q)"),
        KeyBinding(keys: [KEY_UP, k("k")], label: "↑/k", action: .up, context: .global, help: "move up"),
        KeyBinding(keys: [KEY_DOWN, k("j")], label: "↓/j", action: .down, context: .global, help: "move down"),
        KeyBinding(
            keys: [KEY_LEFT, k("h")], label: "←/h", action: .left, context: .junction,
            help: "the field one step down (s by 1, ease by 2, carry by 0.5…; a choice: the one before)"),
        KeyBinding(
            keys: [KEY_RIGHT, k("l")], label: "→/l", action: .right, context: .junction,
            help: "the field one step up (s by 1, ease by 2, carry by 0.5…; a choice: the one after)"),
        KeyBinding(
            keys: [k("H")], label: "H", action: .bigLeft, context: .junction,
            help: "decrease by 10 (s, e, steps, seed; the other fields by one step)"),
        KeyBinding(
            keys: [k("L")], label: "L", action: .bigRight, context: .junction,
            help: "increase by 10 (s, e, steps, seed; the other fields by one step)"),
        KeyBinding(keys: [KEY_UP, k("k")], label: "↑/k", action: .up, context: .junction, help: "previous field"),
        KeyBinding(keys: [KEY_DOWN, k("j")], label: "↓/j", action: .down, context: .junction, help: "next field"),
        KeyBinding(
            keys: [k("a"), 10, KEY_ENTER], label: "a/Enter", action: .add, context: .library,
            help: "add the clip to the sequence"),
        KeyBinding(
            keys: [k("d"), KEY_DC], label: "d", action: .remove, context: .sequence,
            help: "remove the clip from the sequence"),
        KeyBinding(keys: [k("K")], label: "K", action: .moveUp, context: .sequence, help: "move the clip earlier"),
        KeyBinding(keys: [k("J")], label: "J", action: .moveDown, context: .sequence, help: "move the clip later"),
        KeyBinding(
            keys: [k("g")], label: "g", action: .generate, context: .global,
            help: "generate the selected junction's transition"),
        KeyBinding(keys: [k("c")], label: "c", action: .cancel, context: .global, help: "cancel the running job"),
        KeyBinding(keys: [k("e")], label: "e", action: .export, context: .global, help: "export the composed video"),
        KeyBinding(
            keys: [k("t")], label: "t", action: .stepThrough, context: .global,
            help: "step-through: inspect every denoising step"),
        KeyBinding(
            keys: [k("v")], label: "v", action: .compare, context: .global,
            help: "compare with ground truth (when known)"),
        KeyBinding(
            keys: [k("[")], label: "[", action: .previousStep, context: .stepThrough, help: "previous denoising step"),
        KeyBinding(keys: [k("]")], label: "]", action: .nextStep, context: .stepThrough, help: "next denoising step"),
        KeyBinding(keys: [k("o")], label: "o", action: .toggleNoisy, context: .stepThrough, help: "show x̂0 or x_t"),
        KeyBinding(
            keys: [k("("), k(",")], label: "(", action: .previousFrame, context: .global,
            help: "previous frame of the preview"),
        KeyBinding(
            keys: [k(")"), k(".")], label: ")", action: .nextFrame, context: .global,
            help: "next frame of the preview"),
        KeyBinding(keys: [k(" ")], label: "Space", action: .play, context: .global, help: "play / pause the preview"),
        KeyBinding(
            keys: [k("w")], label: "w", action: .save, context: .global,
            help: "save the plan to its file (asks before replacing another plan); :w PATH saves it elsewhere"),
        KeyBinding(keys: [27], label: "Esc", action: .escape, context: .global, help: "close overlay / leave mode"),
        KeyBinding(
            keys: [12], label: "Ctrl-L", action: .redraw, context: .global,
            help: "redraw the whole screen, pictures included"),
        // The preview pane's own keys (j/k step its frames too, as ↑/↓ do).
        KeyBinding(
            keys: [k("("), k(","), KEY_LEFT, k("h")], label: "(/←/h", action: .previousFrame, context: .preview,
            help: "previous frame (↑/k too)"),
        KeyBinding(
            keys: [k(")"), k("."), KEY_RIGHT, k("l")], label: ")/→/l", action: .nextFrame, context: .preview,
            help: "next frame (↓/j too)"),
        KeyBinding(keys: [k(" ")], label: "Space", action: .play, context: .preview, help: "play / pause"),
        KeyBinding(
            keys: [k("("), k(",")], label: "(", action: .previousFrame, context: .compare,
            help: "previous frame, generated and truth together"),
        KeyBinding(
            keys: [k(")"), k(".")], label: ")", action: .nextFrame, context: .compare,
            help: "next frame, generated and truth together"),
        KeyBinding(keys: [k("v"), 27], label: "v/Esc", action: .compare, context: .compare, help: "leave compare")
    ]

    /// The action of a key: a binding of the mode (step-through, compare) first, then of the focused pane, then a
    /// global one.
    public static func action(for key: Int32, in context: KeyContext, mode: KeyContext? = nil) -> StudioAction? {
        for ctx in [mode, context, .global].compactMap({ $0 }) {
            if let b = bindings.first(where: { $0.context == ctx && $0.keys.contains(key) }) { return b.action }
        }
        return nil
    }

    /// What the status line says for a key that does nothing here: what it does where it does something.
    public static func unbound(_ key: Int32) -> String {
        let elsewhere = bindings.first { $0.keys.contains(key) }
        let name: String
        switch key {
        case 33..<127: name = String(UnicodeScalar(UInt8(key)))
        default: name = elsewhere?.label ?? "that key"
        }
        guard let elsewhere else { return "\(name) does nothing here (? lists the keys)" }
        return "\(name) does nothing here; in \(elsewhere.context.place): \(elsewhere.help) (? lists the keys)"
    }

    /// Help lines grouped by context, from the same table, as the terminal shows them (`unicode` false: every
    /// glyph already its ASCII stand-in, so the labels' padding lines the descriptions up).
    public static func helpLines(unicode: Bool = true) -> [String] {
        var out: [String] = []
        for ctx in [KeyContext.global, .library, .sequence, .junction, .preview, .compare, .stepThrough] {
            out.append(Glyphs.text("— \(ctx.title) —", unicode: unicode))
            for b in bindings where b.context == ctx {
                let label = Glyphs.text(b.label, unicode: unicode)
                out.append("  " + label.padding(toLength: 9, withPad: " ", startingAt: 0) + b.help)
            }
        }
        return out
    }

    /// What an action is called in the hint bar: a person's words, never the case name.
    public static func hintName(_ action: StudioAction) -> String {
        switch action {
        case .quit: return "quit"
        case .help: return "help"
        case .nextPane: return "next pane"
        case .previousPane: return "previous pane"
        case .command: return "command"
        case .up: return "up"
        case .down: return "down"
        case .left: return "−step"
        case .right: return "+step"
        case .bigLeft: return "−10"
        case .bigRight: return "+10"
        case .add: return "add"
        case .remove: return "remove"
        case .moveUp: return "move earlier"
        case .moveDown: return "move later"
        case .generate: return "generate"
        case .cancel: return "cancel"
        case .export: return "export"
        case .stepThrough: return "step through"
        case .compare: return "compare"
        case .previousStep: return "step back"
        case .nextStep: return "step on"
        case .toggleNoisy: return "x̂0/x_t"
        case .previousFrame: return "frame back"
        case .nextFrame: return "frame on"
        case .play: return "play"
        case .save: return "save"
        case .escape: return "close"
        case .redraw: return "redraw"
        }
    }

    /// Short key hints for the status bar: the focused pane's and the mode's keys, then the main global ones, each
    /// action once; without `bigSteps` (a field that H and L move by one step, as h and l do) H and L are left out
    /// rather than called ±10. Moving between rows (↑/↓) goes without saying.
    public static func hints(for context: KeyContext, mode: KeyContext? = nil, bigSteps: Bool = true) -> String {
        let globals = ["g", "e", "t", "v", "?", "q"].compactMap { g in bindings.first { $0.label == g } }
        var chosen: [KeyBinding] = []
        for b in bindings.filter({ $0.context == context }) + bindings.filter({ $0.context == mode }) + globals
        where ![.up, .down].contains(b.action) && (bigSteps || ![.bigLeft, .bigRight].contains(b.action))
            && !chosen.contains(where: { $0.action == b.action })
        {
            chosen.append(b)
        }
        return chosen.map { "\($0.label) \(hintName($0.action))" }.joined(separator: "  ")
    }
}
