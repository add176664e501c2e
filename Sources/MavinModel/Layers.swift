import Foundation
import Tensor

/// Model building blocks. Each holds the names of its parameters, the buffers its
/// forward pass saves for the backward pass, and the plain kernels of Tensor do
/// the work. `backward` returns the gradient of the block's input and accumulates
/// parameter gradients into the store; blocks are called in mirror order.

/// y = x Wᵀ + b on rows of width inDim.
final class LinearLayer {
    let store: ParameterStore
    let weight: Int, bias: Int?
    let inDim: Int, outDim: Int
    private var x: Buffer!
    private var rows = 0
    let y = Buffer(), dx = Buffer()

    init(_ store: ParameterStore, _ name: String, inDim: Int, outDim: Int, bias: Bool = true) {
        self.store = store
        self.inDim = inDim
        self.outDim = outDim
        weight = store.add("\(name).weight", shape: [outDim, inDim])
        self.bias = bias ? store.add("\(name).bias", shape: [outDim]) : nil
    }

    func forward(_ x: Buffer) -> Buffer {
        self.x = x
        rows = x.count / inDim
        y.resize(rows * outDim)
        linearForward(
            out: y.ptr, inp: x.ptr, weight: store.values + weight, bias: bias.map { store.values + $0 },
            rows: rows, inDim: inDim, outDim: outDim)
        return y
    }

    func backward(_ dy: Buffer, needInput: Bool = true) -> Buffer {
        if needInput { dx.zeroed(rows * inDim) }
        linearBackward(
            dinp: needInput ? dx.ptr : nil, dweight: store.grads + weight, dbias: bias.map { store.grads + $0 },
            dout: dy.ptr, inp: x.ptr, weight: store.values + weight, rows: rows, inDim: inDim, outDim: outDim)
        return dx
    }
}

final class Conv2dLayer {
    let store: ParameterStore
    let weight: Int, bias: Int
    let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    let workspace: Workspace
    private var x: Buffer!
    private(set) var shape: Conv2dShape!
    let y = Buffer(), dx = Buffer()

    init(
        _ store: ParameterStore, _ name: String, _ cin: Int, _ cout: Int, kernel: Int = 3, stride: Int = 1,
        workspace: Workspace
    ) {
        self.store = store
        inChannels = cin
        outChannels = cout
        self.kernel = kernel
        self.stride = stride
        padding = kernel / 2
        self.workspace = workspace
        weight = store.add("\(name).weight", shape: [cout, cin, kernel, kernel])
        bias = store.add("\(name).bias", shape: [cout])
    }

    func forward(_ x: Buffer, n: Int, height: Int, width: Int) -> Buffer {
        self.x = x
        shape = Conv2dShape(
            batch: n, inChannels: inChannels, height: height, width: width, outChannels: outChannels,
            kernel: kernel, stride: stride, padding: padding)
        y.resize(n * outChannels * shape.outHeight * shape.outWidth)
        conv2dForward(
            out: y.ptr, inp: x.ptr, weight: store.values + weight, bias: store.values + bias, shape: shape,
            workspace: workspace)
        return y
    }

    func backward(_ dy: Buffer, needInput: Bool = true) -> Buffer {
        if needInput { dx.zeroed(x.count) }
        conv2dBackward(
            dinp: needInput ? dx.ptr : nil, dweight: store.grads + weight, dbias: store.grads + bias, dout: dy.ptr,
            inp: x.ptr, weight: store.values + weight, shape: shape, workspace: workspace)
        return dx
    }
}

final class GroupNormLayer {
    let store: ParameterStore
    let weight: Int, bias: Int
    let channels: Int, groups: Int
    private var x: Buffer!
    private var n = 0, pixels = 0
    private let mean = Buffer(), rstd = Buffer()
    let y = Buffer(), dx = Buffer()

    init(_ store: ParameterStore, _ name: String, channels: Int, groups: Int = 32) {
        self.store = store
        self.channels = channels
        self.groups = min(groups, channels)
        weight = store.add("\(name).weight", shape: [channels], decay: false, initial: .ones)
        bias = store.add("\(name).bias", shape: [channels], decay: false)
    }

    func forward(_ x: Buffer, n: Int, pixels: Int) -> Buffer {
        self.x = x
        self.n = n
        self.pixels = pixels
        y.resize(x.count)
        mean.resize(n * groups)
        rstd.resize(n * groups)
        groupNormForward(
            out: y.ptr, mean: mean.ptr, rstd: rstd.ptr, inp: x.ptr, weight: store.values + weight,
            bias: store.values + bias,
            n: n, channels: channels, pixels: pixels, groups: groups)
        return y
    }

    func backward(_ dy: Buffer) -> Buffer {
        dx.zeroed(x.count)
        groupNormBackward(
            dinp: dx.ptr, dweight: store.grads + weight, dbias: store.grads + bias, dout: dy.ptr, inp: x.ptr,
            weight: store.values + weight, mean: mean.ptr, rstd: rstd.ptr, n: n, channels: channels, pixels: pixels,
            groups: groups)
        return dx
    }
}

final class LayerNormLayer {
    let store: ParameterStore
    let weight: Int, bias: Int
    let dim: Int
    private var x: Buffer!
    private let mean = Buffer(), rstd = Buffer()
    let y = Buffer(), dx = Buffer()

    init(_ store: ParameterStore, _ name: String, dim: Int) {
        self.store = store
        self.dim = dim
        weight = store.add("\(name).weight", shape: [dim], decay: false, initial: .ones)
        bias = store.add("\(name).bias", shape: [dim], decay: false)
    }

    func forward(_ x: Buffer) -> Buffer {
        self.x = x
        let rows = x.count / dim
        y.resize(x.count)
        mean.resize(rows)
        rstd.resize(rows)
        layerNormForward(
            out: y.ptr, mean: mean.ptr, rstd: rstd.ptr, inp: x.ptr, weight: store.values + weight,
            bias: store.values + bias, rows: rows, dim: dim)
        return y
    }

    func backward(_ dy: Buffer) -> Buffer {
        dx.zeroed(x.count)
        layerNormBackward(
            dinp: dx.ptr, dweight: store.grads + weight, dbias: store.grads + bias, dout: dy.ptr, inp: x.ptr,
            weight: store.values + weight, mean: mean.ptr, rstd: rstd.ptr, rows: x.count / dim, dim: dim)
        return dx
    }
}

final class SiLULayer {
    private var x: Buffer!
    let y = Buffer(), dx = Buffer()
    func forward(_ x: Buffer) -> Buffer {
        self.x = x
        y.resize(x.count)
        siluForward(out: y.ptr, inp: x.ptr, count: x.count)
        return y
    }
    func backward(_ dy: Buffer) -> Buffer {
        dx.zeroed(x.count)
        siluBackward(dinp: dx.ptr, dout: dy.ptr, inp: x.ptr, count: x.count)
        return dx
    }
}

final class GELULayer {
    private var x: Buffer!
    let y = Buffer(), dx = Buffer()
    func forward(_ x: Buffer) -> Buffer {
        self.x = x
        y.resize(x.count)
        geluForward(out: y.ptr, inp: x.ptr, count: x.count)
        return y
    }
    func backward(_ dy: Buffer) -> Buffer {
        dx.zeroed(x.count)
        geluBackward(dinp: dx.ptr, dout: dy.ptr, inp: x.ptr, count: x.count)
        return dx
    }
}

/// A fixed axis permutation of a 4-d activation (and its inverse for the gradient).
final class PermuteLayer {
    let perm: [Int]
    private var shape: [Int] = []
    let y = Buffer(), dx = Buffer()
    init(_ perm: [Int]) { self.perm = perm }

    func forward(_ x: Buffer, shape: [Int]) -> Buffer {
        self.shape = shape
        y.resize(x.count)
        permute4(out: y.ptr, inp: x.ptr, shape: shape, perm: perm)
        return y
    }

    func backward(_ dy: Buffer) -> Buffer {
        dx.resize(dy.count)
        permute4(out: dx.ptr, inp: dy.ptr, shape: perm.map { shape[$0] }, perm: inversePermutation(perm))
        return dx
    }
}

/// Multi-head attention with its own Q/K/V/out projections: self-attention when
/// `context` is nil, else cross-attention to context tokens shared by groups of
/// `queriesPerContext` query sequences (all frames of one window share its boundary tokens).
final class AttentionLayer {
    let heads: Int, dim: Int, contextDim: Int
    let toQ: LinearLayer, toK: LinearLayer, toV: LinearLayer, toOut: LinearLayer
    private var shape: AttentionShape!
    private var repeatCount = 1
    private let probs = Buffer(), o = Buffer()
    private let kRep = Buffer(), vRep = Buffer()
    private let dq = Buffer(), dk = Buffer(), dv = Buffer(), dkCtx = Buffer(), dvCtx = Buffer()
    let workspace: Workspace
    let dContext = Buffer()
    private var isCross = false
    private var kSrc: Buffer!, vSrc: Buffer!

    init(_ store: ParameterStore, _ name: String, dim: Int, heads: Int, contextDim: Int? = nil, workspace: Workspace) {
        self.dim = dim
        self.heads = heads
        self.contextDim = contextDim ?? dim
        self.workspace = workspace
        toQ = LinearLayer(store, "\(name).to_q", inDim: dim, outDim: dim, bias: false)
        toK = LinearLayer(store, "\(name).to_k", inDim: self.contextDim, outDim: dim, bias: false)
        toV = LinearLayer(store, "\(name).to_v", inDim: self.contextDim, outDim: dim, bias: false)
        toOut = LinearLayer(store, "\(name).to_out", inDim: dim, outDim: dim)
    }

    /// x [sequences, tokens, dim]; context [sequences / queriesPerContext, contextTokens, contextDim].
    func forward(
        _ x: Buffer, sequences: Int, tokens: Int, context: Buffer? = nil, contextTokens: Int = 0,
        queriesPerContext: Int = 1
    ) -> Buffer {
        isCross = context != nil
        let q = toQ.forward(x)
        let keys = isCross ? contextTokens : tokens
        var k = toK.forward(context ?? x)
        var v = toV.forward(context ?? x)
        repeatCount = queriesPerContext
        if isCross && queriesPerContext > 1 {
            // Share each context's K/V with all its query sequences.
            let per = keys * dim
            kRep.resize(sequences * per)
            vRep.resize(sequences * per)
            for s in 0..<sequences {
                (kRep.ptr + s * per).update(from: k.ptr + (s / queriesPerContext) * per, count: per)
                (vRep.ptr + s * per).update(from: v.ptr + (s / queriesPerContext) * per, count: per)
            }
            k = kRep
            v = vRep
        }
        kSrc = k
        vSrc = v
        shape = AttentionShape(batch: sequences, queries: tokens, keys: keys, heads: heads, headDim: dim / heads)
        probs.resize(shape.probabilities)
        o.resize(sequences * tokens * dim)
        attentionForward(out: o.ptr, probs: probs.ptr, q: q.ptr, k: k.ptr, v: v.ptr, shape: shape)
        return toOut.forward(o)
    }

    /// Returns dx; for cross-attention the context gradient is in `dContext`.
    func backward(_ dy: Buffer) -> Buffer {
        let dO = toOut.backward(dy)
        dq.zeroed(toQ.y.count)
        dk.zeroed(kSrc.count)
        dv.zeroed(vSrc.count)
        attentionBackward(
            dq: dq.ptr, dk: dk.ptr, dv: dv.ptr, dout: dO.ptr, probs: probs.ptr, q: toQ.y.ptr, k: kSrc.ptr, v: vSrc.ptr,
            shape: shape, workspace: workspace)
        var dK = dk
        var dV = dv
        if isCross && repeatCount > 1 {
            let per = shape.keys * dim
            let contexts = shape.batch / repeatCount
            dkCtx.zeroed(contexts * per)
            dvCtx.zeroed(contexts * per)
            for s in 0..<shape.batch {
                let c = s / repeatCount
                let a = dkCtx.ptr + c * per
                let b = dk.ptr + s * per
                let a2 = dvCtx.ptr + c * per
                let b2 = dv.ptr + s * per
                for i in 0..<per {
                    a[i] += b[i]
                    a2[i] += b2[i]
                }
            }
            dK = dkCtx
            dV = dvCtx
        }
        let dxq = toQ.backward(dq)
        if isCross {
            let a = toK.backward(dK)
            let b = toV.backward(dV)
            dContext.copy(from: a)
            dContext.add(b)
            return dxq
        }
        let a = toK.backward(dK)
        let b = toV.backward(dV)
        dxq.add(a)
        dxq.add(b)
        return dxq
    }
}
