"""PyTorch twin of the Swift MavinUNet: same weight names, same maths.

    .venv/bin/python Tests/Reference/mavin_twin.py CHECKPOINT INPUT OUTPUT
        loads a Mavin checkpoint (safetensors, config in its metadata) and an input file
        (latents, reference_mask, timesteps, lengths, boundary_pixels), writes the prediction.
    .venv/bin/python Tests/Reference/mavin_twin.py --bench CHECKPOINT
        times one denoising step over a full window (for `mavin bench model --torch`).

Definitions mirrored from Sources/MavinModel: GroupNorm(min(32, C), eps 1e-5), LayerNorm eps 1e-5,
GELU exact, attention softmax(QK^T/sqrt(d))V with bias-free q/k/v and a biased out projection,
sinusoid [cos(x f_i), sin(x f_i)] with f_i = exp(-ln(10000) i / half).
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

torch.set_num_threads(2)


class Twin:
    def __init__(self, w, cfg):
        self.w, self.c = w, cfg

    def p(self, name):
        return self.w[name]

    def lin(self, name, x, bias=True):
        return F.linear(x, self.p(name + ".weight"), self.w.get(name + ".bias") if bias else None)

    def conv(self, name, x, stride=1):
        k = self.p(name + ".weight").shape[-1]
        return F.conv2d(x, self.p(name + ".weight"), self.p(name + ".bias"), stride=stride, padding=k // 2)

    def gn(self, name, x):
        c = x.shape[1]
        return F.group_norm(x, min(32, c), self.p(name + ".weight"), self.p(name + ".bias"), eps=1e-5)

    def ln(self, name, x):
        return F.layer_norm(x, (x.shape[-1],), self.p(name + ".weight"), self.p(name + ".bias"), eps=1e-5)

    def attn(self, name, x, ctx=None, repeat=1):
        heads = self.c["heads"]
        q = self.lin(name + ".to_q", x, bias=False)
        src = x if ctx is None else ctx
        k, v = self.lin(name + ".to_k", src, bias=False), self.lin(name + ".to_v", src, bias=False)
        if ctx is not None and repeat > 1:
            k, v = k.repeat_interleave(repeat, 0), v.repeat_interleave(repeat, 0)
        B, N, D = q.shape
        d = D // heads
        qh, kh, vh = (t.reshape(t.shape[0], t.shape[1], heads, d).transpose(1, 2) for t in (q, k, v))
        o = torch.softmax(qh @ kh.transpose(-1, -2) / math.sqrt(d), -1) @ vh
        return self.lin(name + ".to_out", o.transpose(1, 2).reshape(B, N, D))

    def block(self, name, x, ctx=None, repeat=1):
        x = x + self.attn(name + ".attn1", self.ln(name + ".norm1", x))
        if ctx is not None and (name + ".attn2.to_q.weight") in self.w:
            x = x + self.attn(name + ".attn2", self.ln(name + ".norm2", x), ctx, repeat)
        h = self.ln(name + ".norm3", x)
        return x + self.lin(name + ".ff.2", F.gelu(self.lin(name + ".ff.0", h)))

    def stage(self, name, x, W, T, emb, ctx):
        # ResBlock
        h = self.conv(name + ".res.conv1", F.silu(self.gn(name + ".res.norm1", x)))
        e = self.lin(name + ".res.emb_proj", F.silu(emb))              # [W, C]
        h = h + e.repeat_interleave(T, 0)[:, :, None, None]
        h = self.conv(name + ".res.conv2", F.silu(self.gn(name + ".res.norm2", h)))
        skip = self.conv(name + ".res.skip", x) if (name + ".res.skip.weight") in self.w else x
        x = h + skip
        # temporal conv over frames at every pixel
        N, C, H, Wd = x.shape
        a = F.silu(self.gn(name + ".tconv.norm", x))
        a = a.reshape(W, T, C, H * Wd).permute(0, 3, 2, 1).reshape(W * H * Wd, C, T)
        y = F.conv1d(a, self.p(name + ".tconv.conv.weight"), self.p(name + ".tconv.conv.bias"), padding=1)
        x = x + y.reshape(W, H * Wd, C, T).permute(0, 3, 2, 1).reshape(N, C, H, Wd)
        # spatial transformer
        t = self.gn(name + ".spatial.norm", x).reshape(N, C, H * Wd).transpose(1, 2)
        t = self.lin(name + ".spatial.proj_in", t)
        t = self.block(name + ".spatial.block", t, ctx, repeat=T)
        t = self.lin(name + ".spatial.proj_out", t)
        x = x + t.transpose(1, 2).reshape(N, C, H, Wd)
        # temporal transformer
        t = self.gn(name + ".temporal.norm", x).reshape(W, T, C, H * Wd).permute(0, 3, 1, 2).reshape(W * H * Wd, T, C)
        t = t + self.p(name + ".temporal.frame_pos")[:T][None]
        t = self.lin(name + ".temporal.proj_out", self.block(name + ".temporal.block", t))
        return x + t.reshape(W, H * Wd, T, C).permute(0, 2, 3, 1).reshape(N, C, H, Wd)

    def sinusoid(self, x, dim=64):
        half = dim // 2
        f = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        a = x[:, None] * f[None]
        return torch.cat([torch.cos(a), torch.sin(a)], 1)

    def forward(self, lat, mask, ts, ls, px):
        c = self.c
        W, T, K, S = ts.shape[0], c["frames"], c["latentChannels"], c["resolution"] // c["codecPatch"]
        x = torch.cat([lat.reshape(W * T, K, S, S), mask.reshape(W * T, 1, 1, 1).expand(W * T, 1, S, S)], 1)
        te = self.lin("time_embedding.linear_2", F.silu(self.lin("time_embedding.linear_1", self.sinusoid(ts))))
        le = self.lin("length_embedding.linear_2", F.silu(self.lin("length_embedding.linear_1", self.sinusoid(ls))))
        emb = self.lin("embedding_mlp", F.silu(te + le))
        ctx = None
        if c.get("contextDim"):
            R, p = c["resolution"], c["boundaryPatch"]
            g = R // p
            frames = px.reshape(W * 2, 3, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(W * 2, g * g, 3 * p * p)
            tok = self.lin("bfg.patch_embed", frames) + self.p("bfg.position")[None]
            tok = tok + self.p("bfg.boundary_type").repeat(W, 1)[:, None, :]
            ctx = self.ln("bfg.norm", tok).reshape(W, 2 * g * g, -1)
        h = self.conv("conv_in", x)
        s0 = self.stage("down.0", h, W, T, emb, ctx)
        h = self.conv("down.0.downsample", s0, stride=2)
        s1 = self.stage("down.1", h, W, T, emb, ctx)
        m = self.stage("mid", s1, W, T, emb, ctx)
        h = self.stage("up.1", torch.cat([m, s1], 1), W, T, emb, ctx)
        h = self.conv("up.1.upsample.conv", F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.stage("up.0", torch.cat([h, s0], 1), W, T, emb, ctx)
        return self.conv("conv_out", F.silu(self.gn("norm_out", h))).reshape(W, T, K, S, S)


def load(path):
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        cfg = json.loads(f.metadata()["mavin.config"])
    return Twin(load_file(path), cfg), cfg


if __name__ == "__main__":
    if sys.argv[1] == "--bench":
        twin, cfg = load(sys.argv[2])
        S = cfg["resolution"] // cfg["codecPatch"]
        args = (torch.randn(1, cfg["frames"], cfg["latentChannels"], S, S), torch.zeros(1, cfg["frames"]),
                torch.tensor([500.0]), torch.tensor([10.0]), torch.rand(1, 2, 3, cfg["resolution"], cfg["resolution"]))
        with torch.no_grad():
            twin.forward(*args)
            t0 = time.perf_counter()
            for _ in range(5):
                twin.forward(*args)
        print(json.dumps({"torch_step_seconds": (time.perf_counter() - t0) / 5}))
    else:
        twin, cfg = load(sys.argv[1])
        inp = load_file(sys.argv[2])
        with torch.no_grad():
            out = twin.forward(inp["latents"], inp["reference_mask"], inp["timesteps"], inp["lengths"], inp["boundary_pixels"])
        save_file({"prediction": out.contiguous()}, sys.argv[3])
        print(f"wrote {sys.argv[3]}: {tuple(out.shape)}")
