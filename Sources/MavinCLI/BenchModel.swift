import ArgumentParser
import Core
import Diffusion
import Engine
import Foundation
import MavinModel
import Media
import Tensor

struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Seconds per denoising step and per training step of the default model config.")
    @Option(help: "Config preset (tiny, small, motion).") var config = "motion"
    @Flag(
        help: ArgumentHelp(
            "Print JSON (keys: step_seconds, train_step_seconds, infill_seconds, infill_720p_seconds "
                + "(motion models), torch_step_seconds, ratio)."))
    var json = false
    @Option(
        help:
            ArgumentHelp(
                "A Python with torch and safetensors: also time the PyTorch twin (Tests/Reference/mavin_twin.py) in "
                    + "the same run.")
    ) var torch: String?
    @Option(help: "With --torch: alternate our denoising step and the twin's this many times; medians are reported.")
    var runs = 5

    struct Report: Encodable {
        var step_seconds: Double
        var train_step_seconds: Double
        var infill_seconds: Double
        var parameters: Int
        var torch_step_seconds: Double?
        var ratio: Double?
        /// Motion models: 12 frames at 1280×720 with the default sampler, end to end (flows, network, warps).
        var infill_720p_seconds: Double?
    }

    func run() throws {
        guard let c = ModelConfig.preset(config) else {
            throw ValidationError("unknown config '\(config)'; use tiny, small or motion")
        }
        let net = MavinUNet(config: c)
        net.initialise(seed: 1)
        var rng = SplitMix64(seed: 2)
        func input(_ w: Int) -> UNetInput {
            let n = w * c.frames * c.latentChannels * c.latentSide * c.latentSide
            return UNetInput(
                latents: (0..<n).map { _ in gaussian(&rng) }, referenceMask: [Float](repeating: 0, count: w * c.frames),
                timesteps: [Float](repeating: 500, count: w), lengths: [Float](repeating: 8, count: w),
                boundaryPixels: [Float](repeating: 0.5, count: c.bfg ? w * 2 * 3 * c.resolution * c.resolution : 0))
        }
        let one = input(1)
        let step = timeIt(minSeconds: 2) { _ = net.forward(one) }
        let two = input(2)
        let train = timeIt(minSeconds: 3) {
            let out = net.forward(two)
            net.store.zeroGrad()
            net.backward(Buffer(out.array))
        }
        // A 12-frame infill with 25 DDIM steps (GFM on), end to end.
        let codec = LatentCodec(
            patch: c.codecPatch, components: c.latentChannels,
            basis: (0..<(c.latentChannels * 3 * c.codecPatch * c.codecPatch)).map { Float($0 % 5) / 5 },
            mean: [Float](repeating: 0.5, count: 3 * c.codecPatch * c.codecPatch), scale: 1)
        let model = MavinModel(network: net, codec: c.latentSpace == .motion ? nil : codec)
        let frame = RGBImage(width: c.resolution, height: c.resolution, fill: (90, 140, 60))
        let infiller = Infiller(model: model)
        let l = infiller.trainedLengths.upperBound
        var request = InfillRequest(
            before: [RGBImage](repeating: frame, count: 8), after: [RGBImage](repeating: frame, count: 8), length: l)
        request.settings.steps = 25
        let t0 = Date()
        _ = try infiller.run(request)
        let infill = Date().timeIntervalSince(t0)
        var infill720: Double?
        if c.latentSpace == .motion {
            // Real frames when the samples are there (flow estimation costs more on texture than on flat colour).
            let clip = try? VideoReader(path: "Samples/bunny.mp4")
            func picture(_ i: Int) throws -> RGBImage {
                if let clip { return try clip.frame(at: min(i, clip.frameCount - 1), size: (1280, 720)) }
                return RGBImage(
                    width: 1280, height: 720, pixels: (0..<(1280 * 720 * 3)).map { UInt8(($0 * 7 + i) % 251) })
            }
            let refs = infiller.references(for: 12)
            let big = InfillRequest(
                before: try (0..<refs.before).map { try picture($0) },
                after: try (0..<refs.after).map { try picture(30 + $0) }, length: 12)
            let t1 = Date()
            _ = try infiller.run(big)
            infill720 = Date().timeIntervalSince(t1)
        }
        var torchSeconds: Double?
        var ratio: Double?
        var stepSeconds = step
        if let torch {
            guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
            let ckpt = FileManager.default.temporaryDirectory.appendingPathComponent(
                "mavin-bench-\(getpid()).safetensors")
            try model.save(to: ckpt, buffer: .values, overwrite: true)
            defer { try? FileManager.default.removeItem(at: ckpt) }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
                .appendingPathComponent("Tests/Reference/mavin_twin.py").path
            // Alternating runs, so that both sides see the same machine; medians of each and of the ratios.
            var ours: [Double] = []
            var theirs: [Double] = []
            for _ in 0..<runs {
                ours.append(timeIt(minSeconds: 2) { _ = net.forward(one) })
                let r = try Subprocess.run([torch, script, "--bench", ckpt.path], timeout: 600)
                guard r.status == 0, let line = r.output.split(separator: "\n").last,
                    let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double],
                    let seconds = obj["torch_step_seconds"]
                else {
                    throw UserError("the PyTorch twin failed: \(r.output.suffix(400))")
                }
                theirs.append(seconds)
            }
            func median(_ v: [Double]) -> Double {
                let s = v.sorted()
                return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            }
            stepSeconds = median(ours)
            torchSeconds = median(theirs)
            ratio = median(zip(ours, theirs).map { $0 / $1 })
        }
        let r = Report(
            step_seconds: stepSeconds, train_step_seconds: train, infill_seconds: infill,
            parameters: net.parameterCount, torch_step_seconds: torchSeconds, ratio: ratio,
            infill_720p_seconds: infill720)
        if json {
            try printJSON(r)
        } else {
            print(
                String(
                    format:
                        "%@ (%d parameters): denoising step %.3f s (one window), training step %.3f s (batch "
                        + "2), %d-frame infill with 25 steps %.1f s",
                    c.name, r.parameters, stepSeconds, train, l, infill)
                    + (infill720.map { String(format: "; 12 frames at 1280×720 (default sampler) %.2f s", $0) } ?? "")
                    + (torchSeconds.map {
                        String(
                            format: "; PyTorch twin step %.3f s, ratio ours/torch %.2f (median of %d)",
                            $0, ratio ?? 0, runs)
                    } ?? ""))
        }
    }
}
