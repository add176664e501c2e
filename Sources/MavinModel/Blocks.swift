import Foundation
import Tensor

/// Geometry of a video activation: `windows` windows of `frames` frames, each [channels, height, width].
struct VideoShape {
    var windows: Int, frames: Int, channels: Int, height: Int, width: Int
    var images: Int { windows * frames }
    var pixels: Int { height * width }
    var count: Int { images * channels * pixels }
    func with(channels c: Int) -> VideoShape {
        VideoShape(windows: windows, frames: frames, channels: c, height: height, width: width)
    }
}

/// ResBlock with the (time + length) embedding added between its two convolutions.
final class ResBlock {
    let norm1: GroupNormLayer, act1 = SiLULayer(), conv1: Conv2dLayer
    let embAct = SiLULayer(), embProj: LinearLayer
    let norm2: GroupNormLayer, act2 = SiLULayer(), conv2: Conv2dLayer
    let skip: Conv2dLayer?
    let cin: Int, cout: Int
    private var shape: VideoShape!
    private let h = Buffer(), out = Buffer(), dEmbRows = Buffer(), dx = Buffer()

    init(_ s: ParameterStore, _ name: String, cin: Int, cout: Int, embDim: Int, workspace ws: Workspace) {
        self.cin = cin
        self.cout = cout
        norm1 = GroupNormLayer(s, "\(name).norm1", channels: cin)
        conv1 = Conv2dLayer(s, "\(name).conv1", cin, cout, workspace: ws)
        embProj = LinearLayer(s, "\(name).emb_proj", inDim: embDim, outDim: cout)
        norm2 = GroupNormLayer(s, "\(name).norm2", channels: cout)
        conv2 = Conv2dLayer(s, "\(name).conv2", cout, cout, workspace: ws)
        skip = cin == cout ? nil : Conv2dLayer(s, "\(name).skip", cin, cout, kernel: 1, workspace: ws)
    }

    /// emb [windows, embDim] is broadcast over the frames and pixels of its window.
    func forward(_ x: Buffer, _ vs: VideoShape, emb: Buffer) -> Buffer {
        shape = vs
        let a = conv1.forward(
            act1.forward(norm1.forward(x, n: vs.images, pixels: vs.pixels)), n: vs.images, height: vs.height,
            width: vs.width)
        let e = embProj.forward(embAct.forward(emb))  // [windows, cout]
        h.resize(a.count)
        let P = vs.pixels
        for img in 0..<vs.images {
            let w = img / vs.frames
            for c in 0..<cout {
                let v = e.ptr[w * cout + c]
                let src = a.ptr + (img * cout + c) * P
                let dst = h.ptr + (img * cout + c) * P
                for i in 0..<P { dst[i] = src[i] + v }
            }
        }
        let b = conv2.forward(
            act2.forward(norm2.forward(h, n: vs.images, pixels: P)), n: vs.images, height: vs.height, width: vs.width)
        out.copy(from: b)
        if let skip { out.add(skip.forward(x, n: vs.images, height: vs.height, width: vs.width)) } else { out.add(x) }
        return out
    }

    /// Returns dx; the embedding gradient is accumulated into `dEmb` [windows, embDim].
    func backward(_ dy: Buffer, dEmb: Buffer) -> Buffer {
        let vs = shape!
        let P = vs.pixels
        let dh = norm2.backward(act2.backward(conv2.backward(dy)))
        // d(emb_proj output) = Σ over frames and pixels of dh.
        dEmbRows.zeroed(vs.windows * cout)
        for img in 0..<vs.images {
            let w = img / vs.frames
            for c in 0..<cout {
                let row = dh.ptr + (img * cout + c) * P
                var acc: Float = 0
                for i in 0..<P { acc += row[i] }
                dEmbRows.ptr[w * cout + c] += acc
            }
        }
        dEmb.add(embAct.backward(embProj.backward(dEmbRows)))
        let da = norm1.backward(act1.backward(conv1.backward(dh)))
        dx.copy(from: da)
        if let skip { dx.add(skip.backward(dy)) } else { dx.add(dy) }
        return dx
    }
}

/// h + Conv1d_time(SiLU(GN(h))): motion across frames at every pixel.
final class TemporalConvBlock {
    let store: ParameterStore
    let norm: GroupNormLayer, act = SiLULayer()
    let weight: Int, bias: Int
    let channels: Int
    let workspace: Workspace
    private var shape: VideoShape!, tshape: TemporalConvShape!
    private var a: Buffer!
    private let y = Buffer(), out = Buffer(), da = Buffer(), dx = Buffer()

    init(_ s: ParameterStore, _ name: String, channels: Int, workspace: Workspace) {
        store = s
        self.channels = channels
        self.workspace = workspace
        norm = GroupNormLayer(s, "\(name).norm", channels: channels)
        weight = s.add("\(name).conv.weight", shape: [channels, channels, 3])
        bias = s.add("\(name).conv.bias", shape: [channels])
    }

    func forward(_ x: Buffer, _ vs: VideoShape) -> Buffer {
        shape = vs
        a = act.forward(norm.forward(x, n: vs.images, pixels: vs.pixels))
        tshape = TemporalConvShape(
            batch: vs.windows, frames: vs.frames, inChannels: channels, outChannels: channels, pixels: vs.pixels)
        y.resize(x.count)
        temporalConvForward(
            out: y.ptr, inp: a.ptr, weight: store.values + weight, bias: store.values + bias, shape: tshape,
            workspace: workspace)
        out.copy(from: y)
        out.add(x)
        return out
    }

    func backward(_ dy: Buffer) -> Buffer {
        da.zeroed(dy.count)
        temporalConvBackward(
            dinp: da.ptr, dweight: store.grads + weight, dbias: store.grads + bias, dout: dy.ptr, inp: a.ptr,
            weight: store.values + weight, shape: tshape, workspace: workspace)
        dx.copy(from: norm.backward(act.backward(da)))
        dx.add(dy)
        return dx
    }
}

/// Pre-norm transformer layer on token rows: x + Attn(LN(x)) [+ CrossAttn(LN(x), ctx)] + FF(LN(x)).
final class TransformerLayer {
    let ln1: LayerNormLayer, attn1: AttentionLayer
    let ln2: LayerNormLayer?, attn2: AttentionLayer?
    let ln3: LayerNormLayer, ff1: LinearLayer, gelu = GELULayer(), ff2: LinearLayer
    private let r1 = Buffer(), r2 = Buffer(), r3 = Buffer(), d = Buffer()
    private var sequences = 0, tokens = 0
    let dContext = Buffer()

    init(_ s: ParameterStore, _ name: String, dim: Int, heads: Int, contextDim: Int?, workspace ws: Workspace) {
        ln1 = LayerNormLayer(s, "\(name).norm1", dim: dim)
        attn1 = AttentionLayer(s, "\(name).attn1", dim: dim, heads: heads, workspace: ws)
        if let contextDim {
            ln2 = LayerNormLayer(s, "\(name).norm2", dim: dim)
            attn2 = AttentionLayer(s, "\(name).attn2", dim: dim, heads: heads, contextDim: contextDim, workspace: ws)
        } else {
            ln2 = nil
            attn2 = nil
        }
        ln3 = LayerNormLayer(s, "\(name).norm3", dim: dim)
        ff1 = LinearLayer(s, "\(name).ff.0", inDim: dim, outDim: 4 * dim)
        ff2 = LinearLayer(s, "\(name).ff.2", inDim: 4 * dim, outDim: dim)
    }

    func forward(_ x: Buffer, sequences: Int, tokens: Int, context: Buffer?, contextTokens: Int, queriesPerContext: Int)
        -> Buffer
    {
        self.sequences = sequences
        self.tokens = tokens
        r1.copy(from: x)
        r1.add(attn1.forward(ln1.forward(x), sequences: sequences, tokens: tokens))
        var h = r1
        if let ln2, let attn2, let context {
            r2.copy(from: r1)
            r2.add(
                attn2.forward(
                    ln2.forward(r1), sequences: sequences, tokens: tokens, context: context,
                    contextTokens: contextTokens, queriesPerContext: queriesPerContext))
            h = r2
        }
        r3.copy(from: h)
        r3.add(ff2.forward(gelu.forward(ff1.forward(ln3.forward(h)))))
        return r3
    }

    func backward(_ dy: Buffer) -> Buffer {
        d.copy(from: dy)
        d.add(ln3.backward(ff1.backward(gelu.backward(ff2.backward(dy)))))
        if let ln2, let attn2, attn2.toQ.y.count > 0, ln2.y.count > 0 {
            let dq = attn2.backward(d)
            dContext.copy(from: attn2.dContext)
            d.add(ln2.backward(dq))
        }
        let g = ln1.backward(attn1.backward(d))
        d.add(g)
        return d
    }
}

/// GN → tokens over H·W → proj_in → transformer (self, cross to boundary tokens, FF) → proj_out → + x.
final class SpatialTransformer {
    let norm: GroupNormLayer
    let toTokens = PermuteLayer([0, 2, 1, 3]), fromTokens = PermuteLayer([0, 2, 1, 3])
    let projIn: LinearLayer, layer: TransformerLayer, projOut: LinearLayer
    private var shape: VideoShape!
    private let out = Buffer(), dx = Buffer()
    var dContext: Buffer { layer.dContext }

    init(_ s: ParameterStore, _ name: String, channels: Int, heads: Int, contextDim: Int?, workspace ws: Workspace) {
        norm = GroupNormLayer(s, "\(name).norm", channels: channels)
        projIn = LinearLayer(s, "\(name).proj_in", inDim: channels, outDim: channels)
        layer = TransformerLayer(s, "\(name).block", dim: channels, heads: heads, contextDim: contextDim, workspace: ws)
        projOut = LinearLayer(s, "\(name).proj_out", inDim: channels, outDim: channels)
    }

    func forward(_ x: Buffer, _ vs: VideoShape, context: Buffer?, contextTokens: Int) -> Buffer {
        shape = vs
        let n = norm.forward(x, n: vs.images, pixels: vs.pixels)
        let t = toTokens.forward(n, shape: [vs.images, vs.channels, vs.pixels, 1])
        let h = layer.forward(
            projIn.forward(t), sequences: vs.images, tokens: vs.pixels, context: context,
            contextTokens: contextTokens, queriesPerContext: vs.frames)
        let o = fromTokens.forward(projOut.forward(h), shape: [vs.images, vs.pixels, vs.channels, 1])
        out.copy(from: o)
        out.add(x)
        return out
    }

    func backward(_ dy: Buffer) -> Buffer {
        let dt = fromTokens.backward(dy)
        let dh = projIn.backward(layer.backward(projOut.backward(dt)))
        dx.copy(from: norm.backward(toTokens.backward(dh)))
        dx.add(dy)
        return dx
    }
}

/// Self-attention over the frames of each pixel, with a learned frame-position embedding.
final class TemporalTransformer {
    let store: ParameterStore
    let norm: GroupNormLayer
    let toTokens = PermuteLayer([0, 3, 1, 2]), fromTokens = PermuteLayer([0, 2, 3, 1])
    let position: Int
    let maxFrames: Int
    let layer: TransformerLayer, projOut: LinearLayer
    private var shape: VideoShape!
    private let withPos = Buffer(), out = Buffer(), dx = Buffer()

    init(_ s: ParameterStore, _ name: String, channels: Int, heads: Int, maxFrames: Int, workspace ws: Workspace) {
        store = s
        self.maxFrames = maxFrames
        norm = GroupNormLayer(s, "\(name).norm", channels: channels)
        position = s.add("\(name).frame_pos", shape: [maxFrames, channels], decay: false, initial: .small)
        layer = TransformerLayer(s, "\(name).block", dim: channels, heads: heads, contextDim: nil, workspace: ws)
        projOut = LinearLayer(s, "\(name).proj_out", inDim: channels, outDim: channels)
    }

    func forward(_ x: Buffer, _ vs: VideoShape) -> Buffer {
        precondition(vs.frames <= maxFrames, "window of \(vs.frames) frames exceeds the model's \(maxFrames)")
        shape = vs
        let n = norm.forward(x, n: vs.images, pixels: vs.pixels)
        // [W, T, C, P] → [W, P, T, C]: one sequence of T tokens per pixel.
        let t = toTokens.forward(n, shape: [vs.windows, vs.frames, vs.channels, vs.pixels])
        withPos.copy(from: t)
        let C = vs.channels
        let T = vs.frames
        let pos = store.values + position
        for seq in 0..<(vs.windows * vs.pixels) {
            for f in 0..<T {
                let row = withPos.ptr + (seq * T + f) * C
                for c in 0..<C { row[c] += pos[f * C + c] }
            }
        }
        let h = layer.forward(
            withPos, sequences: vs.windows * vs.pixels, tokens: T, context: nil, contextTokens: 0, queriesPerContext: 1)
        let o = fromTokens.forward(projOut.forward(h), shape: [vs.windows, vs.pixels, T, C])
        out.copy(from: o)
        out.add(x)
        return out
    }

    func backward(_ dy: Buffer) -> Buffer {
        let vs = shape!
        let C = vs.channels
        let T = vs.frames
        let dt = fromTokens.backward(dy)
        let dh = layer.backward(projOut.backward(dt))
        let gpos = store.grads + position
        for seq in 0..<(vs.windows * vs.pixels) {
            for f in 0..<T {
                let row = dh.ptr + (seq * T + f) * C
                for c in 0..<C { gpos[f * C + c] += row[c] }
            }
        }
        dx.copy(from: norm.backward(toTokens.backward(dh)))
        dx.add(dy)
        return dx
    }
}
