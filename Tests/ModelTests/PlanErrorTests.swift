import Foundation
import XCTest
@testable import Engine

/// Plans that cannot be used say why, naming the file or the clip.
final class PlanErrorTests: XCTestCase {
    func testMissingPlanAndFolderAreNamedAsSuch() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("none.toml")
        XCTAssertThrowsError(try Plan.read(missing)) { XCTAssertEqual($0 as? PlanError, .missing(missing.path)) }
        XCTAssertThrowsError(try Plan.read(folder)) { XCTAssertEqual($0 as? PlanError, .folder(folder.path)) }
        let binary = folder.appendingPathComponent("b.toml")
        try Data([0xff, 0xfe, 0x00, 0xc3]).write(to: binary)
        XCTAssertThrowsError(try Plan.read(binary)) { XCTAssertEqual($0 as? PlanError, .unreadable(binary.path)) }
    }

    func testUnknownClipKeyIsRefusedAndTooManyJunctionsSayWhatIsAllowed() {
        let clipKey = "[[clip]]\npath = \"a.mp4\"\nspeed = 2\n"
        XCTAssertThrowsError(try Plan.parse(clipKey)) { XCTAssertTrue("\($0)".contains("clip 1: unknown key 'speed'"), "\($0)") }
        let extra = "[[clip]]\npath = \"a.mp4\"\n[[clip]]\npath = \"b.mp4\"\n[[junction]]\ns = 1\n[[junction]]\ns = 2\n"
        XCTAssertThrowsError(try Plan.parse(extra)) { XCTAssertTrue("\($0)".contains("fewer is fine"), "\($0)") }
        let fewer = "[[clip]]\npath = \"a.mp4\"\n[[clip]]\npath = \"b.mp4\"\n[[clip]]\npath = \"c.mp4\"\n"
        XCTAssertEqual(try Plan.parse(fewer).junctions.count, 2)
    }
}
