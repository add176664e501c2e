import Foundation
import XCTest
@testable import Media
@testable import Synth

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-synth-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Period (in frames) of a signal: the first autocorrelation peak after the first trough.
func dominantPeriod(_ x: [Float], maxLag: Int) -> (lag: Int, correlation: Float) {
    let mean = x.reduce(0, +) / Float(x.count)
    let c = x.map { $0 - mean }
    func ac(_ lag: Int) -> Float {
        var s: Float = 0
        var a: Float = 0
        var b: Float = 0
        for i in 0..<(c.count - lag) {
            s += c[i] * c[i + lag]
            a += c[i] * c[i]
            b += c[i + lag] * c[i + lag]
        }
        return s / max(1e-9, (a * b).squareRoot())
    }
    let values = (0...maxLag).map(ac)
    var lag = 1
    while lag < maxLag && values[lag] > 0 { lag += 1 }  // past the first zero crossing
    // The first local maximum that is nearly as strong as the strongest (not a multiple of the period).
    let strongest = values[lag...maxLag].max() ?? 0
    for l in lag..<maxLag where values[l] >= values[l - 1] && values[l] >= values[l + 1] && values[l] > 0.9 * strongest
    {
        return (l, values[l])
    }
    return (lag, values[lag])
}

final class SynthTests: XCTestCase {
    func testSameSeedGivesIdenticalBytesAndDifferentSeedsDifferentAnimals() throws {
        let a = try temporaryFolder()
        let b = try temporaryFolder()
        let c = try temporaryFolder()
        defer { for d in [a, b, c] { try? FileManager.default.removeItem(at: d) } }
        _ = try SynthWriter.writeSamples(to: a, seed: 11, size: 128, overwrite: false)
        _ = try SynthWriter.writeSamples(to: b, seed: 11, size: 128, overwrite: false)
        _ = try SynthWriter.writeSamples(to: c, seed: 12, size: 128, overwrite: false)
        for name in try FileManager.default.contentsOfDirectory(atPath: a.path) {
            XCTAssertEqual(
                try Data(contentsOf: a.appendingPathComponent(name)),
                try Data(contentsOf: b.appendingPathComponent(name)), name)
        }
        let ra = try VideoReader(path: a.appendingPathComponent("walk.mp4").path)
        let rc = try VideoReader(path: c.appendingPathComponent("walk.mp4").path)
        var mad = 0.0
        for i in stride(from: 0, to: 60, by: 10) {
            let fa = try ra.frame(at: i)
            let fc = try rc.frame(at: i)
            mad +=
                zip(fa.pixels, fc.pixels).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) }
                / Double(fa.pixels.count)
        }
        XCTAssertGreaterThan(mad / 6, 10, "different seeds must look different")
        XCTAssertNotEqual(Appearance(seed: 11), Appearance(seed: 12))
    }

    func testWalkAndRunArePeriodicWithDifferentCadences() {
        let fps = 30.0
        let walk = Performance(seed: 5, fps: fps, script: [(.walk, 6)])
        let run = Performance(seed: 5, fps: fps, script: [(.run, 6)])
        let walkHip = walk.frames.map { $0.pose.legs[0].hip }
        let runHip = run.frames.map { $0.pose.legs[0].hip }
        let pw = dominantPeriod(walkHip, maxLag: 60)
        let pr = dominantPeriod(runHip, maxLag: 60)
        XCTAssertGreaterThan(pw.correlation, 0.9)
        XCTAssertGreaterThan(pr.correlation, 0.9)
        XCTAssertEqual(Double(pw.lag), ActionCycle.period(.walk) * fps, accuracy: 1.5)
        XCTAssertEqual(Double(pr.lag), ActionCycle.period(.run) * fps, accuracy: 1.5)
        XCTAssertGreaterThan(Double(pw.lag) / Double(pr.lag), 1.8)
        // The rendered images repeat with the same cadence (legs move, not just numbers).
        let renderer = Renderer(size: 128, appearance: walk.appearance, seed: 5)
        let skeletons = walk.frames.map { Skeleton(pose: $0.pose, appearance: walk.appearance) }
        let legSpread = skeletons.map { $0.hooves[0].x - $0.hooves[1].x }
        XCTAssertEqual(dominantPeriod(legSpread, maxLag: 60).lag, pw.lag, accuracy: 2)
        XCTAssertNotEqual(renderer.render(walk.frames[0]), renderer.render(walk.frames[8]))
    }

    func testJumpHasAirborneFramesAndGroundActionsTouchTheGround() {
        let jump = Performance(seed: 9, fps: 30, script: [(.jump, 2.6)])
        let lowest = jump.frames.map { f in Skeleton(pose: f.pose, appearance: jump.appearance).hooves.map(\.y).min()! }
        let airborne = lowest.filter { $0 > 0.05 }.count
        XCTAssertGreaterThan(airborne, 10, "a jump has frames with every hoof off the ground")
        let walk = Performance(seed: 9, fps: 30, script: [(.walk, 2)])
        for f in walk.frames {
            XCTAssertEqual(
                Skeleton(pose: f.pose, appearance: walk.appearance).hooves.map(\.y).min()!, 0, accuracy: 1e-4)
        }
        // In the image: an airborne frame shows ground colour between the hooves and the ground line.
        let peak = lowest.indices.max { lowest[$0] < lowest[$1] }!
        let renderer = Renderer(size: 128, appearance: jump.appearance, seed: 9)
        let sk = Skeleton(pose: jump.frames[peak].pose, appearance: jump.appearance)
        let hoofPixelY = renderer.toPixels(Point2(0, sk.hooves.map(\.y).min()!), camera: 0).y
        XCTAssertLessThan(hoofPixelY, renderer.groundLine - 5)
    }

    func testGrazeLowersTheHeadAndRearRaisesTheForelegs() {
        let graze = Performance(seed: 4, fps: 30, script: [(.graze, 2)])
        for f in graze.frames {
            let sk = Skeleton(pose: f.pose, appearance: graze.appearance)
            XCTAssertLessThan(sk.headTip.y, sk.backHeight - 0.3, "grazing head is well below the back line")
            XCTAssertLessThan(sk.headTip.y, 0.35)
        }
        let stand = Performance(seed: 4, fps: 30, script: [(.stand, 1)])
        let standing = Skeleton(pose: stand.frames[0].pose, appearance: stand.appearance)
        XCTAssertGreaterThan(standing.neckTop.y, standing.backHeight + 0.1, "a standing head is carried above the back")
        let rear = Performance(seed: 4, fps: 30, script: [(.rear, 2)])
        for f in rear.frames.suffix(30) {
            let sk = Skeleton(pose: f.pose, appearance: rear.appearance)
            XCTAssertGreaterThan(sk.hooves[2].y, sk.hips[0].y, "fore hooves above the hips")
            XCTAssertGreaterThan(sk.hooves[3].y, sk.hips[1].y)
        }
    }

    func testManifestLabelsMatchThePoseStream() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let entries = try SynthWriter.writeSamples(to: dir, seed: 3, size: 128, overwrite: false)
        let manifest = try Manifest.read(dir.appendingPathComponent("manifest.json"))
        XCTAssertEqual(manifest.entries, entries)
        let seq = try XCTUnwrap(manifest.entries.first { $0.file == "walk-graze-rear.mp4" })
        XCTAssertEqual(seq.actions.map(\.action), [.walk, .graze, .rear])
        XCTAssertEqual(seq.transitions.map { "\($0.from)>\($0.to)" }, ["walk>graze", "graze>rear"])
        let truth = try JSONDecoder().decode(
            [FrameTruth].self, from: Data(contentsOf: dir.appendingPathComponent(seq.truth)))
        XCTAssertEqual(truth.count, seq.frames)
        XCTAssertEqual(try VideoReader(path: dir.appendingPathComponent(seq.file).path).frameCount, seq.frames)
        for r in seq.actions { for i in r.start..<r.end { XCTAssertEqual(truth[i].action, r.action) } }
        for t in seq.transitions {
            let n = t.end - t.start
            XCTAssertTrue(n >= Int(0.25 * 25) && n <= Int(0.55 * 25) + 1, "blend of \(n) frames")
            for i in t.start..<t.end {
                XCTAssertTrue(truth[i].transition)
                XCTAssertEqual(truth[i].from, t.from)
            }
            // The pose really changes across the transition (graze lowers the neck).
            if t.to == .graze { XCTAssertLessThan(truth[t.end].pose.neck, truth[t.start - 1].pose.neck - 1) }
        }
        XCTAssertEqual(truth.filter(\.transition).count, seq.transitions.reduce(0) { $0 + $1.end - $1.start })
    }
}
