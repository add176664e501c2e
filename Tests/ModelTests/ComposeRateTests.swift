import Core
import Foundation
import XCTest
@testable import Engine
@testable import Media
@testable import MavinModel

/// Clips of different frame rates in one composition: each is conformed by its timestamps to the output's rate.
final class ComposeRateTests: XCTestCase {
    /// A clip whose every frame is one grey level (its index × 4), written at `fps` by the ffmpeg command line.
    func greyClip(_ url: URL, frames: Int, fps: Int, folder: URL) throws {
        let images = (0..<frames).map { RGBImage(width: 64, height: 48, fill: (UInt8($0 * 4), UInt8($0 * 4), 128)) }
        let pngs = folder.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: pngs, withIntermediateDirectories: true)
        for (i, image) in images.enumerated() {
            try PNG.write(image, to: pngs.appendingPathComponent(String(format: "g_%05d.png", i)))
        }
        let r = try Subprocess.run(
            [
                "ffmpeg", "-v", "error", "-nostdin", "-y", "-framerate", String(fps), "-i",
                pngs.appendingPathComponent("g_%05d.png").path, "-c:v", "libx264", "-qp", "0",
                "-pix_fmt", "yuv444p", url.path
            ], timeout: 120)
        XCTAssertEqual(r.status, 0, r.output)
    }

    func testA30fpsClipIsConformedToA25fpsOutputByItsTimestamps() throws {
        guard Subprocess.which("ffmpeg") != nil else { throw XCTSkip("needs the ffmpeg command line") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-rate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try greyClip(dir.appendingPathComponent("a25.mp4"), frames: 50, fps: 25, folder: dir)
        try greyClip(dir.appendingPathComponent("b30.mp4"), frames: 60, fps: 30, folder: dir)
        var plan = try Plan.parse(
            "[[clip]]\npath = \"a25.mp4\"\n[[clip]]\npath = \"b30.mp4\"\n"
                + "[[junction]]\nlength = 8\n")
        let resolved = try Composer(plan: plan, folder: dir.path).resolve()
        XCTAssertEqual(resolved.fps, 25, "the first clip's rate")
        XCTAssertEqual(resolved.shown[0], Array(0..<50), "a clip at the output's rate is shown frame for frame")
        // Two seconds at 30 fps stay two seconds: 50 frames at 25 fps, frame k showing the one at k/25 s.
        XCTAssertEqual(resolved.shown[1].count, 50)
        for (k, f) in resolved.shown[1].enumerated() { XCTAssertEqual(f, k * 30 / 25, "output frame \(k)") }
        XCTAssertTrue(
            resolved.notices.contains { $0.contains("'b30.mp4' is 30 fps; conformed to 25 fps") },
            "\(resolved.notices)")
        XCTAssertEqual(resolved.expectedFrames, 50 + 8 + 50)

        // The plan key sets the output's rate: the 25 fps clip then repeats frames.
        plan.fps = 30
        XCTAssertEqual(try Plan.parse(plan.toml()), plan, "fps survives the plan's text")
        let at30 = try Composer(plan: plan, folder: dir.path).resolve()
        XCTAssertEqual(at30.shown[1], Array(0..<60))
        XCTAssertEqual(at30.shown[0].count, 60)
        for (k, f) in at30.shown[0].enumerated() { XCTAssertEqual(f, k * 25 / 30, "output frame \(k)") }

        // The composition is written at that rate, with the frames the conform chose.
        plan.fps = nil
        let model = try MavinModel.load(repoRoot.appendingPathComponent("Samples/models/mavin-motion.safetensors"))
        let out = dir.appendingPathComponent("out.mp4")
        let (frames, notices) = try Composer(plan: plan, folder: dir.path).run(
            model: model, output: out,
            overwrite: false)
        XCTAssertEqual(frames, 108)
        XCTAssertTrue(notices.contains { $0.contains("conformed to 25 fps") }, "\(notices)")
        let written = try VideoReader(path: out.path)
        XCTAssertEqual(written.frameCount, 108)
        XCTAssertEqual(written.info.fps, 25, accuracy: 1e-6)
        // Output frame 58 + k is b30's frame k·30/25: its grey level tells which.
        for k in [0, 5, 11, 49] {
            let grey = Double(try written.frame(at: 58 + k).pixel(32, 24).0)
            XCTAssertEqual(grey, Double(k * 30 / 25 * 4), accuracy: 3, "output frame \(58 + k)")
        }
    }

    func testAVariableRateClipIsConformedByItsTimestamps() throws {
        guard Subprocess.which("ffmpeg") != nil else { throw XCTSkip("needs the ffmpeg command line") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-vfr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // One second at 25 fps (every other frame of a 50 fps source), then one second at 50 fps.
        let r = try Subprocess.run(
            [
                "ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                "testsrc2=size=64x48:rate=50", "-t", "2", "-vf",
                "select='if(lt(t,1),not(mod(n,2)),1)',setpts=PTS", "-fps_mode", "vfr",
                "-c:v", "libx264", "-pix_fmt", "yuv420p",
                dir.appendingPathComponent("vfr.mp4").path
            ], timeout: 120)
        XCTAssertEqual(r.status, 0, r.output)
        try greyClip(dir.appendingPathComponent("b25.mp4"), frames: 25, fps: 25, folder: dir)
        let reader = try VideoReader(path: dir.appendingPathComponent("vfr.mp4").path)
        XCTAssertEqual(reader.frameCount, 75)
        XCTAssertTrue(reader.variableRate)
        let plan = try Plan.parse("fps = 25\n[[clip]]\npath = \"vfr.mp4\"\n[[clip]]\npath = \"b25.mp4\"\n")
        let resolved = try Composer(plan: plan, folder: dir.path).resolve()
        // Two seconds stay two seconds: the 25 fps second frame for frame, the 50 fps second every other frame.
        let expected = Array(0..<25) + (0..<25).map { 25 + 2 * $0 }
        XCTAssertEqual(resolved.shown[0], expected)
        XCTAssertTrue(
            resolved.notices.contains { $0.contains("'vfr.mp4' has a variable frame rate; conformed") },
            "\(resolved.notices)")
        XCTAssertFalse(resolved.notices.contains { $0.contains("b25.mp4") }, "a clip at the output's rate is not named")
    }

    func testPlanFpsIsRangeChecked() {
        for bad in ["0", "-5", "1000", "\"fast\"", "nan"] {
            XCTAssertThrowsError(try Plan.parse("fps = \(bad)\n")) { e in
                XCTAssertTrue("\(e)".contains("fps must be a number from 1 to 240"), "\(bad): \(e)")
            }
        }
        XCTAssertEqual(try Plan.parse("fps = 29.97\n").fps, 29.97)
    }

    func testANegativeBoundaryIsNotCalledPastTheEnd() throws {
        let samples = repoRoot.appendingPathComponent("Samples")
        var plan = try Plan.read(samples.appendingPathComponent("plan.toml"))
        plan.junctions[0].s = -1
        XCTAssertThrowsError(try Composer(plan: plan, folder: samples.path).resolve()) { e in
            XCTAssertTrue("\(e)".contains("s=-1 is before its first frame"), "\(e)")
            XCTAssertFalse("\(e)".contains("past its end"), "\(e)")
        }
    }
}
