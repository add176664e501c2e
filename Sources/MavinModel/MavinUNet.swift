import Core
import Diffusion
import Foundation
import Tensor

/// The inputs of one forward pass over `windows` windows of L frames.
public struct UNetInput {
    /// Latents [windows, L, K, h, w]: noised infill frames, clean reference frames.
    public var latents: [Float]
    /// 1 for reference frames, 0 for frames to generate: [windows, L].
    public var referenceMask: [Float]
    /// Diffusion timestep per window.
    public var timesteps: [Float]
    /// Infill length l per window (the length embedding).
    public var lengths: [Float]
    /// Pixel boundary frames xˢ and xᵉ, planar in [0, 1]: [windows, 2, 3, R, R] (ignored without BFG).
    public var boundaryPixels: [Float]

    public init(latents: [Float], referenceMask: [Float], timesteps: [Float], lengths: [Float], boundaryPixels: [Float])
    {
        self.latents = latents
        self.referenceMask = referenceMask
        self.timesteps = timesteps
        self.lengths = lengths
        self.boundaryPixels = boundaryPixels
    }
}

/// BFG's image encoder: p×p pixel patches of xˢ and xᵉ → tokens (+ position and
/// start/end embeddings) → LayerNorm; the concatenated 2·(R/p)² tokens are the keys
/// and values of every spatial cross-attention. Trained with the model.
final class BoundaryEncoder {
    let store: ParameterStore
    let embed: LinearLayer
    let position: Int, which: Int
    let norm: LayerNormLayer
    let patch: Int, resolution: Int, dim: Int
    var tokensPerFrame: Int { (resolution / patch) * (resolution / patch) }
    private let patches = Buffer(), summed = Buffer()

    init(_ s: ParameterStore, dim: Int, patch: Int, resolution: Int) {
        store = s
        self.patch = patch
        self.resolution = resolution
        self.dim = dim
        embed = LinearLayer(s, "bfg.patch_embed", inDim: 3 * patch * patch, outDim: dim)
        position = s.add(
            "bfg.position", shape: [(resolution / patch) * (resolution / patch), dim], decay: false, initial: .small)
        which = s.add("bfg.boundary_type", shape: [2, dim], decay: false, initial: .small)
        norm = LayerNormLayer(s, "bfg.norm", dim: dim)
    }

    /// pixels [windows, 2, 3, R, R] → tokens [windows, 2·P, dim].
    func forward(_ pixels: [Float], windows: Int) -> Buffer {
        let R = resolution
        let p = patch
        let g = R / p
        let P = g * g
        let d = 3 * p * p
        patches.resize(windows * 2 * P * d)
        for f in 0..<(windows * 2) {
            let frame = f * 3 * R * R
            for by in 0..<g {
                for bx in 0..<g {
                    let row = patches.ptr + ((f * P) + by * g + bx) * d
                    for c in 0..<3 {
                        for y in 0..<p {
                            for x in 0..<p {
                                row[(c * p + y) * p + x] = pixels[frame + (c * R + by * p + y) * R + bx * p + x]
                            }
                        }
                    }
                }
            }
        }
        let e = embed.forward(patches)
        summed.copy(from: e)
        let pos = store.values + position
        let typ = store.values + which
        for f in 0..<(windows * 2) {
            for t in 0..<P {
                let row = summed.ptr + (f * P + t) * dim
                for j in 0..<dim { row[j] += pos[t * dim + j] + typ[(f % 2) * dim + j] }
            }
        }
        return norm.forward(summed)
    }

    func backward(_ dTokens: Buffer) {
        let d = norm.backward(dTokens)
        let P = tokensPerFrame
        let gpos = store.grads + position
        let gtyp = store.grads + which
        for row in 0..<(d.count / dim) {
            let f = row / P
            let t = row % P
            let r = d.ptr + row * dim
            for j in 0..<dim {
                gpos[t * dim + j] += r[j]
                gtyp[(f % 2) * dim + j] += r[j]
            }
        }
        _ = embed.backward(d, needInput: false)
    }
}

/// Sinusoid(x) → Linear → SiLU → Linear.
final class ScalarEmbedding {
    let fc1: LinearLayer, act = SiLULayer(), fc2: LinearLayer
    let freqDim: Int
    private let sin = Buffer()
    init(_ s: ParameterStore, _ name: String, freqDim: Int, dim: Int) {
        self.freqDim = freqDim
        fc1 = LinearLayer(s, "\(name).linear_1", inDim: freqDim, outDim: dim)
        fc2 = LinearLayer(s, "\(name).linear_2", inDim: dim, outDim: dim)
    }
    func forward(_ values: [Float]) -> Buffer {
        sin.resize(values.count * freqDim)
        sinusoidalEmbeddingForward(out: sin.ptr, values: values, count: values.count, dim: freqDim)
        return fc2.forward(act.forward(fc1.forward(sin)))
    }
    func backward(_ dy: Buffer) { _ = fc1.backward(act.backward(fc2.backward(dy)), needInput: false) }
}

/// One level of the U-Net: ResBlock → temporal conv → spatial transformer → temporal transformer.
final class Stage {
    let res: ResBlock, tconv: TemporalConvBlock, spatial: SpatialTransformer, temporal: TemporalTransformer
    init(_ s: ParameterStore, _ name: String, cin: Int, cout: Int, config c: ModelConfig, workspace ws: Workspace) {
        res = ResBlock(s, "\(name).res", cin: cin, cout: cout, embDim: c.embeddingDim, workspace: ws)
        tconv = TemporalConvBlock(s, "\(name).tconv", channels: cout, workspace: ws)
        spatial = SpatialTransformer(
            s, "\(name).spatial", channels: cout, heads: c.heads, contextDim: c.contextDim, workspace: ws)
        temporal = TemporalTransformer(
            s, "\(name).temporal", channels: cout, heads: c.heads, maxFrames: c.frames, workspace: ws)
    }
    func forward(_ x: Buffer, _ vs: VideoShape, emb: Buffer, context: Buffer?, contextTokens: Int) -> Buffer {
        let v2 = vs.with(channels: res.cout)
        let h = res.forward(x, vs, emb: emb)
        return temporal.forward(
            spatial.forward(tconv.forward(h, v2), v2, context: context, contextTokens: contextTokens), v2)
    }
    /// Returns dx; accumulates the embedding and context gradients.
    func backward(_ dy: Buffer, dEmb: Buffer, dContext: Buffer?) -> Buffer {
        let d1 = temporal.backward(dy)
        let d2 = spatial.backward(d1)
        if let dContext, spatial.dContext.count == dContext.count { dContext.add(spatial.dContext) }
        return res.backward(tconv.backward(d2), dEmb: dEmb)
    }
}

/// The spatio-temporal U-Net of MAVIN: two levels and a middle, the time + length
/// embedding in every ResBlock, boundary tokens in every spatial cross-attention.
public final class MavinUNet {
    public let config: ModelConfig
    public let store = ParameterStore()
    let workspace = Workspace()
    let timeEmbed: ScalarEmbedding, lengthEmbed: ScalarEmbedding
    let embAct = SiLULayer(), embOut: LinearLayer
    let boundary: BoundaryEncoder?
    let convIn: Conv2dLayer
    let down0: Stage, downsample: Conv2dLayer, down1: Stage, mid: Stage
    let up1: Stage, upConv: Conv2dLayer, up0: Stage
    let outNorm: GroupNormLayer, outAct = SiLULayer(), convOut: Conv2dLayer
    private let input = Buffer(), embSum = Buffer(), dEmb = Buffer(), dContext = Buffer()
    private let cat1 = Buffer(), cat0 = Buffer(), upsampled = Buffer(), dUp = Buffer(), dSkip0 = Buffer(),
        dSkip1 = Buffer()
    private let dCatA = Buffer(), dMid = Buffer()
    private var shapes: (full: VideoShape, half: VideoShape)!
    private var skip0: Buffer!, skip1: Buffer!, midOut: Buffer!
    private var hasContext = false

    public init(config c: ModelConfig) {
        config = c
        let s = store
        let ws = workspace
        let c0 = c.channels[0]
        let c1 = c.channels[1]
        timeEmbed = ScalarEmbedding(s, "time_embedding", freqDim: 64, dim: c.embeddingDim)
        lengthEmbed = ScalarEmbedding(s, "length_embedding", freqDim: 64, dim: c.embeddingDim)
        embOut = LinearLayer(s, "embedding_mlp", inDim: c.embeddingDim, outDim: c.embeddingDim)
        boundary = c.contextDim.map { BoundaryEncoder(s, dim: $0, patch: c.boundaryPatch, resolution: c.resolution) }
        convIn = Conv2dLayer(s, "conv_in", c.latentChannels + 1, c0, workspace: ws)
        down0 = Stage(s, "down.0", cin: c0, cout: c0, config: c, workspace: ws)
        downsample = Conv2dLayer(s, "down.0.downsample", c0, c0, stride: 2, workspace: ws)
        down1 = Stage(s, "down.1", cin: c0, cout: c1, config: c, workspace: ws)
        mid = Stage(s, "mid", cin: c1, cout: c1, config: c, workspace: ws)
        up1 = Stage(s, "up.1", cin: 2 * c1, cout: c1, config: c, workspace: ws)
        upConv = Conv2dLayer(s, "up.1.upsample.conv", c1, c1, workspace: ws)
        up0 = Stage(s, "up.0", cin: c1 + c0, cout: c0, config: c, workspace: ws)
        outNorm = GroupNormLayer(s, "norm_out", channels: c0)
        convOut = Conv2dLayer(s, "conv_out", c0, c.latentChannels, workspace: ws)
    }

    /// Fresh weights: PyTorch-style uniform fan-in init; the last layer of every
    /// residual branch starts at zero so the network starts as (almost) identity paths.
    public func initialise(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        store.initialise(using: &rng)
        for e in store.entries
        where e.name == "conv_out.weight" || e.name.hasSuffix(".proj_out.weight")
            || e.name.hasSuffix(".tconv.conv.weight")
        {
            (store.values + e.offset).update(repeating: 0, count: e.count)
        }
        store.syncEMA()
    }

    /// Zeroes the last convolution (weights and bias), e.g. when fine-tuning to a new target.
    public func zeroOutputLayer() {
        for e in store.entries where e.name.hasPrefix("conv_out.") {
            (store.values + e.offset).update(repeating: 0, count: e.count)
        }
    }

    public var parameterCount: Int { store.count }

    /// Forward pass; returns the prediction [windows, L, K, h, w] (ε or v per config).
    public func forward(_ x: UNetInput) -> Buffer {
        let c = config
        let W = x.timesteps.count
        let L = c.frames
        let K = c.latentChannels
        let side = c.latentSide
        precondition(
            x.latents.count == W * L * K * side * side, "latents: \(x.latents.count) values for \(W)×\(L)×\(K)×\(side)²"
        )
        let full = VideoShape(windows: W, frames: L, channels: K + 1, height: side, width: side)
        let half = VideoShape(windows: W, frames: L, channels: c.channels[1], height: side / 2, width: side / 2)
        shapes = (full, half)
        // Latents with the reference mask as one more channel.
        input.resize(full.count)
        let P = full.pixels
        for img in 0..<full.images {
            x.latents.withUnsafeBufferPointer { src in
                (input.ptr + img * (K + 1) * P).update(from: src.baseAddress! + img * K * P, count: K * P)
            }
            (input.ptr + (img * (K + 1) + K) * P).update(repeating: x.referenceMask[img], count: P)
        }
        // Embedding: MLP(time) + MLP(length) → SiLU → Linear.
        embSum.copy(from: timeEmbed.forward(x.timesteps))
        embSum.add(lengthEmbed.forward(x.lengths))
        let emb = embOut.forward(embAct.forward(embSum))
        let context = boundary?.forward(x.boundaryPixels, windows: W)
        hasContext = context != nil
        let ctxTokens = boundary.map { 2 * $0.tokensPerFrame } ?? 0

        let c0 = c.channels[0]
        let c1 = c.channels[1]
        let v0 = full.with(channels: c0)
        var h = convIn.forward(input, n: full.images, height: side, width: side)
        skip0 = down0.forward(h, v0, emb: emb, context: context, contextTokens: ctxTokens)
        h = downsample.forward(skip0, n: full.images, height: side, width: side)
        skip1 = down1.forward(h, half.with(channels: c0), emb: emb, context: context, contextTokens: ctxTokens)
        midOut = mid.forward(skip1, half, emb: emb, context: context, contextTokens: ctxTokens)
        cat1.resize(midOut.count * 2)
        concatChannelsForward(
            out: cat1.ptr, a: midOut.ptr, b: skip1.ptr, n: half.images, channelsA: c1, channelsB: c1,
            pixels: half.pixels)
        h = up1.forward(cat1, half.with(channels: 2 * c1), emb: emb, context: context, contextTokens: ctxTokens)
        upsampled.resize(h.count * 4)
        upsample2xForward(out: upsampled.ptr, inp: h.ptr, planes: half.images * c1, height: side / 2, width: side / 2)
        h = upConv.forward(upsampled, n: full.images, height: side, width: side)
        cat0.resize(full.images * (c1 + c0) * P)
        concatChannelsForward(
            out: cat0.ptr, a: h.ptr, b: skip0.ptr, n: full.images, channelsA: c1, channelsB: c0, pixels: P)
        h = up0.forward(cat0, full.with(channels: c1 + c0), emb: emb, context: context, contextTokens: ctxTokens)
        return convOut.forward(
            outAct.forward(outNorm.forward(h, n: full.images, pixels: P)), n: full.images, height: side, width: side)
    }

    /// Backward pass of the last forward, in mirror order; accumulates into store.grads.
    public func backward(_ dOut: Buffer) {
        let c = config
        let (full, half) = shapes!
        let c0 = c.channels[0]
        let c1 = c.channels[1]
        let side = c.latentSide
        let P = full.pixels
        dEmb.zeroed(full.windows * c.embeddingDim)
        let ctx: Buffer? =
            hasContext ? dContext.zeroed(full.windows * 2 * (boundary?.tokensPerFrame ?? 0) * (c.contextDim ?? 0)) : nil
        var d = outNorm.backward(outAct.backward(convOut.backward(dOut)))
        d = up0.backward(d, dEmb: dEmb, dContext: ctx)
        dUp.zeroed(full.images * c1 * P)
        dSkip0.zeroed(full.images * c0 * P)
        concatChannelsBackward(
            da: dUp.ptr, db: dSkip0.ptr, dout: d.ptr, n: full.images, channelsA: c1, channelsB: c0, pixels: P)
        d = upConv.backward(dUp)
        dCatA.zeroed(half.images * c1 * half.pixels)
        upsample2xBackward(dinp: dCatA.ptr, dout: d.ptr, planes: half.images * c1, height: side / 2, width: side / 2)
        d = up1.backward(dCatA, dEmb: dEmb, dContext: ctx)
        dMid.zeroed(half.count)
        dSkip1.zeroed(half.count)
        concatChannelsBackward(
            da: dMid.ptr, db: dSkip1.ptr, dout: d.ptr, n: half.images, channelsA: c1, channelsB: c1, pixels: half.pixels
        )
        dSkip1.add(mid.backward(dMid, dEmb: dEmb, dContext: ctx))
        d = down1.backward(dSkip1, dEmb: dEmb, dContext: ctx)
        dSkip0.add(downsample.backward(d))
        d = down0.backward(dSkip0, dEmb: dEmb, dContext: ctx)
        _ = convIn.backward(d, needInput: false)
        if let ctx { boundary?.backward(ctx) }
        let dSum = embAct.backward(embOut.backward(dEmb))
        timeEmbed.backward(dSum)
        lengthEmbed.backward(dSum)
    }
}
