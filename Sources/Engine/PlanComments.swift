import Foundation

/// The comments a person wrote in a plan file, so that saving the plan over it keeps them: the opening and closing
/// comment blocks, and for each `[[clip]]` (by its path) and each `[[junction]]` (by its place) the comment lines just
/// above its header, the comment on the header's line and those after its keys. Comments on the top-level keys
/// (model, output, fps, fit) are kept per key. What a saved plan no longer has (a clip taken out, a junction
/// gone) takes its comments with it.
public struct PlanComments: Equatable, Sendable {
    /// Comments of one table or of the top level.
    public struct Table: Equatable, Sendable {
        /// Whole comment lines just above the table's header, as written.
        public var above: [String] = []
        /// The comment on the header's line (without the "#").
        public var header: String?
        /// The comment after each key's value (without the "#").
        public var keys: [String: String] = [:]
    }

    /// The comment lines before the first key or table, as written.
    public var opening: [String] = []
    public var top = Table()
    public var clips: [String: Table] = [:]
    public var junctions: [Table] = []
    /// The comment lines after the last key, as written.
    public var closing: [String] = []

    public init() {}

    /// The comments of a plan's text (a plan that parses; anything else is read as far as it goes).
    public init(text: String) {
        var pending: [String] = []
        var inOpening = true
        /// Where the lines being read belong: the top level, a clip (its path is known only at its `path` key),
        /// or junction k.
        enum Place {
            case top
            case clip(Table, path: String?)
            case junction(Int)
        }
        var place = Place.top
        func closeClip() {
            if case .clip(let table, let path?) = place { clips[path] = table }
        }
        for raw in text.components(separatedBy: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty {
                if inOpening && !opening.isEmpty { inOpening = false }
                continue
            }
            if line.hasPrefix("#") {
                if inOpening { opening.append(raw) } else { pending.append(raw) }
                continue
            }
            inOpening = false
            let (code, comment) = Self.split(line)
            if code.hasPrefix("[[") {
                closeClip()
                var table = Table()
                table.above = pending
                table.header = comment
                pending = []
                if code.hasPrefix("[[clip") {
                    place = .clip(table, path: nil)
                } else {
                    junctions.append(table)
                    place = .junction(junctions.count - 1)
                }
                continue
            }
            pending = []
            let key = code.split(separator: "=", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard let key else { continue }
            switch place {
            case .top:
                if let comment { top.keys[key] = comment }
            case .clip(var t, let path):
                if let comment { t.keys[key] = comment }
                place = .clip(t, path: key == "path" ? Self.stringValue(code) : path)
            case .junction(let k):
                if let comment { junctions[k].keys[key] = comment }
            }
        }
        closeClip()
        closing = pending
    }

    /// A line's code and its comment: the text after the first "#" outside a quoted string.
    static func split(_ line: String) -> (code: String, comment: String?) {
        var quoted = false
        var escaped = false
        for (i, ch) in line.enumerated() {
            if escaped {
                escaped = false
            } else if ch == "\\" && quoted {
                escaped = true
            } else if ch == "\"" {
                quoted.toggle()
            } else if ch == "#" && !quoted {
                let code = String(line.prefix(i)).trimmingCharacters(in: .whitespaces)
                return (code, String(line.dropFirst(i + 1)).trimmingCharacters(in: .whitespaces))
            }
        }
        return (line, nil)
    }

    /// The string of a `key = "value"` line (basic strings with \" and \\ escapes).
    static func stringValue(_ code: String) -> String? {
        guard let eq = code.firstIndex(of: "=") else { return nil }
        let v = code[code.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        guard v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") else { return nil }
        return String(v.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            .replacingOccurrences(of: "\\\\", with: "\\")
    }
}
