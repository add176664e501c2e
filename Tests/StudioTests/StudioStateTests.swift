import Foundation
import XCTest

@testable import Engine
@testable import Media
@testable import Studio
@testable import Synth

/// The Studio as state → actions → draw, without a terminal: what the screen shows follows the state,
/// pictures leave nothing of the old ones behind, plans and the autosave behave as README says.
final class StudioStateTests: XCTestCase {
    var folder: URL!
    /// $XDG_STATE_HOME of these tests, beside the folder (never inside it).
    var state: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        state = folder.deletingLastPathComponent().appendingPathComponent(folder.lastPathComponent + "-state")
        let p = Performance(seed: 31, fps: 15, script: [(Action.walk, 2)])
        _ = try SynthWriter.write(p, name: "a", size: 32, to: folder, overwrite: false)
        // A 16:9 clip beside the square one.
        let wide = (0..<4).map { i in RGBImage(width: 64, height: 36, fill: (UInt8(40 * i), 90, 200)) }
        try VideoWriter.write(wide, to: folder.appendingPathComponent("wide.mp4"), fps: 15)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
        if let state { try? FileManager.default.removeItem(at: state) }
    }

    func studio(pictures: String = "ascii", environment: [String: String]? = nil) -> StudioApp {
        let caps = Capabilities.decide(answers: nil, environment: ["TERM": "xterm", "MAVIN_PICTURES": pictures])
        return StudioApp(
            folder: folder.path, capabilities: caps, environment: environment ?? ["XDG_STATE_HOME": state.path])
    }

    /// A plan of a.mp4 on both sides with e − s − 1 = length: ground truth is known.
    func truthPlan(_ app: StudioApp) {
        app.plan = Plan(clips: [.init(path: "a.mp4"), .init(path: "a.mp4")])
        app.plan.normaliseJunctions()
        app.plan.junctions[0].s = 5
        app.plan.junctions[0].e = 16
        app.plan.junctions[0].length = 10
        app.sequenceSel = 0
    }

    /// Delivers a finished generation of junction 0 as the job would, made from the junction as it is now.
    func finish(_ app: StudioApp, frames: Int = 10, side: Int = 32) throws {
        let made = try XCTUnwrap(app.source(of: 0))
        let frame = RGBImage(width: side, height: side, fill: (100, 120, 140))
        let step = StepRecord(
            index: 0, timestep: 1, predicted: Array(repeating: frame, count: frames),
            noisy: Array(repeating: RGBImage(width: side, height: side, fill: (9, 9, 9)), count: frames))
        let result = InfillResult(
            frames: Array(repeating: frame, count: frames), referencesBefore: 1, referencesAfter: 1, seconds: 0.5,
            scores: nil, steps: [step], notices: [])
        app.job = StudioApp.JobStatus(kind: "infill", purpose: .transition(junction: 0, made: made))
        app.apply(.finished(.infill(result)), for: .transition(junction: 0, made: made))
    }

    // MARK: results follow the junction

    func testChangingSAfterGeneratingClearsTheResult() throws {
        let app = studio()
        truthPlan(app)
        app.focus = .sequence
        try finish(app)
        XCTAssertNotNil(app.result(0))
        var screen = app.draw().text
        XCTAssertTrue(screen.contains("l=10 insert ✓"), screen)
        XCTAssertTrue(screen.contains("Generated transition 1"), screen)
        app.focus = .junction
        app.field = .s
        app.adjust(by: -1)
        XCTAssertNil(app.result(0), "s changed: the result is of another junction")
        XCTAssertEqual(app.results.count, 1, "kept, for s coming back")
        screen = app.draw().text
        XCTAssertFalse(screen.contains("✓"), screen)
        XCTAssertFalse(screen.contains("Generated transition"), screen)
        // Writing out the value s already has by default changes nothing that made the result.
        app.plan.junctions[0].s = nil
        try finish(app)
        app.plan.junctions[0].s = app.boundaries(0).s
        XCTAssertNotNil(app.plan.junctions[0].s)
        XCTAssertNotNil(app.result(0))
        app.planChanged()
        XCTAssertNotNil(app.result(0))
        // A result that arrives after the junction changed while it ran is not shown either.
        try finish(app)
        app.plan.junctions[0].settings.strength = 0.5
        XCTAssertNil(app.result(0))
    }

    /// A result is kept with what made it: changing a setting back, or moving a clip away and back, shows it
    /// again; a setting the Studio dims as having no effect keeps it showing; the job panel says when its figures
    /// are no longer the junction's. Beyond those shown, only the most recent few are kept.
    func testAResultComesBackWithWhatMadeItAndTheJobPanelSaysWhenItIsOutdated() throws {
        let app = studio()
        try XCTSkipIf(app.model?.config.latentSpace != .motion, "needs the shipped motion model: \(app.modelNote)")
        app.plan = Plan(clips: [.init(path: "a.mp4"), .init(path: "wide.mp4")])
        app.plan.normaliseJunctions()
        app.size = (120, 40)
        try finish(app)
        app.job?.paceRS = [0.953]
        func jobPanel() -> [Screen.Run] { app.draw().runs.filter { $0.row >= 36 && $0.row < 38 } }
        func outdated() -> Bool { jobPanel().contains { $0.text.contains("(outdated: the junction changed)") } }
        XCTAssertFalse(outdated())
        XCTAssertTrue(jobPanel().contains { $0.text.contains("smoothness vs the clips' pace (no truth) 0.953") })
        app.focus = .junction
        app.field = .ease
        app.adjust(by: 1)
        XCTAssertNil(app.result(0), "another ease, other frames")
        XCTAssertTrue(outdated(), app.draw().text)
        XCTAssertTrue(jobPanel().allSatisfy { $0.style.pair == .dim }, "its figures dimmed")
        app.adjust(by: -1)
        XCTAssertNotNil(app.result(0), "ease back at the model's value: the same frames, the result is back")
        XCTAssertTrue(app.draw().text.contains("✓"))
        XCTAssertFalse(outdated())
        // steps do nothing at strength 0 (the inspector dims them): the result stays.
        app.field = .steps
        XCTAssertNotNil(app.inertReason(.steps, of: app.plan.junctions[0]))
        app.adjust(by: 1)
        XCTAssertEqual(app.plan.junctions[0].settings.steps, 2)
        XCTAssertNotNil(app.result(0))
        XCTAssertFalse(outdated())
        // J then K: the junction made of other clips, then of the same again.
        app.focus = .sequence
        app.sequenceSel = 0
        app.perform(.moveDown)
        XCTAssertEqual(app.plan.clips.map(\.path), ["wide.mp4", "a.mp4"])
        XCTAssertNil(app.result(0))
        XCTAssertTrue(outdated())
        app.perform(.moveUp)
        XCTAssertNotNil(app.result(0))
        XCTAssertFalse(outdated())
        // A running job is always now.
        app.job?.state = .running
        app.plan.junctions[0].s = 3
        XCTAssertFalse(outdated())
        // Memory: one result per s from 0 to 11; the one shown and the 8 most recent others are kept.
        for s in 0..<12 {
            app.plan.junctions[0].s = s
            try finish(app)
        }
        app.planChanged()
        XCTAssertEqual(app.results.count, StudioApp.keptResults + 1)
        app.plan.junctions[0].s = 3
        XCTAssertNotNil(app.result(0))
        app.plan.junctions[0].s = 2
        XCTAssertNil(app.result(0), "the oldest are let go")
    }

    /// Leaving step-through (a field changed) shows the clip from its first frame, not from the step's frame.
    func testTheFrameStartsAgainWhenThePreviewShowsSomethingElse() throws {
        let app = studio()
        truthPlan(app)
        app.focus = .junction
        try finish(app)
        app.perform(.stepThrough)
        for _ in 0..<2 { app.perform(.nextFrame) }
        XCTAssertTrue(app.draw().text.contains("frame 3/10"), app.draw().text)
        app.field = .s
        app.adjust(by: -1)
        XCTAssertEqual(app.mode, .browse)
        XCTAssertTrue(app.draw().text.contains("a.mp4 — frame 1/30"), app.draw().text)
    }

    /// A key that does nothing where it is pressed says so, and where it does something.
    func testKeysThatDoNothingHereSaySo() throws {
        let app = studio()
        app.focus = .junction
        app.handle(Int32(UInt8(ascii: "x")))
        XCTAssertEqual(app.message, "x does nothing here (? lists the keys)")
        app.handle(Int32(UInt8(ascii: "J")))
        XCTAssertEqual(
            app.message, "J does nothing here; in the sequence pane: move the clip later (? lists the keys)")
        app.focus = .sequence
        app.handle(Int32(UInt8(ascii: "d")))
        XCTAssertTrue(app.message.hasPrefix("the sequence is empty"), app.message)
        truthPlan(app)
        try finish(app)
        app.perform(.stepThrough)
        app.handle(Int32(UInt8(ascii: "]")))
        XCTAssertEqual(app.message, "already at the last step (1/1)")
        app.focus = .preview
        app.size = (120, 40)
        let hints = try XCTUnwrap(app.draw().lines().last)
        XCTAssertTrue(hints.contains("(/←/h frame back  )/→/l frame on  Space play"), hints)
    }

    /// A message longer than the screen is wide goes on two lines, all of it readable; the help overlay leaves
    /// nothing of the panes showing beside it.
    func testALongMessageWrapsAndHelpHidesThePanes() throws {
        let app = studio()
        truthPlan(app)
        app.size = (120, 40)
        app.execute("set foo 1")
        let said = app.message
        XCTAssertGreaterThan(said.count, 120)
        let lines = app.draw().lines()
        XCTAssertEqual(
            lines[37].trimmingCharacters(in: .whitespaces) + " " + lines[38].trimmingCharacters(in: .whitespaces), said)
        XCTAssertTrue(lines[35].hasPrefix(" Job: idle"), "the panes gave up a line, the job panel none")
        // Three lines when it needs them, so the end of a long message (often its reason) is read too.
        app.message = String(repeating: "word ", count: 60) + "end"
        let three = app.draw().lines()
        XCTAssertEqual(
            three[36...38].map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "), app.message)
        XCTAssertTrue(three[34].hasPrefix(" Job: idle"), "the panes gave up two lines")
        app.perform(.help)
        let help = app.draw().lines().dropFirst().joined(separator: "\n")
        XCTAssertTrue(help.contains(StudioApp.helpTitle), help)
        for pane in ["Library (", "Sequence (", "Junction 1", "s=5 e=16", "Job: idle", "q quit"] {
            XCTAssertFalse(help.contains(pane), "\(pane) shows through the help:\n\(help)")
        }
    }

    func testCompareRefusesAStaleResultAndMeasuresOnce() throws {
        let app = studio()
        truthPlan(app)
        try XCTSkipIf(app.model == nil, "no model here: \(app.modelNote)")
        app.perform(.compare)
        XCTAssertEqual(app.mode, .browse)
        XCTAssertTrue(app.message.hasPrefix("generate first"), app.message)
        let side = try XCTUnwrap(app.model).config.resolution
        try finish(app, side: side)
        // Stale: the strength changed after generating (before any clean-up could drop the result).
        app.plan.junctions[0].settings.strength = 0.5
        app.perform(.compare)
        XCTAssertEqual(app.mode, .browse, "compare refuses a result of other settings")
        app.execute("set strength 0.5")
        app.perform(.compare)
        XCTAssertEqual(app.mode, .browse, "compare refuses a result of other settings")
        XCTAssertTrue(app.message.hasPrefix("generate first"), app.message)
        // Fresh: compare opens, its truth and metrics are computed once, into the result's cache.
        try finish(app, side: side)
        app.perform(.compare)
        XCTAssertEqual(app.mode, .compare, app.message)
        let comparison = try XCTUnwrap(app.comparison(0))
        XCTAssertEqual(comparison.truth.count, 10)
        XCTAssertEqual(comparison.psnr.count, 10)
        let screen = app.draw().text
        XCTAssertTrue(screen.contains("Compare: generated | truth"), screen)
        XCTAssertTrue(screen.contains(String(format: "PSNR %.2f dB", comparison.psnr[0])), screen)
        // Changing a setting while comparing leaves compare and drops the comparison with the result.
        app.execute("set steps 3")
        XCTAssertEqual(app.mode, .browse)
        XCTAssertNil(app.comparison(0))
    }

    // MARK: modes

    func testModesAreExclusive() throws {
        let app = studio()
        truthPlan(app)
        try finish(app)
        app.handle(Int32(UInt8(ascii: "t")))
        XCTAssertEqual(app.mode, .stepThrough(index: 0, noisy: false))
        app.handle(Int32(UInt8(ascii: "o")))
        XCTAssertEqual(app.mode, .stepThrough(index: 0, noisy: true))
        XCTAssertTrue(app.draw().text.contains("noisy x_t, frame 1/10"))
        app.handle(Int32(UInt8(ascii: "?")))
        XCTAssertEqual(app.mode, .help(scroll: 0), "help replaces step-through")
        app.handle(27)
        XCTAssertEqual(app.mode, .browse)
        app.handle(Int32(UInt8(ascii: ":")))
        for ch in "set seed 4" { app.handle(Int32(ch.asciiValue ?? 0)) }
        XCTAssertEqual(app.mode, .command("set seed 4"))
        XCTAssertTrue(app.draw().text.contains(":set seed 4"))
        app.handle(10)
        XCTAssertEqual(app.mode, .browse)
        XCTAssertEqual(app.plan.junctions[0].settings.seed, 4)
        // The same state draws the same screen.
        XCTAssertEqual(app.draw(), app.draw())
    }

    /// The inspector at 160 columns in mode regenerate: every field shows whole, inside the pane.
    func testInspectorFitsAt160Columns() {
        let app = studio(pictures: "truecolor")
        truthPlan(app)
        app.plan.junctions[0].mode = .regenerate
        app.focus = .junction
        for width in [160, 100, 60] {
            app.size = (width, 40)
            let screen = app.draw()
            let paneLeft = max(28, width / 3) + 1
            let lines = screen.lines()
            for label in ["s 5", "e 16", "length 10", "mode regenerate", "f0 0.60", "λ 0.10", "GFM off", "steps 1"] {
                let found = lines.prefix(14).contains { line in
                    guard let r = line.range(of: " \(label) ") else { return false }
                    return line.distance(from: line.startIndex, to: r.lowerBound) >= paneLeft
                }
                XCTAssertTrue(found, "\(label) whole in the inspector at \(width) columns:\n\(screen.text)")
            }
            for run in screen.runs { XCTAssertLessThanOrEqual(run.col + run.text.count, width, run.text) }
        }
    }

    // MARK: pictures

    func rect(_ r: Int, _ c: Int, _ cols: Int, _ rows: Int) -> CellRect {
        CellRect(row: r, col: c, cols: cols, rows: rows)
    }

    func caps(_ pictures: String) -> Capabilities {
        Capabilities.decide(answers: nil, environment: ["TERM": "xterm", "MAVIN_PICTURES": pictures])
    }

    func testAGeometryChangeErasesTheOldPictureAreaInSixelAndHalfBlocks() {
        let wide = RGBImage(width: 64, height: 36, fill: (200, 30, 30))
        let square = RGBImage(width: 32, height: 32, fill: (30, 200, 30))
        let old = rect(10, 40, 32, 9)
        let new = rect(10, 40, 18, 9)
        for mode in ["sixel", "truecolor", "256"] {
            var layer = PictureLayer(caps: caps(mode))
            let first = layer.update([Placement(rect: old, image: wide)], textChanged: true, force: false)
            XCTAssertEqual(first.before, "", "nothing shown yet, nothing to erase (\(mode))")
            XCTAssertFalse(first.after.isEmpty)
            let second = layer.update([Placement(rect: new, image: square)], textChanged: false, force: false)
            for row in 11...19 {
                XCTAssertTrue(
                    second.before.contains("\u{1B}[\(row);41H\u{1B}[32X"),
                    "row \(row) of the old 32-column picture is erased (\(mode))")
            }
            XCTAssertTrue(second.before.hasPrefix(PictureLayer.beginSync), "inside one synchronized update")
            XCTAssertTrue(second.after.hasSuffix(PictureLayer.endSync))
            if mode == "sixel" {
                XCTAssertTrue(second.after.contains("\u{1B}[11;41H\u{1B}P"), "the new sixel at its place")
            } else {
                // Half-blocks: every row of the new picture is written, 18 cells from its column.
                for row in 11...19 { XCTAssertTrue(second.after.contains("\u{1B}[\(row);41H\u{1B}[")) }
            }
            // The same pictures and no new text: nothing is written at all.
            let third = layer.update([Placement(rect: new, image: square)], textChanged: false, force: false)
            XCTAssertTrue(third.isEmpty, mode)
            // Gone (help opened, a too-small terminal): erased, nothing drawn.
            let gone = layer.update([], textChanged: true, force: false)
            XCTAssertTrue(gone.before.contains("\u{1B}[11;41H\u{1B}[18X"), mode)
            XCTAssertEqual(gone.after, PictureLayer.endSync)
        }
    }

    func testKittyDeletesPlacementsAndTmuxPassthroughRepaintsOnAMove() {
        let img = RGBImage(width: 8, height: 8, fill: (1, 2, 3))
        var kitty = PictureLayer(caps: caps("kitty"))
        _ = kitty.update([Placement(rect: rect(1, 1, 4, 2), image: img)], textChanged: true, force: false)
        let moved = kitty.update([Placement(rect: rect(3, 1, 4, 2), image: img)], textChanged: false, force: false)
        XCTAssertTrue(
            moved.after.hasPrefix(PictureLayer.beginSync + PictureLayer.saveCursor + KittyGraphics.deletePlacements))
        XCTAssertFalse(moved.after.contains("a=t"), "the stored image is placed again, not sent again")
        var tmuxCaps = caps("sixel")
        tmuxCaps.tmuxPassthrough = true
        var tmux = PictureLayer(caps: tmuxCaps)
        _ = tmux.update([Placement(rect: rect(1, 1, 4, 2), image: img)], textChanged: true, force: false)
        let same = tmux.update([Placement(rect: rect(1, 1, 4, 2), image: img)], textChanged: true, force: false)
        XCTAssertFalse(same.clearScreen, "the same place: drawn again in place")
        let away = tmux.update([Placement(rect: rect(5, 1, 4, 2), image: img)], textChanged: false, force: false)
        XCTAssertTrue(away.clearScreen, "tmux cannot erase the outer terminal's pixels cell by cell")
        XCTAssertTrue(away.after.contains("\u{1B}Ptmux;"), "the sixel goes through passthrough")
    }

    func testMovingFromAWideClipToASquareOneClearsThePictureArea() throws {
        let app = studio(pictures: "truecolor")
        app.size = (120, 40)
        app.focus = .library
        XCTAssertEqual(app.clips.map(\.name), ["a.mp4", "wide.mp4"])
        app.librarySel = 1
        let wide = app.draw()
        let wideRects = wide.pictures.map(\.rect)
        XCTAssertFalse(wideRects.isEmpty)
        _ = app.pictures.update(wide.pictures, textChanged: true, force: false)
        app.perform(.up)
        let square = app.draw()
        XCTAssertNotEqual(square.pictures.map(\.rect), wideRects, "another aspect, another rectangle")
        let out = app.pictures.update(square.pictures, textChanged: true, force: false)
        guard let preview = wideRects.last else { return XCTFail("no preview picture") }
        for row in preview.row..<(preview.row + preview.rows) {
            XCTAssertTrue(
                out.before.contains("\u{1B}[\(row + 1);\(preview.col + 1)H\u{1B}[\(preview.cols)X"),
                "the wide preview's row \(row) is erased before the square one is drawn")
        }
    }

    func testCtrlLRepaintsEverything() throws {
        let app = studio(pictures: "kitty")
        app.focus = .library
        let screen = app.draw()
        XCTAssertFalse(screen.pictures.isEmpty)
        _ = app.pictures.update(screen.pictures, textChanged: true, force: false)
        app.repaintAll = false
        XCTAssertTrue(app.pictures.update(screen.pictures, textChanged: false, force: false).isEmpty)
        app.handle(12)  // Ctrl-L
        XCTAssertTrue(app.repaintAll)
        let out = app.pictures.update(screen.pictures, textChanged: false, force: app.repaintAll)
        XCTAssertTrue(out.after.contains(KittyGraphics.deletePlacements))
        XCTAssertEqual(
            out.after.components(separatedBy: "a=t,").count - 1, screen.pictures.count,
            "every picture is sent again: the terminal may have dropped them")
        var sixel = PictureLayer(caps: caps("sixel"))
        let one = [Placement(rect: rect(2, 2, 4, 2), image: RGBImage(width: 8, height: 8, fill: (5, 5, 5)))]
        _ = sixel.update(one, textChanged: true, force: false)
        let forced = sixel.update(one, textChanged: false, force: true)
        XCTAssertTrue(forced.before.contains("\u{1B}[3;3H\u{1B}[4X"), "erased")
        XCTAssertTrue(forced.after.contains("\u{1B}[3;3H\u{1B}P"), "and drawn again")
        XCTAssertTrue(KeyMap.helpLines().contains { $0.contains("Ctrl-L") && $0.contains("redraw") })
    }

    // MARK: plans

    func testSaveAsksBeforeOverwritingAnExistingPlan() throws {
        let app = studio()
        truthPlan(app)
        let planFile = folder.appendingPathComponent("plan.toml")
        let theirs = "# someone's plan\n[[clip]]\npath = \"a.mp4\"\n"
        try theirs.write(to: planFile, atomically: true, encoding: .utf8)
        app.perform(.save)
        guard case .confirm(let prompt, .savePlan(let path)) = app.mode else {
            return XCTFail("w on an existing plan asks; mode is \(app.mode)")
        }
        XCTAssertEqual(prompt, "plan.toml holds another plan. Overwrite? (y/n)")
        XCTAssertEqual(path, planFile.path)
        XCTAssertTrue(app.draw().text.contains("plan.toml holds another plan. Overwrite? (y/n)"))
        XCTAssertEqual(try String(contentsOf: planFile, encoding: .utf8), theirs, "nothing written before y")
        app.handle(Int32(UInt8(ascii: "n")))
        XCTAssertEqual(app.mode, .browse)
        XCTAssertEqual(app.message, "kept the existing file")
        XCTAssertEqual(try String(contentsOf: planFile, encoding: .utf8), theirs)
        app.perform(.save)
        app.handle(Int32(UInt8(ascii: "y")))
        XCTAssertTrue(app.message.hasPrefix("saved"), app.message)
        XCTAssertEqual(try Plan.read(planFile), app.plan)
        // Saving what the file already holds asks nothing, even when it is laid out otherwise.
        let commented = "# mine\n" + (try String(contentsOf: planFile, encoding: .utf8))
        try commented.write(to: planFile, atomically: true, encoding: .utf8)
        app.perform(.save)
        XCTAssertEqual(app.mode, .browse)
        XCTAssertEqual(app.message, "plan.toml already holds this plan")
        XCTAssertEqual(try String(contentsOf: planFile, encoding: .utf8), commented, "left as it is")
    }

    func testOpenSaysNoSuchFile() {
        let app = studio()
        app.execute("open nowhere.toml")
        XCTAssertTrue(app.message.hasPrefix("no such file: nowhere.toml (looked in "), app.message)
        XCTAssertTrue(app.message.contains(folder.path), app.message)
    }

    func testAutosaveLivesOutsideTheFolderAndIsAnnouncedOnlyWhenItDiffers() throws {
        let env = ["XDG_STATE_HOME": state.path, "HOME": "/nonexistent"]
        let url = Autosave.location(folder: folder.path, environment: env)
        XCTAssertTrue(url.path.hasPrefix(state.path + "/mavin/sessions/"), url.path)
        XCTAssertFalse(url.path.hasPrefix(folder.path + "/"), url.path)
        let fallback = Autosave.location(folder: "/work/clips", environment: ["HOME": "/home/u"])
        XCTAssertEqual(fallback.path, "/home/u/.local/state/mavin/sessions/%work%clips.toml")
        let long = "/" + String(repeating: "d/", count: 150) + "clips"
        XCTAssertLessThan(Autosave.fileName(for: long).utf8.count, 255)
        XCTAssertEqual(Autosave.fileName(for: long), Autosave.fileName(for: long), "stable across runs")

        // A plan on disk and no autosave: it opens, nothing is said about a session.
        let planFile = folder.appendingPathComponent("plan.toml")
        try "[[clip]]\npath = \"a.mp4\"\n[[clip]]\npath = \"wide.mp4\"\n".write(
            to: planFile, atomically: true, encoding: .utf8)
        var app = studio(environment: env)
        XCTAssertEqual(app.message, "opened plan.toml")
        // Quitting writes the autosave outside the folder; the same plan comes back silently.
        let before = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertNil(app.autosave())
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.path))
        let after = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(after, before, "nothing new in the user's folder")
        app = studio(environment: env)
        XCTAssertEqual(app.message, "opened plan.toml", "an autosave equal to the plan is not announced")
        // A change: the next start restores it and says so.
        app.plan.junctions[0].length = 7
        app.planChanged()
        app = studio(environment: env)
        XCTAssertTrue(app.message.hasPrefix("restored your last session"), app.message)
        XCTAssertEqual(app.plan.junctions[0].length, 7)
        // Saved to plan.toml: the session and the plan agree again, nothing to announce.
        app.perform(.save)
        app.handle(Int32(UInt8(ascii: "y")))
        app = studio(environment: env)
        XCTAssertEqual(app.message, "opened plan.toml")
    }
}
