import Core
import Foundation
import XCTest
@testable import Media

/// A full disk, made with a tiny tmpfs (root only; skipped elsewhere): each writer says so in words and
/// leaves nothing behind.
final class FullDiskTests: XCTestCase {
    var mountPoint: URL!

    override func setUpWithError() throws {
        guard geteuid() == 0, Subprocess.which("mount") != nil else { throw XCTSkip("a tmpfs needs root") }
        mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let r = try Subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", mountPoint.path])
        guard r.status == 0 else {
            try? FileManager.default.removeItem(at: mountPoint)
            mountPoint = nil
            throw XCTSkip("cannot mount a tmpfs here: \(r.output)")
        }
    }

    override func tearDownWithError() throws {
        guard let mountPoint else { return }
        _ = try? Subprocess.run(["umount", mountPoint.path])
        try? FileManager.default.removeItem(at: mountPoint)
    }

    /// Noise does not compress: a PNG of it is about as large as its pixels.
    func noise(width: Int, height: Int) -> RGBImage {
        var g = SplitMix64(seed: 5)
        let pixels = (0..<(width * height * 3)).map { _ in UInt8(g.next() & 0xFF) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    func left() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: mountPoint.path) }

    func testAPNGOnAFullDiskSaysSoAndLeavesNothing() throws {
        let url = mountPoint.appendingPathComponent("big.png")
        XCTAssertThrowsError(try PNG.write(noise(width: 256, height: 256), to: url)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("the disk is full"), text)
            XCTAssertTrue(text.contains("big.png"), text)
            XCTAssertFalse(text.contains("Write Error"), text)
        }
        XCTAssertEqual(try left(), [])
    }

    func testAnMP4OnAFullDiskSaysSoAndLeavesNothing() throws {
        let url = mountPoint.appendingPathComponent("clip.mp4")
        let frames = (0..<30).map { _ in noise(width: 320, height: 240) }
        XCTAssertThrowsError(try VideoWriter.write(frames, to: url, fps: 25)) { error in
            XCTAssertTrue("\(error)".contains("the disk is full"), "\(error)")
        }
        XCTAssertEqual(try left(), [])
    }

    func testAnAppendedLogLineIsWholeOrAbsent() throws {
        let log = mountPoint.appendingPathComponent("train.log.jsonl").path
        try FileProblem.append(Data("{\"step\":1}\n".utf8), to: log)
        let line = Data(repeating: 0x61, count: 200_000) + Data("\n".utf8)
        XCTAssertThrowsError(try FileProblem.append(line, to: log)) { error in
            XCTAssertTrue("\(error)".contains("the disk is full"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8), "{\"step\":1}\n", "no half line")
    }

    func testAFrameExportOnAFullDiskRemovesWhatItWrote() throws {
        let out = mountPoint.appendingPathComponent("frames").path
        let frame = noise(width: 64, height: 64)
        XCTAssertThrowsError(try FrameExport.write(frames: 0..<20, into: out, overwrite: false) { _ in frame }) {
            XCTAssertTrue("\($0)".contains("the disk is full"), "\($0)")
        }
        XCTAssertEqual(try left(), [])
    }
}
