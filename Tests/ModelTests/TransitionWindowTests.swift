import Foundation
import XCTest

@testable import Engine
@testable import MavinModel
@testable import Synth

/// Training windows centred on a synthetic take's labelled transitions (`mavin train --transitions`).
final class TransitionWindowTests: XCTestCase {
    /// Every centred window puts its gap where the evaluation puts a case of the same length
    /// (`Evaluator.syntheticCases` reads the manifest's frames; the window comes from the training data's sampled
    /// centres and window offsets).
    func testACentredWindowsGapIsTheEvaluationsCaseOfThatLength() throws {
        let folder = try temporaryFolder("mavin-transitions")
        var entries: [ManifestEntry] = []
        for k in 0..<3 {
            let p = Performance(seed: UInt64(700 + k), fps: 15, script: [(.walk, 2), (.graze, 2), (.rear, 2)])
            entries.append(try SynthWriter.write(p, name: "take\(k)", size: 32, to: folder, overwrite: false))
        }
        try SynthWriter.writeManifest(entries, to: folder, overwrite: false)
        let videos = try TrainingData.videos(in: [folder.path])
        let data = try TrainingData(
            videos: videos, resolution: 32, frames: 16, sampleRate: 1, validationFraction: 0)
        let among = data.transitionWindows(among: data.training)
        let transitions = among.transitions
        // Two or more videos: the last is held out for validation, and its transitions are not training's.
        XCTAssertEqual(Set(data.training.map(\.clip)), [0, 1])
        XCTAssertEqual(transitions.count, entries.prefix(2).reduce(0) { $0 + $1.transitions.count })
        XCTAssertEqual(data.transitionWindows(among: data.validation).transitions.count, entries[2].transitions.count)
        XCTAssertGreaterThanOrEqual(transitions.count, 4)
        for (s, e) in [(6, 9), (3, 10), (1, 14), (2, 13)] {
            let l = e - s - 1
            let cases = try Evaluator.syntheticCases(folder: folder.path, length: l, references: 1)
            var matched = 0
            for t in transitions {
                guard let w = among.window(centredOn: t, s: s, e: e) else { continue }
                let video = (videos[w.clip] as NSString).lastPathComponent
                let found = cases.contains {
                    ($0.video as NSString).lastPathComponent == video && $0.s == w.start + s && $0.e == w.start + e
                }
                XCTAssertTrue(found, "l = \(l): window \(w) gap \(w.start + s)…\(w.start + e) of \(video)")
                matched += 1
            }
            XCTAssertGreaterThanOrEqual(matched, 4, "l = \(l)")
        }
        // A window the set does not hold (another set's, or past the clip's end) is not made up.
        let last = transitions[transitions.count - 1]
        XCTAssertNil(data.transitionWindows(among: []).window(centredOn: last, s: 3, e: 10))
        XCTAssertNil(among.window(centredOn: (clip: last.clip, centre: 10_000), s: 3, e: 10))
    }

    /// Asked for transition windows, training refuses videos that label none, before any step.
    func testTransitionWindowsNeedLabelledTransitions() throws {
        let folder = try temporaryFolder("mavin-transitions")
        let p = Performance(seed: 710, fps: 15, script: [(.walk, 2), (.graze, 2)])
        _ = try SynthWriter.write(p, name: "take", size: 32, to: folder, overwrite: false)
        let out = folder.appendingPathComponent("m.safetensors")
        var config = MotionSpaceTests.tinyMotionModel().config
        config.anchor = .motion
        var o = TrainOptions(data: [folder.path], output: out, config: config)
        o.steps = 1
        o.sampleRate = 1
        o.transitionShare = 0.5
        XCTAssertThrowsError(try Trainer(options: o).run(log: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("no labelled transitions"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        // With its manifest the same take trains.
        let entry = try SynthWriter.write(p, name: "take", size: 32, to: folder, overwrite: true)
        try SynthWriter.writeManifest([entry], to: folder, overwrite: false)
        o.evalEvery = 1
        o.saveEvery = 1
        o.transitionShare = 1
        XCTAssertNoThrow(try Trainer(options: o).run(log: { _ in }))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.path))
    }
}
