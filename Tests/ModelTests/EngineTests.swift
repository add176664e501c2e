import Core
import Diffusion
import Foundation
import XCTest
@testable import Engine
@testable import MavinModel
@testable import Media
@testable import Synth
@testable import Tensor

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// One tiny model trained once for all engine tests (a few seconds on 2 cores).
final class TinyModel {
    static let shared = TinyModel()
    let folder: URL
    let checkpoint: URL
    let firstValidation: Float
    let lastValidation: Float
    let trainer: Trainer

    init() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-engine-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = folder.appendingPathComponent("data")
        try! FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for i in 0..<4 {
            let p = Performance(
                seed: 500 + UInt64(i), fps: 30, script: Performance.randomScript(seed: 500 + UInt64(i), seconds: 6))
            _ = try! SynthWriter.write(p, name: "take_\(i)", size: 32, to: data, overwrite: false)
        }
        checkpoint = folder.appendingPathComponent("tiny.safetensors")
        var o = TrainOptions(data: [data.path], output: checkpoint, config: ModelConfig.preset("tiny")!)
        o.steps = 150
        o.batch = 2
        o.learningRate = 2e-3
        o.warmup = 10
        o.evalEvery = 150
        o.saveEvery = 150
        o.validationFraction = 0.25
        o.seed = 3
        trainer = Trainer(options: o)
        try! trainer.run(log: { _ in })
        // Validation before training: the same fixed windows, noise and timesteps on a fresh network.
        lastValidation = trainer.validationLoss()!.latent
        let fresh = MavinUNet(config: o.config)
        fresh.initialise(seed: o.seed &+ 17)
        let trained = trainer.model!
        let saved = (0..<trained.network.store.count).map { trained.network.store.ema[$0] }
        for i in 0..<saved.count { trained.network.store.ema[i] = fresh.store.values[i] }
        firstValidation = trainer.validationLoss()!.latent
        for i in 0..<saved.count { trained.network.store.ema[i] = saved[i] }
    }
}

final class EngineTests: XCTestCase {
    var tiny: TinyModel { TinyModel.shared }

    func testTinyModelTrainsAndLowersValidationLoss() throws {
        XCTAssertLessThan(
            tiny.lastValidation, 0.9 * tiny.firstValidation,
            "validation \(tiny.firstValidation) → \(tiny.lastValidation)")
        let log = try String(contentsOf: URL(fileURLWithPath: tiny.checkpoint.path + ".log.jsonl"), encoding: .utf8)
        XCTAssertEqual(log.split(separator: "\n").count, 150)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tiny.checkpoint.path + ".state.safetensors"))
        XCTAssertNoThrow(try PNG.read(URL(fileURLWithPath: tiny.checkpoint.path + ".loss.png")))
        let m = try MavinModel.load(tiny.checkpoint)
        XCTAssertEqual(m.step, 150)
        XCTAssertEqual(m.config, ModelConfig.preset("tiny"))
    }

    func testResumeContinuesFromTheSavedState() throws {
        let copy = tiny.folder.appendingPathComponent("resume.safetensors")
        for ext in ["", ".state.safetensors", ".log.jsonl"] {
            try? FileManager.default.removeItem(atPath: copy.path + ext)
            try FileManager.default.copyItem(atPath: tiny.checkpoint.path + ext, toPath: copy.path + ext)
        }
        // Steps logged after the checkpoint (as when a run is killed between checkpoints) are run again on resume.
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: copy.path + ".log.jsonl"))
        log.seekToEndOfFile()
        log.write(Data("{\"step\":151,\"loss\":1,\"lr\":0,\"gradNorm\":0,\"seconds\":0}\n".utf8))
        try log.close()
        var o = tiny.trainer.options
        o.output = copy
        o.steps = 160
        o.resume = true
        let t = Trainer(options: o)
        try t.run(log: { _ in })
        XCTAssertEqual(try MavinModel.load(copy).step, 160)
        let lines = try String(contentsOf: URL(fileURLWithPath: copy.path + ".log.jsonl"), encoding: .utf8).split(
            separator: "\n")
        XCTAssertEqual(lines.count, 160)
        let steps = lines.filter { $0.contains("\"step\":151,") || $0.contains("\"step\":151}") }
        XCTAssertEqual(steps.count, 1, "no step logged twice")
    }

    func testInfillIsDeterministicAndHasTheRightShape() throws {
        let model = try MavinModel.load(tiny.checkpoint)
        let infiller = Infiller(model: model)
        let a = try VideoReader(path: repoRoot.appendingPathComponent("Samples/graze.mp4").path)
        let b = try VideoReader(path: repoRoot.appendingPathComponent("Samples/rear.mp4").path)
        let l = infiller.allowedLengths.upperBound
        var request = InfillRequest(
            before: try a.frames(from: 0, count: 60), after: try b.frames(from: 0, count: 60), length: l)
        request.settings.steps = 6
        request.record = true
        var events: [InfillProgress] = []
        let r1 = try infiller.run(request) { events.append($0) }
        let r2 = try infiller.run(request)
        XCTAssertEqual(r1.frames.count, l)
        XCTAssertEqual(r1.frames, r2.frames, "same seed → same frames")
        XCTAssertEqual(events.map(\.step), Array(1...6))
        XCTAssertEqual(events.last?.total, 6)
        XCTAssertEqual(r1.steps.count, 6)
        XCTAssertTrue(r1.notices.first?.contains("resized") ?? false)
        request.settings.seed = 9
        XCTAssertNotEqual(try infiller.run(request).frames, r1.frames)
        // Live CLIP-RS appears when a truth is given.
        request.truth = Array(try a.frames(from: 0, count: l))
        var rs: Double?
        let scored = try infiller.run(request) { rs = $0.clipRS }
        XCTAssertNotNil(rs)
        XCTAssertNotNil(scored.scores)
    }

    /// Residual parameterisation: with its correction at zero the model returns exactly the
    /// eased crossfade of the boundary latents, decoded; with the codec's lost detail added back,
    /// exactly the same crossfade of the boundary frames' pixels. Fine-tuning into an anchor measures the scale.
    func testZeroCorrectionGivesTheCrossfadeAndTrainingMeasuresTheScale() throws {
        let tinyModel = try MavinModel.load(tiny.checkpoint)
        var config = tinyModel.config
        config.anchor = .crossfade
        config.residualScale = 3
        config.prediction = .sample
        config.anchorSharpness = 8
        let net = MavinUNet(config: config)
        net.initialise(seed: 1)
        net.zeroOutputLayer()
        let model = MavinModel(network: net, codec: tinyModel.codec)
        let infiller = Infiller(model: model)
        let a = try VideoReader(path: repoRoot.appendingPathComponent("Samples/graze.mp4").path)
        let b = try VideoReader(path: repoRoot.appendingPathComponent("Samples/rear.mp4").path)
        let l = infiller.allowedLengths.upperBound
        var request = InfillRequest(
            before: try a.frames(from: 0, count: 8).map { $0.resized(width: 32, height: 32) },
            after: try b.frames(from: 0, count: 8).map { $0.resized(width: 32, height: 32) }, length: l)
        request.settings.steps = 5
        let withDetail = try infiller.run(request).frames
        request.settings.detail = false
        let latentOnly = try infiller.run(request).frames
        let xs = request.before.last!.planarFloats()
        let xe = request.after.first!.planarFloats()
        let codec = try XCTUnwrap(model.codec)
        let zs = codec.encode(xs, resolution: 32)
        let ze = codec.encode(xe, resolution: 32)
        func worst(_ p: RGBImage, _ q: RGBImage) -> Int {
            zip(p.pixels, q.pixels).map { abs(Int($0) - Int($1)) }.max()!
        }
        var codecLoss = 0
        for i in 0..<l {
            let u = Float(i + 1) / Float(l + 1)
            let lo = 1 / (1 + exp(Float(4)))
            let hi = 1 / (1 + exp(Float(-4)))
            let w = (1 / (1 + exp(-8 * (u - 0.5))) - lo) / (hi - lo)
            let decoded = RGBImage(
                width: 32, height: 32, planar: codec.decode(zip(zs, ze).map { (1 - w) * $0 + w * $1 }, resolution: 32))
            let pixels = RGBImage(width: 32, height: 32, planar: zip(xs, xe).map { (1 - w) * $0 + w * $1 })
            XCTAssertLessThanOrEqual(worst(latentOnly[i], decoded), 1, "frame \(i)")
            XCTAssertLessThanOrEqual(worst(withDetail[i], pixels), 1, "frame \(i)")
            codecLoss = max(codecLoss, worst(decoded, pixels))
        }
        XCTAssertGreaterThan(codecLoss, 8, "the codec drops detail, so the two checks differ")
        // strength 0 keeps none of a (random, non-zero) network's correction: the same eased crossfade.
        let busy = MavinUNet(config: config)
        busy.initialise(seed: 2)
        // initialised at zero: give it a correction to make
        for e in busy.store.entries where e.name.hasPrefix("conv_out.") {
            for i in 0..<e.count { busy.store.values[e.offset + i] = Float((i * 7919) % 13) / 13 - 0.45 }
        }
        let busyInfiller = Infiller(model: MavinModel(network: busy, codec: tinyModel.codec))
        request.settings.detail = true
        request.settings.strength = 1
        let fullRun = try busyInfiller.run(request)
        let full = fullRun.frames
        request.settings.strength = 0
        let noneRun = try busyInfiller.run(request)
        let none = noneRun.frames
        // The default strength 0 was tuned for motion models: a pixel-space model's run says what it gives.
        XCTAssertTrue(noneRun.notices.contains { $0.contains("pixel-space model's anchor") }, "\(noneRun.notices)")
        XCTAssertFalse(fullRun.notices.contains { $0.contains("pixel-space") }, "\(fullRun.notices)")
        XCTAssertGreaterThan(zip(full, withDetail).map { worst($0, $1) }.max()!, 8, "the random network does correct")
        for i in 0..<l { XCTAssertLessThanOrEqual(worst(none[i], withDetail[i]), 1, "frame \(i)") }
        request.settings.strength = 2.5
        XCTAssertThrowsError(try busyInfiller.run(request))

        var o = tiny.trainer.options
        o.output = tiny.folder.appendingPathComponent("anchored.safetensors")
        o.initFrom = tiny.checkpoint
        o.steps = 12
        o.evalEvery = 12
        o.saveEvery = 12
        o.config.anchor = .crossfade
        var lines: [String] = []
        let t = Trainer(options: o)
        try t.run(log: { lines.append($0) })
        let trained = try MavinModel.load(o.output)
        XCTAssertEqual(trained.config.anchor, .crossfade)
        let k = try XCTUnwrap(trained.config.residualScale)
        XCTAssertTrue(lines.contains { $0.contains("output layer reset") })
        XCTAssertTrue(lines.contains { $0.contains(String(format: "scale %.3f", k)) }, lines.joined(separator: "\n"))
        XCTAssertGreaterThan(k, 1, "the residual to a crossfade is smaller than the latents themselves")

        // The relative loss: each noised frame weighs (1 + ε) / (ε + its mean r₀²), reference frames 1.
        let eps: Float = 0.1
        var rng = SplitMix64(seed: 9)
        let (_, target, mask, weights, _) = t.batch([t.data.training[0]], relative: eps, rng: &rng)
        let per = trained.config.latentChannels * trained.config.latentSide * trained.config.latentSide
        XCTAssertEqual(weights.count, mask.count)
        for f in 0..<mask.count {
            let m = target[(f * per)..<((f + 1) * per)].reduce(0) { $0 + $1 * $1 } / Float(per)
            XCTAssertEqual(weights[f], mask[f] > 0 ? (1 + eps) / (eps + m) : 1, accuracy: 1e-5, "frame \(f)")
        }
        XCTAssertTrue(zip(weights, mask).contains { $1 > 0 && abs($0 - 1) > 0.01 }, "some frame is weighted")
        var r = o
        r.output = tiny.folder.appendingPathComponent("relative.safetensors")
        r.relativeLossEpsilon = eps
        r.config.prediction = .sample
        try Trainer(options: r).run(log: { _ in })
        XCTAssertEqual(try MavinModel.load(r.output).provenance["mavin.relative_loss"], "0.1")
        r.output = tiny.folder.appendingPathComponent("relative-plain.safetensors")
        r.config.anchor = nil
        XCTAssertThrowsError(try Trainer(options: r).run(log: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("--anchor crossfade"), "\(error)")
        }
    }

    /// The loss chart labels its log axis with values the bitmap font can write, and draws them.
    func testLossCurveHasLabelledAxes() throws {
        XCTAssertEqual(LossCurve.label(0.02), "0.02")
        XCTAssertEqual(LossCurve.label(0.5), "0.5")
        XCTAssertEqual(LossCurve.label(2), "2")
        XCTAssertEqual(LossCurve.label(10), "10")
        let history = (0..<400).map {
            TrainRecord(
                step: $0, loss: 1.5 * exp(-Float($0) / 200) + 0.05, lr: 1e-4, gradNorm: 1, seconds: 0,
                valLoss: $0 % 100 == 99 ? exp(-Float($0) / 200) + 0.1 : nil)
        }
        let img = LossCurve.render(history)
        func inked(_ xs: Range<Int>, _ ys: Range<Int>) -> Int {
            var n = 0
            for y in ys { for x in xs where img.pixels[3 * (y * img.width + x)] < 100 { n += 1 } }
            return n
        }
        XCTAssertGreaterThan(inked(0..<36, 40..<(img.height - 40)), 20, "y labels left of the axis")
        XCTAssertGreaterThan(
            inked(40..<(img.width - 40), (img.height - 34)..<img.height), 20, "x labels under the axis")
        if let dir = ProcessInfo.processInfo.environment["MAVIN_TEST_ARTIFACTS"] {
            try PNG.write(img, to: URL(fileURLWithPath: dir).appendingPathComponent("loss-curve.png"), overwrite: true)
        }
    }

    func testBadRequestsGiveActionableErrors() throws {
        let model = try MavinModel.load(tiny.checkpoint)
        let infiller = Infiller(model: model)
        let frame = RGBImage(width: 32, height: 32, fill: (10, 20, 30))
        let range = infiller.allowedLengths
        XCTAssertThrowsError(
            try infiller.run(
                InfillRequest(before: [frame, frame, frame], after: [frame, frame, frame], length: range.upperBound + 5)
            )
        ) { e in
            XCTAssertEqual(e as? InfillError, .lengthOutOfRange(range.upperBound + 5, allowed: range))
            XCTAssertTrue("\(e)".contains("\(range.lowerBound)…\(range.upperBound)"))
        }
        XCTAssertThrowsError(
            try infiller.run(InfillRequest(before: [], after: [frame, frame, frame], length: range.lowerBound))
        ) { e in
            guard case .clipTooShort(let which, 0, _)? = e as? InfillError else { return XCTFail("\(e)") }
            XCTAssertEqual(which, "preceding")
        }
    }

    func testHostileCheckpointsAreRefusedClearly() throws {
        let dir = tiny.folder
        XCTAssertThrowsError(try MavinModel.load(dir.appendingPathComponent("missing.safetensors"))) {
            XCTAssertTrue("\($0)".contains("no such file"))
        }
        let data = try Data(contentsOf: tiny.checkpoint)
        let cut = dir.appendingPathComponent("cut.safetensors")
        try data.prefix(data.count / 2).write(to: cut)
        XCTAssertThrowsError(try MavinModel.load(cut)) {
            XCTAssertTrue("\($0)".contains("not a Mavin model checkpoint"))
        }
        XCTAssertThrowsError(try MavinModel.load(modelGoldens.appendingPathComponent("gfm.safetensors"))) {
            XCTAssertTrue("\($0)".contains("no mavin.format"))
        }
        // A NaN in one weight is refused.
        let model = try MavinModel.load(tiny.checkpoint)
        model.network.store.ema[5] = .nan
        let poisoned = dir.appendingPathComponent("nan.safetensors")
        try model.save(to: poisoned, overwrite: true)
        XCTAssertThrowsError(try MavinModel.load(poisoned)) { XCTAssertTrue("\($0)".contains("NaN")) }
        // Text named .safetensors.
        let text = dir.appendingPathComponent("notes.safetensors")
        try Data("hello".utf8).write(to: text)
        XCTAssertThrowsError(try MavinModel.load(text))
    }

    func testComposePlanEndToEnd() throws {
        let samples = repoRoot.appendingPathComponent("Samples")
        var plan = try Plan.read(samples.appendingPathComponent("plan.toml"))
        for i in plan.junctions.indices {
            plan.junctions[i].settings.steps = 4
            plan.junctions[i].length = Infiller(model: try MavinModel.load(tiny.checkpoint)).allowedLengths.upperBound
        }
        let composer = Composer(plan: plan, folder: samples.path)
        let resolved = try composer.resolve()
        let out = tiny.folder.appendingPathComponent("composed.mp4")
        var sawWriting = false
        let (frames, _) = try composer.run(model: try MavinModel.load(tiny.checkpoint), output: out, overwrite: true) {
            e in
            if case .writing = e { sawWriting = true }
        }
        XCTAssertTrue(sawWriting)
        XCTAssertEqual(frames, resolved.expectedFrames)
        XCTAssertEqual(try VideoReader(path: out.path).frameCount, resolved.expectedFrames)
        // Round trip of the plan text.
        XCTAssertEqual(try Plan.parse(plan.toml()), plan)
        // s past the end of a clip is named precisely.
        var bad = plan
        bad.junctions[0].s = 500
        XCTAssertThrowsError(try Composer(plan: bad, folder: samples.path).resolve()) { e in
            XCTAssertTrue("\(e)".contains("s=500 is past its end"), "\(e)")
        }
        XCTAssertThrowsError(try Plan.parse("[[clip]]\npath = 3\n")) { XCTAssertTrue("\($0)".contains("needs path")) }
        XCTAssertThrowsError(try Plan.parse("[[clip\n")) { XCTAssertTrue("\($0)".contains("TOML syntax error")) }
    }
}
