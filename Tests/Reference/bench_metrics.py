"""Peer timing for `mavin bench metrics --python PY`: the same metrics of the same
12-frame case with scikit-image (PSNR, SSIM, standardised-luma SSIM for CLIP-RS) and
pytorch_msssim (MS-SSIM), the references our goldens come from.

    PY Tests/Reference/bench_metrics.py CASE.safetensors   # prints {"python_case_ms": …, "ms_ssim": …}
"""
import json
import sys
import time

import numpy as np
import torch
from pytorch_msssim import ms_ssim
from safetensors.numpy import load_file
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

torch.set_num_threads(2)


def luma(f):
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


def ssim(a, b):
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)


def standardised(l):
    sd = l.std()
    return np.full_like(l, 128) if sd <= 1e-3 else 128 + 48 * (l - l.mean()) / sd


def measure(gen, truth):
    lg, lt = [luma(f) for f in gen], [luma(f) for f in truth]
    # Identical frames: 100 dB, as `mavin` reports them (skimage says inf).
    psnr = np.mean([100.0 if np.array_equal(g, t) else min(100.0, peak_signal_noise_ratio(t, g, data_range=255))
                    for g, t in zip(gen, truth)])
    s = np.mean([ssim(g, t) for g, t in zip(lg, lt)])
    ms = ms_ssim(torch.from_numpy(np.stack(lg)[:, None]), torch.from_numpy(np.stack(lt)[:, None]),
                 data_range=255, size_average=False).mean().item()
    sg, st = [standardised(l) for l in lg], [standardised(l) for l in lt]
    rs = np.mean([min(a, b) / max(a, b) for a, b in
                  ((ssim(sg[i - 1], sg[i]), ssim(st[i - 1], st[i])) for i in range(1, len(gen)))])
    return psnr, s, ms, rs


case = load_file(sys.argv[1])
gen, truth = case["generated"].astype(np.uint8), case["truth"].astype(np.uint8)
measure(gen, truth)
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 2 or n < 3:
    scores = measure(gen, truth)
    n += 1
ms = (time.perf_counter() - t0) / n * 1000
print(json.dumps({"python_case_ms": ms, "psnr": scores[0], "ssim": scores[1], "ms_ssim": scores[2], "clip_rs": scores[3]}))
