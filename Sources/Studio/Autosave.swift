import Engine
import Foundation

/// Where the Studio keeps the plan between sessions: outside the user's folder (which may be a git
/// checkout), in `$XDG_STATE_HOME/mavin/sessions/` or `~/.local/state/mavin/sessions/`, one file per
/// folder, named after the folder's absolute path.
enum Autosave {
    /// The autosave of `folder`; `environment` supplies XDG_STATE_HOME and HOME.
    static func location(folder: String, environment: [String: String]) -> URL {
        let absolute = URL(fileURLWithPath: folder).standardizedFileURL.path
        let state: URL
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            state = URL(fileURLWithPath: xdg)
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            state = URL(fileURLWithPath: home).appendingPathComponent(".local/state")
        }
        return state.appendingPathComponent("mavin/sessions").appendingPathComponent(fileName(for: absolute))
    }

    /// `%work%clips.toml` for `/work/clips`, readable in a listing; a long path becomes its last component
    /// and a stable 64-bit FNV-1a hash of the whole path, within the file-name limit.
    static func fileName(for absolute: String) -> String {
        let readable = absolute.replacingOccurrences(of: "/", with: "%")
        if readable.utf8.count <= 200 { return readable + ".toml" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in absolute.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let last = String((absolute as NSString).lastPathComponent.prefix(100))
        return last + "-" + String(hash, radix: 16) + ".toml"
    }

    /// What to open at start: an explicit plan, else the autosave when it holds something the folder's
    /// plan.toml does not (said on the status line), else plan.toml. An autosave equal to the plan on disk
    /// is the plan itself and opens silently as it.
    enum Choice: Equatable {
        case explicit(String)
        case restored(String)
        case plan(String)
        case none
    }

    static func choose(explicit: String?, autosave: URL, planFile: String) -> Choice {
        if let explicit { return .explicit(explicit) }
        let fm = FileManager.default
        let hasPlan = fm.fileExists(atPath: planFile)
        guard fm.fileExists(atPath: autosave.path) else { return hasPlan ? .plan(planFile) : .none }
        guard hasPlan else { return .restored(autosave.path) }
        // An autosave that cannot be read loses to the plan; one that reads the same as the plan is the plan.
        guard let saved = try? Plan.read(autosave) else { return .plan(planFile) }
        guard let onDisk = try? Plan.read(URL(fileURLWithPath: planFile)) else { return .restored(autosave.path) }
        return saved == onDisk ? .plan(planFile) : .restored(autosave.path)
    }
}
