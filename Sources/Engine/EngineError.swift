import Core
import Foundation

/// What the engine refuses or stops on, each case saying what was wrong and what to do.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// A training `--data` path that is not there.
    case noSuchData(String)
    case noTrainingVideos(folders: [String])
    /// Every video is shorter than a window (or cut by shots inside every window).
    case noTrainingWindows(framesNeeded: Int)
    case unreadableTrainingLog(path: String, reason: String)
    case noModel(lookedAt: [String])
    /// The plan's `model` names a file that is not there.
    case planModelMissing(String)
    /// A `key=value` setting that no junction setting (or no sampler setting) is called.
    case unknownSetting(key: String, valid: [String])
    case tooFewClips(Int)
    /// A junction's s or e outside its clip's frames.
    /// `junction`: its number in the plan (1-based), when the error is of a plan's junction.
    case boundaryOutsideClip(clip: String, key: String, value: Int, frames: Int, junction: Int? = nil)
    /// A clip whose e (where it starts) comes after its s (where it ends): nothing of it would remain.
    case boundariesCross(clip: String, s: Int, e: Int)
    /// A training option outside its range, or one that needs another.
    case badTrainingOption(option: String, rule: String)
    case invalidConfig(String)
    case resumeMismatch(path: String, saved: String, asked: String, differences: String)
    case stateMismatch(path: String)
    case initShapeMismatch(path: String)
    case diverged(step: Int, loss: Float)
    case cancelled
    /// A new run's checkpoint or one of its side files (state, log, chart) is already there.
    case trainingOutputExists([String])

    public var description: String {
        switch self {
        case .noSuchData(let p): return "'\(p)' does not exist; pass folders or files of training videos with --data"
        case .noTrainingVideos(let folders):
            return "no training videos (.mp4, .mov, .mkv, .webm, .m4v) in \(folders.joined(separator: ", "))"
        case .noTrainingWindows(let n):
            return "no training windows: videos need at least \(n) frames without shot cuts"
        case .unreadableTrainingLog(let p, let why):
            return "training log '\(p)' cannot be read: \(why) (train writes it as CHECKPOINT.log.jsonl)"
        case .noModel(let looked):
            return "no model found (looked for \(looked.joined(separator: ", "))); "
                + "pass --model PATH, set MAVIN_MODEL, or install with scripts/install.sh"
        case .planModelMissing(let path):
            return "the plan's model '\(path)' does not exist; fix the plan's model key (relative to the plan's "
                + "folder) or remove it to use the shipped model"
        case .unknownSetting(let key, let valid):
            return "unknown setting '\(key)' (valid: \(valid.joined(separator: ", ")))"
        case .tooFewClips(let n): return "a composition needs at least two clips (the plan has \(n))"
        case .boundaryOutsideClip(let clip, let key, let value, let n, let junction):
            let place = value < 0 ? "is before its first frame" : "is past its end"
            let which = junction.map { "junction \($0): " } ?? ""
            return "\(which)clip '\(clip)' has \(counted(n, "frame")) (0…\(n - 1)); \(key)=\(value) \(place); "
                + "use 0…\(n - 1)"
        case .boundariesCross(let clip, let s, let e):
            return "clip '\(clip)': s=\(s) comes before e=\(e); nothing of the clip would remain"
        case .badTrainingOption(let option, let rule): return "\(option): \(rule)"
        case .trainingOutputExists(let paths):
            let list = paths.map { "'\($0)'" }.joined(separator: ", ")
            return "\(list) already exist\(paths.count == 1 ? "s" : ""); a new run writes its checkpoint, state, log "
                + "and chart there: continue that run with --resume, or choose another --out"
        case .invalidConfig(let problem): return "config: \(problem)"
        case .resumeMismatch(let path, let saved, let asked, let differences):
            return "--resume: '\(path)' was trained with config '\(saved)' but this run asks for '\(asked)' "
                + "(\(differences)); resume with the checkpoint's own settings (--config \(saved) and the same "
                + "flags) or write a new checkpoint with another --out"
        case .stateMismatch(let p): return "\(p) belongs to a different model config; train with another --out"
        case .initShapeMismatch(let p):
            return "--init-from \(p) has a different network shape; train from scratch instead"
        case .diverged(let step, let loss):
            return "training diverged at step \(step) (loss \(loss)); lower --lr and resume"
        case .cancelled: return "cancelled"
        }
    }
}
