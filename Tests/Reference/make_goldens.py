"""PyTorch twin of the tensor kernels: writes golden inputs, outputs and gradients.

Run with the local CPU wheel (never needed by the Swift tests themselves):

    python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 safetensors numpy
    .venv/bin/python Tests/Reference/make_goldens.py            # writes Tests/TensorTests/Goldens/ops.safetensors
    .venv/bin/python Tests/Reference/make_goldens.py --check F  # checks a safetensors file written by `mavin`

Definitions followed: nn.GroupNorm / nn.LayerNorm (eps 1e-5), nn.GELU() (exact erf),
attention softmax(Q Kᵀ / sqrt(d)) V per head, conv weights in PyTorch layout.
Every value is computed in float64 from float32-rounded inputs, then stored as float32.
"""
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file, load_file

torch.manual_seed(1234)
out = {}


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).float().double().requires_grad_(True)


def record(name, tensors, result, grads_of):
    dout = torch.randn_like(result).float().double()
    (result * dout).sum().backward()
    for k, v in tensors.items():
        out[f"{name}.{k}"] = v.detach().float().contiguous()
    out[f"{name}.out"] = result.detach().float().contiguous()
    out[f"{name}.dout"] = dout.float().contiguous()
    for k in grads_of:
        out[f"{name}.d{k}"] = tensors[k].grad.detach().float().contiguous()


x, w, b = leaf(5, 7), leaf(6, 7), leaf(6)
record("linear", dict(x=x, w=w, b=b), F.linear(x, w, b), "xwb")

x, w, b = leaf(2, 3, 6, 5), leaf(4, 3, 3, 3), leaf(4)
record("conv3x3", dict(x=x, w=w, b=b), F.conv2d(x, w, b, stride=1, padding=1), "xwb")

x, w, b = leaf(2, 3, 7, 6), leaf(4, 3, 3, 3), leaf(4)
record("conv_s2", dict(x=x, w=w, b=b), F.conv2d(x, w, b, stride=2, padding=1), "xwb")

x, w, b = leaf(2, 4, 3, 3), leaf(5, 4, 1, 1), leaf(5)
record("conv1x1", dict(x=x, w=w, b=b), F.conv2d(x, w, b), "xwb")

# Temporal conv: x [B, T, C, P] → Conv1d over T with (B·P) as batch.
B, T, C, P, Co = 2, 5, 3, 4, 4
x, w, b = leaf(B, T, C, P), leaf(Co, C, 3), leaf(Co)
y = F.conv1d(x.permute(0, 3, 2, 1).reshape(B * P, C, T), w, b, padding=1)
y = y.reshape(B, P, Co, T).permute(0, 3, 2, 1)
record("tconv", dict(x=x, w=w, b=b), y, "xwb")

x, w, b = leaf(2, 6, 5), leaf(6), leaf(6)
record("groupnorm", dict(x=x, w=w, b=b), F.group_norm(x, 3, w, b, eps=1e-5), "xwb")

x, w, b = leaf(4, 8), leaf(8), leaf(8)
record("layernorm", dict(x=x, w=w, b=b), F.layer_norm(x, (8,), w, b, eps=1e-5), "xwb")

x = leaf(50, scale=3.0)
record("silu", dict(x=x), F.silu(x), "x")
x = leaf(50, scale=3.0)
record("gelu", dict(x=x), F.gelu(x), "x")
x = leaf(3, 7, scale=2.0)
record("softmax", dict(x=x), torch.softmax(x, dim=-1), "x")

Bq, Nq, Nk, H, d = 2, 5, 6, 2, 4
q, k, v = leaf(Bq, Nq, H * d), leaf(Bq, Nk, H * d), leaf(Bq, Nk, H * d)
qh, kh, vh = (t.reshape(Bq, -1, H, d).transpose(1, 2) for t in (q, k, v))
att = torch.softmax(qh @ kh.transpose(-1, -2) / math.sqrt(d), dim=-1) @ vh
record("attention", dict(q=q, k=k, v=v), att.transpose(1, 2).reshape(Bq, Nq, H * d), "qkv")

x = leaf(2, 3, 3, 4)
record("upsample", dict(x=x), F.interpolate(x, scale_factor=2, mode="nearest"), "x")

a, c = leaf(2, 2, 5), leaf(2, 3, 5)
record("concat", dict(a=a, c=c), torch.cat([a, c], dim=1), "ac")

vals = torch.tensor([0.0, 17.0, 999.0], dtype=torch.float64, requires_grad=True)
half = 4
freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
arg = vals[:, None] * freqs[None]
record("sinusoid", dict(x=vals), torch.cat([torch.cos(arg), torch.sin(arg)], dim=1), "x")

pred, target = leaf(4, 6), leaf(4, 6)
mask = torch.tensor([1.0, 0.0, 1.0, 1.0], dtype=torch.float64)
loss = (((pred - target) ** 2).sum(dim=1) * mask).sum() / (mask.sum() * 6)
loss.backward()
out["mse.pred"], out["mse.target"], out["mse.mask"] = pred.detach().float(), target.detach().float(), mask.float()
out["mse.loss"], out["mse.dpred"] = loss.detach().float().reshape(1), pred.grad.float()


def check(path):
    """A file written by `mavin` (TensorTests writes one to /tmp) must load with identical values."""
    t = load_file(path)
    n = t["check.ramp"].numel()
    expected = torch.tensor([(i * 37 % 101) / 8.0 - 3.0 for i in range(n)], dtype=torch.float32)
    assert torch.equal(t["check.ramp"].flatten(), expected), "values differ"
    print(f"{path}: {len(t)} tensors load in safetensors.torch with identical values")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        dest = Path(__file__).resolve().parents[1] / "TensorTests" / "Goldens" / "ops.safetensors"
        save_file(out, str(dest), metadata={"generator": "make_goldens.py", "torch": torch.__version__})
        print(f"wrote {len(out)} tensors to {dest}")
