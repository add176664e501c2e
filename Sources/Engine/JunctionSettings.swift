import Core
import Foundation
import MavinModel

/// What a junction setting holds, with its allowed values.
public enum SettingKind: Sendable {
    case integer(ClosedRange<Int>)
    case number(ClosedRange<Float>)
    case flag
    case choice([String])

    /// Whether a plan writes the value as a TOML string (a choice) rather than bare (numbers and flags).
    public var isQuotedInTOML: Bool {
        if case .choice = self { return true }
        return false
    }

    /// The rule, as every refusal states it.
    public var rule: String {
        switch self {
        case .integer(let r) where r.upperBound == Int.max: return "an integer ≥ \(r.lowerBound), at most \(Int.max)"
        case .integer(let r): return "an integer within \(r.lowerBound)…\(r.upperBound)"
        case .number(let r): return String(format: "a number within %g…%g", r.lowerBound, r.upperBound)
        case .flag: return "on or off (true/false, yes/no, 1/0)"
        case .choice(let values): return values.joined(separator: " or ")
        }
    }
}

/// A setting that was given a value it cannot hold.
public struct SettingError: Error, CustomStringConvertible, Equatable {
    public var key: String
    public var text: String
    public var rule: String
    public var description: String { "\(key) must be \(rule) (got '\(text)')" }
}

/// One setting of a junction: key, kind and range, help, and where it lives in `Plan.Junction`.
public struct JunctionSetting: Sendable {
    public let key: String
    /// The inspector's increment for one press (h/l).
    public let step: Double
    public let kind: SettingKind
    public let help: String
    /// A sampler setting (`SamplerSettings`): also an `eval --variant` key.
    public let sampler: Bool
    let get: @Sendable (Plan.Junction) -> String?
    let set: @Sendable (inout Plan.Junction, String) -> Void

    /// The value as the table writes it (nil: not set, the default applies).
    public func value(of junction: Plan.Junction) -> String? { get(junction) }

    /// Checks `text` against the kind and range and stores it.
    public func apply(_ text: String, to junction: inout Plan.Junction) throws {
        set(&junction, try normalised(text))
    }

    /// `text` as the kind's canonical spelling, or the refusal.
    func normalised(_ text: String) throws -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        let refusal = SettingError(key: key, text: text, rule: kind.rule)
        switch kind {
        case .integer(let r):
            guard let v = Int(t), r.contains(v) else { throw refusal }
            return String(v)
        case .number(let r):
            guard let v = Float(t), v.isFinite, r.contains(v) else { throw refusal }
            return String(v)
        case .flag:
            if ["on", "true", "yes", "1"].contains(t.lowercased()) { return "true" }
            if ["off", "false", "no", "0"].contains(t.lowercased()) { return "false" }
            throw refusal
        case .choice(let values):
            guard values.contains(t) else { throw refusal }
            return t
        }
    }

    /// A numeric setting moved by `steps` increments of `by`, kept within its range (nil: not numeric).
    public func nudged(_ junction: Plan.Junction, by increment: Double, steps: Int) -> Plan.Junction? {
        var out = junction
        switch kind {
        case .integer(let r):
            let now = Int(value(of: junction) ?? "") ?? r.lowerBound
            // A seed near Int.max stays there rather than overflowing.
            let (sum, overflow) = now.addingReportingOverflow(Int(increment) * steps)
            let wanted = overflow ? (steps > 0 ? Int.max : Int.min) : sum
            set(&out, String(min(r.upperBound, max(r.lowerBound, wanted))))
            return out
        case .number(let r):
            let now = Double(value(of: junction) ?? "") ?? Double(r.lowerBound)
            let wanted = ((now + increment * Double(steps)) * 1000).rounded() / 1000
            set(&out, String(Float(min(Double(r.upperBound), max(Double(r.lowerBound), wanted)))))
            return out
        case .flag, .choice:
            return nil
        }
    }
}

/// The one table of junction settings: plans (with line numbers), the Studio's `:set` and inspector,
/// `eval --variant`, the CLI's options and the infiller's checks all go through it.
public enum JunctionSettings {
    public static let all: [JunctionSetting] = [
        JunctionSetting(
            key: "s", step: 1, kind: .integer(0...Int.max), help: "last frame of the preceding clip kept (xˢ)",
            sampler: false, get: { $0.s.map(String.init) }, set: { $0.s = Int($1) }),
        JunctionSetting(
            key: "e", step: 1, kind: .integer(0...Int.max), help: "first frame of the following clip kept (xᵉ)",
            sampler: false, get: { $0.e.map(String.init) }, set: { $0.e = Int($1) }),
        JunctionSetting(
            key: "length", step: 1, kind: .integer(1...Infiller.longestMotionInfill),
            help: "frames to generate (the model's own range applies)", sampler: false,
            get: { String($0.length) }, set: { $0.length = Int($1)! }),
        JunctionSetting(
            key: "mode", step: 0, kind: .choice(InfillMode.allCases.map(\.rawValue)),
            help: "insert new frames, or regenerate those around the cut", sampler: false,
            get: { $0.mode.rawValue }, set: { $0.mode = InfillMode(rawValue: $1)! }),
        JunctionSetting(
            key: "f0", step: 0.05, kind: .number(0...1), help: "GFM stop frequency", sampler: true,
            get: { String($0.settings.f0) }, set: { $0.settings.f0 = Float($1)! }),
        JunctionSetting(
            key: "lambda", step: 0.01, kind: .number(0...1), help: "GFM decay λ", sampler: true,
            get: { String($0.settings.lambda) }, set: { $0.settings.lambda = Float($1)! }),
        JunctionSetting(
            key: "gfm", step: 0, kind: .flag, help: "Gaussian filter mixer initial noise", sampler: true,
            get: { String($0.settings.gfm) }, set: { $0.settings.gfm = $1 == "true" }),
        JunctionSetting(
            key: "steps", step: 1, kind: .integer(1...1000), help: "DDIM steps", sampler: true,
            get: { String($0.settings.steps) }, set: { $0.settings.steps = Int($1)! }),
        JunctionSetting(
            key: "strength", step: 0.05, kind: .number(0...2),
            help: "share of the model's correction to its anchor (0: the anchor alone)", sampler: true,
            get: { String($0.settings.strength) }, set: { $0.settings.strength = Float($1)! }),
        JunctionSetting(
            key: "ease", step: 2, kind: .number(0...100),
            help: "motion models: how long the frames keep each boundary's pose (0: linear motion; unset: the model's)",
            sampler: true, get: { $0.settings.timeSharpness.map { String($0) } },
            set: { $0.settings.timeSharpness = Float($1)! }),
        JunctionSetting(
            key: "easing", step: 0, kind: .choice(TimeEasing.allCases.map(\.rawValue)),
            help:
                "motion models: ease every point's time (uniform), all but the camera's motion (camera), that and "
                + "at the clips' own pace at each end (references), the camera paced too (paced) (unset: the model's)",
            sampler: true, get: { $0.settings.timeEasing?.rawValue },
            set: { $0.settings.timeEasing = TimeEasing(rawValue: $1)! }),
        JunctionSetting(
            key: "carry", step: 0.5, kind: .number(0...12),
            help: "motion models: frames over which each clip's own motion at its boundary carries into the "
                + "transition, fading out by its middle (0: none; unset: 2)",
            sampler: true, get: { $0.settings.carry.map { String($0) } },
            set: { $0.settings.carry = Float($1)! }),
        JunctionSetting(
            key: "warp", step: 0, kind: .choice(WarpFilter.allCases.map(\.rawValue)),
            help: "motion models: how frames sample the clips' pixels: bicubic (unset; as sharp as the clips) or "
                + "bilinear (softer, a little higher PSNR)",
            sampler: true, get: { $0.settings.warp?.rawValue },
            set: { $0.settings.warp = WarpFilter(rawValue: $1)! }),
        JunctionSetting(
            key: "eta", step: 0.05, kind: .number(0...1), help: "DDIM η (0: deterministic)", sampler: true,
            get: { String($0.settings.eta) }, set: { $0.settings.eta = Float($1)! }),
        JunctionSetting(
            key: "seed", step: 1, kind: .integer(0...Int.max), help: "noise seed", sampler: true,
            get: { String($0.settings.seed) }, set: { $0.settings.seed = UInt64($1)! }),
        JunctionSetting(
            key: "detail", step: 0, kind: .flag, help: "pixel models: add back the detail the codec drops",
            sampler: true, get: { String($0.settings.detail) }, set: { $0.settings.detail = $1 == "true" })
    ]

    public static var keys: [String] { all.map(\.key) }

    public static func setting(_ key: String) -> JunctionSetting? { all.first { $0.key == key } }

    /// The refusal of an unknown key, listing the valid ones.
    public static func unknown(_ key: String, samplerOnly: Bool = false) -> EngineError {
        .unknownSetting(key: key, valid: all.filter { !samplerOnly || $0.sampler }.map(\.key))
    }

    /// A junction with `(key, value)` pairs applied in order, each checked by its row (the CLI's options).
    public static func junction(_ pairs: [(key: String, value: String)], base: Plan.Junction = Plan.Junction()) throws
        -> Plan.Junction
    {
        var junction = base
        for (key, value) in pairs {
            guard let s = setting(key) else { throw unknown(key) }
            try s.apply(value, to: &junction)
        }
        return junction
    }

    /// A setting's help with its rule, as an option's help text says it ("DDIM steps (an integer within 1…1000)").
    public static func help(_ key: String) -> String {
        guard let s = setting(key) else { return key }
        return "\(s.help.prefix(1).uppercased())\(s.help.dropFirst()) (\(s.kind.rule))."
    }

    /// Sampler settings with `key=value` pairs applied (`eval --variant`), e.g. "gfm=off,steps=2".
    public static func sampler(_ base: SamplerSettings, applying pairs: String) throws -> SamplerSettings {
        var junction = Plan.Junction()
        junction.settings = base
        for part in pairs.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { throw SettingError(key: String(part), text: pairs, rule: "written key=value") }
            guard let s = setting(kv[0]), s.sampler else {
                throw unknown(kv[0], samplerOnly: true)
            }
            try s.apply(kv[1], to: &junction)
        }
        return junction.settings
    }

    /// The first sampler setting outside its range, as its refusal (nil: all fine).
    public static func check(_ settings: SamplerSettings) -> String? {
        var junction = Plan.Junction()
        junction.settings = settings
        for s in all where s.sampler {
            guard let text = s.value(of: junction) else { continue }
            do {
                _ = try s.normalised(text)
            } catch {
                return "\(error)"
            }
        }
        return nil
    }
}
