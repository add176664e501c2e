import ArgumentParser
import Foundation
import Tensor

struct BenchTensor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensor",
        abstract:
            "GFLOP/s of conv, attention and group norm (forward and backward), each as a fraction of sgemm in "
            + "the same run."
    )

    @Flag(help: "Print JSON (keys include sgemm_gflops, conv3x3_fwd_gflops, conv3x3_fraction).") var json = false

    struct Row: Encodable {
        var name: String
        var fwd_ms: Double
        var bwd_ms: Double
        var fwd_gflops: Double
        var bwd_gflops: Double
        var fwd_fraction: Double
    }
    struct Report: Encodable {
        var sgemm_gflops: Double
        var conv3x3_fwd_gflops: Double
        var conv3x3_fraction: Double
        var rows: [Row]
    }

    func run() throws {
        try BLAS.load()
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n)
        let b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        let sgemm =
            2 * Double(n * n * n)
            / timeIt(minSeconds: 0.5) { BLAS.sgemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &c, ldc: n) } / 1e9
        let ws = Workspace()
        var rows: [Row] = []
        var rng = SystemRandomNumberGenerator()
        for (ch, side) in [(64, 16), (128, 8), (256, 4)] {
            let s = Conv2dShape(
                batch: 32, inChannels: ch, height: side, width: side, outChannels: ch, kernel: 3, padding: 1)
            let x = Tensor(randn: [32, ch, side, side], using: &rng).data
            let w = Tensor(randn: [ch, ch, 3, 3], std: 0.05, using: &rng).data
            let bias = [Float](repeating: 0, count: ch)
            var y = [Float](repeating: 0, count: x.count)
            var dx = y
            var dw = w
            var db = bias
            let f = timeIt { conv2dForward(out: &y, inp: x, weight: w, bias: bias, shape: s, workspace: ws) }
            let bw = timeIt {
                conv2dBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: y, inp: x, weight: w, shape: s, workspace: ws)
            }
            rows.append(
                Row(
                    name: "conv3x3_\(ch)ch_\(side)x\(side)x32", fwd_ms: f * 1e3, bwd_ms: bw * 1e3,
                    fwd_gflops: s.flops / f / 1e9, bwd_gflops: 2 * s.flops / bw / 1e9,
                    fwd_fraction: s.flops / f / 1e9 / sgemm))
        }
        for (name, batch, tokens) in [
            ("attention_spatial_256tok_x32", 32, 256), ("attention_temporal_32tok_x256", 256, 32)
        ] {
            let s = AttentionShape(batch: batch, queries: tokens, keys: tokens, heads: 4, headDim: 16)
            let q = Tensor(randn: [batch, tokens, 64], using: &rng).data
            var o = q
            var probs = [Float](repeating: 0, count: s.probabilities)
            var dq = q
            var dk = q
            var dv = q
            let f = timeIt { attentionForward(out: &o, probs: &probs, q: q, k: q, v: q, shape: s) }
            let bw = timeIt {
                attentionBackward(
                    dq: &dq, dk: &dk, dv: &dv, dout: o, probs: probs, q: q, k: q, v: q, shape: s, workspace: ws)
            }
            rows.append(
                Row(
                    name: name, fwd_ms: f * 1e3, bwd_ms: bw * 1e3, fwd_gflops: s.flops / f / 1e9,
                    bwd_gflops: 2 * s.flops / bw / 1e9,
                    fwd_fraction: s.flops / f / 1e9 / sgemm))
        }
        do {
            let (N, C, P) = (32, 64, 256)
            let x = Tensor(randn: [N, C, P], using: &rng).data
            let w = [Float](repeating: 1, count: C)
            let bias = [Float](repeating: 0, count: C)
            var y = x
            var dx = x
            var dw = w
            var db = bias
            var mean = [Float](repeating: 0, count: N * 32)
            var rstd = mean
            let f = timeIt {
                groupNormForward(
                    out: &y, mean: &mean, rstd: &rstd, inp: x, weight: w, bias: bias, n: N, channels: C, pixels: P,
                    groups: 32)
            }
            let bw = timeIt {
                groupNormBackward(
                    dinp: &dx, dweight: &dw, dbias: &db, dout: y, inp: x, weight: w, mean: mean, rstd: rstd, n: N,
                    channels: C, pixels: P, groups: 32)
            }
            let flops = 8 * Double(N * C * P)
            rows.append(
                Row(
                    name: "groupnorm_64ch_16x16x32", fwd_ms: f * 1e3, bwd_ms: bw * 1e3, fwd_gflops: flops / f / 1e9,
                    bwd_gflops: 2 * flops / bw / 1e9,
                    fwd_fraction: flops / f / 1e9 / sgemm))
        }
        let report = Report(
            sgemm_gflops: sgemm, conv3x3_fwd_gflops: rows[0].fwd_gflops, conv3x3_fraction: rows[0].fwd_fraction,
            rows: rows)
        if json {
            try printJSON(report)
        } else {
            print(String(format: "sgemm 1024²: %.1f GFLOP/s", sgemm))
            for r in rows {
                print(
                    String(
                        format: "%-32@ fwd %7.2f ms %6.1f GFLOP/s (%.2f of sgemm)   bwd %7.2f ms %6.1f GFLOP/s",
                        r.name as NSString, r.fwd_ms, r.fwd_gflops, r.fwd_fraction, r.bwd_ms, r.bwd_gflops))
            }
        }
    }
}
