import Core
import Foundation
import XCTest
@testable import Media
@testable import Studio

/// Drives the real `mavin studio` in tmux as a person would: keys in, screen text out.
final class TmuxStudioTests: XCTestCase {
    var socket = ""
    var folder: URL!
    /// $XDG_STATE_HOME of every Studio these tests start (the tmux server passes its own environment on), so their
    /// autosaves go to a folder removed with the test, never to the user's ~/.local/state. A test that checks the
    /// autosave names its own in the command.
    var stateHome: URL!

    func tmux(_ args: [String]) throws -> String {
        let r = try Subprocess.run(
            ["tmux", "-L", socket] + args, timeout: 20,
            environment: ["TERM": "xterm-256color", "XDG_STATE_HOME": stateHome?.path ?? "/nonexistent"])
        return r.output
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", "studio"]) }

    func keys(_ k: String...) throws {
        _ = try tmux(["send-keys", "-t", "studio"] + k)
        usleep(250_000)
    }

    func type(_ text: String) throws {
        _ = try tmux(["send-keys", "-t", "studio", "-l", text])
        usleep(150_000)
    }

    @discardableResult
    func waitFor(_ text: String, timeout: Double = 60, file: StaticString = #filePath, line: UInt = #line) throws
        -> String
    {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if last.contains(text) { return last }
            usleep(200_000)
        }
        XCTFail("timed out waiting for '\(text)'; screen:\n\(last)", file: file, line: line)
        throw XCTSkip("gave up")
    }

    override func setUpWithError() throws {
        guard Subprocess.which("tmux") != nil else { throw XCTSkip("tmux not installed") }
        socket = "mavin-test-\(getpid())"
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-studio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        stateHome = URL(fileURLWithPath: folder.path + "-state")
        for name in ["graze.mp4", "rear.mp4", "walk-graze-rear.mp4", "plan.toml"] {
            try FileManager.default.copyItem(
                at: samples.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        try Data("not a video".utf8).write(to: folder.appendingPathComponent("broken.mp4"))
        // A plan whose junction has known ground truth: one video on both sides, e − s − 1 = length.
        try """
        [[clip]]
        path = "walk-graze-rear.mp4"
        [[clip]]
        path = "walk-graze-rear.mp4"
        [[junction]]
        s = 54
        e = 65
        length = 10
        steps = 2
        """.write(to: folder.appendingPathComponent("truth.toml"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        _ = try? tmux(["kill-server"])
        if let folder { try? FileManager.default.removeItem(at: folder) }
        if let stateHome { try? FileManager.default.removeItem(at: stateHome) }
    }

    /// The mavin executable beside the test binary in the build folder.
    func mavinBinary() throws -> String {
        let dirs = [
            Bundle.main.executableURL?.deletingLastPathComponent(), Bundle(for: TmuxStudioTests.self).bundleURL,
            Bundle(for: TmuxStudioTests.self).bundleURL.deletingLastPathComponent()
        ].compactMap { $0 }
        let paths = dirs.map { $0.appendingPathComponent("mavin").path }
        let found = paths.first { FileManager.default.fileExists(atPath: $0) }
        guard let bin = found else {
            XCTFail("no mavin executable beside the tests in \(dirs.map(\.path)); run swift build first")
            throw XCTSkip("no mavin")
        }
        return bin
    }

    /// LANG=C: every label in ASCII and no byte ≥ 0x80 on screen; a 60×18 help overlay scrolls to its last
    /// entry; TERM=dumb is refused with a warning.
    func testPlainLocaleSmallHelpAndDumbTerminal() throws {
        let bin = try mavinBinary()
        let model = samples.appendingPathComponent("models/mavin-small.safetensors").path
        let cmd =
            "cd '\(folder.path)' && LANG=C LC_ALL=C MAVIN_PICTURES=truecolor MAVIN_MODEL='\(model)' '\(bin)'"
            + " studio . ;"
            + " echo EXITED $? ; sleep 60"
        _ = try tmux(["new-session", "-d", "-s", "studio", "-x", "60", "-y", "18", cmd])
        var s = try waitFor("Library (4)")
        try waitFor("model small")
        try keys("Tab")
        try keys("Tab")
        s = try waitFor("Junction 1")
        // "λ" is written "lambda" in ASCII, and its value still shows beside it. At 60×18 the inspector's fields
        // scroll: down to λ, then back up to s.
        for _ in 0..<StudioApp.Field.lambda.index { try keys("j") }
        try waitFor("lambda 0.10")
        for _ in 0..<StudioApp.Field.lambda.index { try keys("k") }
        try waitFor(" s 59 ")
        s = try screen()
        XCTAssertTrue(s.contains("Mavin Studio - "), s)
        XCTAssertFalse(s.contains("~@") || s.contains("M-"), "no ncurses stand-ins for UTF-8 bytes: \(s)")
        let high = s.utf8.filter { $0 >= 0x80 }
        XCTAssertTrue(high.isEmpty, "bytes ≥ 0x80 on a C-locale screen: \(high.prefix(8)) in\n\(s)")
        XCTAssertTrue(s.contains("<-/h -step  ->/l +step"), "human key labels, in ASCII: \(s)")
        // s is already the first clip's last frame: one more says so instead of doing nothing.
        try keys("l")
        try waitFor("s is at its limit: 0...59")
        // Leave the inspector on e and come back: the field cursor starts on s again, so h moves s.
        try keys("j")
        for _ in 0..<4 { try keys("Tab") }
        try keys("h")
        try waitFor("[s=58]")
        // Help at 60×18: it cannot show every entry, so it scrolls down to the last one.
        try keys("?")
        s = try waitFor("keys (Esc or ? closes)")
        let lastLine = try XCTUnwrap(KeyMap.helpLines().last)
        let last = Glyphs.text(lastLine, unicode: false).trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(last, "o        show x^0 or x_t")
        XCTAssertFalse(s.contains(last), "the last entry is below the fold at first")
        // Arrow keys as words (not "v", which is compare), the descriptions lined up after the longer labels.
        XCTAssertTrue(s.contains("  Up/k     move up") && s.contains("  Down/j   move down"), s)
        for _ in 0..<5 { _ = try tmux(["send-keys", "-t", "studio", "j", "j", "j", "j", "j", "j", "j", "j"]) }
        s = try waitFor("end of list")
        XCTAssertTrue(s.contains(last), s)
        XCTAssertTrue(s.contains("- step-through -"), s)
        XCTAssertTrue(s.contains("keys (Esc or ? closes)"), "the title stays")
        try keys("Escape")
        try keys("q")
        try waitFor("EXITED 0")
        // TERM=dumb: a warning that says what to do, not a blank screen.
        let dumb = "cd '\(folder.path)' && TERM=dumb '\(bin)' studio . ; echo EXITED $? ; sleep 60"
        _ = try tmux(["new-window", "-t", "studio", dumb])
        s = try waitFor("EXITED 1").replacingOccurrences(of: "\n", with: "")
        XCTAssertTrue(s.contains("TERM=dumb cannot move the cursor"), s)
        XCTAssertTrue(s.contains("TERM=xterm-256color"), s)
    }

    /// The first column of each screen row that has a true-colour background past column 30 (a picture drawn in
    /// half blocks), from `capture-pane -e`.
    func pictureStarts() throws -> [Int: Int] {
        let raw = try tmux(["capture-pane", "-e", "-p", "-t", "studio"])
        var starts: [Int: Int] = [:]
        for (row, line) in raw.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var col = 0
            var rest = Substring(line)
            while let ch = rest.first {
                if ch == "\u{1B}", let end = rest.firstIndex(of: "m") {
                    if rest[..<end].contains("48;2;"), col > 30, starts[row] == nil { starts[row] = col }
                    rest = rest[rest.index(after: end)...]
                    continue
                }
                col += 1
                rest = rest.dropFirst()
            }
        }
        return starts
    }

    /// Runs `cmd` (which starts the Studio on the test folder) in a new tmux session and tabs to the junction.
    func openOnTheJunction(_ cmd: String, width: Int, height: Int) throws {
        _ = try tmux(["new-session", "-d", "-s", "studio", "-x", String(width), "-y", String(height), cmd])
        try waitFor("Library (4)")
        try keys("Tab")
        try keys("Tab")
    }

    /// A shorter line before a picture (the sequence's junction line when its length goes 10 → 9) must not move
    /// the picture's cells on that row: ncurses would shift the rest of the line with delete-character, and the
    /// picture, written past ncurses, with it.
    func testAShorterLineDoesNotShiftThePicture() throws {
        let bin = try mavinBinary()
        let cmd =
            "cd '\(folder.path)' && MAVIN_PICTURES=truecolor '\(bin)' studio . ; echo EXITED $? ; sleep 60"
        try openOnTheJunction(cmd, width: 160, height: 48)
        try keys("j")
        try keys("j")
        try waitFor("l=10")
        let before = try pictureStarts()
        XCTAssertGreaterThan(Set(before.values).count, 0, "pictures in half blocks")
        try keys("h")
        try waitFor("l=9")
        usleep(500_000)
        let after = try pictureStarts()
        XCTAssertEqual(Set(after.keys), Set(before.keys))
        for (row, col) in after { XCTAssertEqual(col, before[row], "row \(row) of the picture moved") }
        try keys("q")
        try waitFor("EXITED 0")
    }

    /// A terminal that goes away without a SIGHUP reaching the Studio (its shell traps the signal and lives on)
    /// ends it, instead of leaving it spinning on a dead terminal.
    func testTheStudioEndsWhenItsTerminalGoesAwayWithoutAHangUp() throws {
        let bin = try mavinBinary()
        let pidFile = folder.appendingPathComponent("studio.pid")
        // Unquoted paths inside the quoted commands: the test folder's and the build folder's have no spaces.
        let inner = "echo \\$\\$ > \(pidFile.path); exec \(bin) studio ."
        let cmd = "cd '\(folder.path)' && bash -c 'trap \"echo hup\" HUP; sh -c \"\(inner)\"; sleep 30'"
        _ = try tmux(["new-session", "-d", "-s", "studio", "-x", "100", "-y", "30", cmd])
        try waitFor("Library (4)")
        let text = try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try XCTUnwrap(pid_t(text), text)
        XCTAssertEqual(kill(pid, 0), 0, "the Studio runs")
        _ = try tmux(["kill-server"])
        let deadline = Date().addingTimeInterval(10)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(100_000) }
        let alive = kill(pid, 0) == 0
        if alive { kill(pid, SIGKILL) }
        XCTAssertFalse(alive, "the Studio still ran 10 s after its terminal went away")
    }

    /// Ctrl-C ends the Studio as q does, with the terminal restored and the last change autosaved, and by the
    /// signal (status 130), so that a script running it stops too. (ncurses' own handler ended it with status 1.)
    func testCtrlCEndsTheStudioByItsSignalWithThePlanAutosaved() throws {
        let bin = try mavinBinary()
        let state = folder.appendingPathComponent("state")
        // The shell traps SIGINT so that it lives on to print the Studio's status.
        let cmd =
            "cd '\(folder.path)' && trap : INT; XDG_STATE_HOME='\(state.path)' MAVIN_PICTURES=truecolor '\(bin)'"
            + " studio . ; echo EXITED $? ; sleep 60"
        try openOnTheJunction(cmd, width: 120, height: 36)
        try keys("h")
        try waitFor("[s=58]")
        try keys("C-c")
        let s = try waitFor("EXITED")
        XCTAssertTrue(s.contains("EXITED 130"), s)
        let sessions = state.appendingPathComponent("mavin/sessions")
        let saved = try FileManager.default.contentsOfDirectory(atPath: sessions.path)
        XCTAssertEqual(saved.count, 1, "one autosave and no partial files: \(saved)")
        let text = try String(contentsOf: sessions.appendingPathComponent(saved[0]), encoding: .utf8)
        XCTAssertTrue(text.contains("s = 58"), text)
    }
    func testStudioAsAPersonWouldUseIt() throws {
        let bin = try mavinBinary()
        let model = samples.appendingPathComponent("models/mavin-small.safetensors").path
        // The session is kept outside the folder: a state folder of its own, empty as on a fresh machine.
        let state = folder.appendingPathComponent(".state").path
        let before = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        let cmd =
            "cd '\(folder.path)' && XDG_STATE_HOME='\(state)' MAVIN_MODEL='\(model)' '\(bin)' studio . ;"
            + " echo EXITED $? ; sleep 60"
        _ = try tmux(["new-session", "-d", "-s", "studio", "-x", "120", "-y", "40", cmd])
        var s = try waitFor("Library (4)")
        XCTAssertTrue(s.contains("opened plan.toml"), s)
        XCTAssertFalse(s.contains("restored"), "a first launch has no session to restore: \(s)")
        XCTAssertTrue(s.contains("broken.mp4"), "unreadable files are listed")
        XCTAssertTrue(s.contains("✗"))
        XCTAssertTrue(s.contains("Sequence (2 clips)"), s)  // plan.toml's clips that exist here
        try waitFor("model small")
        // Junction inspector: move s by one and by ten, see the boundary frames change.
        try keys("Tab")
        try keys("Tab")
        try waitFor("Junction 1: graze.mp4 [s=59]")
        try keys("h")
        try waitFor("[s=58]")
        try keys("H")
        try waitFor("[s=48]")
        try keys("L")
        try keys("l")
        try waitFor("[s=59]")
        try keys("j")
        try keys("l")
        // Only the junction's title says [e=1]; "e 1" would match the preview's "frame 1/…".
        try waitFor("[e=1]")
        try keys("h")
        try waitFor("[e=0]")
        // Fewer steps, then generate and watch progress to the end.
        try keys(":")
        try type("set steps 2")
        try keys("Enter")
        try waitFor("steps = 2")
        try keys("g")
        s = try waitFor("generated 10 frames", timeout: 240)
        XCTAssertTrue(s.contains("2/2"), s)
        XCTAssertTrue(s.contains("done"), s)
        // Step through the recorded denoising steps.
        try keys("t")
        try waitFor("Step-through: step 2/2")
        try keys("[")
        try waitFor("step 1/2")
        try keys("o")
        // The caption always names x_t; only the title of the noisy view says "noisy x_t".
        try waitFor("noisy x_t")
        try keys("Escape")
        // Compare needs known truth: open the plan with one video on both sides.
        try keys(":")
        try type("open truth.toml")
        try keys("Enter")
        try waitFor("opened")
        try keys("g")
        try waitFor("generated 10 frames", timeout: 240)
        try waitFor("CLIP-RS")
        try keys("v")
        s = try waitFor("Compare: generated | truth")
        XCTAssertTrue(s.contains("PSNR"), s)
        try keys("Escape")
        // Export, then refuse to overwrite.
        try keys("e")
        try waitFor("exported 180 frames", timeout: 300)
        let out = folder.appendingPathComponent("composed.mp4").path
        let probe = try Subprocess.run([
            "ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0", "-show_entries",
            "stream=nb_read_packets", "-of", "csv=p=0", out
        ])
        XCTAssertEqual(probe.output.trimmingCharacters(in: .whitespacesAndNewlines), "180")
        try keys("e")
        try waitFor("exists. Overwrite? (y/n)")
        try keys("n")
        try waitFor("kept the existing file")
        // Help overlay from the key map.
        try keys("?")
        try waitFor("keys (Esc or ? closes)")
        try keys("Escape")
        // Ctrl-L repaints everything: the screen is whole again afterwards.
        try keys("C-l")
        s = try waitFor("Library (4)")
        XCTAssertTrue(s.contains("Sequence (2 clips)"), s)
        // Tiny terminal, then back.
        _ = try tmux(["resize-window", "-t", "studio", "-x", "40", "-y", "12"])
        try waitFor("Terminal too small")
        _ = try tmux(["resize-window", "-t", "studio", "-x", "120", "-y", "40"])
        try waitFor("Library (4)")
        // Quit: exit status 0 and the alternate screen gone.
        try keys("q")
        s = try waitFor("EXITED 0")
        XCTAssertFalse(s.contains("Library (4)"), "the terminal is restored")
        // The plan was autosaved outside the folder; the folder holds only what the user made (the export).
        let autosaveURL = Autosave.location(folder: folder.path, environment: ["XDG_STATE_HOME": state])
        let autosave = try String(contentsOf: autosaveURL, encoding: .utf8)
        XCTAssertTrue(autosave.contains("walk-graze-rear.mp4"))
        let after = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(after, (before + ["composed.mp4", ".state"]).sorted())
        // The next start restores it, since it differs from plan.toml, and says so.
        let again =
            "cd '\(folder.path)' && XDG_STATE_HOME='\(state)' MAVIN_MODEL='\(model)' '\(bin)' studio . ;"
            + " echo EXITED $? ; sleep 60"
        _ = try tmux(["new-window", "-t", "studio", again])
        try waitFor("restored your last session")
        try keys("q")
        try waitFor("EXITED 0")
    }
}
