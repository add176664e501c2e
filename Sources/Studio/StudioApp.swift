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
        case s, e, length, mode, ease, easing, carry, warp, strength, steps, f0, lambda, gfm, seed
        var setting: JunctionSetting { JunctionSettings.setting(rawValue)! }
        /// The motion model's anchor: its time curve, carry and output filter (nothing to a pixel-space model).
        var shapesTheAnchor: Bool { [.ease, .easing, .carry, .warp].contains(self) }
        /// The network's sampling, which a motion model at strength 0 (its frames the anchor's) does not use.
        var drivesTheNetwork: Bool { [.steps, .f0, .lambda, .gfm, .seed].contains(self) }
        var index: Int { Field.allCases.firstIndex(of: self)! }
        /// Fields that H and L move by 10 presses (the others by one increment, as h and l).
        var movesByPress: Bool { [.s, .e, .steps, .seed].contains(self) }
    }

    /// The job started last (on the engine's runner) and what it last reported.
    final class JobStatus {
        enum State: Equatable {
            case running, done, cancelled
            case failed(String)
        }
        let kind: String
        /// What the job makes: a finished transition's figures stay true only while its junction is made of the same.
        let purpose: JobPurpose
        let cancel = CancelFlag()
        var step = 0
        var total = 1
        var timestep = 0
        var eta = 0.0
        var clipRS: [Double] = []
        /// Smoothness against the clips' own pace (no truth needed), per step.
        var paceRS: [Double] = []
        var preview: [RGBImage] = []
        var state = State.running
        var done: Bool { state != .running }
        init(kind: String, purpose: JobPurpose) {
            self.kind = kind
            self.purpose = purpose
        }
    }

    /// Where a job's outcome goes: a junction's result (with what made it), or an exported file.
    enum JobPurpose: Sendable {
        case transition(junction: Int, made: ResultSource)
        case export(path: String)
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
    var job: JobStatus?
    /// The engine's one job runner: the Studio starts jobs on it and renders their events.
    let runner = JobRunner()
    /// Generated transitions, oldest first, each with what made it: a junction shows the one made of what it is
    /// now (`result(_:)`), so a setting changed back, or clips moved back, bring their result back. Of those no
    /// junction shows, the `keptResults` most recent are kept (`keepResults`).
    var results: [JunctionResult] = []
    static let keptResults = 8
    /// The plan as this Studio last read it from, or wrote it to, each file (by absolute path): a file that still
    /// reads as that is the plan's own, and `w` saves over it without asking.
    var known: [String: Plan] = [:]
    var mode = Mode.browse {
        // Another view in the preview starts at its first frame, not at the frame the last one was left on.
        didSet { if mode.previewView != oldValue.previewView { frameIndex = 0 } }
    }
    var frameIndex = 0
    var playing = false
    var message = ""
    var quitRequested = false
    /// The terminal's size in cells, as last measured; `draw` lays the screen out for it.
    var size = (cols: 120, rows: 40)
    /// The next frame repaints everything: Ctrl-L, a resize, the terminal or tmux pane regained focus.
    var repaintAll = true
    private var readers: [String: VideoReader] = [:]
    private var thumbCache: [String: RGBImage] = [:]
    private let events = EventQueue()
    /// Where the plan is kept between sessions (outside the folder: see `Autosave`).
    let autosaveURL: URL
    var pictures: PictureLayer
    /// The text last painted, to know when ncurses will write over rows pictures are on.
    var lastRuns: [Screen.Run] = []

    public init(
        folder: String, plan planPath: String? = nil, theme: Theme = .builtIn, capabilities: Capabilities? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.folder = folder
        self.theme = theme
        let caps = capabilities ?? Capabilities.detect()
        self.caps = caps
        pictures = PictureLayer(caps: caps)
        autosaveURL = Autosave.location(folder: folder, environment: environment)
        clips = Self.library(folder: folder)
        loadPlan(explicit: planPath)
        loadModel()
        // What was opened first: a long line's end may be cut at the status line's second row, the plan's message
        // must not be.
        if let warning = caps.warning { message = message.isEmpty ? warning : message + "; " + warning }
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

    /// The folder's own plan file: what the Studio opens when no plan is named, and what `w` writes then.
    var planFile: String { (folder as NSString).appendingPathComponent("plan.toml") }

    /// What `w` writes: the plan file the plan came from (`--plan`, `:open`), else the folder's plan.toml.
    var planSource: String?
    var saveTarget: String { planSource ?? planFile }

    /// Opens the explicit plan, else the last session when it differs from plan.toml (and says so), else
    /// plan.toml; a restored session that reads the same as the plan on disk is not announced.
    func loadPlan(explicit: String?) {
        let path: String
        switch Autosave.choose(explicit: explicit, autosave: autosaveURL, planFile: planFile) {
        case .none: return
        case .explicit(let p):
            path = p
            planSource = p
        case .plan(let p), .restored(let p): path = p
        }
        let restored = path == autosaveURL.path
        do {
            // The autosave names the clips as the Studio's folder does; a plan file, from its own folder.
            let missing = try read(plan: path, from: restored ? folder : nil)
            let hasPlan = FileManager.default.fileExists(atPath: planFile)
            message =
                !restored
                ? "opened \((path as NSString).lastPathComponent)"
                : hasPlan
                    ? "restored your last session (it differs from plan.toml; w saves it there)"
                    : "restored your last session (w saves it as plan.toml)"
            message += missing
        } catch {
            message = "could not open \(path): \(error)"
        }
    }

    /// Makes the plan at `path` (its clip paths relative to `base`, else to its own folder) the Studio's: the
    /// paths rebased to the Studio's folder, the clips that are not there or not readable left out. Returns what
    /// to add to the message about those ("" when none).
    func read(plan path: String, from base: String? = nil) throws -> String {
        let onDisk = try Plan.read(URL(fileURLWithPath: path))
        known[Self.fileKey(path)] = onDisk
        plan = onDisk.rebased(from: base ?? (path as NSString).deletingLastPathComponent, to: folder)
        let missing = plan.clips.filter { !isReadable($0) }
        plan.clips = plan.clips.filter(isReadable)
        plan.normaliseJunctions()
        guard !missing.isEmpty else { return "" }
        return "; left out \(counted(missing.count, "clip")) not found or unreadable in \(folder): "
            + missing.map(\.path).joined(separator: ", ")
    }

    /// Whether a clip (its path relative to the Studio's folder) is one of the folder's readable clips: the
    /// only clips the Studio's plan holds.
    func isReadable(_ clip: Plan.Clip) -> Bool { clips.contains { $0.name == clip.path && $0.info != nil } }

    /// The name `known` keeps a file under: its absolute path, however it was typed.
    static func fileKey(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// The folder's clip that `path` is (by file identity, so any spelling of it or a hard link counts), or nil.
    /// The folder's clips are the Studio's inputs, in the sequence or not: nothing it writes goes over one.
    func libraryClip(at path: String) -> String? {
        var target = stat()
        guard stat(path, &target) == 0 else { return nil }
        return clips.first { clip in
            var info = stat()
            let clipPath = (folder as NSString).appendingPathComponent(clip.name)
            return stat(clipPath, &info) == 0 && info.st_dev == target.st_dev && info.st_ino == target.st_ino
        }?.name
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
            try FileManager.default.createDirectory(
                at: autosaveURL.deletingLastPathComponent(), withIntermediateDirectories: true)
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

    /// What junction j is made of now, as the loaded model makes frames of it: its two clips and its settings
    /// with s and e filled in, an unset anchor setting at the model's value (`effectiveValue`) and a setting that
    /// changes nothing (`inertReason`) at its default, so that two junctions that make the same frames compare
    /// equal.
    func source(of j: Int) -> ResultSource? {
        guard j >= 0, j + 1 < plan.clips.count, j < plan.junctions.count else { return nil }
        let now = plan.junctions[j]
        var made = Plan.Junction()
        for setting in JunctionSettings.all {
            let field = Field(rawValue: setting.key)
            if let field, inertReason(field, of: now) != nil { continue }
            // Every value here passed the same table on its way in, so it passes again.
            if let value = setting.value(of: now) ?? field.flatMap(effectiveValue) {
                try? setting.apply(value, to: &made)
            }
        }
        (made.s, made.e) = boundaries(j)
        return ResultSource(junction: made, clips: [plan.clips[j].path, plan.clips[j + 1].path])
    }

    /// Where junction j's result is in `results`: the one made of what the junction is now.
    func resultIndex(_ j: Int) -> Int? {
        guard let made = source(of: j) else { return nil }
        return results.firstIndex { $0.source == made }
    }

    /// Junction j's result, only while the junction is made of what made it.
    func result(_ j: Int) -> InfillResult? { resultIndex(j).map { results[$0].result } }

    /// Junction j's comparison with its ground truth, when compare has computed it for the current result.
    func comparison(_ j: Int) -> Comparison? { resultIndex(j).flatMap { results[$0].comparison } }

    /// Keeps `result` as the newest, in place of one made of the same.
    func keep(_ result: JunctionResult) {
        results.removeAll { $0.source == result.source }
        results.append(result)
        keepResults()
    }

    /// Bounds the results' memory: every one a junction shows now stays, and of the others the
    /// `keptResults` most recent.
    func keepResults() {
        let shown = plan.junctions.indices.compactMap(source(of:))
        var others = 0
        let newestFirst = results.reversed().filter { r in
            if shown.contains(r.source) { return true }
            others += 1
            return others <= Self.keptResults
        }
        results = newestFirst.reversed()
    }

    /// Ground truth exists for junction j: both sides are the same video and the gap is exactly the
    /// length. Decodes nothing, so drawing may ask.
    func hasTruth(_ j: Int) -> Bool {
        guard j + 1 < plan.clips.count, model != nil else { return false }
        let a = plan.clips[j].path
        let (s, e) = boundaries(j)
        return a == plan.clips[j + 1].path && e - s - 1 == plan.junctions[j].length && s >= 0
            && e <= frames(of: a)
    }

    /// The ground-truth frames of junction j at the model's resolution (decoded: not for drawing).
    func truth(_ j: Int) -> [RGBImage]? {
        guard hasTruth(j), let r = reader(plan.clips[j].path), let m = model else { return nil }
        let R = m.config.resolution
        let (s, e) = boundaries(j)
        return try? ((s + 1)..<e).map { try r.frame(at: $0, size: (R, R), fit: .stretch) }
    }

    /// Junction j's result beside its truth with per-frame PSNR and SSIM, computed once per result.
    func makeComparison(_ j: Int) -> Comparison? {
        if let known = comparison(j) { return known }
        guard let i = resultIndex(j), let t = truth(j), t.count == results[i].result.frames.count else { return nil }
        let frames = results[i].result.frames
        let c = Comparison(
            truth: t, psnr: zip(frames, t).map { ImageQuality.psnr($0, $1) },
            ssim: zip(frames, t).map { ImageQuality.ssim($0, $1) })
        results[i].comparison = c
        return c
    }

    // MARK: actions

    func perform(_ action: StudioAction) {
        switch action {
        case .quit: requestQuit()
        case .help: mode = mode.isHelp ? .browse : .help(scroll: 0)
        case .escape: mode = .browse
        case .redraw:
            repaintAll = true
        case .nextPane, .previousPane:
            let step = action == .nextPane ? 1 : Pane.allCases.count - 1
            let from = focus
            focus = Pane.allCases[(focus.rawValue + step) % Pane.allCases.count]
            // Entering the inspector starts on its first field, so H/L never change a field left from last time.
            if focus == .junction { field = .s }
            // The preview shows the library's clip only while the library has the focus: another clip, frame 1.
            if (from == .library) != (focus == .library) { frameIndex = 0 }
        case .command: mode = .command("")
        case .up, .down:
            let d = action == .up ? -1 : 1
            switch focus {
            case .library:
                librarySel = max(0, min(clips.count - 1, librarySel + d))
                frameIndex = 0
            case .sequence:
                sequenceSel = max(0, min(plan.clips.count - 1, sequenceSel + d))
                frameIndex = 0
                leaveViewsWithoutResult()
            case .junction: field = Field.allCases[max(0, min(Field.allCases.count - 1, field.index + d))]
            case .preview: perform(d < 0 ? .previousFrame : .nextFrame)
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
            guard sequenceSel < plan.clips.count else {
                message = "the sequence is empty: nothing to remove (library: a adds a clip)"
                return
            }
            plan.clips.remove(at: sequenceSel)
            if sequenceSel < plan.junctions.count {
                plan.junctions.remove(at: sequenceSel)
            } else if !plan.junctions.isEmpty {
                plan.junctions.removeLast()
            }
            plan.normaliseJunctions()
            sequenceSel = max(0, min(sequenceSel, plan.clips.count - 1))
            planChanged()
        case .moveUp, .moveDown:
            let to = sequenceSel + (action == .moveUp ? -1 : 1)
            guard to >= 0, to < plan.clips.count else {
                message =
                    plan.clips.count < 2
                    ? "add another clip to move this one" : "already the \(to < 0 ? "first" : "last") clip"
                return
            }
            plan.clips.swapAt(sequenceSel, to)
            sequenceSel = to
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
            if mode.isStepping {
                mode = .browse
                return
            }
            guard let j = selectedJunction, let r = result(j), !r.steps.isEmpty else {
                message = "generate first (g), then step through"
                return
            }
            mode = .stepThrough(index: r.steps.count - 1, noisy: false)
        case .compare:
            if mode == .compare {
                mode = .browse
                return
            }
            guard let j = selectedJunction, result(j) != nil else {
                message = "generate first (g): there is no result of this junction as it is now"
                return
            }
            guard hasTruth(j) else {
                message = "no ground truth here: use one video on both sides with e − s − 1 = length"
                return
            }
            guard makeComparison(j) != nil else {
                message = "the ground-truth frames cannot be read from \(plan.clips[j].path)"
                return
            }
            mode = .compare
        case .previousStep, .nextStep:
            guard case .stepThrough(let index, let noisy) = mode, let j = selectedJunction, let r = result(j) else {
                return
            }
            let to = index + (action == .nextStep ? 1 : -1)
            guard r.steps.indices.contains(to) else {
                message = "already at the \(to < 0 ? "first" : "last") step (\(index + 1)/\(r.steps.count))"
                return
            }
            mode = .stepThrough(index: to, noisy: noisy)
        case .toggleNoisy:
            if case .stepThrough(let index, let noisy) = mode { mode = .stepThrough(index: index, noisy: !noisy) }
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

    /// Step-through and compare show only a result of the selected junction as it is now.
    func leaveViewsWithoutResult() {
        let current = selectedJunction.flatMap { result($0) }
        switch mode {
        case .stepThrough: if current == nil { mode = .browse }
        case .compare: if current == nil || selectedJunction.flatMap({ comparison($0) }) == nil { mode = .browse }
        default: break
        }
    }

    /// After any change of the plan: a junction shows the result of what it is made of now, if there is one (the
    /// ✓, step-through and compare follow), the results kept are bounded, and the plan is autosaved.
    func planChanged() {
        keepResults()
        leaveViewsWithoutResult()
        autosave()
    }

    /// Whether the job panel's figures are of something that is no longer there: a finished transition of a
    /// junction that has since changed (its settings, or its clips moved). A running job and an export are now.
    func isOutdated(_ job: JobStatus) -> Bool {
        guard job.done, case .transition(let j, let made) = job.purpose else { return false }
        return source(of: j) != made
    }

    /// The infiller's note for a length outside the model's trained ones (`Infiller.run` says it after generating).
    func lengthNote(_ length: Int) -> String? {
        model.flatMap { Infiller(model: $0).resamplingNote(for: length) }
    }

    /// What an unset field means to the loaded motion model: the value the infiller then uses (nil for a field
    /// that is never unset, or without a motion model).
    func effectiveValue(_ field: Field) -> String? {
        guard let config = model?.config, config.latentSpace == .motion else { return nil }
        let unset = SamplerSettings().motionAnchor(for: config)
        switch field {
        case .ease: return String(unset.timeSharpness)
        case .easing: return unset.timeEasing.rawValue
        case .carry: return String(unset.carry)
        case .warp: return unset.warp.rawValue
        default: return nil
        }
    }

    /// Why a field does nothing to this junction's frames with the loaded model, or nil when it counts.
    func inertReason(_ field: Field, of junction: Plan.Junction) -> String? {
        guard let config = model?.config else { return nil }
        if config.latentSpace == .motion {
            guard field.drivesTheNetwork && junction.settings.strength == 0 else { return nil }
            return "no effect at strength 0 (the frames are the anchor's)"
        }
        return field.shapesTheAnchor ? "no effect on a pixel-space model" : nil
    }

    func adjust(by d: Int) {
        guard focus == .junction, let j = selectedJunction else { return }
        let setting = field.setting
        var jn = plan.junctions[j]
        let (s, e) = boundaries(j)
        if field == .s { jn.s = s }
        if field == .e { jn.e = e }
        // An unset setting moves from what the model makes of it, not from the bottom of its range.
        if setting.value(of: jn) == nil, let unset = effectiveValue(field) { try? setting.apply(unset, to: &jn) }
        let before = setting.value(of: jn)
        switch setting.kind {
        case .flag:
            try? setting.apply(before == "true" ? "off" : "on", to: &jn)
        case .choice(let values):
            // One step down is the value before, one step up the one after, round the list.
            let at = values.firstIndex(of: before ?? "") ?? (d < 0 ? 0 : -1)
            try? setting.apply(values[(at + d.signum() + values.count) % values.count], to: &jn)
        case .integer, .number:
            // s, e, steps and seed move by the press (±1, ±10 with H/L); the others by one increment.
            let presses = field.movesByPress ? d : d.signum()
            guard let moved = setting.nudged(jn, by: setting.step, steps: presses) else { return }
            jn = moved
            if let range = contextRange(field, junction: j), let v = Int(setting.value(of: jn) ?? "") {
                try? setting.apply(String(min(range.upperBound, max(range.lowerBound, v))), to: &jn)
            }
            if setting.value(of: jn) == before {
                message = limitMessage(field, junction: j)
                return
            }
        }
        plan.junctions[j] = jn
        // A change made: what the line said before (a limit met, a file saved) is no longer the news, unless the
        // length left the model's trained range.
        message = field == .length ? lengthNote(jn.length).map { "note: " + $0 } ?? "" : ""
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
            // The engine resolves the junction to the frames it needs (JunctionWindow) and runs the job.
            let window = try JunctionWindow(before: ra, after: rb, junction: jn, names: (a, b))
            let request = try window.request(for: infiller, truth: truth(j), record: true)
            let status = JobStatus(kind: "infill \(a) → \(b)", purpose: .transition(junction: j, made: made))
            status.total = jn.settings.steps
            if mode.previewView != .panes { mode = .browse }
            launch(InfillJob(infiller: infiller, request: request, title: status.kind), status: status)
            message = "generating \(counted(jn.length, "frame"))…"
        } catch {
            message = "\(error)"
        }
    }

    /// The one place the Studio starts a job: on the engine's runner, its events queued for the next tick
    /// (the job's thread never touches the state).
    func launch(_ work: any Job, status: JobStatus) {
        job = status
        let events = self.events
        let runner = self.runner
        let handed = HandedJob(job: work)
        let cancel = status.cancel
        let purpose = status.purpose
        Task {
            do {
                try await runner.start(handed.job, cancel: cancel) { e in events.push(e, for: purpose) }
            } catch {
                events.push(.failed(error), for: purpose)
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
        // A typed path means what it means to :w and :open; the plan's output is relative to the folder.
        let target =
            path.map(resolve) ?? (folder as NSString).appendingPathComponent(plan.output ?? "composed.mp4")
        // What no answer could allow (any clip of the folder, a folder of the user's files) is refused before asking.
        if let clip = libraryClip(at: target) {
            message = clipRefusal(clip, instead: "export to a new name (:export NAME.mp4)")
            return
        }
        do {
            try Composer(plan: plan, folder: folder).checkOutput(URL(fileURLWithPath: target), overwrite: true)
        } catch {
            message = "\(error)"
            return
        }
        if FileManager.default.fileExists(atPath: target) {
            let name = (target as NSString).lastPathComponent
            mode = .confirm(prompt: "\(name) exists. Overwrite? (y/n)", action: .export(path: target))
        } else {
            export(to: target, model: model, overwrite: false)
        }
    }

    /// Carries out what a confirmation asked about, after `y`.
    func confirmed(_ action: PendingAction) {
        switch action {
        case .export(let path):
            guard let model else {
                message = modelNote
                return
            }
            export(to: path, model: model, overwrite: true)
        case .savePlan(let path): savePlan(path: path, overwrite: true)
        case .quit:
            job?.cancel.cancel()
            quitRequested = true
        }
    }

    /// q: quits, after asking when a job is running (an export or a transition would be lost).
    func requestQuit() {
        guard let job, !job.done else {
            quitRequested = true
            return
        }
        mode = .confirm(prompt: "\(job.kind) is running. Quit and lose it? (y/n)", action: .quit)
    }

    func export(to target: String, model: MavinModel, overwrite: Bool) {
        let composer = Composer(plan: plan, folder: folder)
        let work = ComposeJob(
            composer: composer, model: model, output: URL(fileURLWithPath: target), overwrite: overwrite)
        launch(work, status: JobStatus(kind: work.title, purpose: .export(path: target)))
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

    /// Writes the plan (`w`: the file it came from, else the folder's plan.toml). What is at the path decides
    /// (`checkSave`): a file that is not a plan is refused, one that holds another plan, or names clips this plan
    /// left out, is replaced only after `y` to the question asked, and one that already holds this plan is left
    /// alone. `overwrite` is that `y`: it skips the question, never the refusal.
    func savePlan(path: String?, overwrite: Bool = false) {
        let target = path.map(resolve) ?? saveTarget
        // Paths in a plan are relative to its own folder: a plan written elsewhere names the same files.
        let saved = plan.rebased(from: folder, to: (target as NSString).deletingLastPathComponent)
        switch checkSave(saved, to: target) {
        case .refused(let why):
            message = why
            return
        case .same where !overwrite:
            message = "\((target as NSString).lastPathComponent) already holds this plan"
            return
        case .ask(let question) where !overwrite:
            mode = .confirm(prompt: question, action: .savePlan(path: target))
            return
        case .free, .same, .ask: break
        }
        // Saving over a plan keeps the comments its author wrote in it.
        let old = try? String(contentsOfFile: target, encoding: .utf8)
        let text = saved.toml(comments: old.map { PlanComments(text: $0) } ?? PlanComments())
        do {
            try AtomicOutput.write(Data(text.utf8), to: URL(fileURLWithPath: target), overwrite: true)
            known[Self.fileKey(target)] = saved
            message = "saved \(target)"
        } catch { message = "\(error)" }
    }

    /// What saving `saved` to `target` may do, from what is there now. Refused, whatever the answer would be: a
    /// folder, a link, any clip of the folder, and a file that is neither a plan nor `.toml` text (a video, a
    /// binary). Asked about: a `.toml` text that is not a valid plan, a plan naming clips the Studio could not
    /// read (saving drops them, so it always asks), and a plan other than the one this Studio last read or wrote
    /// there (someone else's, or edited outside since).
    func checkSave(_ saved: Plan, to target: String) -> SaveCheck {
        let name = (target as NSString).lastPathComponent
        let url = URL(fileURLWithPath: target)
        let instead = "save the plan under a .toml name (:w NAME.toml)"
        if let clip = libraryClip(at: target) { return .refused(clipRefusal(clip, instead: instead)) }
        do {
            try OutputTarget.check(target, kind: .file, overwrite: true)
        } catch {
            return .refused("\(error)")
        }
        guard FileManager.default.fileExists(atPath: target) else { return .free }
        let onDisk: Plan
        do {
            onDisk = try Plan.read(url)
        } catch {
            // Only a .toml text can be a plan with a mistake in it; anything else is never replaced by a plan.
            guard url.pathExtension.lowercased() == "toml", (try? String(contentsOf: url, encoding: .utf8)) != nil
            else { return .refused("\(name) is not a plan, so the plan was not saved over it; \(instead)") }
            return .ask("Overwrite \(name)? (y/n) It is not a valid plan: \(error)")
        }
        // The file's comments and layout aside, it already holds this plan.
        if onDisk == saved { return .same }
        let dropped = onDisk.rebased(from: (target as NSString).deletingLastPathComponent, to: folder).clips
            .filter { !isReadable($0) }.map(\.path)
        if !dropped.isEmpty {
            let what =
                dropped.count == 1 ? "the clip it names that was" : "the \(dropped.count) clips it names that were"
            return .ask(
                "Overwrite \(name)? (y/n) Saving drops \(what) not found or unreadable here: "
                    + dropped.joined(separator: ", "))
        }
        guard let last = known[Self.fileKey(target)] else {
            return .ask("\(name) holds another plan. Overwrite? (y/n)")
        }
        return last == onDisk ? .free : .ask("\(name) has changed since the Studio read or saved it. Overwrite? (y/n)")
    }

    /// Said when a path names one of the folder's clips, which the Studio reads and never writes over.
    func clipRefusal(_ clip: String, instead: String) -> String {
        "\(clip) is a clip of the Studio's folder, which it never writes over; \(instead)"
    }

    /// The path after a command word: the rest of the line, spaces and all, without the quotes around it if it has
    /// them; nil when nothing follows.
    static func pathArgument(_ line: String) -> String? {
        let rest = line.drop { $0 != " " }.trimmingCharacters(in: .whitespaces)
        guard !rest.isEmpty else { return nil }
        for quote in ["\"", "'"] where rest.count >= 2 && rest.hasPrefix(quote) && rest.hasSuffix(quote) {
            return String(rest.dropFirst().dropLast())
        }
        return rest
    }

    /// `:` commands.
    func execute(_ line: String) {
        let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
        guard let cmd = parts.first else { return }
        let path = Self.pathArgument(line)
        switch cmd {
        case "q", "quit":
            guard path == nil else {
                message = "usage: :q (it takes nothing after it)"
                return
            }
            requestQuit()
        case "w", "write": savePlan(path: path)
        case "export": requestExport(path: path)
        case "open":
            guard let path else {
                message = "usage: :open PLAN.toml"
                return
            }
            let p = resolve(path)
            guard FileManager.default.fileExists(atPath: p) else {
                let cwd = FileManager.default.currentDirectoryPath
                let looked = path.hasPrefix("/") ? "" : " (looked in \(cwd) and in \(folder))"
                message = "no such file: \(path)\(looked)"
                return
            }
            do {
                let missing = try read(plan: p)
                planSource = p
                planChanged()
                message = "opened \(p)" + missing
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
            if setting.key == Field.length.rawValue, let note = lengthNote(jn.length) { message += "; note: " + note }
        default: message = "unknown command :\(cmd) (export PATH, set KEY VALUE, open PATH, w [PATH], q)"
        }
    }

    /// Applies what the background job reported since the last tick.
    func drainEvents() {
        for (event, purpose) in events.popAll() { apply(event, for: purpose) }
    }

    /// One job event into the state.
    func apply(_ event: JobEvent, for purpose: JobPurpose) {
        switch event {
        case .progress(let stage, let step, let total, let eta):
            job?.step = step
            job?.total = total
            if let eta { job?.eta = eta }
            if case .export = purpose { message = stage }
        case .preview(let p, _):
            job?.timestep = p.timestep
            job?.preview = p.preview
            if let rs = p.clipRS { job?.clipRS.append(rs) }
            if let pace = p.paceRS { job?.paceRS.append(pace) }
        case .score: break
        case .log(let line): message = line
        case .finished(let outcome):
            job?.state = .done
            finished(outcome, for: purpose)
        case .failed(let error):
            job?.state = .failed("\(error)")
            message = "\(error)"
        case .cancelled:
            job?.state = .cancelled
            message = "cancelled; nothing was changed"
        }
    }

    func finished(_ outcome: JobOutcome, for purpose: JobPurpose) {
        switch (outcome, purpose) {
        case (.infill(let r), .transition(let j, let made)):
            // Edited while it ran: the result is of settings the junction no longer has.
            guard source(of: j) == made else {
                message = "the junction changed while it was generated: press g again"
                return
            }
            keep(JunctionResult(source: made, result: r))
            frameIndex = 0
            if focus == .library { focus = .preview }  // show what was just made
            // The infiller's notes (a length resampled in time, references repeated) as `mavin infill` prints them.
            message =
                "generated \(counted(r.frames.count, "frame"))" + String(format: " in %.1f s", r.seconds)
                + (r.scores.map { String(format: " — CLIP-RS %.3f, PSNR %.2f dB", $0.clip_rs, $0.psnr) } ?? "")
                + r.notices.map { "; note: " + $0 }.joined()
        case (.composed(let output, let frames, _), _):
            message = "exported \(counted(frames, "frame")) to \(output)"
        default:
            message = "the job finished"
        }
    }
}

/// A job handed to the runner, which alone uses it from then on.
private struct HandedJob: @unchecked Sendable {
    let job: any Job
}

/// A lock-protected queue of job events (producer: the job's thread, consumer: the UI tick).
final class EventQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(JobEvent, StudioApp.JobPurpose)] = []
    func push(_ e: JobEvent, for purpose: StudioApp.JobPurpose) {
        lock.lock()
        items.append((e, purpose))
        lock.unlock()
    }
    func popAll() -> [(JobEvent, StudioApp.JobPurpose)] {
        lock.lock()
        defer { lock.unlock() }
        let out = items
        items.removeAll()
        return out
    }
}
