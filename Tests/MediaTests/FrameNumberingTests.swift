import Core
import Foundation
import XCTest
@testable import Media

/// Files whose packets are not their pictures, and files whose index promises more than they hold.
final class FrameNumberingTests: XCTestCase {
    /// `count` pattern frames (their index in the top band) as PNG files for the ffmpeg command line.
    func writePatternPNGs(_ count: Int, width: Int, height: Int, into dir: URL) throws -> String {
        for i in 0..<count {
            let url = dir.appendingPathComponent(String(format: "in_%05d.png", i))
            try PNG.write(patternFrame(i, width: width, height: height), to: url)
        }
        return dir.appendingPathComponent("in_%05d.png").path
    }

    func testPackedBFramesAreNumberedAsFFmpegNumbersThem() throws {
        try FFmpegCLI.require()
        let encoders = try Subprocess.run(["ffmpeg", "-hide_banner", "-encoders"]).output
        guard encoders.contains("libxvid") else { throw XCTSkip("this ffmpeg has no libxvid encoder") }
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pattern = try writePatternPNGs(40, width: 96, height: 64, into: dir)
        let avi = dir.appendingPathComponent("packed.avi").path
        // libxvid in AVI packs each B-frame with its P-frame and stores a placeholder packet after them.
        try FFmpegCLI.run(["-framerate", "25", "-i", pattern, "-c:v", "libxvid", "-bf", "2", "-q:v", "2", avi])
        let probe = try Subprocess.run([
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
            "packet=size", "-of", "csv=p=0", avi
        ]).output
        let sizes = probe.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        XCTAssertTrue(sizes.contains { $0 <= 8 }, "the test file has no placeholder packets: \(sizes)")

        let theirs = try FFmpegCLI.decodeRGB(avi, width: 96, height: 64, folder: dir).map(decodePattern)
        let reader = try VideoReader(path: avi)
        XCTAssertTrue(reader.countedByDecoding)
        XCTAssertEqual(reader.frameCount, theirs.count, "frames counted as ffmpeg decodes them")
        for i in 0..<reader.frameCount {
            XCTAssertEqual(decodePattern(try reader.frame(at: i)), theirs[i], "frame \(i) read in order")
        }
        for i in [30, 3, 0, theirs.count - 1, 17] {
            XCTAssertEqual(decodePattern(try reader.frame(at: i)), theirs[i], "frame \(i) after a seek")
        }
    }

    func testAnMPEG4AVIWithBFramesWithoutTimestampsIsNumberedAsFFmpegNumbersIt() throws {
        try FFmpegCLI.require()
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pattern = try writePatternPNGs(30, width: 96, height: 64, into: dir)
        let avi = dir.appendingPathComponent("plain.avi").path
        // FFmpeg's own encoder stores no packet placeholders, but its I and P packets carry no timestamps.
        try FFmpegCLI.run([
            "-framerate", "25", "-i", pattern, "-c:v", "mpeg4", "-vtag", "XVID", "-bf", "2",
            "-q:v", "2", avi
        ])
        let theirs = try FFmpegCLI.decodeRGB(avi, width: 96, height: 64, folder: dir).map(decodePattern)
        let reader = try VideoReader(path: avi)
        XCTAssertEqual(reader.frameCount, theirs.count)
        for i in [theirs.count - 1, 0, 1, 14, 2] {
            XCTAssertEqual(decodePattern(try reader.frame(at: i)), theirs[i], "frame \(i)")
        }
    }

    func testNormalFilesKeepTheFastPacketIndex() throws {
        try FFmpegCLI.require()
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pattern = try writePatternPNGs(30, width: 96, height: 64, into: dir)
        for (name, codec) in [("b.mp4", ["-c:v", "libx264", "-bf", "3"]), ("m.mp4", ["-c:v", "mpeg4", "-bf", "2"])] {
            let path = dir.appendingPathComponent(name).path
            try FFmpegCLI.run(["-framerate", "25", "-i", pattern] + codec + ["-pix_fmt", "yuv420p", path])
            let reader = try VideoReader(path: path)
            XCTAssertFalse(reader.countedByDecoding, "\(name) keeps the packet index")
            XCTAssertEqual(reader.frameCount, 30)
            XCTAssertEqual(decodePattern(try reader.frame(at: 0)), 0, name)
            XCTAssertEqual(decodePattern(try reader.frame(at: 29)), 29, name)
        }
    }

    func testATruncatedFileWithItsIndexAtTheStartSaysFromWhichFrameItIsDamaged() throws {
        try FFmpegCLI.require()
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pattern = try writePatternPNGs(100, width: 96, height: 64, into: dir)
        let whole = dir.appendingPathComponent("whole.mp4").path
        try FFmpegCLI.run([
            "-framerate", "25", "-i", pattern, "-c:v", "libx264", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", whole
        ])
        XCTAssertNil(try VideoReader(path: whole).info.damage, "the whole file is sound")
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let cut = dir.appendingPathComponent("cut.mp4")
        try data.prefix(data.count * 6 / 10).write(to: cut)

        let reader = try VideoReader(path: cut.path)
        let damage = try XCTUnwrap(reader.info.damage, "a truncated file is reported as damaged")
        XCTAssertTrue(damage.contains("truncated"), damage)
        XCTAssertTrue(damage.contains("index lists 100 frames"), damage)
        XCTAssertTrue(damage.contains("from \(reader.frameCount) on"), damage)
        XCTAssertGreaterThan(reader.frameCount, 20)
        XCTAssertLessThan(reader.frameCount, 100)
        // Every frame it counts reads; none of them is the half frame the cut left.
        let last = try reader.frame(at: reader.frameCount - 1)
        XCTAssertEqual(decodePattern(last), reader.frameCount - 1)
        XCTAssertThrowsError(try reader.frame(at: reader.frameCount))
    }

    func testAnExportThatFailsPartWayRemovesWhatItWrote() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mine = dir.appendingPathComponent("mine.txt")
        try Data("keep".utf8).write(to: mine)
        let struck = MediaError.decodeFailed("in.mp4", frame: 7, reason: "damaged")
        XCTAssertThrowsError(
            try FrameExport.write(frames: 0..<10, into: dir.path, overwrite: false) { i in
                if i == 7 { throw struck }
                return patternFrame(i)
            }
        ) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("frame 7 could not be decoded"), text)
            XCTAssertTrue(text.contains("the 7 PNG frames this run had written"), text)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(left, ["mine.txt"], "only the user's file is left")

        // A folder the export created is removed again with its frames.
        let fresh = dir.appendingPathComponent("new/deeper")
        XCTAssertThrowsError(
            try FrameExport.write(frames: 0..<3, into: fresh.path, overwrite: false) { i in
                if i == 2 { throw struck }
                return patternFrame(i)
            })
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("new").path))
    }

    func testAnExportRefusesExistingFramesBeforeDecodingAny() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try PNG.write(patternFrame(0), to: dir.appendingPathComponent("frame_00005.png"))
        var decoded = 0
        XCTAssertThrowsError(
            try FrameExport.write(frames: 0..<10, into: dir.path, overwrite: false) { i in
                decoded += 1
                return patternFrame(i)
            }
        ) { error in XCTAssertTrue("\(error)".contains("frame_00005.png"), "\(error)") }
        XCTAssertEqual(decoded, 0)
    }

    /// A folder of numbered frames with one missing, or with other PNGs among them, is refused: scoring it by
    /// position would compare each frame after the gap with the wrong true frame.
    func testAFrameFolderWithAGapIsRefusedNamingTheMissingFrame() throws {
        let names = ["frame_00000.png", "frame_00002.png", "frame_00003.png"]
        XCTAssertThrowsError(try FrameSequence.checkNumbering(names, folder: "g")) {
            XCTAssertTrue("\($0)".hasPrefix("'g': frame 1 is missing (its frames go from 0 to 2)"), "\($0)")
        }
        XCTAssertThrowsError(try FrameSequence.checkNumbering(["frame_00000.png", "cover.png"], folder: "g")) {
            XCTAssertTrue("\($0)".contains("it holds 'cover.png' among its frame_NNNNN.png frames"), "\($0)")
        }
        XCTAssertNoThrow(try FrameSequence.checkNumbering(["frame_00010.png", "frame_00011.png"], folder: "g"))
        XCTAssertNoThrow(try FrameSequence.checkNumbering(["a.png", "c.png"], folder: "g"))
    }

    /// An empty file is said to be empty, not FFmpeg's "Invalid data found when processing input".
    func testAnEmptyFileIsSaidToBeEmpty() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString).mp4")
        try Data().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try VideoReader(path: file.path)) {
            XCTAssertEqual("\($0)", "'\(file.path)' is not a video FFmpeg can read (the file is empty, 0 bytes)")
        }
    }
}
