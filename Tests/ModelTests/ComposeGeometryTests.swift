import Core
import Foundation
import XCTest
@testable import Engine
@testable import MavinModel
@testable import Media

/// A 16:9 clip joined to a square one: the square clip's frames and the transition into it come out in one geometry,
/// the plan's `fit` (crop, pad or stretch), so the picture does not jump at the junction.
final class ComposeGeometryTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-fit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// 64×36 mid grey (16:9), and a `width`×36 clip in three horizontal bands: red, green, blue from the top.
    func writeClips(width: Int = 36) throws {
        let wide = try VideoWriter(url: dir.appendingPathComponent("wide.mp4"), width: 64, height: 36, fps: 25)
        for _ in 0..<20 { try wide.append(RGBImage(width: 64, height: 36, fill: (128, 128, 128))) }
        try wide.finish()
        var pixels: [UInt8] = []
        for y in 0..<36 {
            let colour: [UInt8] = y < 12 ? [230, 20, 20] : (y < 24 ? [20, 230, 20] : [20, 20, 230])
            for _ in 0..<width { pixels += colour }
        }
        let bands = RGBImage(width: width, height: 36, pixels: pixels)
        let square = try VideoWriter(url: dir.appendingPathComponent("square.mp4"), width: width, height: 36, fps: 25)
        for _ in 0..<20 { try square.append(bands) }
        try square.finish()
    }

    /// Which band a pixel shows: "r", "g", "b", "black" or "grey".
    func band(_ p: (UInt8, UInt8, UInt8)) -> String {
        let (r, g, b) = (Int(p.0), Int(p.1), Int(p.2))
        if max(r, g, b) < 50 { return "black" }
        if r > g + 60 && r > b + 60 { return "r" }
        if g > r + 60 && g > b + 60 { return "g" }
        if b > r + 60 && b > g + 60 { return "b" }
        return "grey"
    }

    func testASquareClipAndItsTransitionShareTheOutputsGeometryForEveryFit() throws {
        try writeClips()
        let model = try MavinModel.load(repoRoot.appendingPathComponent("Samples/models/mavin-motion.safetensors"))
        // Rows 10 and 26 and column 2 of the square clip in a 64×36 output, by fit: crop scales it to 64×64 and
        // cuts rows 14…49 (bands end at rows 7.3 and 28.7); stretch keeps the rows (bands end at 12 and 24); pad
        // keeps it 36×36 at columns 14…49 with black beside. Each row is 2 pixels or more from a band's edge.
        let expected: [Fit: (row10: String, row26: String, column2: String)] = [
            .crop: ("g", "g", "g"), .stretch: ("r", "b", "g"), .pad: ("r", "b", "black")
        ]
        for fit in Fit.allCases {
            let length = 6
            let text =
                "fit = \"\(fit.rawValue)\"\n[[clip]]\npath = \"wide.mp4\"\n[[clip]]\npath = \"square.mp4\"\n"
                + "[[junction]]\nlength = \(length)\nstrength = 0\n"
            let plan = try Plan.parse(text)
            XCTAssertEqual(plan.fit, fit)
            XCTAssertEqual(try Plan.parse(plan.toml()), plan, "fit survives the plan's text")
            let out = dir.appendingPathComponent("out-\(fit.rawValue).mp4")
            let (frames, notices) = try Composer(plan: plan, folder: dir.path).run(
                model: model, output: out, overwrite: false)
            XCTAssertEqual(frames, 20 + length + 20)
            XCTAssertTrue(notices.contains { $0.contains("(fit = \(fit.rawValue))") }, "\(notices)")
            let written = try VideoReader(path: out.path)
            XCTAssertEqual(written.frameCount, frames)
            let want = try XCTUnwrap(expected[fit])
            // The clip's frames after the junction: exactly its fitted picture.
            for index in [20 + length, frames - 1] {
                let f = try written.frame(at: index)
                XCTAssertEqual(f.width, 64)
                XCTAssertEqual(f.height, 36)
                let seen = (band(f.pixel(32, 10)), band(f.pixel(32, 26)), band(f.pixel(2, 18)))
                XCTAssertEqual(seen.0, want.row10, "\(fit) frame \(index) row 10")
                XCTAssertEqual(seen.1, want.row26, "\(fit) frame \(index) row 26")
                XCTAssertEqual(seen.2, want.column2, "\(fit) frame \(index) column 2")
            }
            // The transition's last frame is mostly the square clip's boundary frame warped: of the three ways to
            // fit that frame, it is nearest to the plan's (a transition made in another geometry is nearest to
            // that one, and the picture jumps at the cut).
            let last = try written.frame(at: 20 + length - 1)
            let square = try VideoReader(path: dir.appendingPathComponent("square.mp4").path)
            var distance: [Fit: Double] = [:]
            for other in Fit.allCases {
                let fitted = try square.frame(at: 0, size: (64, 36), fit: other)
                let d = zip(last.pixels, fitted.pixels).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) }
                distance[other] = d / Double(last.pixels.count)
            }
            let nearest = distance.min { $0.value < $1.value }?.key
            XCTAssertEqual(nearest, fit, "\(fit): mean distances \(distance)")
            // The 16:9 clip fills the output as it is.
            XCTAssertEqual(band(try written.frame(at: 19).pixel(2, 18)), "grey")
        }
    }

    /// The same with a 4:3 clip (48×36), whose fits differ by less: the clip's frames and the transition's last
    /// frame are each nearest to the plan's fit of the three.
    func testA43ClipAndItsTransitionShareTheOutputsGeometry() throws {
        try writeClips(width: 48)
        let model = try MavinModel.load(repoRoot.appendingPathComponent("Samples/models/mavin-motion.safetensors"))
        let square = try VideoReader(path: dir.appendingPathComponent("square.mp4").path)
        let fitted = try Dictionary(
            uniqueKeysWithValues: Fit.allCases.map { ($0, try square.frame(at: 0, size: (64, 36), fit: $0)) })
        for fit in [Fit.crop, .pad] {
            let text =
                "fit = \"\(fit.rawValue)\"\n[[clip]]\npath = \"wide.mp4\"\n[[clip]]\npath = \"square.mp4\"\n"
                + "[[junction]]\nlength = 6\nstrength = 0\n"
            let out = dir.appendingPathComponent("out43-\(fit.rawValue).mp4")
            let (frames, _) = try Composer(plan: try Plan.parse(text), folder: dir.path).run(
                model: model, output: out, overwrite: false)
            let written = try VideoReader(path: out.path)
            for index in [25, 26, frames - 1] {
                let f = try written.frame(at: index)
                let distance = fitted.mapValues { other in
                    zip(f.pixels, other.pixels).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) }
                        / Double(f.pixels.count)
                }
                XCTAssertEqual(distance.min { $0.value < $1.value }?.key, fit, "\(fit) frame \(index): \(distance)")
            }
        }
    }
}
