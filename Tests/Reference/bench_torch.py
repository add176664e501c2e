"""Times the shapes of `mavin bench tensor` in PyTorch (CPU, same machine, same run if
invoked together) and prints the ratio ours/theirs per row.

    .venv/bin/python Tests/Reference/bench_torch.py [path/to/mavin]
"""
import json
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)


def best(fn, reps=20):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1e3


rows = {}
for ch, side in [(64, 16), (128, 8), (256, 4)]:
    x = torch.randn(32, ch, side, side, requires_grad=True)
    w = (torch.randn(ch, ch, 3, 3) * 0.05).requires_grad_(True)
    b = torch.zeros(ch, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    g = torch.randn_like(y)
    f = best(lambda: F.conv2d(x, w, b, padding=1))
    bw = best(lambda: torch.autograd.grad(F.conv2d(x, w, b, padding=1), (x, w, b), g))
    rows[f"conv3x3_{ch}ch_{side}x{side}x32"] = (f, bw - f)
for name, batch, tokens in [("attention_spatial_256tok_x32", 32, 256), ("attention_temporal_32tok_x256", 256, 32)]:
    q = torch.randn(batch, 4, tokens, 16, requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q)
    g = torch.randn_like(out)
    f = best(lambda: F.scaled_dot_product_attention(q, q, q))
    bw = best(lambda: torch.autograd.grad(F.scaled_dot_product_attention(q, q, q), (q,), g))
    rows[name] = (f, bw - f)
x = torch.randn(32, 64, 16, 16, requires_grad=True)
w = torch.ones(64, requires_grad=True)
b = torch.zeros(64, requires_grad=True)
g = torch.randn(32, 64, 16, 16)
f = best(lambda: F.group_norm(x, 32, w, b))
bw = best(lambda: torch.autograd.grad(F.group_norm(x, 32, w, b), (x, w, b), g))
rows["groupnorm_64ch_16x16x32"] = (f, bw - f)

ours = {}
if len(sys.argv) > 1:
    report = json.loads(subprocess.run([sys.argv[1], "bench", "tensor", "--json"], capture_output=True, text=True, check=True).stdout)
    ours = {r["name"]: (r["fwd_ms"], r["bwd_ms"]) for r in report["rows"]}
total_ours = total_theirs = 0.0
print(f"{'shape':34} {'torch fwd':>10} {'torch bwd':>10} {'ours fwd':>9} {'ours bwd':>9} {'speed ratio fwd+bwd':>20}")
for k, (f, bw) in rows.items():
    if k in ours:
        of, ob = ours[k]
        total_ours += of + ob
        total_theirs += f + bw
        print(f"{k:34} {f:9.2f}ms {bw:9.2f}ms {of:8.2f}ms {ob:8.2f}ms {(f + bw) / (of + ob):19.2f}x")
    else:
        print(f"{k:34} {f:9.2f}ms {bw:9.2f}ms")
if total_ours:
    print(f"all rows, fwd+bwd: ours {total_ours:.1f} ms, torch {total_theirs:.1f} ms, our speed = {total_theirs / total_ours:.2f}x torch's")
