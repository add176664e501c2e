import Core
import Foundation
import XCTest
@testable import Media

/// Where the package's own files are, found from this source file (tests never read ../shared).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A frame whose blocks encode its index in binary (8 blocks, black/white) over a gradient.
func patternFrame(_ index: Int, width: Int = 96, height: Int = 64) -> RGBImage {
    var img = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width {
            let i = 3 * (y * width + x)
            if y < 16 {
                let bit = (index >> (x * 8 / width)) & 1
                img.pixels[i] = bit == 1 ? 235 : 16
                img.pixels[i + 1] = img.pixels[i]
                img.pixels[i + 2] = img.pixels[i]
            } else {
                img.pixels[i] = UInt8((x * 255) / width)
                img.pixels[i + 1] = UInt8((y * 255) / height)
                img.pixels[i + 2] = UInt8((index * 7) % 256)
            }
        }
    }
    return img
}

/// Reads the index back from the top band of a pattern frame.
func decodePattern(_ img: RGBImage) -> Int {
    var value = 0
    for bit in 0..<8 {
        let x = bit * img.width / 8 + img.width / 16
        if img.pixel(x, 8).0 > 128 { value |= 1 << bit }
    }
    return value
}

func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
    var se = 0.0
    for i in 0..<a.pixels.count {
        let d = Double(a.pixels[i]) - Double(b.pixels[i])
        se += d * d
    }
    let mse = se / Double(a.pixels.count)
    return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
}

func ffprobeFrameCount(_ path: String) throws -> Int? {
    guard Subprocess.which("ffprobe") != nil else { return nil }
    let r = try Subprocess.run([
        "ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
        "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path
    ])
    return Int(r.output.trimmingCharacters(in: .whitespacesAndNewlines))
}

final class VideoRoundTripTests: XCTestCase {
    func testMP4RoundTripIsFaithfulAndSeeksAreFrameAccurate() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("pattern.mp4")
        let frames = (0..<90).map { patternFrame($0) }
        try VideoWriter.write(frames, to: url, fps: 30)
        let reader = try VideoReader(path: url.path)
        XCTAssertEqual(reader.frameCount, 90)
        XCTAssertEqual(reader.info.width, 96)
        XCTAssertEqual(reader.info.height, 64)
        XCTAssertEqual(reader.info.fps, 30, accuracy: 1e-6)
        XCTAssertEqual(reader.info.codec, "h264")
        if let probed = try ffprobeFrameCount(url.path) { XCTAssertEqual(probed, 90) }
        for i in 0..<90 {
            let f = try reader.frame(at: i)
            XCTAssertEqual(decodePattern(f), i)
            XCTAssertGreaterThanOrEqual(psnr(f, frames[i]), 35, "frame \(i)")
        }
        var rng = SystemRandomNumberGenerator()
        var order = (0..<40).map { _ in Int.random(in: 0..<90, using: &rng) } + [89, 0, 45, 44, 89, 1]
        order.shuffle()
        for i in order { XCTAssertEqual(decodePattern(try reader.frame(at: i)), i, "seek to \(i)") }
    }

    func testOddSizesArePaddedForYUV420AndCropFitsTarget() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("odd.mp4")
        try VideoWriter.write((0..<5).map { patternFrame($0, width: 97, height: 65) }, to: url, fps: 25)
        let reader = try VideoReader(path: url.path)
        XCTAssertEqual(reader.frameCount, 5)
        XCTAssertEqual(reader.info.width, 98)
        let cropped = try reader.frame(at: 2, size: (32, 32), fit: .crop)
        XCTAssertEqual(cropped.width, 32)
        XCTAssertEqual(cropped.height, 32)
    }

    func testSampleClipCountsMatchFFprobe() throws {
        let samples = packageRoot.appendingPathComponent("Samples")
        let files = try FileManager.default.contentsOfDirectory(atPath: samples.path).filter { $0.hasSuffix(".mp4") }
        XCTAssertFalse(files.isEmpty)
        for name in files {
            let path = samples.appendingPathComponent(name).path
            let ours = try VideoReader(path: path).frameCount
            if let theirs = try ffprobeFrameCount(path) { XCTAssertEqual(ours, theirs, name) }
        }
        XCTAssertEqual(try VideoReader(path: samples.appendingPathComponent("bunny.mp4").path).frameCount, 64)
    }

    func testGIFAndPNGFolderOutputs() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let frames = (0..<6).map { patternFrame($0) }
        let gif = dir.appendingPathComponent("a.gif")
        try VideoWriter.write(frames, to: gif, fps: 10)
        let g = try VideoReader(path: gif.path)
        XCTAssertEqual(g.frameCount, 6)
        for i in 0..<6 {
            let f = try g.frame(at: i)
            XCTAssertEqual(decodePattern(f), i)
            XCTAssertGreaterThan(psnr(f, frames[i]), 30)
        }
        let folder = dir.appendingPathComponent("frames")
        try VideoWriter.write(frames, to: folder, fps: 10)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(names, (0..<6).map { String(format: "frame_%05d.png", $0) })
        XCTAssertEqual(try PNG.read(folder.appendingPathComponent(names[3])).rgb, frames[3])
        // A PNG folder reads back as a clip, in name order and losslessly; a video path as its frames.
        XCTAssertEqual(try FrameSource.read(folder.path), frames)
        XCTAssertEqual(try FrameSource.read(gif.path).map(decodePattern), Array(0..<6))
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try FrameSource.read(empty.path)) {
            XCTAssertTrue("\($0)".contains("without PNG frames"), "\($0)")
        }
        try PNG.write(patternFrame(9, width: 32, height: 32), to: folder.appendingPathComponent("frame_00006.png"))
        XCTAssertThrowsError(try FrameSource.read(folder.path)) { XCTAssertTrue("\($0)".contains("32×32"), "\($0)") }
        XCTAssertThrowsError(try FrameSource.read(dir.appendingPathComponent("nothing").path)) {
            XCTAssertTrue("\($0)".contains("no such file"))
        }
    }

    func testWritesNeverOverwriteUnlessAskedAndCancelLeavesNothing() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("keep.mp4")
        try Data("precious".utf8).write(to: url)
        XCTAssertThrowsError(try VideoWriter.write([patternFrame(0)], to: url, fps: 25)) { error in
            XCTAssertEqual(error as? FileError, .targetExists(url.path))
        }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "precious")
        try VideoWriter.write([patternFrame(0)], to: url, fps: 25, overwrite: true)
        XCTAssertEqual(try VideoReader(path: url.path).frameCount, 1)

        let cancelled = dir.appendingPathComponent("cancelled.mp4")
        let w = try VideoWriter(url: cancelled, width: 96, height: 64, fps: 25)
        try w.append(patternFrame(1))
        w.cancel()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["keep.mp4"])

        let w2 = try VideoWriter(url: dir.appendingPathComponent("b.mp4"), width: 96, height: 64, fps: 25)
        XCTAssertThrowsError(try w2.append(patternFrame(0, width: 32, height: 32))) { error in
            guard case .sizeMismatch = error as? MediaError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try VideoWriter(url: dir.appendingPathComponent("x.avi"), width: 8, height: 8, fps: 25))
    }
}

final class BadInputTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func makeClip(_ name: String = "clip.mp4", frames: Int = 60) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try VideoWriter.write((0..<frames).map { patternFrame($0) }, to: url, fps: 25)
        return url
    }

    func testMissingFile() {
        XCTAssertThrowsError(try VideoReader(path: "/nonexistent/clip.mp4")) { error in
            XCTAssertEqual(error as? MediaError, .fileNotFound("/nonexistent/clip.mp4"))
            XCTAssertTrue("\(error)".contains("no such file"))
        }
    }

    func testTextFileNamedMP4IsNotAVideo() throws {
        let url = dir.appendingPathComponent("notes.mp4")
        try Data(String(repeating: "these are my notes, not a video\n", count: 50).utf8).write(to: url)
        XCTAssertThrowsError(try VideoReader(path: url.path)) { error in
            guard case .notAVideo(let p, _) = error as? MediaError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, url.path)
        }
    }

    func testTruncatedMP4DecodesWhatDecodesAndReportsTheRest() throws {
        let url = try makeClip()
        let data = try Data(contentsOf: url)
        for fraction in [0.1, 0.5, 0.9] {
            let cut = dir.appendingPathComponent("cut-\(fraction).mp4")
            try data.prefix(Int(Double(data.count) * fraction)).write(to: cut)
            do {
                let reader = try VideoReader(path: cut.path)
                var good = 0
                for i in 0..<reader.frameCount {
                    do {
                        let f = try reader.frame(at: i)
                        if decodePattern(f) == i { good += 1 }
                    } catch let e as MediaError {
                        guard case .decodeFailed = e else { return XCTFail("\(e)") }
                    }
                }
                XCTAssertLessThanOrEqual(reader.frameCount, 60)
            } catch let e as MediaError {
                // The moov atom sits at the end of our MP4s: a cut file may have no index at all.
                switch e {
                case .notAVideo, .noFrames: break
                default: XCTFail("\(e)")
                }
            }
        }
    }

    func testFlippedBytesGiveTypedErrorsOrFrames() throws {
        let url = try makeClip(frames: 60)
        var data = try Data(contentsOf: url)
        var rng = SplitMix64(seed: 7)
        let mid = data.count / 2
        for _ in 0..<2000 {
            let i = mid - 2000 + Int(rng.next() % 4000)
            data[i] ^= 0xFF
        }
        let bad = dir.appendingPathComponent("flipped.mp4")
        try data.write(to: bad)
        do {
            let reader = try VideoReader(path: bad.path)
            var decoded = 0
            for i in 0..<reader.frameCount {
                do {
                    _ = try reader.frame(at: i)
                    decoded += 1
                } catch let e as MediaError {
                    guard case .decodeFailed = e else { return XCTFail("\(e)") }
                }
            }
            XCTAssertGreaterThan(decoded, 0, "frames away from the damage still decode")
        } catch let e as MediaError {
            switch e {
            case .notAVideo, .noFrames: break
            default: XCTFail("\(e)")
            }
        }
    }

    func testOutOfRangeFrame() throws {
        let reader = try VideoReader(path: try makeClip(frames: 10).path)
        XCTAssertThrowsError(try reader.frame(at: 10)) { error in
            XCTAssertEqual(error as? MediaError, .frameOutOfRange(reader.info.path, index: 10, frames: 10))
            XCTAssertTrue("\(error)".contains("10 frames"))
        }
        XCTAssertThrowsError(try reader.frame(at: -1))
    }

    func testZeroFrameVideoAndAudioOnly() throws {
        guard Subprocess.which("ffmpeg") != nil else { throw XCTSkip("ffmpeg CLI not installed") }
        let empty = dir.appendingPathComponent("empty.mp4")
        try Subprocess.run([
            "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=64x64:d=1", "-frames:v", "0", "-y", empty.path
        ])
        if FileManager.default.fileExists(atPath: empty.path) {
            XCTAssertThrowsError(try VideoReader(path: empty.path)) { error in
                switch error as? MediaError {
                case .noFrames?, .notAVideo?: break
                default: XCTFail("\(error)")
                }
            }
        }
        let audio = dir.appendingPathComponent("tone.m4a")
        try Subprocess.run([
            "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", "-y", audio.path
        ])
        XCTAssertThrowsError(try VideoReader(path: audio.path)) { error in
            guard case .notAVideo(_, let reason) = error as? MediaError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("no video stream"))
        }
    }

    func testOddPixelFormatIsConverted() throws {
        guard Subprocess.which("ffmpeg") != nil else { throw XCTSkip("ffmpeg CLI not installed") }
        let url = dir.appendingPathComponent("yuv444.mkv")
        try Subprocess.run([
            "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=s=65x47:d=0.4:r=10", "-pix_fmt", "yuv444p", "-c:v",
            "ffv1", "-y", url.path
        ])
        let reader = try VideoReader(path: url.path)
        XCTAssertEqual(reader.frameCount, 4)
        let f = try reader.frame(at: 3)
        XCTAssertEqual(f.width, 65)
        XCTAssertEqual(f.height, 47)
    }
}

final class PNGTests: XCTestCase {
    func testRoundTripsRGBRGBAAndGray() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for channels in [1, 3, 4] {
            let px = (0..<(13 * 7 * channels)).map { UInt8(($0 * 37) % 256) }
            let img = PNGImage(width: 13, height: 7, channels: channels, pixels: px)
            let url = dir.appendingPathComponent("c\(channels).png")
            try PNG.write(img, to: url)
            XCTAssertEqual(try PNG.read(url), img)
            XCTAssertThrowsError(try PNG.write(img, to: url)) {
                XCTAssertEqual($0 as? FileError, .targetExists(url.path))
            }
        }
    }

    func testCorruptPNGIsATypedError() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("g.png")
        try PNG.write(RGBImage(width: 40, height: 40, fill: (10, 200, 30)), to: good)
        let data = try Data(contentsOf: good)
        let cut = dir.appendingPathComponent("cut.png")
        try data.prefix(data.count / 2).write(to: cut)
        XCTAssertThrowsError(try PNG.read(cut)) { error in
            guard case .badPNG = error as? MediaError else { return XCTFail("\(error)") }
            // In words, not libpng's bare "Read Error".
            XCTAssertTrue("\(error)".contains("it ends early"), "\(error)")
        }
        let text = dir.appendingPathComponent("t.png")
        try Data("hello".utf8).write(to: text)
        // Shorter than PNG's signature: libpng reads it as cut short, but it is no PNG at all.
        XCTAssertThrowsError(try PNG.read(text)) { XCTAssertTrue("\($0)".hasSuffix("it is not a PNG image)"), "\($0)") }
        let head = dir.appendingPathComponent("head.png")
        try data.prefix(6).write(to: head)
        XCTAssertThrowsError(try PNG.read(head)) { XCTAssertTrue("\($0)".contains("it ends early"), "\($0)") }
    }
}
