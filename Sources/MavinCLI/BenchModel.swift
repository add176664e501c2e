import ArgumentParser
import Diffusion
import Engine
import Foundation
import MavinModel
import Tensor

struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Seconds per denoising step and per training step of the default model config.")
    @Option(help: "Config preset.") var config = "small"
    @Flag(help: "Print JSON (keys: step_seconds, train_step_seconds, infill_seconds).") var json = false

    struct Report: Encodable { var step_seconds: Double; var train_step_seconds: Double; var parameters: Int }

    func run() throws {
        guard let c = ModelConfig.preset(config) else { throw ValidationError("unknown config") }
        let net = MavinUNet(config: c)
        net.initialise(seed: 1)
        var rng = SplitMix64(seed: 2)
        func input(_ w: Int) -> UNetInput {
            let n = w * c.frames * c.latentChannels * c.latentSide * c.latentSide
            return UNetInput(latents: (0..<n).map { _ in gaussian(&rng) }, referenceMask: [Float](repeating: 0, count: w * c.frames),
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
        let r = Report(step_seconds: step, train_step_seconds: train, parameters: net.parameterCount)
        if json { try printJSON(r) } else {
            print(String(format: "%@ (%d parameters): denoising step %.3f s (one window), training step %.3f s (batch 2)", c.name, r.parameters, step, train))
        }
    }
}
