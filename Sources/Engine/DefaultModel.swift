import Foundation

/// Where the model comes from when none is named: one rule for the CLI, compose and the Studio.
public enum DefaultModel {
    /// The shipped models, best first: the motion-space model, then the earlier pixel-space one.
    public static let names = ["mavin-motion.safetensors", "mavin-small.safetensors"]
    public static let relativePath = "Samples/models/" + names[0]

    /// The running executable (/proc/self/exe on Linux, so a symlink or a bare name found on PATH
    /// still leads to the installed binary), else argv[0].
    public static func executable() -> URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    }

    /// `<bin>/../share/mavin`: where `scripts/install.sh` puts the models and themes.
    public static func shareFolder(executable: URL = executable()) -> URL {
        executable.resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/mavin")
    }

    /// The places looked at, in order: --model, $MAVIN_MODEL, the plan's `model`, `share/mavin/models/`
    /// beside the binary, `./Samples/models/`, then beside `folder` (models/… or ../Samples/models/…).
    public static func candidates(
        explicit: String?, plan: String? = nil, near folder: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL = executable()
    ) -> [(path: String, why: String)] {
        var out: [(path: String, why: String)] = []
        if let explicit { out.append((explicit, "--model")) }
        if let env = environment["MAVIN_MODEL"], !env.isEmpty { out.append((env, "$MAVIN_MODEL")) }
        if let plan { out.append((plan, "the plan's model")) }
        let share = shareFolder(executable: executable).appendingPathComponent("models")
        for name in names { out.append((share.appendingPathComponent(name).path, "installed beside the binary")) }
        for name in names { out.append(("Samples/models/" + name, "./Samples/models")) }
        if let folder {
            for name in names {
                out.append(((folder as NSString).appendingPathComponent("models/" + name), "beside the folder"))
                let samples = (folder as NSString).appendingPathComponent("../Samples/models/" + name)
                out.append((samples, "beside the folder"))
            }
        }
        return out
    }

    /// The model of a plan in `folder` (`mavin compose`, the Studio): the same order, the plan's `model` taken
    /// relative to the plan's folder.
    public static func locate(
        explicit: String?, for plan: Plan, in folder: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> URL {
        let fromPlan = plan.model.map { $0.hasPrefix("/") ? $0 : (folder as NSString).appendingPathComponent($0) }
        let found = try locateWithReason(explicit: explicit, plan: fromPlan, near: folder, environment: environment)
        if found.why == "the plan's model" && !FileManager.default.fileExists(atPath: found.url.path) {
            throw EngineError.planModelMissing(found.url.path)
        }
        return found.url
    }

    /// The first candidate that exists. --model, $MAVIN_MODEL and the plan's model are taken as given (a missing
    /// file is then the loader's error, naming it: a model the user named is never silently replaced by another),
    /// the rest only when they exist.
    public static func locate(
        explicit: String?, plan: String? = nil, near folder: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL = executable()
    ) throws -> URL {
        try locateWithReason(
            explicit: explicit, plan: plan, near: folder, environment: environment,
            executable: executable
        ).url
    }

    public static func locateWithReason(
        explicit: String?, plan: String? = nil, near folder: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL = executable()
    ) throws -> (url: URL, why: String) {
        let all = candidates(
            explicit: explicit, plan: plan, near: folder, environment: environment,
            executable: executable)
        for c in all where c.why == "--model" || c.why == "$MAVIN_MODEL" || c.why == "the plan's model" {
            return (URL(fileURLWithPath: c.path), c.why)
        }
        for c in all where FileManager.default.fileExists(atPath: c.path) {
            return (URL(fileURLWithPath: c.path), c.why)
        }
        throw EngineError.noModel(lookedAt: all.map(\.path))
    }
}
