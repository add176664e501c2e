import Core
import Foundation
import XCTest
@testable import Media

/// How many cases a fuzz test runs and from which seed: small in CI; scripts/fuzz.sh runs long ones
/// (MAVIN_FUZZ_CASES, MAVIN_FUZZ_SEED) in fresh processes, so a crash names its seed.
struct FuzzBudget {
    let cases: Int
    let seed: UInt64

    init(defaultCases: Int) {
        let env = ProcessInfo.processInfo.environment
        cases = env["MAVIN_FUZZ_CASES"].flatMap(Int.init) ?? defaultCases
        seed = env["MAVIN_FUZZ_SEED"].flatMap(UInt64.init) ?? 15
    }
}

/// Damaged videos (truncated, flipped bytes, edited MP4 boxes) give an error or a consistent read, never a signal.
final class VideoFuzzTests: XCTestCase {
    func testDamagedSampleVideosNeverCrashTheReader() throws {
        let budget = FuzzBudget(defaultCases: 600)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let samples = ["walk.mp4", "graze.mp4", "bunny.mp4"].map { packageRoot.appendingPathComponent("Samples/\($0)") }
        let originals = try samples.map { [UInt8](try Data(contentsOf: $0)) }
        let fields = originals.map(Mutation.mp4BoxFields)
        var opened = 0
        var refused = 0
        var framesRead = 0
        let start = Date()
        for k in 0..<budget.cases {
            var rng = SplitMix64(seed: budget.seed &* 1_000_003 &+ UInt64(k))
            let which = Int.random(in: 0..<samples.count, using: &rng)
            let size = originals[which].count
            let mutation = Mutation.random(size: size, header: 4096, fields: fields[which], using: &rng)
            let url = folder.appendingPathComponent("case.mp4")
            try Data(mutation.apply(to: originals[which])).write(to: url)
            let label = "case \(k) (seed \(budget.seed)): \(samples[which].lastPathComponent), \(mutation)"
            guard let reader = try? VideoReader(path: url.path) else {
                refused += 1
                continue
            }
            opened += 1
            let info = reader.info
            XCTAssertGreaterThan(info.width, 0, label)
            XCTAssertGreaterThan(info.height, 0, label)
            XCTAssertEqual(reader.frameCount, info.frames, label)
            // The first frames in order, a seek back, and the last: each an error or a frame of the stream's size.
            let indices = Array(0..<min(6, reader.frameCount)) + [reader.frameCount / 2, 1, reader.frameCount - 1]
            for i in indices where i >= 0 && i < reader.frameCount {
                guard let frame = try? reader.frame(at: i) else { continue }
                framesRead += 1
                XCTAssertEqual(frame.width, info.width, label)
                XCTAssertEqual(frame.height, info.height, label)
            }
            _ = try? reader.frame(at: 0, size: (33, 17), fit: .crop)
        }
        print(
            "video fuzz: \(budget.cases) cases from seed \(budget.seed): \(opened) opened, \(refused) refused, "
                + "\(framesRead) frames read, \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    }

    func testDamagedPNGFramesNeverCrashTheReader() throws {
        let budget = FuzzBudget(defaultCases: 300)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("frame_00000.png")
        try PNG.write(patternFrame(5, width: 37, height: 21), to: url)
        let original = [UInt8](try Data(contentsOf: url))
        for k in 0..<budget.cases {
            var rng = SplitMix64(seed: budget.seed &* 7_919 &+ UInt64(k))
            let mutation = Mutation.random(size: original.count, header: 64, using: &rng)
            try Data(mutation.apply(to: original)).write(to: url)
            guard let image = try? PNG.read(url) else { continue }
            XCTAssertEqual(image.pixels.count, image.width * image.height * image.channels, "case \(k): \(mutation)")
        }
    }
}
