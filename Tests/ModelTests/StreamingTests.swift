import Core
import Foundation
import XCTest
@testable import Engine
@testable import MavinModel
@testable import Media
@testable import Metrics
@testable import Tensor

/// A tiny untrained model: enough to run the infill path end to end in a blink.
func untrainedTinyModel() -> MavinModel {
    let config = ModelConfig.preset("tiny")!
    let network = MavinUNet(config: config)
    network.initialise(seed: 1)
    let block = 3 * config.codecPatch * config.codecPatch
    var rng = SplitMix64(seed: 2)
    let basis = (0..<(config.latentChannels * block)).map { _ in Float.random(in: -0.1...0.1, using: &rng) }
    let codec = LatentCodec(
        patch: config.codecPatch, components: config.latentChannels, basis: basis,
        mean: [Float](repeating: 0.5, count: block), scale: 1)
    return MavinModel(network: network, codec: codec)
}

/// Long clips are read by index: an infill reads only the frames the model needs before it generates, and the
/// spliced output and the metrics stream one frame (or one chunk) at a time. Counted with VideoReader.converted.
final class StreamingTests: XCTestCase {
    var folder: URL!
    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func clip(_ name: String, frames: Int, shade: Int) throws -> URL {
        let url = folder.appendingPathComponent(name)
        let writer = try VideoWriter(url: url, width: 48, height: 32, fps: 25)
        for i in 0..<frames {
            try writer.append(RGBImage(width: 48, height: 32, fill: (UInt8(i % 200), UInt8(shade), 90)))
        }
        try writer.finish()
        return url
    }

    func testInfillReadsOnlyItsReferencesAndStreamsTheSplice() throws {
        let before = try clip("before.mp4", frames: 300, shade: 40)
        let after = try clip("after.mp4", frames: 250, shade: 200)
        let infiller = Infiller(model: untrainedTinyModel())
        let length = infiller.allowedLengths.lowerBound
        let (needBefore, needAfter) = infiller.references(for: length)
        for mode in [InfillMode.insert, .regenerate] {
            let a = try VideoReader(path: before.path)
            let b = try VideoReader(path: after.path)
            let s = 299
            let e = 0
            var junction = Plan.Junction()
            junction.s = s
            junction.e = e
            junction.mode = mode
            junction.length = length
            let window = try JunctionWindow(before: a, after: b, junction: junction, names: ("before", "after"))
            let (tb, ta) = try window.referenceFrames(for: infiller)
            let (dropBefore, dropAfter) = mode.replaced(length: length)
            XCTAssertEqual(tb.count, needBefore, "\(mode)")
            XCTAssertEqual(ta.count, needAfter, "\(mode)")
            XCTAssertEqual(a.converted, needBefore + dropBefore, "\(mode): only the references were decoded")
            XCTAssertEqual(b.converted, needAfter + dropAfter, "\(mode)")
            // The references are the frames right before the replaced ones (their red channel counts frames).
            XCTAssertEqual(Int(tb.last!.pixel(0, 0).0), (s - dropBefore) % 200, accuracy: 3)
            let request = try window.request(for: infiller)
            XCTAssertEqual(request.before.count, tb.count)
            XCTAssertEqual(request.mode, mode)
            let result = try infiller.run(request)
            let out = folder.appendingPathComponent("out-\(mode).mp4")
            let writer = try VideoWriter(url: out, width: 48, height: 32, fps: 25)
            let written = try window.writeSpliced(generated: result.frames, to: writer).frames
            try writer.finish()
            let expected = (s + 1 - dropBefore) + length + (250 - e - dropAfter)
            XCTAssertEqual(written, expected)
            XCTAssertEqual(try VideoReader(path: out.path).frameCount, expected)
        }
    }

    func testAShortPrecedingClipIsStillNamedWithItsFrameCount() throws {
        let before = try clip("short.mp4", frames: 2, shade: 40)
        let after = try clip("after.mp4", frames: 40, shade: 200)
        let infiller = Infiller(model: untrainedTinyModel())
        let length = infiller.allowedLengths.lowerBound
        let a = try VideoReader(path: before.path)
        let b = try VideoReader(path: after.path)
        var junction = Plan.Junction()
        junction.s = 1
        junction.e = 0
        junction.mode = .regenerate
        junction.length = length
        let window = try JunctionWindow(before: a, after: b, junction: junction, names: ("short.mp4", "after.mp4"))
        let (tb, ta) = try window.referenceFrames(for: infiller)
        // Fewer references than the model's window: the outermost frame is repeated, and the notice names the count.
        let result = try infiller.run(InfillRequest(before: tb, after: ta, length: length))
        XCTAssertTrue(
            result.notices.contains { $0.contains("the preceding clip has \(tb.count) of the") }, "\(result.notices)")
    }

    func testStreamedMetricsEqualTheInMemoryOnesAndReadEachFrameOnceInOrder() throws {
        let g = try clip("g.mp4", frames: 23, shade: 60)
        let t = try clip("t.mp4", frames: 23, shade: 70)
        let gs = try FrameSequence(path: g.path)
        let ts = try FrameSequence(path: t.path)
        let all = try FrameSource.read(g.path)
        let truth = try FrameSource.read(t.path)
        var asked: [Int] = []
        let streamed = try Scores.measure(
            count: 23, chunk: 5,
            generated: { i in
                asked.append(i)
                return try gs.frame(at: i)
            }, truth: { try ts.frame(at: $0) })
        XCTAssertEqual(asked, Array(0..<23), "each generated frame read once, in order")
        XCTAssertEqual(streamed, Scores.measure(generated: all, truth: truth))
    }
}

/// `train --resume` with another config than the checkpoint's is refused before any data is read.
final class ResumeConfigTests: XCTestCase {
    func testResumeWithAnotherConfigNamesBoth() throws {
        let folder = try temporaryFolder("mavin-resume")
        let checkpoint = folder.appendingPathComponent("tiny.safetensors")
        try untrainedTinyModel().save(to: checkpoint, overwrite: false)
        var small = TrainOptions(
            data: [folder.appendingPathComponent("no-data").path], output: checkpoint,
            config: ModelConfig.preset("small")!)
        small.resume = true
        XCTAssertThrowsError(try Trainer(options: small).run(log: { _ in })) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("trained with config 'tiny'"), text)
            XCTAssertTrue(text.contains("asks for 'small'"), text)
            XCTAssertTrue(text.contains("resolution 32 vs 128"), text)
        }
        // A changed flag (here the masking) is a different config too.
        var seine = ModelConfig.preset("tiny")!
        seine.masking = .seine
        var flagged = small
        flagged.config = seine
        XCTAssertThrowsError(try Trainer(options: flagged).run(log: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("masking consecutive vs seine"), "\(error)")
        }
        let tiny = ModelConfig.preset("tiny")!
        XCTAssertNoThrow(try Trainer.checkResumable(tiny, at: "x", asked: tiny))
    }
}
