import Core
import Foundation
import XCTest
@testable import Tensor

/// The bilinear backward warp against PyTorch's grid_sample (Tests/Reference/warp_goldens.py)
/// and against central finite differences.
final class WarpTests: XCTestCase {
    static let file: SafeTensorsFile = {
        let url = goldensURL.deletingLastPathComponent().appendingPathComponent("warp.safetensors")
        guard let f = try? SafeTensorsFile(url: url) else { fatalError("missing \(url.path)") }
        return f
    }()

    func golden(_ name: String) throws -> [Float] { try WarpTests.file.floats(name) }

    func warp(_ image: [Float], _ flow: [Float], c: Int, h: Int, w: Int) -> [Float] {
        var out = [Float](repeating: 0, count: c * h * w)
        warpForward(out: &out, image: image, flow: flow, channels: c, height: h, width: w)
        return out
    }

    func testWarpMatchesGridSample() throws {
        let (c, h, w) = (3, 5, 7)
        let image = try golden("warp.image")
        let flow = try golden("warp.flow")
        let dout = try golden("warp.dout")
        assertClose(warp(image, flow, c: c, h: h, w: w), try golden("warp.out"), 1e-5, "warp out")
        var dimage = [Float](repeating: 0, count: image.count)
        var dflow = [Float](repeating: 0, count: flow.count)
        warpBackward(
            dimage: &dimage, dflow: &dflow, dout: dout, image: image, flow: flow, channels: c, height: h, width: w)
        assertClose(dimage, try golden("warp.dimage"), 1e-5, "warp dimage")
        assertClose(dflow, try golden("warp.dflow"), 1e-4, "warp dflow")
    }

    func testBicubicWarpMatchesGridSample() throws {
        let (c, h, w) = (3, 5, 7)
        var out = [Float](repeating: 0, count: c * h * w)
        warpBicubicForward(
            out: &out, image: try golden("warp.image"), flow: try golden("warp.flow"), channels: c, height: h, width: w)
        assertClose(out, try golden("bicubic.out"), 1e-5, "bicubic warp")
    }

    func testWarpFiniteDifferences() {
        let (c, h, w) = (2, 6, 5)
        var rng = SplitMix64(seed: 3)
        let image = (0..<(c * h * w)).map { _ in Float.random(in: 0...1, using: &rng) }
        let flow = (0..<(2 * h * w)).map { _ in Float.random(in: -1.7...1.7, using: &rng) }
        let g = (0..<(c * h * w)).map { _ in Float.random(in: -1...1, using: &rng) }
        var dimage = [Float](repeating: 0, count: image.count)
        var dflow = [Float](repeating: 0, count: flow.count)
        warpBackward(
            dimage: &dimage, dflow: &dflow, dout: g, image: image, flow: flow, channels: c, height: h, width: w)
        // Only coordinates that land inside the image (a clamped one has no flow gradient).
        let interior = (0..<(2 * h * w)).filter { i in
            let p = i % (h * w)
            let x = Float(p % w) + flow[i % (h * w)]
            let y = Float(p / w) + flow[h * w + p]
            return x > 0.05 && x < Float(w - 1) - 0.05 && y > 0.05 && y < Float(h - 1) - 0.05
        }
        var numeric: [Float] = []
        var analytic: [Float] = []
        for i in interior.prefix(30) {
            var plus = flow
            var minus = flow
            plus[i] += 1e-3
            minus[i] -= 1e-3
            let lp = zip(warp(image, plus, c: c, h: h, w: w), g).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            let lm = zip(warp(image, minus, c: c, h: h, w: w), g).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            numeric.append(Float((lp - lm) / 2e-3))
            analytic.append(dflow[i])
        }
        XCTAssertGreaterThan(numeric.count, 10)
        XCTAssertLessThan(relativeError(analytic, numeric), 1e-2, "flow gradient")
        // The warp is linear in the image: its gradient is exact for any step.
        assertFiniteDifferences(x: image, g: g, analytic: dimage, h: 0.5, tol: 1e-3, "image gradient") {
            self.warp($0, flow, c: c, h: h, w: w)
        }
    }

    func testZeroFlowIsIdentityAndTranslationShifts() {
        let (h, w) = (4, 6)
        let image = (0..<(h * w)).map(Float.init)
        XCTAssertEqual(warp(image, [Float](repeating: 0, count: 2 * h * w), c: 1, h: h, w: w), image)
        // u = +1 everywhere: each pixel takes its right neighbour (the last column clamps to itself).
        let right = [Float](repeating: 1, count: h * w) + [Float](repeating: 0, count: h * w)
        let shifted = warp(image, right, c: 1, h: h, w: w)
        XCTAssertEqual(shifted[0], 1)
        XCTAssertEqual(shifted[w - 1], Float(w - 1))
    }

    func testResizeFlowMatchesInterpolate() throws {
        let out = resizeFlow(try golden("resize.small"), width: 6, height: 4, toWidth: 10, height: 9)
        assertClose(out, try golden("resize.big"), 1e-5, "resized flow")
    }

    func testResizeBackwardIsTheAdjoint() {
        // ⟨resize(x), g⟩ = ⟨x, resizeᵀ(g)⟩ for any x and g: the backward is the exact transpose.
        var rng = SplitMix64(seed: 5)
        let x = (0..<(2 * 4 * 6)).map { _ in Float.random(in: -1...1, using: &rng) }
        let g = (0..<(2 * 9 * 10)).map { _ in Float.random(in: -1...1, using: &rng) }
        let y = resizeBilinear(x, channels: 2, width: 6, height: 4, toWidth: 10, height: 9)
        var dx = [Float](repeating: 0, count: x.count)
        resizeBilinearBackward(dplanes: &dx, dout: g, channels: 2, width: 6, height: 4, fromWidth: 10, height: 9)
        let left = zip(y, g).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let right = zip(x, dx).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(left, right, accuracy: 1e-4)
        XCTAssertGreaterThan(abs(left), 0.1)
    }
}
