import Foundation

/// Where the model comes from when none is named: one rule for the CLI, compose and the Studio.
public enum DefaultModel {
    /// The shipped models, best first: the motion-space model, then the earlier pixel-space one.
    public static let names = ["mavin-motion.safetensors", "mavin-small.safetensors"]
    public static let relativePath = "Samples/models/" + names[0]

    /// --model, then $MAVIN_MODEL, then ./Samples/models/…, then beside `folder` (models/… or ../Samples/models/…).
    public static func locate(explicit: String?, near folder: String? = nil) throws -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["MAVIN_MODEL"] { candidates.append(env) }
        for name in names {
            candidates.append("Samples/models/" + name)
            if let folder {
                candidates.append((folder as NSString).appendingPathComponent("models/" + name))
                candidates.append((folder as NSString).appendingPathComponent("../Samples/models/" + name))
            }
        }
        for c in candidates where FileManager.default.fileExists(atPath: c) { return URL(fileURLWithPath: c) }
        throw EngineError.badInput("no model found (looked for \(candidates.joined(separator: ", "))); "
            + "pass --model PATH or set MAVIN_MODEL")
    }
}
