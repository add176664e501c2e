import Core
import Foundation
import XCTest
@testable import Media

/// `--overwrite` replaces a regular file or a folder of Mavin's own frames, nothing else; an output is never an input.
final class OutputSafetyTests: XCTestCase {
    var folder: URL!
    let frames = (0..<3).map { patternFrame($0, width: 32, height: 16) }

    override func setUpWithError() throws { folder = try temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func assertRefused(_ body: @autoclosure () throws -> Void, _ label: String, containing text: String) {
        XCTAssertThrowsError(try body(), label) { error in
            XCTAssertTrue("\(error)".contains(text), "\(label): \(error)")
        }
    }

    func overwrite(_ url: URL) throws { try VideoWriter.write(frames, to: url, fps: 10, overwrite: true) }

    func makeFIFO(_ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        XCTAssertEqual(mkfifo(url.path, 0o600), 0, String(cString: strerror(errno)))
        return url
    }

    func fileType(_ url: URL) -> mode_t {
        var info = stat()
        return lstat(url.path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    func testAFIFOIsNeverReplacedByAnyWriter() throws {
        for name in ["pipe.mp4", "pipe.gif", "pipe.png", "pipe"] {
            let fifo = try makeFIFO(name)
            if name == "pipe.png" {
                assertRefused(try PNG.write(frames[0], to: fifo, overwrite: true), name, containing: "a FIFO")
            } else {
                assertRefused(try overwrite(fifo), name, containing: "a FIFO")
            }
            assertRefused(try AtomicOutput.write(Data("x".utf8), to: fifo, overwrite: true), name, containing: "a FIFO")
            XCTAssertEqual(fileType(fifo), S_IFIFO, "\(name) is still the FIFO")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no partial files are left behind")
    }

    func testAUsersFolderIsNotReplacedByFrames() throws {
        let mine = folder.appendingPathComponent("holiday")
        let raw = mine.appendingPathComponent("raw")
        try FileManager.default.createDirectory(at: raw, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: mine.appendingPathComponent("notes.txt"))
        assertRefused(
            try overwrite(mine), "files and a sub-folder",
            containing: "which Mavin did not write")
        XCTAssertEqual(try String(contentsOf: mine.appendingPathComponent("notes.txt"), encoding: .utf8), "notes")
        XCTAssertEqual(fileType(mine.appendingPathComponent("raw")), S_IFDIR)

        // A PNG a person named does not make a frame folder either.
        let photos = folder.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        try PNG.write(frames[0], to: photos.appendingPathComponent("cat.png"))
        assertRefused(try overwrite(photos), "cat.png", containing: "cat.png")
        XCTAssertTrue(FileManager.default.fileExists(atPath: photos.appendingPathComponent("cat.png").path))

        // A video output never replaces a folder, even an empty one.
        let empty = folder.appendingPathComponent("empty.mp4")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        assertRefused(try overwrite(empty), "folder", containing: "a folder")
        XCTAssertEqual(fileType(empty), S_IFDIR)
    }

    func testASymbolicLinkToAFolderIsRefused() throws {
        let target = folder.appendingPathComponent("real")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try PNG.write(frames[0], to: target.appendingPathComponent("frame_00000.png"))
        let link = folder.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        assertRefused(try overwrite(link), "link", containing: "symbolic link")
        XCTAssertEqual(fileType(link), S_IFLNK)
        XCTAssertTrue(FileManager.default.fileExists(atPath: target.appendingPathComponent("frame_00000.png").path))
    }

    func testMavinsOwnFrameFolderAndARegularFileAreReplaced() throws {
        let out = folder.appendingPathComponent("frames")
        try VideoWriter.write(frames, to: out, fps: 10)
        assertRefused(
            try VideoWriter.write(frames, to: out, fps: 10), "without --overwrite",
            containing: "already exists")
        try VideoWriter.write(Array(frames.prefix(2)), to: out, fps: 10, overwrite: true)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(),
            ["frame_00000.png", "frame_00001.png"])
        let file = folder.appendingPathComponent("clip.mp4")
        try Data("old".utf8).write(to: file)
        try VideoWriter.write(frames, to: file, fps: 10, overwrite: true)
        XCTAssertEqual(try VideoReader(path: file.path).frameCount, 3)
    }

    /// A file named as Mavin names its frames is Mavin's only if it is a PNG: the folder holding a text file named
    /// frame_00000.png is the user's and stays.
    func testAFrameNamedFileThatIsNoPNGKeepsItsFolder() throws {
        let out = folder.appendingPathComponent("frames")
        try VideoWriter.write(frames, to: out, fps: 10)
        let note = out.appendingPathComponent("frame_00001.png")
        try FileManager.default.removeItem(at: note)
        try Data("not a png".utf8).write(to: note)
        assertRefused(try overwrite(out), "a text file among the frames", containing: "frame_00001.png")
        XCTAssertEqual(try Data(contentsOf: note), Data("not a png".utf8))
    }

    /// Any legal output name is writable: the hidden partial name beside it is cut to fit 255 bytes.
    func testAnOutputNameOfTheLongestLegalLengthIsWritten() throws {
        let stem = String(repeating: "é", count: 125)  // 250 bytes of UTF-8
        let file = folder.appendingPathComponent(stem + ".mp4")
        XCTAssertEqual(file.lastPathComponent.utf8.count, 254)
        try VideoWriter.write(frames, to: file, fps: 10)
        XCTAssertEqual(try VideoReader(path: file.path).frameCount, 3)
        let pngs = folder.appendingPathComponent(String(repeating: "f", count: 255))
        try VideoWriter.write(frames, to: pngs, fps: 10)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: pngs.path).count, 3)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).count, 2)
        let name = AtomicOutput.partialName(of: stem + ".mp4", tag: "123-4567.mp4")
        XCTAssertLessThanOrEqual(name.utf8.count, 255)
        XCTAssertTrue(name.hasPrefix(".éé") && name.hasSuffix(".partial-123-4567.mp4"), name)
    }

    /// An MP4 of odd-sized frames is written at the next even size, and the writer says so; PNG frames keep theirs.
    func testAnOddSizedMP4SaysItsEvenSize() throws {
        let odd = (0..<2).map { patternFrame($0, width: 33, height: 17) }
        let mp4 = folder.appendingPathComponent("odd.mp4")
        let writer = try VideoWriter(url: mp4, width: 33, height: 17, fps: 10)
        for f in odd { try writer.append(f) }
        try writer.finish()
        XCTAssertTrue(writer.notice?.hasPrefix("the MP4 is 34×18: H.264 in 4:2:0 needs even sizes") ?? false)
        let info = try VideoReader(path: mp4.path).info
        XCTAssertEqual([info.width, info.height], [34, 18])
        XCTAssertNil(try VideoWriter(url: folder.appendingPathComponent("pngs"), width: 33, height: 17, fps: 10).notice)
        XCTAssertNil(
            try VideoWriter(url: folder.appendingPathComponent("even.mp4"), width: 34, height: 18, fps: 10).notice)
    }

    func testAnOutputThatIsAnInputIsRefusedUnderAnyOfItsNames() throws {
        let clip = folder.appendingPathComponent("clip.mp4")
        try VideoWriter.write(frames, to: clip, fps: 10)
        let sub = folder.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let spellings = [clip.path, sub.path + "/../clip.mp4", folder.path + "//clip.mp4"]
        for spelling in spellings {
            assertRefused(
                try OutputTarget.check(spelling, kind: .file, overwrite: true, inputs: [clip.path]),
                spelling, containing: "also an input")
        }
        let link = folder.appendingPathComponent("alias.mp4")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: clip)
        assertRefused(
            try OutputTarget.check(clip.path, kind: .file, overwrite: true, inputs: [link.path]),
            "through a link", containing: "also an input")
        // A frame folder output that holds an input (--truth DIR/frame…) is refused too.
        assertRefused(
            try OutputTarget.check(folder.path, kind: .frameFolder, overwrite: true, inputs: [clip.path]),
            "folder holding an input", containing: "is a folder that holds an input of this job")
        XCTAssertNoThrow(
            try OutputTarget.check(
                folder.appendingPathComponent("new.mp4").path, kind: .file,
                overwrite: false, inputs: [clip.path]))
        XCTAssertEqual(try VideoReader(path: clip.path).frameCount, 3)
    }

    func testAMissingOutputFolderIsNamedBeforeAnyWork() {
        let path = folder.appendingPathComponent("nowhere/out.mp4").path
        assertRefused(
            try OutputTarget.check(path, kind: .file, overwrite: false), "missing folder",
            containing: "does not exist")
    }

    /// A file's name that ends in '/' is refused, even with --overwrite over an existing file of that name.
    func testAFileNameEndingInASlashIsRefused() throws {
        let existing = folder.appendingPathComponent("o3.mp4")
        try Data("mine".utf8).write(to: existing)
        assertRefused(
            try OutputTarget.check(existing.path + "/", kind: .file, overwrite: true), "trailing slash",
            containing: "ends in '/'")
        XCTAssertEqual(try String(contentsOf: existing, encoding: .utf8), "mine")
    }
}
