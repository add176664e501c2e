import Core
import Foundation
import XCTest
@testable import Media

/// Clips made by the ffmpeg command line, and the same clips decoded by it to raw RGB: an independent reference.
enum FFmpegCLI {
    static func require() throws {
        if Subprocess.which("ffmpeg") == nil { throw XCTSkip("needs the ffmpeg command line (apt-get install ffmpeg)") }
    }

    static func run(_ arguments: [String]) throws {
        let r = try Subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y"] + arguments, timeout: 300)
        guard r.status == 0 else { throw FileError.writeFailed(arguments.last ?? "", reason: r.output) }
    }

    /// Every frame of `path` as ffmpeg shows it (rotation applied), as packed RGB.
    static func decodeRGB(_ path: String, width: Int, height: Int, folder: URL) throws -> [RGBImage] {
        let raw = folder.appendingPathComponent(UUID().uuidString + ".rgb")
        // Nearest-neighbour chroma, as VideoReader converts at a frame's own size.
        try run(["-i", path, "-sws_flags", "neighbor", "-f", "rawvideo", "-pix_fmt", "rgb24", raw.path])
        let data = try Data(contentsOf: raw)
        try FileManager.default.removeItem(at: raw)
        let frameBytes = width * height * 3
        XCTAssertEqual(data.count % frameBytes, 0, "ffmpeg's decode of \(path) is not whole \(width)×\(height) frames")
        return stride(from: 0, to: data.count - frameBytes + 1, by: frameBytes).map {
            RGBImage(width: width, height: height, pixels: [UInt8](data[$0..<($0 + frameBytes)]))
        }
    }
}

/// The largest difference of any channel of any pixel.
func maxDifference(_ a: RGBImage, _ b: RGBImage) -> Int {
    zip(a.pixels, b.pixels).reduce(0) { max($0, abs(Int($1.0) - Int($1.1))) }
}

/// Odd and unaligned sizes read at their own size: swscale pads its rows, so a destination of exactly
/// width × 3 bytes per row overflowed the heap (issue 15). CI also runs this class under glibc's
/// malloc checks (.ci/run), where an overflow aborts at once.
final class OddSizeSweepTests: XCTestCase {
    /// Both sides use swscale at the same size; only its rounding paths may differ.
    let tolerance = 3

    func check(_ path: URL, width: Int, height: Int, folder: URL, tolerance: Int, label: String) throws {
        let reference = try FFmpegCLI.decodeRGB(path.path, width: width, height: height, folder: folder)
        let reader = try VideoReader(path: path.path)
        XCTAssertEqual(reader.info.width, width, label)
        XCTAssertEqual(reader.info.height, height, label)
        XCTAssertEqual(reader.frameCount, reference.count, label)
        for (i, expected) in reference.enumerated() {
            let got = try reader.frame(at: i)
            XCTAssertEqual(got.width, width, label)
            XCTAssertEqual(got.height, height, label)
            XCTAssertLessThanOrEqual(maxDifference(got, expected), tolerance, "\(label) frame \(i)")
        }
    }

    /// Writes one clip per width in a single ffmpeg run (many outputs), as uncompressed video in NUT.
    func makeClips(format: String, widths: [Int], height: (Int) -> Int, folder: URL) throws -> [URL] {
        var arguments = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10"]
        var urls: [URL] = []
        for w in widths {
            let url = folder.appendingPathComponent("\(format)-\(w)x\(height(w)).nut")
            arguments += [
                "-vf", "scale=\(w):\(height(w)):flags=neighbor", "-pix_fmt", format, "-c:v", "rawvideo",
                "-frames:v", "3", url.path
            ]
            urls.append(url)
        }
        try FFmpegCLI.run(arguments)
        return urls
    }

    func testEveryWidthFrom2To34InThreePixelFormatsReadsAtItsOwnSize() throws {
        try FFmpegCLI.require()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let widths = Array(2...34)
        let height = { (w: Int) in 2 + (w * 7) % 19 }
        for format in ["yuv420p", "nv12", "yuv444p"] {
            let urls = try makeClips(format: format, widths: widths, height: height, folder: folder)
            for (w, url) in zip(widths, urls) {
                try check(
                    url, width: w, height: height(w), folder: folder, tolerance: tolerance,
                    label: "\(format) \(w)×\(height(w))")
            }
        }
    }

    func testLargeOddSizesAndH264AtPhoneLikeSizes() throws {
        try FFmpegCLI.require()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (w, h) in [(362, 202), (1081, 7), (7, 641)] {
            let url = try makeClips(format: "yuv420p", widths: [w], height: { _ in h }, folder: folder)[0]
            try check(url, width: w, height: h, folder: folder, tolerance: tolerance, label: "yuv420p \(w)×\(h)")
        }
        // H.264 needs even sizes; these widths are not multiples of 16 (the sizes the issue found crashing).
        for (w, h) in [(24, 18), (120, 90), (136, 100), (200, 150), (360, 202)] {
            let url = folder.appendingPathComponent("h264-\(w)x\(h).mp4")
            try FFmpegCLI.run([
                "-f", "lavfi", "-i", "testsrc2=size=\(w)x\(h):rate=10", "-t", "0.5",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", url.path
            ])
            try check(url, width: w, height: h, folder: folder, tolerance: tolerance, label: "h264 \(w)×\(h)")
        }
    }

    func testCroppedAndScaledReadsOfAnOddClipMatchTheNativeRead() throws {
        try FFmpegCLI.require()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = try makeClips(format: "yuv420p", widths: [37], height: { _ in 23 }, folder: folder)[0]
        let reader = try VideoReader(path: url.path)
        for size in [(5, 3), (37, 23), (100, 61), (23, 37)] {
            let f = try reader.frame(at: 1, size: size, fit: .crop)
            XCTAssertEqual(f.width, size.0)
            XCTAssertEqual(f.height, size.1)
        }
    }
}

/// A display matrix (phone video) turns the picture: frames come out as every player shows them.
final class RotationTests: XCTestCase {
    func testDisplayMatrixTurnsFramesAsFFmpegDoes() throws {
        try FFmpegCLI.require()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("plain.mp4")
        try FFmpegCLI.run([
            "-f", "lavfi", "-i", "testsrc2=size=160x96:rate=10", "-t", "0.5",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", plain.path
        ])
        let unturned = try VideoReader(path: plain.path)
        XCTAssertEqual(unturned.info.rotation, 0)
        // FFmpeg 5.1 writes the `rotate` tag as a display matrix when it copies the stream.
        for tag in [90, 180, 270] {
            let url = folder.appendingPathComponent("rotate\(tag).mp4")
            try FFmpegCLI.run(["-i", plain.path, "-c", "copy", "-metadata:s:v:0", "rotate=\(tag)", url.path])
            let reader = try VideoReader(path: url.path)
            let sideways = reader.info.rotation == 90 || reader.info.rotation == 270
            XCTAssertNotEqual(reader.info.rotation, 0, "rotate=\(tag)")
            XCTAssertEqual(sideways, tag != 180, "rotate=\(tag)")
            let (w, h) = sideways ? (96, 160) : (160, 96)
            XCTAssertEqual(reader.info.width, w, "rotate=\(tag)")
            XCTAssertEqual(reader.info.height, h, "rotate=\(tag)")
            let reference = try FFmpegCLI.decodeRGB(url.path, width: w, height: h, folder: folder)
            XCTAssertEqual(reader.frameCount, reference.count)
            for i in [0, reference.count - 1] {
                let got = try reader.frame(at: i)
                XCTAssertEqual(got.width, w)
                XCTAssertGreaterThan(psnr(got, reference[i]), 35, "rotate=\(tag) frame \(i)")
                // The turned picture is the unturned one rotated, not merely resized.
                let direct = try unturned.frame(at: i).rotated(clockwise: reader.info.rotation)
                XCTAssertEqual(got, direct, "rotate=\(tag) frame \(i)")
            }
            let small = try reader.frame(at: 0, size: (30, 50), fit: .crop)
            XCTAssertEqual(small.width, 30)
            XCTAssertEqual(small.height, 50)
        }
    }

    func testRotatedImageMovesCornersClockwise() {
        var img = RGBImage(width: 3, height: 2)
        img.pixels[0] = 255  // top-left red
        let turned = img.rotated(clockwise: 90)
        XCTAssertEqual(turned.width, 2)
        XCTAssertEqual(turned.height, 3)
        XCTAssertEqual(turned.pixel(1, 0).0, 255, "top-left goes to top-right")
        XCTAssertEqual(img.rotated(clockwise: 180).pixel(2, 1).0, 255)
        XCTAssertEqual(img.rotated(clockwise: 270).pixel(0, 2).0, 255)
        XCTAssertEqual(img.rotated(clockwise: 90).rotated(clockwise: 270), img)
    }
}

/// Ranges near Int.max are refused in words instead of overflowing `from + count`.
final class FrameRangeTests: XCTestCase {
    func testRangesNearIntMaxAreRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("clip.mp4")
        try VideoWriter.write((0..<5).map { patternFrame($0, width: 32, height: 16) }, to: url, fps: 10)
        let reader = try VideoReader(path: url.path)
        let cases = [(Int.max, 1), (1, Int.max), (Int.max, Int.max), (Int.max - 1, 2), (4, 2), (-1, 1), (Int.min, 3)]
        for (from, count) in cases {
            XCTAssertThrowsError(try reader.frames(from: from, count: count), "\(from) \(count)") { error in
                XCTAssertTrue("\(error)".contains("has 5 frames"), "\(error)")
            }
        }
        XCTAssertThrowsError(try reader.frame(at: Int.max))
        XCTAssertEqual(try reader.frames(from: 3, count: 2).map(decodePattern), [3, 4])
        XCTAssertEqual(try reader.frames(from: 5, count: 0).count, 0)
    }
}
