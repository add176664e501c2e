import Core
import Diffusion
import Foundation
import XCTest
@testable import MavinModel
@testable import Tensor

func tinyInput(_ c: ModelConfig, windows: Int, seed: UInt64) -> UNetInput {
    var rng = SplitMix64(seed: seed)
    let n = windows * c.frames * c.latentChannels * c.latentSide * c.latentSide
    let lat = (0..<n).map { _ in gaussian(&rng) }
    var mask = [Float](repeating: 0, count: windows * c.frames)
    for w in 0..<windows {
        mask[w * c.frames] = 1
        mask[w * c.frames + c.frames - 1] = 1
    }
    let px = (0..<(windows * 2 * 3 * c.resolution * c.resolution)).map { _ in Float.random(in: 0...1, using: &rng) }
    return UNetInput(
        latents: lat, referenceMask: mask, timesteps: (0..<windows).map { Float(100 + 300 * $0) },
        lengths: (0..<windows).map { Float(4 + $0) }, boundaryPixels: px)
}

final class UNetGradientTests: XCTestCase {
    /// Whole-network gradients against central finite differences of L = Σ g ⊙ f(θ),
    /// for parameters in every kind of block.
    func testWholeUNetGradientsMatchFiniteDifferences() {
        var c = ModelConfig.preset("tiny")!
        c.channels = [32, 32]
        let net = MavinUNet(config: c)
        net.initialise(seed: 1)
        // Wake the zero-initialised branches so their inputs get gradients too.
        var rng = SplitMix64(seed: 2)
        for i in 0..<net.store.count { net.store.values[i] += 0.05 * gaussian(&rng) }
        let x = tinyInput(c, windows: 2, seed: 3)
        let out = net.forward(x)
        let g = (0..<out.count).map { _ in gaussian(&rng) }
        func loss() -> Double {
            let y = net.forward(x)
            var s = 0.0
            for i in 0..<y.count { s += Double(y.ptr[i]) * Double(g[i]) }
            return s
        }
        _ = net.forward(x)
        net.store.zeroGrad()
        net.backward(Buffer(g))
        let names = [
            "conv_in.weight", "down.0.res.conv1.weight", "down.0.res.emb_proj.weight", "down.0.tconv.conv.weight",
            "down.0.spatial.block.attn1.to_q.weight", "down.0.spatial.block.attn2.to_k.weight",
            "down.1.temporal.frame_pos",
            "down.1.temporal.block.ff.0.weight", "mid.res.norm1.weight", "up.1.res.skip.weight",
            "up.0.spatial.proj_in.weight",
            "conv_out.weight", "time_embedding.linear_1.weight", "length_embedding.linear_2.weight",
            "embedding_mlp.weight",
            "bfg.patch_embed.weight", "bfg.position", "bfg.boundary_type", "bfg.norm.weight",
            "down.0.downsample.weight",
            "up.1.upsample.conv.weight"
        ]
        var numeric: [Float] = []
        var analytic: [Float] = []
        for name in names {
            guard let e = net.store.entry(name) else { return XCTFail("no parameter \(name)") }
            for k in 0..<3 {
                let i = e.offset + (k * 7919) % e.count
                let saved = net.store.values[i]
                // The error is the differences' truncation, O(h²): 0.052 / 0.018 / 0.0052 / 0.0017 at
                // h = 2e-2 / 1e-2 / 5e-3 / 2.5e-3, so the smallest of those gives the tightest check.
                let h: Float = 2.5e-3
                net.store.values[i] = saved + h
                let lp = loss()
                net.store.values[i] = saved - h
                let lm = loss()
                net.store.values[i] = saved
                numeric.append(Float((lp - lm) / Double(2 * h)))
                analytic.append(net.store.grads[i])
            }
        }
        let err = relativeError(analytic, numeric)
        print(
            "U-Net gradient check: relative error \(err) over \(numeric.count) coordinates, largest |grad| "
                + "\(analytic.map(abs).max() ?? 0)"
        )
        XCTAssertLessThan(err, 5e-3, "U-Net gradient relative error \(err)")
    }
}
