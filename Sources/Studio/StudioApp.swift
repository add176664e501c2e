import CNcurses
import CCursesShim
import Core
import Engine
import Foundation
import MavinModel
import Media
import Metrics

/// The terminal workstation: library, sequence, junction inspector, preview, job
/// monitor. Events flow one way: job → event queue → state → draw; the engine never
/// touches the screen and drawing never waits for the engine.
public final class StudioApp {
    public struct Clip {
        public var name: String
        public var info: VideoInfo?
        public var error: String?
    }

    enum Pane: Int, CaseIterable { case library, sequence, junction, preview }
    /// The inspector's fields, in order: each is a row of `JunctionSettings`.
    enum Field: String, CaseIterable {
        case s, e, length, mode, f0, lambda, gfm, steps, strength, seed
        var setting: JunctionSetting { JunctionSettings.setting(rawValue)! }
        var index: Int { Field.allCases.firstIndex(of: self)! }
    }

    /// A job running in the background and what it last reported.
    final class Job {
        let kind: String
        let cancel = CancelFlag()
        var step = 0, total = 1
        var timestep = 0
        var eta = 0.0
        var clipRS: [Double] = []
        /// Smoothness against the clips' own pace (no truth needed), per step.
        var paceRS: [Double] = []
        var preview: [RGBImage] = []
        var done = false
        var failed: String?
        init(kind: String) { self.kind = kind }
    }

    public static let videoExtensions: Set<String> = ["mp4", "m4v", "mov", "mkv", "webm", "avi", "gif"]

    let folder: String
    var theme: Theme
    let caps: Capabilities
    var clips: [Clip] = []
    var plan = Plan()
    var focus = Pane.library
    var librarySel = 0, sequenceSel = 0, field = Field.s
    var model: MavinModel?
    var modelNote = ""
    var job: Job?
    var results: [Int: InfillResult] = [:]
    /// What each result was made from; a result whose junction or clips have changed since is dropped.
    var resultSources: [Int: ResultSource] = [:]

    /// A junction's settings and its two clips, as a result was made from them.
    struct ResultSource: Equatable, Sendable {
        var junction: Plan.Junction
        var clips: [String]
    }

    func source(of j: Int) -> ResultSource? {
        guard j + 1 < plan.clips.count, j < plan.junctions.count else { return nil }
        return ResultSource(junction: plan.junctions[j], clips: [plan.clips[j].path, plan.clips[j + 1].path])
    }
    var stepping = false, stepIndex = 0, showNoisy = false
    var comparing = false
    var frameIndex = 0, playing = false
    var message = ""
    var commandLine: String?
    var confirm: (prompt: String, action: () -> Void)?
    var showHelp = false
    var quitRequested = false
    private var readers: [String: VideoReader] = [:]
    private var thumbCache: [String: RGBImage] = [:]
    private let events = EventQueue()
    /// The engine's job runner: one job at a time, cancellable.
    let runner = JobRunner()
    var pendingImages: [(row: Int, col: Int, cols: Int, rows: Int, image: RGBImage)] = []
    var lastImageKey = ""
    var lastImageRects: [(row: Int, col: Int, cols: Int, rows: Int)] = []
    var helpScroll = 0
    /// kitty: content key → image id already stored in the terminal, oldest first.
    var kittyIDs: [Int: Int] = [:]
    var kittyOrder: [Int] = []
    var nextKittyID = 1

    public init(
        folder: String, plan planPath: String? = nil, theme: Theme = .builtIn, capabilities: Capabilities? = nil
    ) {
        self.folder = folder
        self.theme = theme
        self.caps = capabilities ?? Capabilities.detect()
        clips = Self.library(folder: folder)
        loadPlan(explicit: planPath)
        loadModel()
        if let warning = caps.warning { message = message.isEmpty ? warning : warning + "; " + message }
    }

    /// The clips of a folder, sorted by name; unreadable files are listed with their error.
    public static func library(folder: String) -> [Clip] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter {
            videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) && !$0.hasPrefix(".")
        }.sorted().map { name in
            let path = (folder as NSString).appendingPathComponent(name)
            do { return Clip(name: name, info: try VideoReader(path: path).info, error: nil) } catch {
                return Clip(name: name, info: nil, error: "\(error)")
            }
        }
    }

    var autosaveURL: URL { URL(fileURLWithPath: folder).appendingPathComponent(".mavin-autosave.toml") }

    func loadPlan(explicit: String?) {
        let candidates: [String] = [
            explicit, autosaveURL.path, (folder as NSString).appendingPathComponent("plan.toml")
        ].compactMap { $0 }
        for c in candidates where FileManager.default.fileExists(atPath: c) {
            do {
                plan = try Plan.read(URL(fileURLWithPath: c))
                let missing = plan.clips.filter { p in !clips.contains { $0.name == p.path && $0.info != nil } }.map(
                    \.path)
                plan.clips = plan.clips.filter { p in clips.contains { $0.name == p.path && $0.info != nil } }
                plan.normaliseJunctions()
                message =
                    c == autosaveURL.path ? "restored your last session" : "opened \((c as NSString).lastPathComponent)"
                if !missing.isEmpty {
                    message +=
                        "; left out \(missing.count) clip(s) not found or unreadable in \(folder): "
                        + missing.joined(separator: ", ")
                }
                return
            } catch { message = "could not open \(c): \(error)" }
        }
    }

    func loadModel() {
        do {
            // The one rule (DefaultModel): $MAVIN_MODEL, the plan's model, then the installed and sample models.
            let url = try DefaultModel.locate(explicit: nil, for: plan, in: folder)
            let m = try MavinModel.load(url)
            model = m
            let c = m.config
            modelNote = "model \(c.name) L=\(c.frames) l \(c.ranges.shortest)…\(c.ranges.longest), \(m.step) steps"
        } catch {
            modelNote = "no model: \(error)"
        }
    }

    /// Writes the autosave; a failure (a read-only folder, a full disk) is said on the status line and returned.
    @discardableResult
    func autosave() -> String? {
        do {
            try AtomicOutput.write(Data(plan.toml().utf8), to: autosaveURL, overwrite: true)
            return nil
        } catch {
            let problem = "could not autosave to \(autosaveURL.path) (\(error)); save the plan elsewhere with :w PATH"
            message = problem
            return problem
        }
    }

    // MARK: frames

    func reader(_ name: String) -> VideoReader? {
        if let r = readers[name] { return r }
        let r = try? VideoReader(path: (folder as NSString).appendingPathComponent(name))
        readers[name] = r
        return r
    }

    func frame(_ name: String, _ index: Int) -> RGBImage? {
        let key = "\(name)#\(index)"
        if let f = thumbCache[key] { return f }
        guard let r = reader(name), index >= 0, index < r.frameCount,
            let f = try? r.frame(
                at: index, size: (128, 128 * max(1, r.info.height) / max(1, r.info.width)), fit: .stretch)
        else { return nil }
        if thumbCache.count > 400 { thumbCache.removeAll() }
        thumbCache[key] = f
        return f
    }

    func frames(of name: String) -> Int { reader(name)?.frameCount ?? 0 }

    /// (s, e) of junction j with defaults filled in.
    func boundaries(_ j: Int) -> (s: Int, e: Int) {
        (plan.junctions[j].s ?? max(0, frames(of: plan.clips[j].path) - 1), plan.junctions[j].e ?? 0)
    }

    var selectedJunction: Int? {
        guard plan.clips.count >= 2 else { return nil }
        return min(max(0, sequenceSel), plan.clips.count - 2)
    }

    /// Ground truth for junction j when both sides are the same video and the gap is exactly the length.
    func truth(_ j: Int) -> [RGBImage]? {
        let a = plan.clips[j].path
        let b = plan.clips[j + 1].path
        let (s, e) = boundaries(j)
        guard a == b, e - s - 1 == plan.junctions[j].length, let r = reader(a), let m = model else { return nil }
        let R = m.config.resolution
        return try? ((s + 1)..<e).map { try r.frame(at: $0, size: (R, R), fit: .stretch) }
    }

    // MARK: actions

    func perform(_ action: StudioAction) {
        switch action {
        case .quit: quitRequested = true
        case .help: showHelp.toggle()
        case .escape:
            showHelp = false
            stepping = false
            comparing = false
            confirm = nil
        case .nextPane, .previousPane:
            let step = action == .nextPane ? 1 : Pane.allCases.count - 1
            focus = Pane(rawValue: (focus.rawValue + step) % Pane.allCases.count)!
            // Entering the inspector starts on its first field, so H/L never change a field left from last time.
            if focus == .junction { field = .s }
        case .command: commandLine = ""
        case .up, .down:
            let d = action == .up ? -1 : 1
            switch focus {
            case .library:
                librarySel = max(0, min(clips.count - 1, librarySel + d))
                frameIndex = 0
            case .sequence:
                sequenceSel = max(0, min(plan.clips.count - 1, sequenceSel + d))
                frameIndex = 0
            case .junction: field = Field.allCases[max(0, min(Field.allCases.count - 1, field.index + d))]
            case .preview: frameIndex = max(0, frameIndex + d)
            }
        case .left, .right, .bigLeft, .bigRight:
            let big = action == .bigLeft || action == .bigRight
            adjust(by: (action == .left || action == .bigLeft ? -1 : 1) * (big ? 10 : 1))
        case .add:
            guard librarySel < clips.count, clips[librarySel].info != nil else {
                message = "that file cannot be read"
                return
            }
            plan.clips.append(Plan.Clip(path: clips[librarySel].name))
            plan.normaliseJunctions()
            sequenceSel = plan.clips.count - 1
            message = "added \(clips[librarySel].name)"
            planChanged()
        case .remove:
            guard sequenceSel < plan.clips.count else { return }
            plan.clips.remove(at: sequenceSel)
            if sequenceSel < plan.junctions.count {
                plan.junctions.remove(at: sequenceSel)
            } else if !plan.junctions.isEmpty {
                plan.junctions.removeLast()
            }
            plan.normaliseJunctions()
            sequenceSel = max(0, min(sequenceSel, plan.clips.count - 1))
            results.removeAll()
            planChanged()
        case .moveUp, .moveDown:
            let to = sequenceSel + (action == .moveUp ? -1 : 1)
            guard to >= 0, to < plan.clips.count else { return }
            plan.clips.swapAt(sequenceSel, to)
            sequenceSel = to
            results.removeAll()
            planChanged()
        case .generate: generate()
        case .cancel:
            if let job, !job.done {
                job.cancel.cancel()
                message = "cancelling…"
            } else {
                message = "no job is running"
            }
        case .export: requestExport(path: nil)
        case .stepThrough:
            guard let j = selectedJunction, let r = results[j], !r.steps.isEmpty else {
                message = "generate first (g), then step through"
                return
            }
            stepping.toggle()
            comparing = false
            stepIndex = r.steps.count - 1
        case .compare:
            guard let j = selectedJunction, results[j] != nil else {
                message = "generate first (g)"
                return
            }
            guard truth(j) != nil else {
                message = "no ground truth here: use one video on both sides with e − s − 1 = length"
                return
            }
            comparing.toggle()
            stepping = false
        case .previousStep: stepIndex = max(0, stepIndex - 1)
        case .nextStep:
            if let j = selectedJunction, let r = results[j] { stepIndex = min(r.steps.count - 1, stepIndex + 1) }
        case .toggleNoisy: showNoisy.toggle()
        case .previousFrame:
            frameIndex = max(0, frameIndex - 1)
            playing = false
        case .nextFrame:
            frameIndex += 1
            playing = false
        case .play: playing.toggle()
        case .save: savePlan(path: nil)
        }
    }

    func planChanged() {
        // The ✓, the compare view and step-through only ever show a result of the junction as it is now.
        for (j, made) in resultSources where source(of: j) != made {
            results[j] = nil
            resultSources[j] = nil
        }
        if let j = selectedJunction, results[j] == nil {
            stepping = false
            comparing = false
        }
        autosave()
        lastImageKey = ""
    }

    func adjust(by d: Int) {
        guard focus == .junction, let j = selectedJunction else { return }
        let setting = field.setting
        var jn = plan.junctions[j]
        let (s, e) = boundaries(j)
        if field == .s { jn.s = s }
        if field == .e { jn.e = e }
        let before = setting.value(of: jn)
        switch setting.kind {
        case .flag:
            try? setting.apply(before == "true" ? "off" : "on", to: &jn)
        case .choice(let values):
            let next = values[((values.firstIndex(of: before ?? "") ?? -1) + 1) % values.count]
            try? setting.apply(next, to: &jn)
        case .integer, .number:
            // s, e, steps and seed move by the press (±1, ±10 with H/L); the others by one increment.
            let presses = [.s, .e, .steps, .seed].contains(field) ? d : d.signum()
            jn = setting.nudged(jn, by: setting.step, steps: presses)!
            if let range = contextRange(field, junction: j), let v = Int(setting.value(of: jn) ?? "") {
                try? setting.apply(String(min(range.upperBound, max(range.lowerBound, v))), to: &jn)
            }
            if setting.value(of: jn) == before {
                message = limitMessage(field, junction: j)
                return
            }
        }
        plan.junctions[j] = jn
        planChanged()
    }

    /// A field's range where the table cannot know it: the clips' frames (s, e) and the model's lengths.
    func contextRange(_ field: Field, junction j: Int) -> ClosedRange<Int>? {
        switch field {
        case .s: return 0...max(0, frames(of: plan.clips[j].path) - 1)
        case .e: return 0...max(0, frames(of: plan.clips[j + 1].path) - 1)
        case .length: return model.map { Infiller(model: $0).allowedLengths } ?? 1...Infiller.longestMotionInfill
        default: return nil
        }
    }

    /// Said when a step would go past a field's range.
    func limitMessage(_ field: Field, junction j: Int) -> String {
        let why: [Field: String] = [
            .s: " (the first clip's frames)", .e: " (the second clip's frames)",
            .length: " (what the model makes)"
        ]
        let range =
            contextRange(field, junction: j).map { "\($0.lowerBound)…\($0.upperBound)" } ?? field.setting.kind.rule
        return "\(field.setting.key) is at its limit: \(range)\(why[field] ?? "")"
    }

    // MARK: jobs

    func generate() {
        guard let model else {
            message = modelNote
            return
        }
        guard let j = selectedJunction else {
            message = "add at least two clips to the sequence (library: a)"
            return
        }
        if let job, !job.done {
            message = "a job is running (c cancels it)"
            return
        }
        let jn = plan.junctions[j]
        guard let made = source(of: j) else { return }
        let a = plan.clips[j].path
        let b = plan.clips[j + 1].path
        let infiller = Infiller(model: model)
        guard let ra = reader(a), let rb = reader(b) else {
            message = "cannot read the clips"
            return
        }
        do {
            let window = try JunctionWindow(before: ra, after: rb, junction: jn, names: (a, b))
            let request = try window.request(for: infiller, truth: truth(j), record: true)
            let job = Job(kind: "infill \(a) → \(b)")
            job.total = jn.settings.steps
            self.job = job
            stepping = false
            comparing = false
            let events = self.events
            start(InfillJob(infiller: infiller, request: request, title: job.kind), cancel: job.cancel) { e in
                switch e {
                case .preview(let p, _): events.push(.progress(p))
                case .finished(.infill(let result)): events.push(.finished(j, made, result))
                default: events.push(job: e)
                }
            }
            message = "generating \(jn.length) frames…"
        } catch {
            message = "\(error)"
        }
    }

    /// Hands a job to the runner; its events reach the UI through the queue, drained at each tick.
    func start(_ job: any Engine.Job, cancel: CancelFlag, events handle: @escaping @Sendable (JobEvent) -> Void) {
        let runner = self.runner
        let events = self.events
        let work = StartedJob(job: job)
        Task {
            do {
                try await runner.start(work.job, cancel: cancel, events: handle)
            } catch {
                events.push(.failed("\(error)"))
            }
        }
    }

    func requestExport(path: String?) {
        guard let model else {
            message = modelNote
            return
        }
        guard plan.clips.count >= 2 else {
            message = "add at least two clips to the sequence first"
            return
        }
        if let job, !job.done {
            message = "a job is running (c cancels it)"
            return
        }
        let target =
            path.map { $0.hasPrefix("/") ? $0 : (folder as NSString).appendingPathComponent($0) }
            ?? (folder as NSString).appendingPathComponent(plan.output ?? "composed.mp4")
        let start = { [self] in
            self.export(to: target, model: model, overwrite: FileManager.default.fileExists(atPath: target))
        }
        if FileManager.default.fileExists(atPath: target) {
            confirm = ("\((target as NSString).lastPathComponent) exists. Overwrite? (y/n)", start)
        } else {
            start()
        }
    }

    func export(to target: String, model: MavinModel, overwrite: Bool) {
        let job = Job(kind: "export \((target as NSString).lastPathComponent)")
        self.job = job
        let composer = Composer(plan: plan, folder: folder)
        let events = self.events
        let compose = ComposeJob(
            composer: composer, model: model, output: URL(fileURLWithPath: target), overwrite: overwrite)
        start(compose, cancel: job.cancel) { e in
            switch e {
            case .progress(let stage, let step, let total, _): events.push(.exportProgress(stage, step, total))
            case .finished(.composed(let path, let n, _)): events.push(.exported(path, n))
            default: events.push(job: e)
            }
        }
        message = "exporting to \(target)…"
    }

    /// A path typed at the command line: absolute, or relative to the current directory as in a shell
    /// when something is there, else relative to the Studio's folder.
    func resolve(_ typed: String) -> String {
        if typed.hasPrefix("/") { return typed }
        let here = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(typed)
        if FileManager.default.fileExists(atPath: here) { return here }
        return (folder as NSString).appendingPathComponent(typed)
    }

    func savePlan(path: String?) {
        let target = path.map(resolve) ?? (folder as NSString).appendingPathComponent("plan.toml")
        // Paths in a plan are relative to its own folder: a plan written elsewhere names the same files.
        let saved = plan.rebased(from: folder, to: (target as NSString).deletingLastPathComponent)
        do {
            try AtomicOutput.write(Data(saved.toml().utf8), to: URL(fileURLWithPath: target), overwrite: true)
            message = "saved \(target)"
        } catch { message = "\(error)" }
    }

    /// `:` commands.
    func execute(_ line: String) {
        let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
        guard let cmd = parts.first else { return }
        switch cmd {
        case "q", "quit": quitRequested = true
        case "w", "write": savePlan(path: parts.count > 1 ? parts[1] : nil)
        case "export": requestExport(path: parts.count > 1 ? parts[1] : nil)
        case "open":
            guard parts.count > 1 else {
                message = "usage: :open PLAN.toml"
                return
            }
            let p = resolve(parts[1])
            do {
                plan = try Plan.read(URL(fileURLWithPath: p)).rebased(
                    from: (p as NSString).deletingLastPathComponent,
                    to: folder)
                plan.normaliseJunctions()
                results.removeAll()
                planChanged()
                message = "opened \(p)"
            } catch {
                message = "\(error)"
            }
        case "set":
            guard parts.count == 3, let j = selectedJunction else {
                message =
                    "usage: :set KEY VALUE with a junction selected; keys: "
                    + JunctionSettings.keys.joined(separator: ", ")
                return
            }
            guard let setting = JunctionSettings.setting(parts[1]) else {
                message = JunctionSettings.unknown(parts[1]).description
                return
            }
            var jn = plan.junctions[j]
            do {
                try setting.apply(parts[2], to: &jn)
            } catch {
                message = "\(error)"
                return
            }
            if let field = Field(rawValue: setting.key), let range = contextRange(field, junction: j),
                let v = Int(setting.value(of: jn) ?? ""), !range.contains(v)
            {
                message = "\(setting.key) must be within \(range.lowerBound)…\(range.upperBound) here (got \(v))"
                return
            }
            plan.junctions[j] = jn
            planChanged()
            message = "\(parts[1]) = \(setting.value(of: jn) ?? parts[2])"
        default: message = "unknown command :\(cmd) (export PATH, set KEY VALUE, open PATH, w [PATH], q)"
        }
    }

    /// Applies what the background job reported since the last tick.
    func drainEvents() {
        for e in events.popAll() {
            switch e {
            case .progress(let p):
                job?.step = p.step
                job?.total = p.total
                job?.timestep = p.timestep
                job?.eta = p.eta
                job?.preview = p.preview
                if let rs = p.clipRS { job?.clipRS.append(rs) }
                if let pace = p.paceRS { job?.paceRS.append(pace) }
                lastImageKey = ""
            case .finished(let j, let made, let r):
                // Edited while it ran: the result is of settings the junction no longer has.
                guard source(of: j) == made else {
                    job?.done = true
                    message = "the junction changed while it was generated: press g again"
                    lastImageKey = ""
                    continue
                }
                results[j] = r
                resultSources[j] = made
                job?.done = true
                frameIndex = 0
                if focus == .library { focus = .preview }  // show what was just made
                message =
                    String(format: "generated %d frames in %.1f s", r.frames.count, r.seconds)
                    + (r.scores.map { String(format: " — CLIP-RS %.3f, PSNR %.2f dB", $0.clip_rs, $0.psnr) } ?? "")
                lastImageKey = ""
            case .failed(let m):
                job?.done = true
                job?.failed = m
                message = m
            case .cancelled:
                job?.done = true
                job?.failed = "cancelled"
                message = "cancelled; nothing was changed"
            case .exportProgress(let label, let d, let n):
                job?.step = d
                job?.total = n
                message = label
            case .exported(let path, let n):
                job?.done = true
                message = "exported \(n) frames to \(path)"
            }
        }
    }
}

/// A job handed to the runner, which alone uses it from then on.
private struct StartedJob: @unchecked Sendable {
    let job: any Engine.Job
}

/// A lock-protected queue of job events (producer: engine thread, consumer: UI tick).
final class EventQueue: @unchecked Sendable {
    enum Event {
        case progress(InfillProgress)
        case finished(Int, StudioApp.ResultSource, InfillResult)
        case failed(String)
        case exportProgress(String, Int, Int)
        case exported(String, Int)
        case cancelled
    }
    /// A job event the Studio shows only by how it ended (or not at all).
    func push(job e: JobEvent) {
        switch e {
        case .failed(let error): push(.failed("\(error)"))
        case .cancelled: push(.cancelled)
        case .finished, .progress, .preview, .score, .log: break
        }
    }
    private let lock = NSLock()
    private var items: [Event] = []
    func push(_ e: Event) {
        lock.lock()
        items.append(e)
        lock.unlock()
    }
    func popAll() -> [Event] {
        lock.lock()
        defer { lock.unlock() }
        let out = items
        items.removeAll()
        return out
    }
}
