import Foundation
import XCTest

@testable import Engine
import MavinModel
@testable import Media
@testable import Studio
@testable import Synth

/// The Studio's actions without a terminal: what the user sees follows the plan as it is now.
final class StudioActionTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-studio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, action) in [("a", Action.walk), ("b", Action.graze)] {
            let p = Performance(seed: 31, fps: 15, script: [(action, 2)])
            _ = try SynthWriter.write(p, name: name, size: 32, to: folder, overwrite: false)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func studio() -> StudioApp {
        let caps = Capabilities.decide(answers: nil, environment: ["TERM": "xterm", "MAVIN_PICTURES": "ascii"])
        let env = ["XDG_STATE_HOME": folder.appendingPathComponent("state").path]
        let app = StudioApp(folder: folder.path, capabilities: caps, environment: env)
        app.plan = Plan(clips: [.init(path: "a.mp4"), .init(path: "b.mp4")])
        app.plan.normaliseJunctions()
        return app
    }

    func fakeResult(_ app: StudioApp) {
        let frame = RGBImage(width: 32, height: 32, fill: (1, 2, 3))
        let result = InfillResult(
            frames: [frame], referencesBefore: 1, referencesAfter: 1, seconds: 0, scores: nil,
            steps: [], notices: [])
        guard let source = app.source(of: 0) else { return XCTFail("no junction 0") }
        app.keep(.init(source: source, result: result))
    }

    func testChangingABoundaryOrASettingHidesTheResult() {
        let app = studio()
        app.focus = .junction
        for field in [StudioApp.Field.s, .mode, .strength, .steps] {
            fakeResult(app)
            app.mode = .compare
            app.field = field
            app.adjust(by: field == .s ? -1 : 1)
            XCTAssertNil(app.result(0), "\(field)")
            XCTAssertEqual(app.mode, .browse, "compare cannot show a stale result (\(field))")
        }
        // Moving the field cursor changes nothing: the result stays.
        fakeResult(app)
        app.planChanged()
        XCTAssertNotNil(app.result(0))
        // Swapping the clips: the same junction settings, other clips.
        app.plan.clips.swapAt(0, 1)
        app.planChanged()
        XCTAssertNil(app.result(0))
    }

    /// With the shipped motion model the inspector shows the anchor's settings at what the model makes of them
    /// when unset, moves them from there, and dims what does not change the frames (the network's settings at
    /// strength 0, saying why when selected); a pixel-space model dims the anchor's instead.
    func testInspectorShowsTheAnchorsSettingsAndDimsWhatDoesNothing() throws {
        let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Samples/models")
        let app = studio()
        app.model = try MavinModel.load(models.appendingPathComponent("mavin-motion.safetensors"))
        app.focus = .junction
        app.size = (100, 30)
        app.plan.junctions[0].settings.strength = 0
        var text = app.draw().text
        for label in ["ease 16", "easing paced", "carry 2", "warp bicubic"] {
            XCTAssertTrue(text.contains(" \(label) "), "\(label):\n\(text)")
        }
        app.field = .ease
        app.adjust(by: 1)
        XCTAssertEqual(app.plan.junctions[0].settings.timeSharpness, 18, "from the model's 16, not from 0")
        app.field = .carry
        app.adjust(by: -1)
        XCTAssertEqual(app.plan.junctions[0].settings.carry, 1.5)
        app.field = .easing
        app.adjust(by: 1)
        XCTAssertEqual(app.plan.junctions[0].settings.timeEasing, TimeEasing.allCases.first, "the one after paced")
        func style(_ label: String) -> ColourPair? { app.draw().runs.first { $0.text == " \(label) " }?.style.pair }
        XCTAssertEqual(style("steps 1"), .dim)
        XCTAssertNotEqual(style("ease 18"), .dim)
        app.field = .steps
        text = app.draw().text
        XCTAssertTrue(text.contains("steps: no effect at strength 0"), text)
        app.plan.junctions[0].settings.strength = 0.5
        text = app.draw().text
        XCTAssertFalse(text.contains("no effect"), text)
        app.field = .s
        XCTAssertNotEqual(style("steps 1"), .dim)
        app.model = try MavinModel.load(models.appendingPathComponent("mavin-small.safetensors"))
        XCTAssertEqual(style("ease 18"), .dim)
        XCTAssertNotNil(app.inertReason(.carry, of: app.plan.junctions[0]))
        XCTAssertNil(app.inertReason(.steps, of: app.plan.junctions[0]))
    }

    func testSetGoesThroughTheTableAndSaysTheValidKeys() {
        let app = studio()
        app.execute("set foo 3")
        XCTAssertTrue(app.message.contains("unknown setting 'foo' (valid: s, e, length, mode, f0"), app.message)
        app.execute("set steps 0")
        XCTAssertEqual(app.message, "steps must be an integer within 1…1000 (got '0')")
        app.execute("set s 500")
        XCTAssertTrue(app.message.contains("s must be within 0…29 here"), app.message)
        app.execute("set gfm on")
        XCTAssertEqual(app.plan.junctions[0].settings.gfm, true)
        app.focus = .junction
        app.field = .steps
        app.plan.junctions[0].settings.steps = 1000
        app.adjust(by: 1)
        XCTAssertEqual(app.message, "steps is at its limit: an integer within 1…1000")
        // A change that is made clears it: the line no longer says the limit was met.
        app.adjust(by: -1)
        XCTAssertEqual(app.plan.junctions[0].settings.steps, 999)
        XCTAssertEqual(app.message, "")
        // The largest seed stays where it is instead of overflowing.
        app.field = .seed
        app.plan.junctions[0].settings.seed = UInt64(Int.max)
        app.adjust(by: 10)
        XCTAssertEqual(app.plan.junctions[0].settings.seed, UInt64(Int.max))
        XCTAssertTrue(app.message.hasPrefix("seed is at its limit"), app.message)
    }

    /// A length past the model's trained ones is said to be resampled in time, in the infiller's words (those
    /// `mavin infill` prints after generating), when the field gets there and while it is selected there.
    func testALengthPastTheTrainedOnesSaysItIsResampled() throws {
        let app = studio()
        let model = try XCTUnwrap(app.model, app.modelNote)
        try XCTSkipIf(model.config.latentSpace != .motion, "only a motion model makes lengths it was not trained on")
        let trained = model.config.ranges.lengths
        app.execute("set length \(trained.upperBound + 4)")
        let note =
            "the model was trained on \(trained.lowerBound)…\(trained.upperBound) frames: the motion of the "
            + "\(trained.upperBound + 4) frames is decided at \(trained.upperBound) and resampled in time"
        XCTAssertEqual(app.message, "length = \(trained.upperBound + 4); note: " + note)
        app.focus = .junction
        app.field = .length
        app.size = (160, 40)
        XCTAssertTrue(app.draw().text.contains(note), app.draw().text)
        app.plan.junctions[0].length = trained.upperBound
        app.adjust(by: 1)
        XCTAssertTrue(app.message.hasPrefix("note: the model was trained on"), app.message)
        XCTAssertTrue(app.message.contains("the motion of the \(trained.upperBound + 1) frames"), app.message)
        app.adjust(by: -1)
        XCTAssertEqual(app.message, "", "back within the trained lengths: nothing to note")
    }

    /// An export measures its junctions against the clips' pace alone: the job panel does not say "no truth" of
    /// a junction that has one.
    func testTheExportsSmoothnessDoesNotClaimThereIsNoTruth() {
        let app = studio()
        app.size = (120, 40)
        let job = StudioApp.JobStatus(kind: "export composed.mp4", purpose: .export(path: "composed.mp4"))
        job.paceRS = [0.95]
        app.job = job
        let text = app.draw().text
        XCTAssertTrue(text.contains(" smoothness vs the clips' pace 0.950 "), text)
        XCTAssertFalse(text.contains("no truth"), text)
    }

    /// `w` over a plan the user wrote, after `y`: the settings change, the user's comments stay.
    func testSavingOverAPlanKeepsTheUsersComments() throws {
        let app = studio()
        let file = folder.appendingPathComponent("plan.toml")
        let text =
            Plan(clips: app.plan.clips, junctions: app.plan.junctions).toml()
            .replacingOccurrences(of: "[[junction]]  # between clip 1 and clip 2", with: "[[junction]]  # keep me")
            + "# a note at the end\n"
        try Data(("# my own header\n" + text).utf8).write(to: file)
        app.plan.junctions[0].settings.steps = 7
        app.execute("w")
        guard case .confirm = app.mode else { return XCTFail("asks before replacing another plan: \(app.mode)") }
        app.savePlan(path: nil, overwrite: true)
        let saved = try String(contentsOf: file, encoding: .utf8)
        XCTAssertTrue(saved.hasPrefix("# my own header\n"), saved)
        XCTAssertTrue(saved.contains("[[junction]]  # keep me"), saved)
        XCTAssertTrue(saved.hasSuffix("\n# a note at the end\n"), saved)
        XCTAssertEqual(try Plan.read(file).junctions[0].settings.steps, 7)
    }

    /// `:export NAME` resolves NAME as `:w` and `:open` do: a file that exists in the current directory is that
    /// file (asked about before it is replaced), and the Studio's folder is not searched first.
    func testExportResolvesATypedPathAsTheOtherCommandsDo() throws {
        let app = studio()
        try XCTSkipIf(app.model == nil, "needs the shipped model")
        let here = folder.appendingPathComponent("cwd")
        try FileManager.default.createDirectory(at: here, withIntermediateDirectories: true)
        let existing = here.appendingPathComponent("take.mp4").path
        try Data("mine".utf8).write(to: URL(fileURLWithPath: existing))
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(here.path))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        app.execute("export take.mp4")
        XCTAssertEqual(app.mode, .confirm(prompt: "take.mp4 exists. Overwrite? (y/n)", action: .export(path: existing)))
        app.mode = .browse
        XCTAssertEqual(app.resolve("take.mp4"), existing)
        XCTAssertEqual(app.resolve("new.mp4"), folder.appendingPathComponent("new.mp4").path)
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "mine")
    }

    /// `:w` and `:export` never write over a clip of the sequence, and say so before asking anything; a path
    /// with spaces is the whole rest of the line, quoted or not.
    func testWriteAndExportRefuseAClipAndTakePathsWithSpaces() throws {
        let app = studio()
        let clip = folder.appendingPathComponent("a.mp4")
        try Data("my clip".utf8).write(to: clip)
        app.execute("w a.mp4")
        XCTAssertEqual(app.mode, .browse, "refused at once, not asked")
        XCTAssertTrue(app.message.contains("a.mp4 is a clip of the Studio's folder"), app.message)
        if app.model != nil {
            app.execute("export a.mp4")
            XCTAssertEqual(app.mode, .browse)
            XCTAssertTrue(app.message.contains("a.mp4 is a clip of the Studio's folder"), app.message)
        }
        XCTAssertEqual(try String(contentsOf: clip, encoding: .utf8), "my clip")
        app.execute("w my plan.toml")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("my plan.toml").path))
        app.execute("w \"our plan.toml\"")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("our plan.toml").path))
        XCTAssertEqual(StudioApp.pathArgument("open  'x y.toml' "), "x y.toml")
        XCTAssertNil(StudioApp.pathArgument("w"))
        app.execute("q now")
        XCTAssertFalse(app.quitRequested)
    }

    /// `:w` never puts a plan over a file that is not one: a clip of the folder (in the sequence or not) and any
    /// other video are refused, saying to choose a .toml name, and `y` after that writes nothing; a .toml text
    /// that is not a valid plan is asked about, saying so. `:export` refuses any clip of the folder too.
    func testAPlanIsNeverSavedOverAVideoNorAnExportOverAClipOfTheFolder() throws {
        let p = Performance(seed: 5, fps: 15, script: [(Action.rear, 2)])
        _ = try SynthWriter.write(p, name: "c", size: 32, to: folder, overwrite: false)
        let other = folder.appendingPathComponent("takes")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let take = other.appendingPathComponent("take.mp4")
        try FileManager.default.copyItem(at: folder.appendingPathComponent("c.mp4"), to: take)
        let app = studio()
        XCTAssertEqual(app.clips.map(\.name), ["a.mp4", "b.mp4", "c.mp4"], "c.mp4: in the library, not the sequence")
        let clip = folder.appendingPathComponent("c.mp4")
        let bytes = try Data(contentsOf: clip)
        for typed in ["c.mp4", clip.path, "takes/../c.mp4"] {
            app.execute("w \(typed)")
            XCTAssertEqual(app.mode, .browse, "refused, not asked (\(typed))")
            XCTAssertTrue(app.message.hasPrefix("c.mp4 is a clip of the Studio's folder"), app.message)
            XCTAssertTrue(app.message.contains("save the plan under a .toml name"), app.message)
            app.handle(Int32(UInt8(ascii: "y")))
        }
        app.execute("w \(take.path)")
        XCTAssertEqual(app.mode, .browse)
        XCTAssertEqual(
            app.message,
            "take.mp4 is not a plan, so the plan was not saved over it; save the plan under a .toml name (:w NAME.toml)"
        )
        XCTAssertEqual(try Data(contentsOf: clip), bytes, "the clip is as it was")
        XCTAssertEqual(try Data(contentsOf: take), bytes, "and so is the other video")
        if app.model != nil {
            app.execute("export c.mp4")
            XCTAssertEqual(app.mode, .browse, "refused, not asked")
            XCTAssertTrue(app.message.hasPrefix("c.mp4 is a clip of the Studio's folder"), app.message)
            XCTAssertTrue(app.message.contains("export to a new name"), app.message)
            XCTAssertEqual(try Data(contentsOf: clip), bytes)
        }
        // A .toml text that does not read as a plan may be one with a mistake in it: asked about, saying so.
        let notes = folder.appendingPathComponent("notes.toml")
        try Data("my notes = [\n".utf8).write(to: notes)
        app.execute("w notes.toml")
        guard case .confirm(let prompt, .savePlan(notes.path)) = app.mode else { return XCTFail("\(app.mode)") }
        XCTAssertTrue(prompt.hasPrefix("Overwrite notes.toml? (y/n) It is not a valid plan: "), prompt)
        app.handle(Int32(UInt8(ascii: "n")))
        XCTAssertEqual(try String(contentsOf: notes, encoding: .utf8), "my notes = [\n")
        app.execute("w notes.toml")
        app.handle(Int32(UInt8(ascii: "y")))
        XCTAssertEqual(try Plan.read(notes).clips.map(\.path), ["a.mp4", "b.mp4"], app.message)
    }

    /// The Studio as `mavin studio FOLDER` opens it: the folder's plan.toml read as it is.
    func openedStudio() -> StudioApp {
        let caps = Capabilities.decide(answers: nil, environment: ["TERM": "xterm", "MAVIN_PICTURES": "ascii"])
        let env = ["XDG_STATE_HOME": folder.appendingPathComponent("state").path]
        return StudioApp(folder: folder.path, capabilities: caps, environment: env)
    }

    /// A plan naming clips that are not there opens without them; saving over it asks every time, naming what
    /// saving drops, and writes nothing before `y`.
    func testSavingOverAPlanWithMissingClipsNamesWhatItDrops() throws {
        let planFile = folder.appendingPathComponent("plan.toml")
        let text = "[[clip]]\npath = \"a.mp4\"\n[[clip]]\npath = \"gone.mp4\"\n[[clip]]\npath = \"b.mp4\"\n"
        try Data(text.utf8).write(to: planFile)
        let app = openedStudio()
        XCTAssertTrue(app.message.contains("left out 1 clip not found or unreadable in"), app.message)
        XCTAssertEqual(app.plan.clips.map(\.path), ["a.mp4", "b.mp4"])
        // Unchanged since it was read, and still asked: saving would lose gone.mp4.
        app.perform(.save)
        let expected =
            "Overwrite plan.toml? (y/n) Saving drops the clip it names that was not found or unreadable here: "
        XCTAssertEqual(app.mode, .confirm(prompt: expected + "gone.mp4", action: .savePlan(path: planFile.path)))
        app.handle(Int32(UInt8(ascii: "n")))
        XCTAssertEqual(try String(contentsOf: planFile, encoding: .utf8), text, "nothing written before y")
        app.plan.junctions[0].settings.strength = 0.5
        app.perform(.save)
        guard case .confirm(let prompt, _) = app.mode else { return XCTFail("a change asks too: \(app.mode)") }
        XCTAssertTrue(prompt.hasSuffix("gone.mp4"), prompt)
        app.handle(Int32(UInt8(ascii: "y")))
        XCTAssertEqual(try Plan.read(planFile).clips.map(\.path), ["a.mp4", "b.mp4"], app.message)
        // Two missing clips are named both, in the plural.
        try Data((text + "[[clip]]\npath = \"lost.mp4\"\n").utf8).write(to: planFile)
        app.execute("open plan.toml")
        app.perform(.save)
        guard case .confirm(let two, _) = app.mode else { return XCTFail("\(app.mode)") }
        XCTAssertTrue(
            two.hasSuffix(
                "Saving drops the 2 clips it names that were not found or unreadable here: "
                    + "gone.mp4, lost.mp4"), two)
    }

    /// `w` after a change saves over the plan's own file without asking while that file holds what this Studio
    /// last read from or wrote to it; a file edited outside since is asked about.
    func testSavingTheOwnFileAgainAsksOnlyWhenItWasEditedOutside() throws {
        let planFile = folder.appendingPathComponent("plan.toml")
        try Data("[[clip]]\npath = \"a.mp4\"\n[[clip]]\npath = \"b.mp4\"\n".utf8).write(to: planFile)
        let app = openedStudio()
        XCTAssertEqual(app.message, "opened plan.toml")
        for strength: Float in [0.5, 0.25] {
            app.plan.junctions[0].settings.strength = strength
            app.perform(.save)
            XCTAssertEqual(app.mode, .browse, "its own file, unchanged outside: saved without a question")
            XCTAssertEqual(app.message, "saved \(planFile.path)")
            XCTAssertEqual(try Plan.read(planFile).junctions[0].settings.strength, strength)
        }
        app.perform(.save)
        XCTAssertEqual(app.message, "plan.toml already holds this plan")
        // Someone edits the file: the next save asks, and writes nothing before y.
        var edited = try String(contentsOf: planFile, encoding: .utf8)
        edited = edited.replacingOccurrences(of: "strength = 0.25", with: "strength = 1")
        try Data(edited.utf8).write(to: planFile)
        app.plan.junctions[0].settings.strength = 0.75
        app.perform(.save)
        XCTAssertEqual(
            app.mode,
            .confirm(
                prompt: "plan.toml has changed since the Studio read or saved it. Overwrite? (y/n)",
                action: .savePlan(path: planFile.path)))
        app.handle(Int32(UInt8(ascii: "n")))
        XCTAssertEqual(try String(contentsOf: planFile, encoding: .utf8), edited)
        app.perform(.save)
        app.handle(Int32(UInt8(ascii: "y")))
        XCTAssertEqual(try Plan.read(planFile).junctions[0].settings.strength, 0.75)
    }

    /// q while a job runs asks first: n keeps it running, y cancels it and quits; with no job, q quits at once.
    func testQuittingWhileAJobRunsAsksFirst() {
        let app = studio()
        let job = StudioApp.JobStatus(kind: "export", purpose: .export(path: "export.mp4"))
        app.job = job
        app.execute("q")
        XCTAssertFalse(app.quitRequested)
        XCTAssertEqual(app.mode, .confirm(prompt: "export is running. Quit and lose it? (y/n)", action: .quit))
        app.handle(Int32(UInt8(ascii: "n")))
        XCTAssertFalse(app.quitRequested)
        XCTAssertFalse(job.cancel.isCancelled)
        XCTAssertEqual(app.message, "still here; the job runs on")
        app.perform(.quit)
        app.handle(Int32(UInt8(ascii: "y")))
        XCTAssertTrue(app.quitRequested)
        XCTAssertTrue(job.cancel.isCancelled)
        let idle = studio()
        idle.execute("q")
        XCTAssertTrue(idle.quitRequested)
    }

    /// After `:open other.toml`, `w` saves to other.toml, not plan.toml: at once, as it still holds the plan the
    /// Studio read from it.
    func testWriteSavesThePlanToTheFileItWasOpenedFrom() throws {
        let app = studio()
        let other = folder.appendingPathComponent("other.toml")
        try app.plan.toml().write(to: other, atomically: true, encoding: .utf8)
        let own = folder.appendingPathComponent("plan.toml")
        try? FileManager.default.removeItem(at: own)
        app.execute("open \(other.path)")
        XCTAssertTrue(app.message.hasPrefix("opened"), app.message)
        app.plan.junctions[0].settings.steps = 7
        app.execute("w")
        XCTAssertEqual(app.mode, .browse, "the file the plan came from, unchanged since: nothing to ask")
        XCTAssertEqual(app.message, "saved \(other.path)")
        XCTAssertEqual(try Plan.read(other).junctions[0].settings.steps, 7)
        XCTAssertFalse(FileManager.default.fileExists(atPath: own.path), "plan.toml was not written")
    }

    /// `:w` elsewhere rewrites the plan's paths so they name the same files; `:open` reads it back.
    func testWritingThePlanElsewhereKeepsItsPathsTrue() throws {
        let app = studio()
        let other = folder.appendingPathComponent("elsewhere/deeper")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        app.execute("w \(other.path)/p.toml")
        XCTAssertTrue(app.message.hasPrefix("saved"), app.message)
        let written = try Plan.read(other.appendingPathComponent("p.toml"))
        for clip in written.clips {
            let path = clip.path.hasPrefix("/") ? clip.path : other.appendingPathComponent(clip.path).path
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), path)
            _ = try VideoReader(path: path)
        }
        // What `mavin compose` does with it first: open every clip from the plan's own folder, check s and e.
        let resolved = try Composer(plan: written, folder: other.path).resolve()
        XCTAssertEqual(resolved.readers.count, 2)
        app.plan.clips = []
        app.execute("open \(other.path)/p.toml")
        XCTAssertEqual(app.plan.clips.map(\.path), ["a.mp4", "b.mp4"], app.message)
        // What compose makes of the plan written elsewhere: every clip found, the composition written.
        if let model = app.model {
            var plan = written
            plan.junctions[0].settings.steps = 1
            let out = other.appendingPathComponent("composed.mp4")
            let (frames, _) = try Composer(plan: plan, folder: other.path).run(
                model: model, output: out, overwrite: false)
            XCTAssertGreaterThan(frames, 30)
            XCTAssertEqual(try VideoReader(path: out.path).frameCount, frames)
        }
        XCTAssertEqual(
            Plan(clips: [.init(path: "../a.mp4")]).rebased(from: "/x/y", to: "/x/y/z").clips[0].path, "/x/a.mp4")
        XCTAssertEqual(Plan(clips: [.init(path: "c/a.mp4")]).rebased(from: "/x", to: "/x/c").clips[0].path, "a.mp4")
    }
}
