import Foundation
import Media
import Tensor

/// The image tower of a CLIP ViT (OpenAI / open_clip key names, `visual.*`), loaded from a
/// user-supplied safetensors file, for CLIP-RS and CLIPSIM with real embeddings.
/// Architecture read from the weights: patch conv (no bias), class token, positions,
/// ln_pre, residual blocks (ln_1 → attention with packed in_proj, ln_2 → MLP with
/// QuickGELU), ln_post on the class token, projection. Heads = width / 64 (OpenAI's rule).
/// Preprocessing: bicubic resize of the short side to the model's size, centre crop,
/// normalise with mean (0.48145466, 0.4578275, 0.40821073), std (0.26862954, 0.26130258, 0.27577711).
public final class CLIPImageEncoder {
    public let imageSize: Int, patch: Int, width: Int, layers: Int, heads: Int, outputDim: Int
    private let w: [String: Tensor]
    private let ws = Workspace()

    public static let mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public static let std: [Float] = [0.26862954, 0.26130258, 0.27577711]

    public init(url: URL, heads: Int? = nil) throws {
        let f = try SafeTensorsFile(url: url)
        var w: [String: Tensor] = [:]
        for name in f.tensors.keys where name.hasPrefix("visual.") {
            w[String(name.dropFirst(7))] = try f.tensorValue(name)
        }
        guard let conv = w["conv1.weight"], let pos = w["positional_embedding"], let proj = w["proj"] else {
            throw MetricsError.badInput(
                "'\(url.path)' has no CLIP image tower (visual.conv1.weight, visual.positional_embedding, visual.proj)")
        }
        width = conv.shape[0]
        patch = conv.shape[2]
        let grid = Int(Double(pos.shape[0] - 1).squareRoot().rounded())
        guard grid * grid + 1 == pos.shape[0] else {
            throw MetricsError.badInput("positional_embedding of \(pos.shape[0]) rows is not a square grid + class")
        }
        imageSize = grid * patch
        outputDim = proj.shape[1]
        var n = 0
        while w["transformer.resblocks.\(n).ln_1.weight"] != nil { n += 1 }
        layers = n
        self.heads = heads ?? max(1, width / 64)
        guard width % self.heads == 0 else {
            throw MetricsError.badInput("width \(width) not divisible by \(self.heads) heads")
        }
        // Every tensor the forward pass reads, with its element count: a user's file missing one, or with one of
        // another shape, is refused here rather than trapping later.
        let D = width
        var expected: [(String, Int)] = [
            ("conv1.weight", D * 3 * patch * patch), ("class_embedding", D), ("positional_embedding", pos.shape[0] * D),
            ("proj", D * outputDim)
        ]
        for name in ["ln_pre", "ln_post"] { expected += [("\(name).weight", D), ("\(name).bias", D)] }
        for b in 0..<n {
            let p = "transformer.resblocks.\(b)"
            expected += [
                ("\(p).ln_1.weight", D), ("\(p).ln_1.bias", D), ("\(p).ln_2.weight", D), ("\(p).ln_2.bias", D),
                ("\(p).attn.in_proj_weight", 3 * D * D), ("\(p).attn.in_proj_bias", 3 * D),
                ("\(p).attn.out_proj.weight", D * D), ("\(p).attn.out_proj.bias", D),
                ("\(p).mlp.c_fc.weight", 4 * D * D), ("\(p).mlp.c_fc.bias", 4 * D),
                ("\(p).mlp.c_proj.weight", 4 * D * D), ("\(p).mlp.c_proj.bias", D)
            ]
        }
        for (name, count) in expected where w[name]?.data.count != count {
            let found = w[name].map { "\($0.data.count) values" } ?? "missing"
            throw MetricsError.badInput(
                "'\(url.path)': visual.\(name) should have \(count) values for width \(D) (\(found)); "
                    + "use an OpenAI or open_clip ViT image tower")
        }
        self.w = w
    }

    /// A tensor checked to exist at init.
    func t(_ name: String) -> [Float] { w[name]?.data ?? [] }

    /// Bicubic (Keys, a = −0.5) resize of the short side, centre crop, CLIP normalisation → planar [3, S, S].
    public func preprocess(_ img: RGBImage) -> [Float] {
        let S = imageSize
        let scale = Double(S) / Double(min(img.width, img.height))
        let rw = max(S, Int((Double(img.width) * scale).rounded()))
        let rh = max(S, Int((Double(img.height) * scale).rounded()))
        let x0 = (rw - S) / 2
        let y0 = (rh - S) / 2
        func cubic(_ x: Double) -> Double {
            let a = -0.5
            let ax = abs(x)
            if ax <= 1 { return (a + 2) * ax * ax * ax - (a + 3) * ax * ax + 1 }
            if ax < 2 { return a * ax * ax * ax - 5 * a * ax * ax + 8 * a * ax - 4 * a }
            return 0
        }
        var out = [Float](repeating: 0, count: 3 * S * S)
        for y in 0..<S {
            let sy = (Double(y + y0) + 0.5) / scale - 0.5
            let iy = Int(sy.rounded(.down))
            for x in 0..<S {
                let sx = (Double(x + x0) + 0.5) / scale - 0.5
                let ix = Int(sx.rounded(.down))
                var acc = [0.0, 0.0, 0.0]
                var wsum = 0.0
                for dy in -1...2 {
                    for dx in -1...2 {
                        let wgt = cubic(sx - Double(ix + dx)) * cubic(sy - Double(iy + dy))
                        let px = img.pixel(min(max(ix + dx, 0), img.width - 1), min(max(iy + dy, 0), img.height - 1))
                        acc[0] += wgt * Double(px.0)
                        acc[1] += wgt * Double(px.1)
                        acc[2] += wgt * Double(px.2)
                        wsum += wgt
                    }
                }
                for c in 0..<3 {
                    let v = min(255, max(0, acc[c] / wsum)) / 255
                    out[(c * S + y) * S + x] = (Float(v) - Self.mean[c]) / Self.std[c]
                }
            }
        }
        return out
    }

    /// The image embedding of a preprocessed planar image [3, S, S].
    public func embed(preprocessed img: [Float]) -> [Float] {
        let g = imageSize / patch
        let tokens = g * g + 1
        let D = width
        // Patch embedding as a strided convolution without bias.
        let cs = Conv2dShape(
            batch: 1, inChannels: 3, height: imageSize, width: imageSize, outChannels: D, kernel: patch, stride: patch,
            padding: 0)
        var patches = [Float](repeating: 0, count: D * g * g)
        let zeroBias = [Float](repeating: 0, count: D)
        conv2dForward(out: &patches, inp: img, weight: t("conv1.weight"), bias: zeroBias, shape: cs, workspace: ws)
        var x = [Float](repeating: 0, count: tokens * D)
        let cls = t("class_embedding")
        let pos = t("positional_embedding")
        for j in 0..<D { x[j] = cls[j] + pos[j] }
        for p in 0..<(g * g) { for j in 0..<D { x[(p + 1) * D + j] = patches[j * g * g + p] + pos[(p + 1) * D + j] } }
        func ln(_ v: [Float], _ name: String, rows: Int) -> [Float] {
            var y = v
            var mean = [Float](repeating: 0, count: rows)
            var rstd = mean
            layerNormForward(
                out: &y, mean: &mean, rstd: &rstd, inp: v, weight: t("\(name).weight"), bias: t("\(name).bias"),
                rows: rows, dim: D)
            return y
        }
        func linear(_ v: [Float], _ weight: [Float], _ bias: [Float]?, rows: Int, i: Int, o: Int) -> [Float] {
            var y = [Float](repeating: 0, count: rows * o)
            linearForward(out: &y, inp: v, weight: weight, bias: bias, rows: rows, inDim: i, outDim: o)
            return y
        }
        x = ln(x, "ln_pre", rows: tokens)
        for l in 0..<layers {
            let p = "transformer.resblocks.\(l)"
            let h = ln(x, "\(p).ln_1", rows: tokens)
            let qkv = linear(
                h, t("\(p).attn.in_proj_weight"), t("\(p).attn.in_proj_bias"), rows: tokens, i: D, o: 3 * D)
            var q = [Float](repeating: 0, count: tokens * D)
            var k = q
            var v = q
            for r in 0..<tokens {
                for j in 0..<D {
                    q[r * D + j] = qkv[r * 3 * D + j]
                    k[r * D + j] = qkv[r * 3 * D + D + j]
                    v[r * D + j] = qkv[r * 3 * D + 2 * D + j]
                }
            }
            let shape = AttentionShape(batch: 1, queries: tokens, keys: tokens, heads: heads, headDim: D / heads)
            var o = q
            var probs = [Float](repeating: 0, count: shape.probabilities)
            attentionForward(out: &o, probs: &probs, q: q, k: k, v: v, shape: shape)
            let a = linear(o, t("\(p).attn.out_proj.weight"), t("\(p).attn.out_proj.bias"), rows: tokens, i: D, o: D)
            for i in 0..<x.count { x[i] += a[i] }
            let h2 = ln(x, "\(p).ln_2", rows: tokens)
            var f = linear(h2, t("\(p).mlp.c_fc.weight"), t("\(p).mlp.c_fc.bias"), rows: tokens, i: D, o: 4 * D)
            for i in 0..<f.count { f[i] = f[i] / (1 + exp(-1.702 * f[i])) }  // QuickGELU
            let m = linear(f, t("\(p).mlp.c_proj.weight"), t("\(p).mlp.c_proj.bias"), rows: tokens, i: 4 * D, o: D)
            for i in 0..<x.count { x[i] += m[i] }
        }
        let clsOut = ln(Array(x[0..<D]), "ln_post", rows: 1)
        let proj = t("proj")  // [D, out]
        var e = [Float](repeating: 0, count: outputDim)
        for j in 0..<outputDim {
            var s: Float = 0
            for i in 0..<D { s += clsOut[i] * proj[i * outputDim + j] }
            e[j] = s
        }
        return e
    }

    public func embed(_ img: RGBImage) -> [Float] { embed(preprocessed: preprocess(img)) }

    /// CLIP-RS / CLIPSIM similarity with this encoder.
    public func similarity() -> EmbeddingSimilarity {
        EmbeddingSimilarity(name: "clip cosine (\(layers)-layer ViT/\(patch), \(imageSize)px)") { [self] in
            self.embed($0)
        }
    }
}
