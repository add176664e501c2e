import Foundation
import XCTest
@testable import Engine

/// Plans that cannot be used say why, naming the file or the clip.
final class PlanErrorTests: XCTestCase {
    func testMissingPlanAndFolderAreNamedAsSuch() throws {
        let folder = try temporaryFolder("mavin-plan")
        let missing = folder.appendingPathComponent("none.toml")
        XCTAssertThrowsError(try Plan.read(missing)) { XCTAssertEqual($0 as? PlanError, .missing(missing.path)) }
        XCTAssertThrowsError(try Plan.read(folder)) { XCTAssertEqual($0 as? PlanError, .folder(folder.path)) }
        let binary = folder.appendingPathComponent("b.toml")
        try Data([0xff, 0xfe, 0x00, 0xc3]).write(to: binary)
        XCTAssertThrowsError(try Plan.read(binary)) { XCTAssertEqual($0 as? PlanError, .unreadable(binary.path)) }
    }

    func testUnknownClipKeyIsRefusedAndTooManyJunctionsSayWhatIsAllowed() {
        let clipKey = "[[clip]]\npath = \"a.mp4\"\nspeed = 2\n"
        XCTAssertThrowsError(try Plan.parse(clipKey)) {
            XCTAssertTrue("\($0)".contains("clip 1: unknown key 'speed'"), "\($0)")
        }
        let extra = "[[clip]]\npath = \"a.mp4\"\n[[clip]]\npath = \"b.mp4\"\n[[junction]]\ns = 1\n[[junction]]\ns = 2\n"
        XCTAssertThrowsError(try Plan.parse(extra)) { XCTAssertTrue("\($0)".contains("fewer is fine"), "\($0)") }
        let fewer = "[[clip]]\npath = \"a.mp4\"\n[[clip]]\npath = \"b.mp4\"\n[[clip]]\npath = \"c.mp4\"\n"
        XCTAssertEqual(try Plan.parse(fewer).junctions.count, 2)
    }

    /// A test-manual case with an unknown key, or with no frame between s and e, is refused naming the case.
    func testManualCasesRefuseUnknownKeysAndEmptyGaps() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cases-\(UUID().uuidString).toml")
        defer { try? FileManager.default.removeItem(at: file) }
        let cases = [
            ("[[case]]\nvideo = \"a.mp4\"\ns = 5\ne = 9\nfoo = 1\n", "case 1: unknown key 'foo'"),
            ("[[case]]\nvideo = \"a.mp4\"\ns = 12\ne = 5\n", "case 1: s = 12, e = 5 leaves no frame between them"),
            ("[[case]]\nvideo = \"a.mp4\"\ns = 5\ne = 6\n", "e must be at least s + 2")
        ]
        for (text, said) in cases {
            try text.write(to: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Evaluator.manualCases(file), text) {
                XCTAssertTrue("\($0)".contains(said), "\($0)")
            }
        }
        try "[[case]]\nvideo = \"a.mp4\"\ns = 5\ne = 7\nlabel = \"x\"\n".write(
            to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Evaluator.manualCases(file).first?.length, 1)
    }

    /// model and output must be quoted, non-empty paths, and clip a list of tables; each message names its line.
    func testPathsAndClipTablesOfTheWrongShapeSayWhatIsWrongAndWhere() {
        let clips = "[[clip]]\npath = \"a.mp4\"\n[[clip]]\npath = \"b.mp4\"\n"
        let cases = [
            ("fps = 25\noutput = \"\"\n" + clips, "plan:2: output is empty: name a file"),
            ("output = 5\n" + clips, "plan:1: output must be a quoted path, e.g. output = \"composed.mp4\" (got 5)"),
            ("model = true\n" + clips, "plan:1: model must be a quoted path"),
            ("clip = \"a.mp4\"\n", "plan:1: clip must be written as [[clip]] tables"),
            ("fps = 0\n" + clips, "plan:1: fps must be a number from 1 to 240"),
            (clips + "[[junction]]\nseed = \"7\"\n", "plan:6: junction 1: seed is an integer ≥ 0"),
            (
                clips + "[[junction]]\ngfm = \"yes\"\n",
                "plan:6: junction 1: gfm is on or off (true/false, yes/no, 1/0), written without quotes: gfm = true or "
                    + "gfm = false"
            ),
            (clips + "[[junction]]\nmode = 3\n", "plan:6: junction 1: mode must be insert or regenerate (got '3')")
        ]
        for (text, said) in cases {
            XCTAssertThrowsError(try Plan.parse(text), text) { XCTAssertTrue("\($0)".hasPrefix(said), "\($0)") }
        }
        XCTAssertEqual(try Plan.parse("output = \"x.mp4\"\n" + clips).output, "x.mp4")
    }
    /// Every junction setting is checked by the one table, and the message names the plan's line.
    func testEverySettingIsRangeCheckedWithItsLineNumber() {
        let head =
            "[[clip]]\npath = \"a.mp4\"\n[[clip]]\npath = \"b.mp4\"\n[[clip]]\npath = \"c.mp4\"\n"
            + "[[junction]]\nlength = 10\n[[junction]]\ns = 4\n"
        // The bad value sits on line 11, in the second junction.
        let cases: [(String, String)] = [
            ("steps = 0", "steps must be an integer within 1…1000 (got '0')"),
            ("steps = 2.5", "steps must be an integer within 1…1000 (got '2.5')"),
            ("f0 = 1.5", "f0 must be a number within 0…1 (got '1.5')"),
            ("lambda = -0.1", "lambda must be a number within 0…1 (got '-0.1')"),
            ("eta = 1e9", "eta must be a number within 0…1"),
            ("strength = 3", "strength must be a number within 0…2 (got '3')"),
            ("seed = -1", "seed must be an integer ≥ 0, at most 9223372036854775807 (got '-1')"),
            ("gfm = \"maybe\"", "gfm must be on or off"),
            ("mode = \"blend\"", "mode must be insert or regenerate (got 'blend')"),
            ("length = 0", "length must be an integer within 1…24 (got '0')"),
            ("speed = 2", "unknown setting 'speed' (valid: s, e, length, mode, f0, lambda, gfm, steps, strength")
        ]
        for (line, expected) in cases {
            XCTAssertThrowsError(try Plan.parse(head + line + "\n", source: "p.toml")) {
                XCTAssertTrue("\($0)".hasPrefix("p.toml:11: junction 2: "), "\($0)")
                XCTAssertTrue("\($0)".contains(expected), "\($0)")
            }
        }
        XCTAssertEqual(Plan.line(of: "s", inJunction: 1, of: head), 10)
        XCTAssertNil(Plan.line(of: "length", inJunction: 1, of: head))
    }

    /// What the table writes, it reads back; --variant uses the same keys and refusals.
    /// Saving a plan over its file keeps its author's comments: the opening block, those on the top-level keys,
    /// a clip's (above its header, on it, on its path, following the clip when the clips are reordered, with a
    /// "#" in a quoted path left alone) and a junction's; without a file, the stock comments.
    func testSavingOverAPlanKeepsItsComments() throws {
        let text = """
            # My film: three takes.
            # shot on the 3rd
            model = "m.safetensors"  # the shipped one

            # the opening shot
            [[clip]]  # wide
            path = "a #\\"b\\".mp4"  # note # with a hash

            [[clip]]
            path = "c.mp4"

            [[junction]]  # the hard one
            s = 59
            steps = 8  # eight steps
            """
        let plan = try Plan.parse(text)
        XCTAssertEqual(plan.clips.first?.path, "a #\"b\".mp4")
        let comments = PlanComments(text: text)
        let out = plan.toml(comments: comments)
        XCTAssertEqual(try Plan.parse(out), plan)
        let kept = [
            "# My film: three takes.\n# shot on the 3rd\nmodel = \"m.safetensors\"  # the shipped one",
            "# the opening shot\n[[clip]]  # wide\npath = \"a #\\\"b\\\".mp4\"  # note # with a hash",
            "[[junction]]  # the hard one", "steps = 8  # eight steps"
        ]
        for k in kept { XCTAssertTrue(out.contains(k), "kept: \(k) in\n\(out)") }
        XCTAssertFalse(out.contains("between clip 1"), out)
        var swapped = plan
        swapped.clips.swapAt(0, 1)
        let moved = swapped.toml(comments: comments)
        let c = try XCTUnwrap(moved.range(of: "path = \"c.mp4\""))
        let wide = try XCTUnwrap(moved.range(of: "# the opening shot\n[[clip]]  # wide"))
        XCTAssertLessThan(c.lowerBound, wide.lowerBound, "the comments follow their clip")
        XCTAssertTrue(plan.toml().contains("[[junction]]  # between clip 1 and clip 2"))
        XCTAssertTrue(plan.toml().hasPrefix("# Mavin composition plan"))
    }

    func testTheTableRoundTripsAPlanAndParsesVariants() throws {
        var plan = Plan(clips: [.init(path: "a.mp4"), .init(path: "b.mp4")])
        plan.normaliseJunctions()
        plan.junctions[0].s = 12
        plan.junctions[0].mode = .regenerate
        plan.junctions[0].settings.steps = 7
        plan.junctions[0].settings.gfm = true
        plan.junctions[0].settings.eta = 0.25
        plan.junctions[0].settings.seed = 99
        // Every choice is written quoted (warp and easing were written bare, which TOML cannot read).
        plan.junctions[0].settings.warp = .bilinear
        plan.junctions[0].settings.timeEasing = .paced
        XCTAssertEqual(try Plan.parse(plan.toml()), plan)
        let variant = try JunctionSettings.sampler(SamplerSettings(), applying: "gfm=on, steps=4,strength=0.25")
        XCTAssertEqual(variant.gfm, true)
        XCTAssertEqual(variant.steps, 4)
        XCTAssertEqual(variant.strength, 0.25)
        XCTAssertThrowsError(try JunctionSettings.sampler(SamplerSettings(), applying: "length=4")) {
            XCTAssertTrue("\($0)".contains("unknown setting 'length' (valid: f0, lambda"), "\($0)")
        }
        XCTAssertThrowsError(try JunctionSettings.sampler(SamplerSettings(), applying: "steps=0"))
        var bad = SamplerSettings()
        bad.f0 = .nan
        XCTAssertEqual(JunctionSettings.check(bad), "f0 must be a number within 0…1 (got 'nan')")
        XCTAssertNil(JunctionSettings.check(SamplerSettings()))
    }
}
