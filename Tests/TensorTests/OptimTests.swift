import Foundation
import XCTest
@testable import Tensor

final class OptimAndFileTests: XCTestCase {
    /// AdamW on f(p) = ½‖p − c‖² against a hand-written reference of torch.optim.AdamW's update.
    func testAdamWMatchesItsDefinitionAndClipping() {
        let store = ParameterStore()
        store.add("w", shape: [2, 2])
        store.add("b", shape: [2])
        let start: [Float] = [0.5, -1, 2, 0.1, 0.3, -0.2]
        store.values.update(from: start, count: 6)
        var ref = start.map(Double.init)
        var m = [Double](repeating: 0, count: 6)
        var v = [Double](repeating: 0, count: 6)
        let lr = 0.1
        let wd = 0.05
        for step in 1...5 {
            store.zeroGrad()
            for i in 0..<6 { store.grads[i] = store.values[i] - 1 }
            store.adamWStep(lr: Float(lr), weightDecay: Float(wd))
            for i in 0..<6 {
                let g = ref[i] - 1
                ref[i] -= lr * (i < 4 ? wd : 0) * ref[i]
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                ref[i] -=
                    lr * (m[i] / (1 - pow(0.9, Double(step))))
                    / ((v[i] / (1 - pow(0.999, Double(step)))).squareRoot() + 1e-8)
            }
        }
        for i in 0..<6 { XCTAssertEqual(Double(store.values[i]), ref[i], accuracy: 1e-5) }
        XCTAssertEqual(store.entry("w")?.decay, true)
        XCTAssertEqual(store.entry("b")?.decay, false)
        for i in 0..<6 { store.grads[i] = 3 }
        let norm = store.clipGradNorm(1)
        XCTAssertEqual(norm, (54 as Float).squareRoot(), accuracy: 1e-4)
        var s: Float = 0
        for i in 0..<6 { s += store.grads[i] * store.grads[i] }
        XCTAssertEqual(s.squareRoot(), 1, accuracy: 1e-4)
        store.syncEMA()
        store.values[0] = 10
        store.updateEMA(decay: 0.9)
        XCTAssertEqual(store.ema[0], 0.9 * Float(ref[0]) + 1, accuracy: 1e-5)
    }

    /// A small conv + attention network overfits one batch: the loss falls by over 100×, identically twice.
    func testTinyConvAttentionNetOverfitsDeterministically() {
        func train() -> (first: Float, last: Float) {
            let ws = Workspace()
            let store = ParameterStore()
            let C = 16
            let H = 6
            let W = 6
            let N = 4
            let P = H * W
            store.add("conv.weight", shape: [C, 3, 3, 3])
            store.add("conv.bias", shape: [C])
            store.add("qkv.weight", shape: [3 * C, C])
            store.add("qkv.bias", shape: [3 * C])
            store.add("proj.weight", shape: [3, C])
            store.add("proj.bias", shape: [3])
            var rng = SeededGenerator(seed: 5)
            store.initialise(using: &rng)
            let x = Tensor(randn: [N, 3, H, W], using: &rng).data
            let target = Tensor(randn: [N, P, 3], std: 0.5, using: &rng).data
            let cs = Conv2dShape(batch: N, inChannels: 3, height: H, width: W, outChannels: C, kernel: 3, padding: 1)
            let att = AttentionShape(batch: N, queries: P, keys: P, heads: 2, headDim: C / 2)
            var h = [Float](repeating: 0, count: N * C * P)
            var a = h
            var tok = h
            var qkv = [Float](repeating: 0, count: N * P * 3 * C)
            var q = tok
            var k = tok
            var v = tok
            var o = tok
            var probs = [Float](repeating: 0, count: att.probabilities)
            var y = [Float](repeating: 0, count: N * P * 3)
            var dy = y
            var first: Float = 0
            var last: Float = 0
            for step in 0..<500 {
                store.zeroGrad()
                conv2dForward(
                    out: &h, inp: x, weight: store.value("conv.weight"), bias: store.value("conv.bias"), shape: cs,
                    workspace: ws)
                siluForward(out: &a, inp: h, count: h.count)
                permute4(out: &tok, inp: a, shape: [N, C, P, 1], perm: [0, 2, 1, 3])
                linearForward(
                    out: &qkv, inp: tok, weight: store.value("qkv.weight"), bias: store.value("qkv.bias"), rows: N * P,
                    inDim: C, outDim: 3 * C)
                for r in 0..<(N * P) {
                    for j in 0..<C {
                        q[r * C + j] = qkv[r * 3 * C + j]
                        k[r * C + j] = qkv[r * 3 * C + C + j]
                        v[r * C + j] = qkv[r * 3 * C + 2 * C + j]
                    }
                }
                attentionForward(out: &o, probs: &probs, q: q, k: k, v: v, shape: att)
                linearForward(
                    out: &y, inp: o, weight: store.value("proj.weight"), bias: store.value("proj.bias"), rows: N * P,
                    inDim: C, outDim: 3)
                let loss = maskedMSEForwardBackward(
                    dpred: &dy, pred: y, target: target, mask: [1, 1, 1, 1], perFrame: P * 3)
                if step == 0 { first = loss }
                last = loss
                var dO = [Float](repeating: 0, count: o.count)
                linearBackward(
                    dinp: &dO, dweight: store.grad("proj.weight"), dbias: store.grad("proj.bias"), dout: dy, inp: o,
                    weight: store.value("proj.weight"), rows: N * P, inDim: C, outDim: 3)
                var dq = [Float](repeating: 0, count: q.count)
                var dk = dq
                var dv = dq
                attentionBackward(
                    dq: &dq, dk: &dk, dv: &dv, dout: dO, probs: probs, q: q, k: k, v: v, shape: att, workspace: ws)
                var dqkv = [Float](repeating: 0, count: qkv.count)
                for r in 0..<(N * P) {
                    for j in 0..<C {
                        dqkv[r * 3 * C + j] = dq[r * C + j]
                        dqkv[r * 3 * C + C + j] = dk[r * C + j]
                        dqkv[r * 3 * C + 2 * C + j] = dv[r * C + j]
                    }
                }
                var dtok = [Float](repeating: 0, count: tok.count)
                linearBackward(
                    dinp: &dtok, dweight: store.grad("qkv.weight"), dbias: store.grad("qkv.bias"), dout: dqkv, inp: tok,
                    weight: store.value("qkv.weight"), rows: N * P, inDim: C, outDim: 3 * C)
                var da = [Float](repeating: 0, count: a.count)
                permute4(out: &da, inp: dtok, shape: [N, P, C, 1], perm: [0, 2, 1, 3], accumulate: true)
                var dh = [Float](repeating: 0, count: h.count)
                siluBackward(dinp: &dh, dout: da, inp: h, count: h.count)
                conv2dBackward(
                    dinp: nil, dweight: store.grad("conv.weight"), dbias: store.grad("conv.bias"), dout: dh, inp: x,
                    weight: store.value("conv.weight"), shape: cs, workspace: ws)
                store.clipGradNorm(10)
                store.adamWStep(lr: step < 350 ? 0.02 : 0.004, weightDecay: 0)
            }
            return (first, last)
        }
        let r1 = train()
        let r2 = train()
        XCTAssertGreaterThan(r1.first / r1.last, 100, "loss \(r1.first) → \(r1.last)")
        XCTAssertEqual(r1.first, r2.first)
        XCTAssertEqual(r1.last, r2.last)
    }

    func testSafeTensorsRoundTripAndPyTorchCheckFile() throws {
        let ramp = (0..<60).map { Float(($0 * 37) % 101) / 8 - 3 }
        // Left in /tmp on purpose: `make_goldens.py --check /tmp/mavin-check.safetensors` loads it in PyTorch.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-check.safetensors")
        try SafeTensorsFile.write(
            [("check.ramp", Tensor(shape: [3, 4, 5], data: ramp)), ("check.empty", Tensor(shape: [0], data: []))],
            metadata: ["config": "{\"a\":1}"], to: url, overwrite: true)
        let f = try SafeTensorsFile(url: url)
        XCTAssertEqual(try f.floats("check.ramp"), ramp)
        XCTAssertEqual(f.tensor("check.ramp")?.shape, [3, 4, 5])
        XCTAssertEqual(f.metadata["config"], "{\"a\":1}")
        XCTAssertThrowsError(
            try SafeTensorsFile.write([("x", Tensor(shape: [1], data: [1]))], to: url, overwrite: false))
        // The golden file was written by safetensors.torch: its F32 values must read back.
        XCTAssertEqual(Goldens.file.metadata["generator"], "make_goldens.py")
    }

    func testHalfPrecisionReads() throws {
        // F16 1.0 = 0x3C00, −2.5 = 0xC100; BF16 1.0 = 0x3F80, −2.5 = 0xC020.
        func file(_ dtype: String, _ words: [UInt16]) throws -> SafeTensorsFile {
            let header = "{\"t\":{\"dtype\":\"\(dtype)\",\"shape\":[2],\"data_offsets\":[0,4]}}"
            var d = Data()
            var n = UInt64(header.utf8.count).littleEndian
            withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
            d.append(Data(header.utf8))
            for w in words {
                var le = w.littleEndian
                withUnsafeBytes(of: &le) { d.append(contentsOf: $0) }
            }
            return try SafeTensorsFile(data: d)
        }
        XCTAssertEqual(try file("F16", [0x3C00, 0xC100]).floats("t"), [1, -2.5])
        XCTAssertEqual(try file("BF16", [0x3F80, 0xC020]).floats("t"), [1, -2.5])
        XCTAssertThrowsError(try file("I64", [0, 0])) { XCTAssertTrue("\($0)".contains("I64")) }
    }

    /// Thousands of random, truncated and hostile headers: errors only, never a crash or huge allocation.
    func testFuzzedHeadersAreErrorsNotCrashes() throws {
        let good = try SafeTensorsFile.serialize([
            ("a", Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])), ("b", Tensor(shape: [4], data: [1, 2, 3, 4]))
        ])
        var rng = SeededGenerator(seed: 42)
        var accepted = 0
        for i in 0..<4000 {
            var d = good
            switch i % 5 {
            case 0: d = d.prefix(Int.random(in: 0..<d.count, using: &rng))
            case 1:
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    let j = Int.random(in: 0..<d.count, using: &rng)
                    d[j] = UInt8.random(in: 0...255, using: &rng)
                }
            case 2:  // header length claims more than the file (up to 2^64)
                var n = UInt64.random(in: 0...UInt64.max, using: &rng)
                if i % 10 == 2 { n = UInt64(d.count) }
                withUnsafeBytes(of: &n) { for k in 0..<8 { d[k] = $0[k] } }
            case 3:  // hostile shapes and offsets in valid JSON
                let big = Int.random(in: 0...Int(Int32.max), using: &rng)
                let header =
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[\(big),\(big),\(big)],\"data_offsets\":[0,\(big)]},"
                    + "\"b\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[8,4]}}"
                d = Data()
                var n = UInt64(header.utf8.count)
                withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
                d.append(Data(header.utf8))
                d.append(Data(count: 64))
            default:
                d = Data((0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
            if let f = try? SafeTensorsFile(data: d) {
                accepted += 1
                for name in f.tensors.keys { _ = try? f.floats(name) }
            }
        }
        XCTAssertLessThan(accepted, 4000)
    }
}
