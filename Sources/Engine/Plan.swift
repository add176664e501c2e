import Core
import Foundation
import Media
import TOMLKit

/// A composition: ordered clips and, per junction, where to cut and how to generate.
/// The same TOML file is read by `mavin compose` and saved by the Studio.
///
/// ```toml
/// model = "models/mavin-motion.safetensors"  # optional, relative to the plan
/// output = "composed.mp4"                   # optional
/// fps = 25                                  # optional: the output's rate (default: the first clip's);
///                                           # clips at other rates are conformed by their timestamps
///
/// [[clip]]
/// path = "graze.mp4"
///
/// [[clip]]
/// path = "rear.mp4"
///
/// [[junction]]          # between clip 1 and clip 2
/// s = 59                # last frame of clip 1 kept (boundary frame xˢ)
/// e = 0                 # first frame of clip 2 kept (boundary frame xᵉ)
/// length = 10           # frames to generate
/// mode = "insert"       # or "regenerate"
/// f0 = 0.6
/// lambda = 0.1
/// gfm = false
/// steps = 1
/// strength = 0.5       # share of the model's correction to its anchor (0 = the anchor alone)
/// seed = 0
/// ```
public struct Plan: Equatable, Sendable {
    public struct Clip: Equatable, Sendable {
        public var path: String
        public init(path: String) { self.path = path }
    }

    public struct Junction: Equatable, Sendable {
        /// nil: the preceding clip's last frame.
        public var s: Int?
        /// nil: the following clip's first frame (0).
        public var e: Int?
        public var length: Int = 10
        public var mode: InfillMode = .insert
        public var settings = SamplerSettings()
        public init() {}
    }

    public var clips: [Clip] = []
    public var junctions: [Junction] = []
    public var model: String?
    public var output: String?
    /// Frames per second of the output; nil: the first clip's.
    public var fps: Double?
    /// How a clip of another size or aspect ratio is fitted to the output (the first clip's size): its frames and
    /// the transitions to and from it alike; nil: `Plan.defaultFit`.
    public var fit: Fit?
    /// Crop: every frame fills the picture, as an editor's "fill"; the transitions are generated between
    /// full pictures, with no bars moving in or out (Samples/models/README.md compares the three).
    public static let defaultFit = Fit.crop

    public init(clips: [Clip] = [], junctions: [Junction] = []) {
        self.clips = clips
        self.junctions = junctions
    }

    /// The same plan with its clip and model paths, which are relative to the plan's folder, made
    /// relative to another folder where the file is below it, else absolute: what `:w` to
    /// another place and `:open` of a plan elsewhere need, so that the paths still name the same files.
    public func rebased(from old: String, to new: String) -> Plan {
        let base = URL(fileURLWithPath: new).standardizedFileURL.path
        func move(_ path: String) -> String {
            let joined = path.hasPrefix("/") ? path : (old as NSString).appendingPathComponent(path)
            let absolute = URL(fileURLWithPath: joined).standardizedFileURL.path
            let prefix = base.hasSuffix("/") ? base : base + "/"
            return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : absolute
        }
        var out = self
        out.clips = clips.map { Clip(path: move($0.path)) }
        out.model = model.map(move)
        out.output = output.map(move)
        return out
    }

    /// Keeps one junction per adjacent pair (new ones get defaults).
    public mutating func normaliseJunctions() {
        let n = max(0, clips.count - 1)
        if junctions.count > n { junctions.removeLast(junctions.count - n) }
        while junctions.count < n { junctions.append(Junction()) }
    }

    public static func parse(_ text: String, source: String = "plan") throws -> Plan {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw PlanError.syntax(
                source, line: Int(e.source.begin.line), column: Int(e.source.begin.column), message: e.description)
        }
        var plan = Plan()
        /// Where a top-level key is written, for its message: "source:line".
        func at(_ key: String) -> String { source + (Plan.line(ofTopLevel: key, in: text).map { ":\($0)" } ?? "") }
        // model and output are paths: quoted and not empty.
        for key in ["model", "output"] {
            guard let v = table[key] else { continue }
            guard let path = v.string else {
                throw PlanError.invalid(
                    at(key), "\(key) must be a quoted path, e.g. \(key) = \"\(Plan.example(key))\" (got \(v))")
            }
            guard !path.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw PlanError.invalid(at(key), "\(key) is empty: name a file, e.g. \(key) = \"\(Plan.example(key))\"")
            }
            if key == "model" { plan.model = path } else { plan.output = path }
        }
        for key in ["clip", "junction"] where table[key] != nil && table[key]?.array == nil {
            throw PlanError.invalid(at(key), "\(key) must be written as [[\(key)]] tables, one for each \(key)")
        }
        for key in table.keys where !["model", "output", "fps", "fit", "clip", "junction"].contains(key) {
            let allowed = "model, output, fps, fit, [[clip]], [[junction]]"
            throw PlanError.invalid(source, "unknown key '\(key)' (allowed: \(allowed))")
        }
        if let v = table["fps"] {
            guard let rate = v.double ?? v.int.map(Double.init), rate.isFinite, rate >= 1, rate <= 240 else {
                throw PlanError.invalid(
                    at("fps"), "fps must be a number from 1 to 240 (frames per second of the output)")
            }
            plan.fps = rate
        }
        if let v = table["fit"] {
            guard let name = v.string, let fit = Fit(rawValue: name) else {
                let choices = Fit.allCases.map(\.rawValue).joined(separator: ", ")
                throw PlanError.invalid(
                    at("fit"), "fit must be one of \(choices) (how clips of another size fill the output), got \(v)")
            }
            plan.fit = fit
        }
        for (i, c) in (table["clip"]?.array ?? TOMLArray()).enumerated() {
            guard let t = c.table, let path = t["path"]?.string else {
                throw PlanError.invalid(source, "clip \(i + 1) needs path = \"…\"")
            }
            for key in t.keys where key != "path" {
                throw PlanError.invalid(source, "clip \(i + 1): unknown key '\(key)' (a [[clip]] holds only path)")
            }
            plan.clips.append(Clip(path: path))
        }
        for (i, j) in (table["junction"]?.array ?? TOMLArray()).enumerated() {
            guard let t = j.table else { throw PlanError.invalid(source, "junction \(i + 1) is not a table") }
            var junction = Junction()
            for key in t.keys.sorted() {
                let line = Plan.line(of: key, inJunction: i, of: text).map { ":\($0)" } ?? ""
                guard let setting = JunctionSettings.setting(key) else {
                    throw PlanError.invalid(
                        source + line, "junction \(i + 1): " + JunctionSettings.unknown(key).description)
                }
                let value = t[key]!
                let number = value.int.map(String.init) ?? value.double.map { String($0) }
                let written = number ?? value.bool.map(String.init) ?? value.string ?? "\(value)"
                do {
                    try setting.apply(written, to: &junction)
                } catch {
                    throw PlanError.invalid(source + line, "junction \(i + 1): \(error)")
                }
                // A right value of the wrong TOML type: numbers and flags bare, choices quoted.
                let wantsQuotes = setting.kind.isQuotedInTOML
                if (value.string != nil) != wantsQuotes {
                    let fix: String
                    switch setting.kind {
                    case .flag: fix = "\(key) = true or \(key) = false"
                    case .choice: fix = "\(key) = \"\(written)\""
                    case .integer, .number: fix = "\(key) = \(written)"
                    }
                    throw PlanError.invalid(
                        source + line,
                        "junction \(i + 1): \(key) is \(setting.kind.rule), written "
                            + (wantsQuotes ? "in quotes" : "without quotes") + ": \(fix)")
                }
            }
            plan.junctions.append(junction)
        }
        guard plan.junctions.count <= max(0, plan.clips.count - 1) else {
            throw PlanError.invalid(
                source,
                "\(plan.junctions.count) junctions for \(plan.clips.count) clips: at most one "
                    + "between each pair of clips (fewer is fine: the missing ones take the defaults)")
        }
        plan.normaliseJunctions()
        return plan
    }

    /// The 1-based line of a top-level `key = …` of `text` (before any table), for messages.
    static func line(ofTopLevel key: String, in text: String) -> Int? {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { return nil }
            guard line.hasPrefix(key) else { continue }
            if line.dropFirst(key.count).trimmingCharacters(in: .whitespaces).hasPrefix("=") { return n + 1 }
        }
        return nil
    }

    /// A path to show in a message about `key`.
    static func example(_ key: String) -> String { key == "model" ? "model.safetensors" : "composed.mp4" }

    /// The 1-based line of `key = …` inside the (i+1)-th `[[junction]]` table of `text`, for messages.
    static func line(of key: String, inJunction i: Int, of text: String) -> Int? {
        var seen = -1
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                seen += line.hasPrefix("[[junction]]") ? 1 : 0
                if seen > i { return nil }
                continue
            }
            guard seen == i, line.hasPrefix(key) else { continue }
            let rest = line.dropFirst(key.count).trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix("=") { return n + 1 }
        }
        return nil
    }

    public static func read(_ url: URL) throws -> Plan {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw PlanError.missing(url.path)
        }
        guard !isFolder.boolValue else { throw PlanError.folder(url.path) }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw PlanError.unreadable(url.path) }
        return try parse(text, source: url.path)
    }

    /// The plan as commented TOML, with a person's own comments where `comments` has them (`PlanComments`: those
    /// of the file being saved over), else the plan's stock ones.
    public func toml(comments: PlanComments = PlanComments()) -> String {
        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func line(_ code: String, _ comment: String?) -> String {
            code + (comment.map { "  # " + $0 } ?? "") + "\n"
        }
        func block(_ lines: [String]) -> String { lines.map { $0 + "\n" }.joined() }
        var out =
            comments.opening.isEmpty
            ? "# Mavin composition plan: ordered clips and the transitions between them.\n"
            : block(comments.opening)
        let top = comments.top.keys
        if let model { out += line("model = \(q(model))", top["model"]) }
        if let output { out += line("output = \(q(output))", top["output"]) }
        if let fps { out += line("fps = \(fps)", top["fps"]) }
        if let fit { out += line("fit = \(q(fit.rawValue))", top["fit"]) }
        for c in clips {
            let own = comments.clips[c.path]
            out += "\n" + block(own?.above ?? []) + line("[[clip]]", own?.header)
            out += line("path = \(q(c.path))", own?.keys["path"])
        }
        for (i, j) in junctions.enumerated() {
            let own = i < comments.junctions.count ? comments.junctions[i] : nil
            out += "\n" + block(own?.above ?? [])
            out += line("[[junction]]", own?.header ?? "between clip \(i + 1) and clip \(i + 2)")
            for setting in JunctionSettings.all {
                guard let value = setting.value(of: j) else { continue }
                let written = setting.kind.isQuotedInTOML ? q(value) : value
                out += line("\(setting.key) = " + written, own?.keys[setting.key])
            }
        }
        if !comments.closing.isEmpty { out += "\n" + block(comments.closing) }
        return out
    }
}

public enum PlanError: Error, CustomStringConvertible, Equatable {
    case syntax(String, line: Int, column: Int, message: String)
    case invalid(String, String)
    case unreadable(String)
    case missing(String)
    case folder(String)

    public var description: String {
        switch self {
        case .syntax(let p, let l, let c, let m): return "\(p):\(l):\(c): TOML syntax error: \(m)"
        case .invalid(let p, let m): return "\(p): \(m)"
        case .unreadable(let p): return "'\(p)' cannot be read as a UTF-8 text file"
        case .missing(let p): return "no such plan: '\(p)' (check the path; `mavin studio FOLDER` writes one with w)"
        case .folder(let p): return "'\(p)' is a folder, not a plan: name its .toml file"
        }
    }
}
