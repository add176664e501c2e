import Core
import Foundation
import Media
import XCTest

/// Drives the real `mavin` executable as a user would (arguments in, exit status and messages out), for what
/// only the whole program shows: the order of its checks, its words for file errors, what a signal leaves.
final class CLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// The package's own files, found from this source file.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    var model: String { Self.packageRoot.appendingPathComponent("Samples/models/mavin-motion.safetensors").path }

    /// The mavin executable the build put beside the tests.
    func mavin() throws -> String {
        let bundle = Bundle(for: CLITests.self).bundleURL
        let dirs = [Bundle.main.executableURL?.deletingLastPathComponent(), bundle, bundle.deletingLastPathComponent()]
        for d in dirs.compactMap({ $0 }) where FileManager.default.isExecutableFile(atPath: d.path + "/mavin") {
            return d.path + "/mavin"
        }
        XCTFail("no mavin executable beside the tests; run swift build first")
        throw XCTSkip("no mavin executable")
    }

    func run(_ arguments: [String], timeout: Double = 120) throws -> Subprocess.Result {
        try Subprocess.run([try mavin()] + arguments, timeout: timeout)
    }

    /// A clip made by the ffmpeg command line in the test's folder.
    func clip(_ name: String, seconds: Double = 2, fps: Int = 25, size: String = "96x64") throws -> String {
        guard Subprocess.which("ffmpeg") != nil else { throw XCTSkip("needs the ffmpeg command line") }
        let path = dir.appendingPathComponent(name).path
        let r = try Subprocess.run(
            [
                "ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                "testsrc2=size=\(size):rate=\(fps)", "-t", String(seconds),
                "-pix_fmt", "yuv420p", path
            ], timeout: 300)
        XCTAssertEqual(r.status, 0, r.output)
        return path
    }

    /// Runs `base` + each case's options: each must fail saying its expected words, and `output` must not appear.
    func assertEachRefused(_ base: [String], _ cases: [([String], String)], creating output: String) throws {
        for (options, expected) in cases {
            let r = try run(base + options)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.output.contains(expected), "\(options): \(r.output)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    /// A file named like a checkpoint that cannot be loaded: any command that reached the model says so.
    func brokenModel() throws -> String {
        let path = dir.appendingPathComponent("broken.safetensors")
        try Data(repeating: 0x41, count: 64).write(to: path)
        return path.path
    }

    // MARK: outputs are checked before any work (issue 15)

    func testInfillRefusesABadOutputBeforeLoadingTheModel() throws {
        let a = try clip("a.mp4")
        let model = try brokenModel()
        let base = ["infill", "--before", a, "--after", a, "--length", "8", "--model", model]
        let cases: [(String, String)] = [
            (dir.appendingPathComponent("plan.toml").path, "unknown output type"),
            (dir.appendingPathComponent("out.mkv").path, "unknown output type"),
            (dir.appendingPathComponent("missing/out.mp4").path, "does not exist"),
            (a, "also an input"),
            ("", "the output name is empty")
        ]
        for (output, expected) in cases {
            let r = try run(base + ["-o", output, "--overwrite"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.output.contains(expected), "\(output): \(r.output)")
            XCTAssertFalse(r.output.contains("broken.safetensors"), "the model was reached first: \(r.output)")
        }
        // The model really fails when the output is fine: the ordering above is what the test shows.
        let r = try run(base + ["-o", dir.appendingPathComponent("fine.mp4").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("broken.safetensors"), r.output)
    }

    /// Regenerate replaces frames up to s and from e: a boundary that leaves nothing of a clip is refused with the
    /// bound that would work (s ≥ ⌈l/2⌉ = 4; e ≤ 49 − 4 for a 50-frame clip), and nothing is written.
    func testRegenerateAtAClipsEndSaysHowFarToMoveTheBoundary() throws {
        let a = try clip("a.mp4")
        let out = dir.appendingPathComponent("r.mp4")
        let base = ["infill", "--before", a, "--after", a, "--length", "8", "--mode", "regenerate", "--model", model]
        var r = try run(base + ["--s", "0", "--e", "10", "-o", out.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("leaves none of it: raise s to at least 4"), r.output)
        r = try run(base + ["--s", "30", "--e", "49", "-o", out.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("leaves none of it: lower e to at most 45"), r.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        r = try run(base + ["--s", "4", "--e", "45", "-o", out.path])
        XCTAssertEqual(r.status, 0, r.output)
    }

    /// `synth-dataset --minutes` is the total: 15 s in takes of 10 s is a 10 s take and a 5 s one (each at least
    /// its seconds: the takes end on whole actions), not two of 10.
    func testSynthDatasetWritesTheMinutesAsked() throws {
        let out = dir.appendingPathComponent("sd")
        let r = try run(["synth-dataset", "--out", out.path, "--minutes", "0.25", "--take-seconds", "10"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.output)
        let data = try Data(contentsOf: out.appendingPathComponent("manifest.json"))
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try XCTUnwrap(manifest["entries"] as? [[String: Any]])
        let seconds = entries.map { Double($0["frames"] as? Int ?? 0) / Double($0["fps"] as? Int ?? 1) }
        XCTAssertEqual(seconds.count, 2)
        XCTAssertTrue(seconds[0] >= 10 && seconds[0] < 14, "\(seconds)")
        XCTAssertTrue(seconds[1] >= 5 && seconds[1] < 9, "\(seconds)")
    }

    /// A negative number after a space is the option's value, refused with its range ("Missing value" before).
    func testNegativeNumbersAreRefusedWithTheirRange() throws {
        let a = try clip("a.mp4")
        let out = dir.appendingPathComponent("n.mp4").path
        let base = ["infill", "--before", a, "--after", a, "--model", model, "-o", out]
        let cases: [([String], String)] = [
            (["--length", "-3"], "--length must be an integer within 1…24 (got '-3')"),
            (["--length", "8", "--s", "-5"], "--s must be an integer ≥ 0, at most 9223372036854775807 (got '-5')"),
            (["--length", "8", "--strength", "-0.5"], "--strength must be a number within 0…2 (got '-0.5')"),
            (["--length", "8", "--ease", "-1"], "--ease must be a number within 0…100 (got '-1')"),
            (["--length", "8", "--carry", "-2"], "--carry must be a number within 0…12 (got '-2')"),
            (
                ["--length", "8", "--easing", "fast"],
                "--easing must be uniform or camera or adaptive or references or paced (got 'fast')"
            )
        ]
        try assertEachRefused(base, cases, creating: out)
    }

    /// `--ease` and `--easing` reach the anchor as the plan keys and `eval --variant` do: the model's own values
    /// written out make exactly its unset frames, other values other ones.
    func testInfillTakesTheAnchorsEaseAndEasing() throws {
        let a = try clip("a.mp4", seconds: 1.6)
        func frames(_ name: String, _ options: [String]) throws -> [Data] {
            let out = dir.appendingPathComponent(name)
            let r = try run(
                [
                    "infill", "--before", a, "--after", a, "--s", "10", "--e", "19", "--length", "8", "--model", model,
                    "--transition-only", "-o", out.path
                ] + options)
            XCTAssertEqual(r.status, 0, r.output)
            return try (0..<8).map {
                try Data(contentsOf: out.appendingPathComponent(String(format: "frame_%05d.png", $0)))
            }
        }
        let unset = try frames("unset", [])
        XCTAssertEqual(try frames("same", ["--ease", "16", "--easing", "paced"]), unset)
        // testsrc2 moves on steadily through the cut, so the paced default measures the full pace and is linear
        // already; eased uniformly (no pace), the ease's sharpness shows.
        let uniform = try frames("uniform", ["--easing", "uniform"])
        XCTAssertNotEqual(uniform, unset)
        XCTAssertNotEqual(try frames("linear", ["--easing", "uniform", "--ease", "0"]), uniform)
    }

    /// `eval --auto` on a clip too short for any case says what a case needs and what the clip has.
    func testEvalAutoSaysWhyItFoundNoCases() throws {
        let one = try clip("one.mp4", seconds: 0.04)
        let report = dir.appendingPathComponent("r.md").path
        let r = try run(["eval", "--auto", one, "--length", "6", "--model", model, "--report", report])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(
            r.output.contains("frames in a row, with no cut between them); '\(one)' has 1 frame;"), r.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: report))
    }

    /// A spliced infill conforms AFTER to BEFORE's rate by its timestamps, as compose does: a 15 fps clip after a
    /// 30 fps one lasts as long as it did (each frame shown twice) instead of playing twice as fast.
    func testInfillConformsTheFollowingClipToTheOutputsRate() throws {
        let a = try clip("a30.mp4", seconds: 1, fps: 30)
        let b = try clip("b15.mp4", seconds: 1, fps: 15)
        let out = dir.appendingPathComponent("out.mp4").path
        let r = try run(["infill", "--before", a, "--after", b, "--length", "4", "--model", model, "-o", out])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(
            r.output.contains("clip '\(b)' is 15 fps; conformed to 30 fps by its timestamps (15 frames repeated)"),
            r.output)
        let info = try run(["info", out, "--json"])
        XCTAssertTrue(info.output.contains("\"frames\" : 64") || info.output.contains("\"frames\":64"), info.output)
    }

    /// A new training run never writes over, nor appends to, an earlier run's files at its --out; it says to resume.
    func testTrainNeverWritesOverAnEarlierRunsFiles() throws {
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        _ = try clip("data/a.mp4")
        let out = dir.appendingPathComponent("z.safetensors")
        let notes = URL(fileURLWithPath: out.path + ".log.jsonl")
        try Data("my notes\n".utf8).write(to: notes)
        let r = try run(
            ["train", "--data", data.path, "--out", out.path, "--config", "tiny", "--steps", "2", "--batch", "1"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("continue that run with --resume, or choose another --out"), r.output)
        XCTAssertEqual(try Data(contentsOf: notes), Data("my notes\n".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// train names the one number it refuses (it listed six flags), and refuses a negative decay and an infinite rate.
    func testTrainNamesTheNumberItRefuses() throws {
        let out = dir.appendingPathComponent("n.safetensors").path
        let base = ["train", "--data", dir.path, "--out", out, "--config", "tiny"]
        let cases: [([String], String)] = [
            (["--steps", "0"], "--steps must be a positive whole number (got 0)"),
            (["--save-every=-2"], "--save-every must be a positive whole number (got -2)"),
            (["--decay-steps=-5"], "--decay-steps must be 0 (a constant rate) or more (got -5)"),
            (["--lr=inf"], "--lr must be a positive number (got inf)")
        ]
        try assertEachRefused(base, cases, creating: out)
    }

    /// SIGTERM stops training after a checkpoint, and the process then ends by the signal, so `train && eval` stops.
    func testTrainStoppedBySIGTERMCheckpointsAndEndsByTheSignal() throws {
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        _ = try clip("data/a.mp4")
        let out = dir.appendingPathComponent("t.safetensors")
        let args = [
            try mavin(), "train", "--data", data.path, "--out", out.path, "--config", "tiny", "--steps", "100000",
            "--batch", "1", "--eval-every", "100000", "--save-every", "100000"
        ]
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
        let cArgs = args.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        XCTAssertEqual(posix_spawn(&pid, args[0], &actions, nil, cArgs, environ), 0)
        // Its log has a line once a step is done.
        let log = out.path + ".log.jsonl"
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").isEmpty {
            usleep(50_000)
        }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        XCTAssertEqual(status & 0x7f, SIGTERM, "ended by the signal (status \(status))")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.path), "checkpointed before it ended")
    }

    /// eval's outputs may not share a name (only the last written would be left), the model it finds without
    /// --model is an input like a named one, and two rows may not share a name.
    func testEvalRefusesOutputsOfOneNameTheModelItFindsAndRowsOfOneName() throws {
        let video = try clip("clip.mp4", seconds: 1)
        let cases = dir.appendingPathComponent("cases.toml")
        try "[[case]]\nvideo = \"clip.mp4\"\ns = 5\ne = 9\n".write(to: cases, atomically: true, encoding: .utf8)
        let report = dir.appendingPathComponent("r.md").path
        let base = ["eval", "--cases", cases.path, "--methods", "repeat", "--overwrite"]
        let same = try run(base + ["--report", report, "--json", report])
        XCTAssertNotEqual(same.status, 0)
        XCTAssertTrue(same.output.contains("--report and --json both name"), same.output)
        let chart = try run(base + ["--report", report, "--json", dir.appendingPathComponent("r.png").path])
        XCTAssertTrue(chart.output.contains("the chart defaults to the report's name"), chart.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: report))
        // The model found through $MAVIN_MODEL.
        let copy = dir.appendingPathComponent("found.safetensors")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: model), to: copy)
        let before = try Data(contentsOf: copy)
        let found = try Subprocess.run(
            [
                try mavin(), "eval", "--cases", cases.path, "--methods", "model", "--report", report, "--json",
                copy.path,
                "--overwrite"
            ], timeout: 120, environment: ["MAVIN_MODEL": copy.path])
        XCTAssertNotEqual(found.status, 0)
        XCTAssertTrue(found.output.contains("is also an input of this job"), found.output)
        XCTAssertEqual(try Data(contentsOf: copy), before)
        let rows = try run(
            [
                "eval", "--cases", cases.path, "--methods", "repeat", "--model", model, "--report", report,
                "--compare", "repeat=\(model)"
            ])
        XCTAssertNotEqual(rows.status, 0)
        XCTAssertTrue(rows.output.contains("two rows are named 'repeat'"), rows.output)
        let bogus = try run(["eval", "--cases", cases.path, "--methods", "bogus", "--report", report])
        XCTAssertTrue(bogus.output.contains("valid: model, repeat, crossfade"), bogus.output)
        let none = try run(["eval", "--cases", cases.path, "--methods", "none", "--report", report])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.output.contains("no rows to evaluate"), none.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: report))
        _ = video
    }

    /// synth-dataset checks its frame rate before making anything (0 crashed), and any first seed works.
    func testSynthDatasetRefusesABadRateBeforeMakingItsFolder() throws {
        let out = dir.appendingPathComponent("set")
        for fps in ["0", "nan", "-5"] {
            let r = try run(["synth-dataset", "--out", out.path, "--minutes", "0.05", "--fps=\(fps)"])
            XCTAssertEqual(r.status, 64, r.output)
            XCTAssertTrue(r.output.contains("--fps must be within 1…240"), r.output)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        }
        let r = try run(
            [
                "synth-dataset", "--out", out.path, "--minutes", "0.05", "--take-seconds", "5", "--fps", "10",
                "--seed=18446744073709551615"
            ])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("manifest.json").path))
    }

    func testComposeRefusesABadOutputBeforeLoadingTheModel() throws {
        let a = try clip("a.mp4")
        let model = try brokenModel()
        let plan = dir.appendingPathComponent("plan.toml")
        try """
        output = "plan.toml"
        [[clip]]
        path = "a.mp4"
        [[clip]]
        path = "a.mp4"
        """.write(to: plan, atomically: true, encoding: .utf8)
        _ = a
        var r = try run(["compose", plan.path, "--model", model, "--overwrite"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("unknown output type"), r.output)
        r = try run(["compose", plan.path, "--model", model, "-o", dir.appendingPathComponent("no/x.mp4").path])
        XCTAssertTrue(r.output.contains("does not exist"), r.output)
        XCTAssertFalse(r.output.contains("broken.safetensors"), r.output)
    }

    /// A clip's sound is not silently lost: compose says that the output is video only; a silent clip, nothing.
    func testComposeSaysItLeavesTheSoundOut() throws {
        guard Subprocess.which("ffmpeg") != nil else { throw XCTSkip("needs the ffmpeg command line") }
        let sounding = dir.appendingPathComponent("talk.mp4").path
        let made = try Subprocess.run(
            [
                "ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25",
                "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-pix_fmt", "yuv420p", "-shortest", sounding
            ], timeout: 120)
        XCTAssertEqual(made.status, 0, made.output)
        _ = try clip("quiet.mp4", seconds: 1)
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Samples/models/mavin-motion.safetensors").path
        let plan = dir.appendingPathComponent("plan.toml")
        func compose(_ second: String) throws -> Subprocess.Result {
            try "[[clip]]\npath = \"quiet.mp4\"\n[[clip]]\npath = \"\(second)\"\n[[junction]]\nlength = 2\n".write(
                to: plan, atomically: true, encoding: .utf8)
            return try run([
                "compose", plan.path, "--model", model, "-o", dir.appendingPathComponent("out.mp4").path,
                "--overwrite"
            ])
        }
        var r = try compose("talk.mp4")
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("the sound of talk.mp4 is not carried into the output"), r.output)
        r = try compose("quiet.mp4")
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(r.output.contains("sound"), r.output)
        // info says it too.
        r = try run(["info", sounding])
        XCTAssertTrue(r.output.contains("has sound, which Mavin does not carry"), r.output)
        r = try run(["info", dir.appendingPathComponent("quiet.mp4").path])
        XCTAssertFalse(r.output.contains("sound"), r.output)
    }

    func testFramesRefusesAFileAsItsFolderBeforeReadingTheVideo() throws {
        let video = dir.appendingPathComponent("damaged.mp4")
        try Data(repeating: 7, count: 4096).write(to: video)
        let file = dir.appendingPathComponent("notes.txt")
        try Data("mine".utf8).write(to: file)
        let r = try run(["frames", video.path, "-o", file.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("is not a folder"), r.output)
        XCTAssertFalse(r.output.contains("not a video"), "the video was read first: \(r.output)")
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "mine")
    }

    // MARK: plain words for file errors

    func testFileErrorsAreSaidInWordsNamingTheFile() throws {
        let a = try clip("a.mp4", seconds: 0.4)
        var r = try run([
            "loss-chart", dir.appendingPathComponent("missing.log.jsonl").path,
            "-o", dir.appendingPathComponent("chart.png").path
        ])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertFalse(r.output.contains("Error Domain"), r.output)
        XCTAssertTrue(r.output.contains("missing.log.jsonl"), r.output)
        XCTAssertTrue(r.output.contains("no such file"), r.output)

        // A frame that exists already: named, with what to do.
        let out = dir.appendingPathComponent("frames")
        r = try run(["frames", a, "-o", out.path])
        XCTAssertEqual(r.status, 0, r.output)
        r = try run(["frames", a, "-o", out.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("frame_00000.png' already exists"), r.output)
        XCTAssertTrue(r.output.contains("--overwrite"), r.output)

        // A synthetic set's manifest of the wrong shape: named, in words (it said "file error 4865").
        let set = dir.appendingPathComponent("set")
        try FileManager.default.createDirectory(at: set, withIntermediateDirectories: true)
        try Data("{\"entries\": 5}".utf8).write(to: set.appendingPathComponent("manifest.json"))
        r = try run(
            [
                "eval", "--synthetic", set.path, "--length", "6", "--methods", "repeat", "--report",
                dir.appendingPathComponent("r.md").path
            ])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("manifest.json' could not be read: its contents are not what"), r.output)
        XCTAssertFalse(r.output.contains("file error"), r.output)
        // A folder given as a checkpoint (it printed NSCocoaErrorDomain Code=256).
        r = try run(
            [
                "eval", "--auto", a, "--length", "6", "--methods", "model", "--model", set.path,
                "--report", dir.appendingPathComponent("r.md").path
            ])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("could not be read: it is a folder; name a .safetensors checkpoint"), r.output)
        XCTAssertFalse(r.output.contains("Error Domain"), r.output)
    }

    /// Clips of two sizes are scored with a note that the generated frames were scaled; the same size, without.
    func testMetricsSaysWhenItScalesTheGeneratedFrames() throws {
        let truth = try clip("truth.mp4", seconds: 0.4)
        let same = try clip("same.mp4", seconds: 0.4)
        let small = try clip("small.mp4", seconds: 0.4, size: "48x32")
        var r = try run(["metrics", "--generated", same, "--truth", truth])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(r.output.contains("note:"), r.output)
        r = try run(["metrics", "--generated", small, "--truth", truth])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("is 48×32, the truth 96×64"), r.output)
        XCTAssertTrue(r.output.contains("10 frames: PSNR"), r.output)
    }

    /// eval's outputs are checked like every command's: a video a case names is an input (even with --overwrite),
    /// and the chart beside the report and the contact sheets are not written over existing files without it.
    func testEvalWritesOverNeitherItsCasesNorFilesItWasNotToldToReplace() throws {
        let video = try clip("clip.mp4", seconds: 1)
        let cases = dir.appendingPathComponent("cases.toml")
        try "[[case]]\nvideo = \"clip.mp4\"\ns = 5\ne = 9\n".write(to: cases, atomically: true, encoding: .utf8)
        let original = try Data(contentsOf: URL(fileURLWithPath: video))
        for flag in ["--report", "--json", "--chart"] {
            var args = ["eval", "--cases", cases.path, "--methods", "repeat", "--overwrite", flag, video]
            if flag != "--report" { args += ["--report", dir.appendingPathComponent("r.md").path] }
            let r = try run(args)
            XCTAssertNotEqual(r.status, 0, flag)
            XCTAssertTrue(r.output.contains("is also an input of this job"), r.output)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: video)), original)
        // The default chart, report.png beside report.md, and a sheet the user already has.
        let photo = dir.appendingPathComponent("report.png")
        try "my photo".write(to: photo, atomically: true, encoding: .utf8)
        let report = dir.appendingPathComponent("report.md").path
        var r = try run(["eval", "--cases", cases.path, "--methods", "repeat", "--report", report])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("'\(photo.path)' already exists"), r.output)
        XCTAssertEqual(try String(contentsOf: photo, encoding: .utf8), "my photo")
        let sheets = dir.appendingPathComponent("sheets")
        try FileManager.default.createDirectory(at: sheets, withIntermediateDirectories: true)
        let sheet = sheets.appendingPathComponent("case_000.png")
        try "my notes".write(to: sheet, atomically: true, encoding: .utf8)
        let other = dir.appendingPathComponent("other.md").path
        r = try run(["eval", "--cases", cases.path, "--methods", "repeat", "--report", other, "--sheets", sheets.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("case_000.png' already exists"), r.output)
        XCTAssertEqual(try String(contentsOf: sheet, encoding: .utf8), "my notes")
        XCTAssertFalse(FileManager.default.fileExists(atPath: other), "nothing written when refused")
        // Told to replace them, it does.
        r = try run([
            "eval", "--cases", cases.path, "--methods", "repeat", "--report", other, "--sheets", sheets.path,
            "--overwrite"
        ])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertGreaterThan(try PNG.read(sheet).width, 0, "the contact sheet replaced the old file")
    }

    /// --sheets names a folder that need not exist: eval makes it and writes the sheets there. A folder whose parent
    /// is missing is refused before any work, with nothing written.
    func testEvalMakesANewSheetsFolderAndRefusesOneWithoutAParent() throws {
        _ = try clip("clip.mp4", seconds: 1)
        let cases = dir.appendingPathComponent("cases.toml")
        try "[[case]]\nvideo = \"clip.mp4\"\ns = 5\ne = 9\n".write(to: cases, atomically: true, encoding: .utf8)
        let fresh = dir.appendingPathComponent("new-sheets")
        let report = dir.appendingPathComponent("r.md").path
        var r = try run([
            "eval", "--cases", cases.path, "--methods", "repeat", "--report", report, "--sheets", fresh.path
        ])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertGreaterThan(try PNG.read(fresh.appendingPathComponent("case_000.png")).width, 0)
        let orphan = dir.appendingPathComponent("missing/sheets").path
        let other = dir.appendingPathComponent("other.md").path
        r = try run(["eval", "--cases", cases.path, "--methods", "repeat", "--report", other, "--sheets", orphan])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("does not exist; create it first"), r.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: other), "refused before any work")
    }

    /// A file that is not a training log is named as such, not counted as a log of no records; one record is
    /// not a chart either, and neither writes a PNG.
    func testLossChartOfSomethingElseSaysWhatItWants() throws {
        let notLog = dir.appendingPathComponent("notes.txt")
        try "step by step\n{\"other\": 1}\n".write(to: notLog, atomically: true, encoding: .utf8)
        let chart = dir.appendingPathComponent("chart.png")
        var r = try run(["loss-chart", notLog.path, "-o", chart.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("holds no training records"), r.output)
        XCTAssertTrue(r.output.contains("CKPT.log.jsonl"), r.output)
        let one = dir.appendingPathComponent("one.log.jsonl")
        let record = "{\"step\": 1, \"loss\": 0.5, \"lr\": 0.001, \"gradNorm\": 1, \"seconds\": 2}\n"
        try record.write(to: one, atomically: true, encoding: .utf8)
        r = try run(["loss-chart", one.path, "-o", chart.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("has 1 training record;"), r.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: chart.path))
    }

    func testAReadOnlyFolderIsSaidInWords() throws {
        let a = try clip("a.mp4", seconds: 0.4)
        let ro = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: ro, withIntermediateDirectories: true)
        // As root, permissions do not stop a write: a read-only mount does.
        guard geteuid() == 0 else {
            chmod(ro.path, 0o555)
            defer { chmod(ro.path, 0o755) }
            return try checkReadOnly(a, ro)
        }
        let m = try Subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro.path])
        guard m.status == 0 else { throw XCTSkip("cannot mount a read-only tmpfs here: \(m.output)") }
        defer { _ = try? Subprocess.run(["umount", ro.path]) }
        try checkReadOnly(a, ro)
    }

    func checkReadOnly(_ a: String, _ ro: URL) throws {
        for arguments in [
            ["frames", a, "-o", ro.appendingPathComponent("f").path],
            ["frames", a, "-o", ro.path],
            [
                "infill", "--before", a, "--after", a, "--length", "8", "--model", model,
                "-o", ro.appendingPathComponent("x.mp4").path
            ]
        ] {
            let r = try run(arguments)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertFalse(r.output.contains("Error Domain"), r.output)
            XCTAssertTrue(r.output.contains(ro.path), r.output)
            XCTAssertTrue(r.output.contains("read-only") || r.output.contains("permission denied"), r.output)
        }
    }

    // MARK: what a signal leaves

    /// Starts mavin with `arguments`, waits until a hidden `.partial-` entry appears in `folder`, sends
    /// `signal`, and returns the exit status after the process ended (nil when no partial file ever appeared).
    func terminateWhileWriting(_ arguments: [String], watching folder: URL, signal: Int32 = SIGTERM) throws -> Int32? {
        let bin = try mavin()
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArgs = ([bin] + arguments).map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        XCTAssertEqual(posix_spawn(&pid, bin, &actions, nil, cArgs, environ), 0)
        var sawPartial = false
        let deadline = Date().addingTimeInterval(120)
        var status: Int32 = 0
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            if names.contains(where: { $0.contains(".partial-") }) {
                sawPartial = true
                usleep(50_000)  // well inside the write
                kill(pid, signal)
                break
            }
            if waitpid(pid, &status, WNOHANG) == pid { return nil }
            usleep(2_000)
        }
        if !sawPartial { kill(pid, SIGKILL) }
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return sawPartial ? status : nil
    }

    /// SIGTERM, and the rarer SIGUSR1, SIGALRM and SIGQUIT (Ctrl-\), while the output is written: no partial file
    /// is left, and the process ends by the signal itself, as without our handler (exit status 143 for SIGTERM in a
    /// shell).
    func testASignalWhileWritingLeavesNoPartialFile() throws {
        let a = try clip("a.mp4", seconds: 12, size: "320x240")
        for signal in [SIGTERM, SIGUSR1, SIGALRM, SIGQUIT] {
            let out = dir.appendingPathComponent("out-\(signal)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let status = try terminateWhileWriting(
                [
                    "infill", "--before", a, "--after", a, "--length", "8", "--model",
                    model, "-o", out.appendingPathComponent("spliced.mp4").path
                ],
                watching: out, signal: signal)
            let left = try FileManager.default.contentsOfDirectory(atPath: out.path)
            XCTAssertNotNil(status, "the output was never being written (signal \(signal))")
            XCTAssertEqual(left, [], "left behind after signal \(signal): \(left)")
            if let status { XCTAssertEqual(status & 0x7f, signal) }
        }
    }

    /// A signal during a `frames` export, a `samples` set or a `synth-dataset` into new folders leaves no folder,
    /// as a failure part-way does not.
    func testASignalLeavesNoHalfExportOrSet() throws {
        let a = try clip("a.mp4", seconds: 12, size: "320x240")
        let runs: [(String, [String])] = [
            ("frames", ["frames", a, "--count", "300"]),
            ("samples", ["samples"]),
            ("takes", ["synth-dataset", "--minutes", "0.5", "--take-seconds", "5"])
        ]
        for (name, args) in runs {
            let out = dir.appendingPathComponent(name)
            let flag = name == "frames" ? "-o" : "--out"
            let status = try terminateWhileWriting(args + [flag, out.path], watching: out)
            XCTAssertNotNil(status, "\(name) was never seen writing")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(name) left its folder")
            if let status { XCTAssertEqual(status & 0x7f, SIGTERM, name) }
        }
    }

    func testSamplesOnAFullDiskLeaveNoHalfSet() throws {
        guard geteuid() == 0 else { throw XCTSkip("a tmpfs needs root") }
        let full = dir.appendingPathComponent("full")
        try FileManager.default.createDirectory(at: full, withIntermediateDirectories: true)
        let m = try Subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", full.path])
        guard m.status == 0 else { throw XCTSkip("cannot mount a tmpfs here: \(m.output)") }
        defer { _ = try? Subprocess.run(["umount", full.path]) }
        let set = full.appendingPathComponent("samples")
        let r = try run(["samples", "--out", set.path], timeout: 300)
        XCTAssertNotEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("the disk is full"), r.output)
        XCTAssertFalse(r.output.contains("Error Domain"), r.output)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: full.path), [], "a half set was left")
    }

    // MARK: damage

    func testInfoSaysATruncatedFileIsDamaged() throws {
        guard Subprocess.which("ffmpeg") != nil else { throw XCTSkip("needs the ffmpeg command line") }
        let whole = dir.appendingPathComponent("whole.mp4").path
        let r0 = try Subprocess.run([
            "ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
            "testsrc2=size=96x64:rate=25", "-t", "4", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", whole
        ])
        XCTAssertEqual(r0.status, 0, r0.output)
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let cut = dir.appendingPathComponent("cut.mp4")
        try data.prefix(data.count * 6 / 10).write(to: cut)
        let sound = try run(["info", whole])
        XCTAssertFalse(sound.output.contains("damaged"), sound.output)
        let r = try run(["info", cut.path])
        XCTAssertTrue(r.output.contains("damaged: the file is truncated"), r.output)
        XCTAssertTrue(r.output.contains("index lists 100 frames"), r.output)
        let json = try run(["info", "--json", cut.path])
        XCTAssertTrue(json.output.contains("\"damage\""), json.output)
        // A job that uses it says so, and what it uses; a sound file gets no such note.
        let base = ["infill", "--after", whole, "--length", "8", "--model", model, "--s", "20", "--e", "10"]
        let used = try run(base + ["--before", cut.path, "-o", dir.appendingPathComponent("u.mp4").path])
        XCTAssertEqual(used.status, 0, used.output)
        XCTAssertTrue(used.output.contains("note: '\(cut.path)' is damaged (the file is truncated"), used.output)
        XCTAssertTrue(used.output.contains("readable frames are used"), used.output)
        let clean = try run(base + ["--before", whole, "-o", dir.appendingPathComponent("w.mp4").path])
        XCTAssertEqual(clean.status, 0, clean.output)
        XCTAssertFalse(clean.output.contains("damaged"), clean.output)
    }
}
