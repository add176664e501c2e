import Core
import Diffusion
import Foundation
import XCTest
@testable import MavinModel
@testable import Tensor

/// The PyTorch twin (Tests/Reference/mavin_twin.py, same weight names) gives the same
/// prediction as the Swift network: checkpoints move between the two.
final class TwinTests: XCTestCase {
    static let twinConfig = ModelConfig(
        name: "twin", resolution: 16, frames: 6, codecPatch: 8, latentChannels: 6, channels: [8, 16],
        heads: 2, embeddingDim: 16, contextDim: 8, boundaryPatch: 8, prediction: .v,
        ranges: BoundaryRanges(startLow: 1, startHigh: 1, endLow: 3, endHigh: 4), masking: .consecutive)

    /// Regenerates the goldens' inputs: `MAVIN_WRITE_TWIN=1 swift test --filter TwinTests`, then run the twin.
    func testSwiftMatchesThePyTorchTwin() throws {
        let dir = modelGoldens
        let ckpt = dir.appendingPathComponent("twin.safetensors")
        let input = dir.appendingPathComponent("twin_input.safetensors")
        let output = dir.appendingPathComponent("twin_output.safetensors")
        if ProcessInfo.processInfo.environment["MAVIN_WRITE_TWIN"] != nil {
            let net = MavinUNet(config: Self.twinConfig)
            net.initialise(seed: 5)
            var rng = SplitMix64(seed: 6)
            // wake zero-initialised layers
            for i in 0..<net.store.count { net.store.values[i] += 0.1 * gaussian(&rng) }
            net.store.syncEMA()
            let codec = LatentCodec(
                patch: 8, components: 6, basis: (0..<(6 * 192)).map { Float($0 % 7) / 7 },
                mean: [Float](repeating: 0.5, count: 192), scale: 1)
            try MavinModel(network: net, codec: codec).save(to: ckpt, overwrite: true)
            let x = tinyInput(Self.twinConfig, windows: 2, seed: 9)
            try SafeTensorsFile.write(
                [
                    ("latents", Tensor(shape: [2, 6, 6, 2, 2], data: x.latents)),
                    ("reference_mask", Tensor(shape: [2, 6], data: x.referenceMask)),
                    ("timesteps", Tensor(shape: [2], data: x.timesteps)),
                    ("lengths", Tensor(shape: [2], data: x.lengths)),
                    ("boundary_pixels", Tensor(shape: [2, 2, 3, 16, 16], data: x.boundaryPixels))
                ], to: input, overwrite: true)
            throw XCTSkip("wrote the twin's inputs; now run Tests/Reference/mavin_twin.py on them")
        }
        let model = try MavinModel.load(ckpt)
        let f = try SafeTensorsFile(url: input)
        let x = UNetInput(
            latents: try f.floats("latents"), referenceMask: try f.floats("reference_mask"),
            timesteps: try f.floats("timesteps"),
            lengths: try f.floats("lengths"), boundaryPixels: try f.floats("boundary_pixels"))
        let ours = model.network.forward(x).array
        let theirs = try SafeTensorsFile(url: output).floats("prediction")
        let err = relativeError(ours, theirs)
        print("Swift vs PyTorch twin: relative error \(err)")
        XCTAssertLessThan(err, 1e-4)
    }
}
