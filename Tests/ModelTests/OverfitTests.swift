import Core
import Diffusion
import Foundation
import XCTest
@testable import MavinModel
@testable import Tensor

final class OverfitTests: XCTestCase {
    /// The whole U-Net with AdamW fits one fixed noised batch: the masked loss falls by over 10×.
    func testTinyUNetOverfitsOneBatch() {
        let c = ModelConfig.preset("tiny")!
        let net = MavinUNet(config: c)
        net.initialise(seed: 1)
        var x = tinyInput(c, windows: 2, seed: 4)
        x.referenceMask = [1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1]
        var rng = SplitMix64(seed: 8)
        let target = (0..<x.latents.count).map { _ in gaussian(&rng) }
        let per = c.latentChannels * c.latentSide * c.latentSide
        let dOut = Buffer(count: x.latents.count)
        var first: Float = 0
        var last: Float = 0
        for step in 0..<200 {
            net.store.zeroGrad()
            let out = net.forward(x)
            let loss = maskedMSEForwardBackward(
                dpred: dOut.ptr, pred: out.ptr, target: target, mask: x.referenceMask.map { 1 - $0 }, perFrame: per)
            if step == 0 { first = loss }
            last = loss
            net.backward(dOut)
            net.store.clipGradNorm(1)
            net.store.adamWStep(lr: 2e-3, weightDecay: 0)
        }
        print("tiny U-Net overfit: loss \(first) → \(last)")
        XCTAssertLessThan(last, first / 10)
    }
}
