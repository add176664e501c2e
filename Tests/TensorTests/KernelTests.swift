import Core
import Foundation
import XCTest
@testable import Tensor

let goldensURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Goldens/ops.safetensors")

/// Golden values from Tests/Reference/make_goldens.py (PyTorch 2.13, float64 maths).
final class Goldens {
    static let file: SafeTensorsFile = try! SafeTensorsFile(url: goldensURL)
    static func get(_ name: String) -> [Float] { try! file.floats(name) }
    static func shape(_ name: String) -> [Int] { file.tensor(name)!.shape }
}

/// Asserts norm-wise relative error ≤ tol (1e-4 by default).
func assertClose(
    _ a: [Float], _ b: [Float], _ tol: Float = 1e-4, _ what: String, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    let e = relativeError(a, b)
    XCTAssertLessThanOrEqual(e, tol, "\(what): relative error \(e)", file: file, line: line)
}

/// Central finite differences of L = Σ g ⊙ f(x) at up to 40 coordinates, compared with `analytic`.
func assertFiniteDifferences(
    x: [Float], g: [Float], analytic: [Float], h: Float = 1e-2, tol: Float = 2e-2,
    _ what: String, f: ([Float]) -> [Float], file: StaticString = #filePath, line: UInt = #line
) {
    var rng = SeededGenerator(seed: 99)
    let picks = x.count <= 40 ? Array(0..<x.count) : (0..<40).map { _ in Int.random(in: 0..<x.count, using: &rng) }
    var numeric: [Float] = []
    var ours: [Float] = []
    for i in picks {
        var xp = x
        var xm = x
        xp[i] += h
        xm[i] -= h
        let lp = zip(f(xp), g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let lm = zip(f(xm), g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        numeric.append(Float((lp - lm) / Double(2 * h)))
        ours.append(analytic[i])
    }
    let e = relativeError(ours, numeric)
    XCTAssertLessThanOrEqual(e, tol, "\(what): finite-difference relative error \(e)", file: file, line: line)
}

typealias SeededGenerator = SplitMix64

final class KernelTests: XCTestCase {
    let ws = Workspace()

    // MARK: linear
    func linear(_ x: [Float], _ w: [Float], _ b: [Float], rows: Int, i: Int, o: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * o)
        linearForward(out: &y, inp: x, weight: w, bias: b, rows: rows, inDim: i, outDim: o)
        return y
    }

    func testLinear() {
        let x = Goldens.get("linear.x")
        let w = Goldens.get("linear.w")
        let b = Goldens.get("linear.b")
        let g = Goldens.get("linear.dout")
        let y = linear(x, w, b, rows: 5, i: 7, o: 6)
        assertClose(y, Goldens.get("linear.out"), 1e-5, "linear out")
        var dx = [Float](repeating: 0, count: x.count)
        var dw = [Float](repeating: 0, count: w.count)
        var db = [Float](repeating: 0, count: 6)
        linearBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: g, inp: x, weight: w, rows: 5, inDim: 7, outDim: 6)
        assertClose(dx, Goldens.get("linear.dx"), 1e-5, "linear dx")
        assertClose(dw, Goldens.get("linear.dw"), 1e-5, "linear dw")
        assertClose(db, Goldens.get("linear.db"), 1e-5, "linear db")
        assertFiniteDifferences(x: x, g: g, analytic: dx, "linear dx") { self.linear($0, w, b, rows: 5, i: 7, o: 6) }
        assertFiniteDifferences(x: w, g: g, analytic: dw, "linear dw") { self.linear(x, $0, b, rows: 5, i: 7, o: 6) }
    }

    // MARK: conv2d
    func checkConv(_ name: String, _ s: Conv2dShape) {
        let x = Goldens.get("\(name).x")
        let w = Goldens.get("\(name).w")
        let b = Goldens.get("\(name).b")
        let g = Goldens.get("\(name).dout")
        func fwd(_ x: [Float], _ w: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: s.batch * s.outChannels * s.outHeight * s.outWidth)
            conv2dForward(out: &y, inp: x, weight: w, bias: b, shape: s, workspace: ws)
            return y
        }
        XCTAssertEqual(Goldens.shape("\(name).out"), [s.batch, s.outChannels, s.outHeight, s.outWidth])
        assertClose(fwd(x, w), Goldens.get("\(name).out"), 1e-5, "\(name) out")
        var dx = [Float](repeating: 0, count: x.count)
        var dw = [Float](repeating: 0, count: w.count)
        var db = [Float](repeating: 0, count: b.count)
        conv2dBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: g, inp: x, weight: w, shape: s, workspace: ws)
        assertClose(dx, Goldens.get("\(name).dx"), 1e-5, "\(name) dx")
        assertClose(dw, Goldens.get("\(name).dw"), 1e-5, "\(name) dw")
        assertClose(db, Goldens.get("\(name).db"), 1e-5, "\(name) db")
        assertFiniteDifferences(x: x, g: g, analytic: dx, "\(name) dx") { fwd($0, w) }
        assertFiniteDifferences(x: w, g: g, analytic: dw, "\(name) dw") { fwd(x, $0) }
    }

    func testConv3x3() {
        checkConv(
            "conv3x3", Conv2dShape(batch: 2, inChannels: 3, height: 6, width: 5, outChannels: 4, kernel: 3, padding: 1))
    }
    func testStridedConvDownsample() {
        checkConv(
            "conv_s2",
            Conv2dShape(batch: 2, inChannels: 3, height: 7, width: 6, outChannels: 4, kernel: 3, stride: 2, padding: 1))
    }
    func testPointwiseConv() {
        checkConv(
            "conv1x1", Conv2dShape(batch: 2, inChannels: 4, height: 3, width: 3, outChannels: 5, kernel: 1, padding: 0))
    }

    // MARK: temporal conv
    func testTemporalConv() {
        let s = TemporalConvShape(batch: 2, frames: 5, inChannels: 3, outChannels: 4, pixels: 4)
        let x = Goldens.get("tconv.x")
        let w = Goldens.get("tconv.w")
        let b = Goldens.get("tconv.b")
        let g = Goldens.get("tconv.dout")
        func fwd(_ x: [Float], _ w: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: 2 * 5 * 4 * 4)
            temporalConvForward(out: &y, inp: x, weight: w, bias: b, shape: s, workspace: ws)
            return y
        }
        assertClose(fwd(x, w), Goldens.get("tconv.out"), 1e-5, "tconv out")
        var dx = [Float](repeating: 0, count: x.count)
        var dw = [Float](repeating: 0, count: w.count)
        var db = [Float](repeating: 0, count: 4)
        temporalConvBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: g, inp: x, weight: w, shape: s, workspace: ws)
        assertClose(dx, Goldens.get("tconv.dx"), 1e-5, "tconv dx")
        assertClose(dw, Goldens.get("tconv.dw"), 1e-5, "tconv dw")
        assertClose(db, Goldens.get("tconv.db"), 1e-5, "tconv db")
        assertFiniteDifferences(x: x, g: g, analytic: dx, "tconv dx") { fwd($0, w) }
        assertFiniteDifferences(x: w, g: g, analytic: dw, "tconv dw") { fwd(x, $0) }
    }

    // MARK: norms
    func testGroupNorm() {
        let x = Goldens.get("groupnorm.x")
        let w = Goldens.get("groupnorm.w")
        let b = Goldens.get("groupnorm.b")
        let g = Goldens.get("groupnorm.dout")
        var mean = [Float](repeating: 0, count: 6)
        var rstd = [Float](repeating: 0, count: 6)
        func fwd(_ x: [Float], _ w: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: x.count)
            groupNormForward(
                out: &y, mean: &mean, rstd: &rstd, inp: x, weight: w, bias: b, n: 2, channels: 6, pixels: 5, groups: 3)
            return y
        }
        assertClose(fwd(x, w), Goldens.get("groupnorm.out"), 1e-5, "groupnorm out")
        var dx = [Float](repeating: 0, count: x.count)
        var dw = [Float](repeating: 0, count: 6)
        var db = [Float](repeating: 0, count: 6)
        groupNormBackward(
            dinp: &dx, dweight: &dw, dbias: &db, dout: g, inp: x, weight: w, mean: mean, rstd: rstd, n: 2, channels: 6,
            pixels: 5, groups: 3)
        assertClose(dx, Goldens.get("groupnorm.dx"), 1e-4, "groupnorm dx")
        assertClose(dw, Goldens.get("groupnorm.dw"), 1e-5, "groupnorm dw")
        assertClose(db, Goldens.get("groupnorm.db"), 1e-5, "groupnorm db")
        assertFiniteDifferences(x: x, g: g, analytic: dx, h: 3e-3, "groupnorm dx") { fwd($0, w) }
    }

    func testLayerNorm() {
        let x = Goldens.get("layernorm.x")
        let w = Goldens.get("layernorm.w")
        let b = Goldens.get("layernorm.b")
        let g = Goldens.get("layernorm.dout")
        var mean = [Float](repeating: 0, count: 4)
        var rstd = [Float](repeating: 0, count: 4)
        func fwd(_ x: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: x.count)
            layerNormForward(out: &y, mean: &mean, rstd: &rstd, inp: x, weight: w, bias: b, rows: 4, dim: 8)
            return y
        }
        assertClose(fwd(x), Goldens.get("layernorm.out"), 1e-5, "layernorm out")
        var dx = [Float](repeating: 0, count: x.count)
        var dw = [Float](repeating: 0, count: 8)
        var db = [Float](repeating: 0, count: 8)
        layerNormBackward(
            dinp: &dx, dweight: &dw, dbias: &db, dout: g, inp: x, weight: w, mean: mean, rstd: rstd, rows: 4, dim: 8)
        assertClose(dx, Goldens.get("layernorm.dx"), 1e-4, "layernorm dx")
        assertClose(dw, Goldens.get("layernorm.dw"), 1e-5, "layernorm dw")
        assertClose(db, Goldens.get("layernorm.db"), 1e-5, "layernorm db")
        assertFiniteDifferences(x: x, g: g, analytic: dx, h: 3e-3, "layernorm dx") { fwd($0) }
    }

    // MARK: activations
    func testSiLUAndGELU() {
        for (name, fwd, bwd) in [("silu", siluForward, siluBackward), ("gelu", geluForward, geluBackward)] {
            let x = Goldens.get("\(name).x")
            let g = Goldens.get("\(name).dout")
            func f(_ x: [Float]) -> [Float] {
                var y = [Float](repeating: 0, count: x.count)
                fwd(&y, x, x.count)
                return y
            }
            assertClose(f(x), Goldens.get("\(name).out"), 1e-6, "\(name) out")
            var dx = [Float](repeating: 0, count: x.count)
            bwd(&dx, g, x, x.count)
            assertClose(dx, Goldens.get("\(name).dx"), 1e-5, "\(name) dx")
            assertFiniteDifferences(x: x, g: g, analytic: dx, h: 1e-3, "\(name) dx", f: f)
        }
    }

    /// The vectorised SiLU and GELU over a wide range, against double-precision libm: the polynomial exp and the
    /// A&S erf hold float accuracy everywhere, including the long runs split over the cores and the tails.
    func testVectorisedActivationsMatchLibmOverAWideRange() {
        let n = 240_001
        let x = (0..<n).map { Float(-12 + 24 * Double($0) / Double(n - 1)) }
        var y = [Float](repeating: 0, count: n)
        siluForward(out: &y, inp: x, count: n)
        var worst: Double = 0
        for i in 0..<n {
            let v = Double(x[i])
            worst = max(worst, abs(Double(y[i]) - v / (1 + Foundation.exp(-v))) / max(1, abs(v)))
        }
        XCTAssertLessThan(worst, 4e-7, "silu")
        geluForward(out: &y, inp: x, count: n)
        worst = 0
        for i in 0..<n {
            let v = Double(x[i])
            worst = max(
                worst, abs(Double(y[i]) - 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))) / max(1, abs(v)))
        }
        XCTAssertLessThan(worst, 4e-7, "gelu")
        var rows = [Float](repeating: 0, count: n)
        softmaxForward(out: &rows, inp: x, rows: 1, dim: n)
        let top = (0..<n).map { Foundation.exp(Double(x[$0]) - 12) }
        let sum = top.reduce(0, +)
        let rel = (0..<n).map { abs(Double(rows[$0]) - top[$0] / sum) / (top[$0] / sum) }.max()!
        XCTAssertLessThan(rel, 1e-5, "softmax")
    }

    func testSoftmax() {
        let x = Goldens.get("softmax.x")
        let g = Goldens.get("softmax.dout")
        func f(_ x: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: x.count)
            softmaxForward(out: &y, inp: x, rows: 3, dim: 7)
            return y
        }
        let y = f(x)
        assertClose(y, Goldens.get("softmax.out"), 1e-6, "softmax out")
        var dx = [Float](repeating: 0, count: x.count)
        softmaxBackward(dinp: &dx, dout: g, out: y, rows: 3, dim: 7)
        assertClose(dx, Goldens.get("softmax.dx"), 1e-5, "softmax dx")
        assertFiniteDifferences(x: x, g: g, analytic: dx, h: 1e-3, "softmax dx", f: f)
    }

    // MARK: attention
    func testMultiHeadAttention() {
        let s = AttentionShape(batch: 2, queries: 5, keys: 6, heads: 2, headDim: 4)
        let q = Goldens.get("attention.q")
        let k = Goldens.get("attention.k")
        let v = Goldens.get("attention.v")
        let g = Goldens.get("attention.dout")
        var probs = [Float](repeating: 0, count: s.probabilities)
        func fwd(_ q: [Float], _ k: [Float], _ v: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: 2 * 5 * 8)
            attentionForward(out: &y, probs: &probs, q: q, k: k, v: v, shape: s)
            return y
        }
        assertClose(fwd(q, k, v), Goldens.get("attention.out"), 1e-5, "attention out")
        var dq = [Float](repeating: 0, count: q.count)
        var dk = [Float](repeating: 0, count: k.count)
        var dv = [Float](repeating: 0, count: v.count)
        attentionBackward(dq: &dq, dk: &dk, dv: &dv, dout: g, probs: probs, q: q, k: k, v: v, shape: s, workspace: ws)
        assertClose(dq, Goldens.get("attention.dq"), 1e-5, "attention dq")
        assertClose(dk, Goldens.get("attention.dk"), 1e-5, "attention dk")
        assertClose(dv, Goldens.get("attention.dv"), 1e-5, "attention dv")
        assertFiniteDifferences(x: q, g: g, analytic: dq, h: 3e-3, "attention dq") { fwd($0, k, v) }
        assertFiniteDifferences(x: k, g: g, analytic: dk, h: 3e-3, "attention dk") { fwd(q, $0, v) }
        assertFiniteDifferences(x: v, g: g, analytic: dv, h: 3e-3, "attention dv") { fwd(q, k, $0) }
    }

    // MARK: layout and misc
    func testUpsampleConcatSinusoidAndMaskedMSE() {
        let x = Goldens.get("upsample.x")
        let g = Goldens.get("upsample.dout")
        var y = [Float](repeating: 0, count: x.count * 4)
        upsample2xForward(out: &y, inp: x, planes: 6, height: 3, width: 4)
        XCTAssertEqual(y, Goldens.get("upsample.out"))
        var dx = [Float](repeating: 0, count: x.count)
        upsample2xBackward(dinp: &dx, dout: g, planes: 6, height: 3, width: 4)
        assertClose(dx, Goldens.get("upsample.dx"), 1e-6, "upsample dx")

        let a = Goldens.get("concat.a")
        let c = Goldens.get("concat.c")
        let gc = Goldens.get("concat.dout")
        var cat = [Float](repeating: 0, count: a.count + c.count)
        concatChannelsForward(out: &cat, a: a, b: c, n: 2, channelsA: 2, channelsB: 3, pixels: 5)
        XCTAssertEqual(cat, Goldens.get("concat.out"))
        var da = [Float](repeating: 0, count: a.count)
        var dc = [Float](repeating: 0, count: c.count)
        concatChannelsBackward(da: &da, db: &dc, dout: gc, n: 2, channelsA: 2, channelsB: 3, pixels: 5)
        XCTAssertEqual(da, Goldens.get("concat.da"))
        XCTAssertEqual(dc, Goldens.get("concat.dc"))

        let t = Goldens.get("sinusoid.x")
        let gs = Goldens.get("sinusoid.dout")
        var emb = [Float](repeating: 0, count: 24)
        sinusoidalEmbeddingForward(out: &emb, values: t, count: 3, dim: 8)
        assertClose(emb, Goldens.get("sinusoid.out"), 1e-5, "sinusoid out")
        var dt = [Float](repeating: 0, count: 3)
        sinusoidalEmbeddingBackward(dvalues: &dt, dout: gs, values: t, count: 3, dim: 8)
        assertClose(dt, Goldens.get("sinusoid.dx"), 1e-4, "sinusoid dx")

        let p = Goldens.get("mse.pred")
        let tg = Goldens.get("mse.target")
        let m = Goldens.get("mse.mask")
        var dp = [Float](repeating: 0, count: p.count)
        let loss = maskedMSEForwardBackward(dpred: &dp, pred: p, target: tg, mask: m, perFrame: 6)
        XCTAssertEqual(loss, Goldens.get("mse.loss")[0], accuracy: 1e-6)
        assertClose(dp, Goldens.get("mse.dpred"), 1e-6, "mse dpred")
        XCTAssertEqual(Array(dp[6..<12]), [Float](repeating: 0, count: 6), "masked frame gets no gradient")
    }

    /// Per-frame weights: weights of 1 give the plain loss; otherwise the closed form and
    /// central finite differences of the gradient.
    func testWeightedMaskedMSE() {
        let per = 4
        let frames = 3
        let pred: [Float] = (0..<(per * frames)).map { Float(($0 * 37) % 11) / 5 - 1 }
        let target: [Float] = (0..<(per * frames)).map { Float(($0 * 13) % 7) / 4 - 0.5 }
        let mask: [Float] = [1, 0, 1]
        let weights: [Float] = [3, 5, 0.5]
        var d1 = [Float](repeating: 0, count: pred.count)
        var d2 = d1
        let plain = maskedMSEForwardBackward(dpred: &d1, pred: pred, target: target, mask: mask, perFrame: per)
        let ones = maskedMSEForwardBackward(
            dpred: &d2, pred: pred, target: target, mask: mask, weights: [1, 1, 1], perFrame: per)
        XCTAssertEqual(plain, ones)
        XCTAssertEqual(d1, d2)
        var d = [Float](repeating: 0, count: pred.count)
        let loss = maskedMSEForwardBackward(
            dpred: &d, pred: pred, target: target, mask: mask, weights: weights, perFrame: per)
        var expected: Double = 0
        for f in [0, 2] {
            for i in 0..<per {
                let e = Double(pred[f * per + i] - target[f * per + i])
                expected += Double(weights[f]) * e * e
            }
        }
        XCTAssertEqual(Double(loss), expected / Double(2 * per), accuracy: 1e-6)
        XCTAssertEqual(Array(d[per..<(2 * per)]), [Float](repeating: 0, count: per), "masked frame gets no gradient")
        let h: Float = 1e-2
        for j in 0..<pred.count {
            var p = pred
            var m = pred
            p[j] += h
            m[j] -= h
            let fd =
                (maskedMSEForwardBackward(
                    dpred: nil, pred: p, target: target, mask: mask, weights: weights, perFrame: per)
                    - maskedMSEForwardBackward(
                        dpred: nil, pred: m, target: target, mask: mask, weights: weights, perFrame: per)) / (2 * h)
            XCTAssertEqual(d[j], fd, accuracy: 2e-3, "element \(j)")
        }
    }

    func testPermuteAndItsInverse() {
        let shape = [2, 3, 4, 5]
        let x = (0..<120).map(Float.init)
        let perm = [0, 3, 1, 2]
        var y = [Float](repeating: 0, count: 120)
        permute4(out: &y, inp: x, shape: shape, perm: perm)
        // y[a][d][b][c] = x[a][b][c][d]
        let yIndex: Int = ((1 * 5 + 4) * 3 + 2) * 4 + 3
        let xIndex: Int = ((1 * 3 + 2) * 4 + 3) * 5 + 4
        XCTAssertEqual(y[yIndex], x[xIndex])
        var back = [Float](repeating: 0, count: 120)
        permute4(out: &back, inp: y, shape: perm.map { shape[$0] }, perm: inversePermutation(perm))
        XCTAssertEqual(back, x)
    }
}

/// The chunked, multi-worker paths (one image per GEMM, several workers) against a direct
/// seven-loop convolution and its hand-derived gradients.
final class ConvPathTests: XCTestCase {
    func testMultiWorkerConvMatchesDirectLoops() {
        for (stride, kernel, pad) in [(1, 3, 1), (2, 3, 1), (1, 1, 0)] {
            let s = Conv2dShape(
                batch: 5, inChannels: 3, height: 16, width: 16, outChannels: 4, kernel: kernel, stride: stride,
                padding: pad)
            var rng = SeededGenerator(seed: 3)
            let x = Tensor(randn: [5, 3, 16, 16], using: &rng).data
            let w = Tensor(randn: [4, 3, kernel, kernel], using: &rng).data
            let b: [Float] = [0.1, -0.2, 0.3, 0]
            let g = Tensor(randn: [5, 4, s.outHeight, s.outWidth], using: &rng).data
            var ref = [Float](repeating: 0, count: g.count)
            var refDx = [Float](repeating: 0, count: x.count)
            var refDw = [Float](repeating: 0, count: w.count)
            for n in 0..<5 {
                for o in 0..<4 {
                    for oy in 0..<s.outHeight {
                        for ox in 0..<s.outWidth {
                            let oi = ((n * 4 + o) * s.outHeight + oy) * s.outWidth + ox
                            var acc = b[o]
                            for c in 0..<3 {
                                for ky in 0..<kernel {
                                    for kx in 0..<kernel {
                                        let iy = oy * stride - pad + ky
                                        let ix = ox * stride - pad + kx
                                        guard iy >= 0, iy < 16, ix >= 0, ix < 16 else { continue }
                                        let xi = ((n * 3 + c) * 16 + iy) * 16 + ix
                                        let wi = ((o * 3 + c) * kernel + ky) * kernel + kx
                                        acc += x[xi] * w[wi]
                                        refDx[xi] += g[oi] * w[wi]
                                        refDw[wi] += g[oi] * x[xi]
                                    }
                                }
                            }
                            ref[oi] = acc
                        }
                    }
                }
            }
            let ws = Workspace()
            var y = [Float](repeating: 0, count: g.count)
            conv2dForward(out: &y, inp: x, weight: w, bias: b, shape: s, workspace: ws)
            assertClose(y, ref, 1e-5, "conv stride \(stride) k \(kernel) forward")
            var dx = [Float](repeating: 0, count: x.count)
            var dw = [Float](repeating: 0, count: w.count)
            var db = [Float](repeating: 0, count: 4)
            conv2dBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: g, inp: x, weight: w, shape: s, workspace: ws)
            assertClose(dx, refDx, 1e-5, "conv stride \(stride) k \(kernel) dx")
            assertClose(dw, refDw, 1e-5, "conv stride \(stride) k \(kernel) dw")
        }
    }
}
