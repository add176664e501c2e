"""Golden SSIM/PSNR (scikit-image) and MS-SSIM (pytorch_msssim) values for the Swift metrics.

    .venv/bin/pip install scikit-image pytorch_msssim safetensors torch==2.13.0
    .venv/bin/python Tests/Reference/metrics_goldens.py   # writes Tests/MetricsTests/Goldens/metrics.safetensors

SSIM: skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=255) on BT.601 luma of 8-bit RGB.
PSNR: skimage.metrics.peak_signal_noise_ratio on the RGB arrays (data_range=255).
MS-SSIM: pytorch_msssim.ms_ssim(data_range=255) on the same luma, 5 scales.
"""
from pathlib import Path

import numpy as np
import torch
from pytorch_msssim import ms_ssim
from safetensors.numpy import save_file
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

rng = np.random.default_rng(3)


def scene(h, w):
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255.0 / w, y * 255.0 / h, 128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0)], axis=-1)
    for _ in range(6):
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(3, max(4, min(h, w) // 4))
        img[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = rng.integers(0, 256, 3)
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def distort(a, kind):
    f = a.astype(np.float64)
    if kind == "noise":
        f = f + rng.normal(0, 20, f.shape)
    elif kind == "shift":
        f = np.roll(f, 2, axis=1)
    elif kind == "dark":
        f = f * 0.5
    return np.clip(f, 0, 255).round().astype(np.uint8)


def luma(rgb):
    f = rgb.astype(np.float64)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


out = {}
for i, (h, w, kind) in enumerate([(48, 64, "noise"), (48, 64, "shift"), (40, 52, "dark"), (176, 192, "noise"), (176, 192, "shift")]):
    a = scene(h, w)
    b = distort(a, kind)
    out[f"case{i}.a"], out[f"case{i}.b"] = a.astype(np.float32), b.astype(np.float32)
    ssim = structural_similarity(luma(a), luma(b), gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    psnr = peak_signal_noise_ratio(a, b, data_range=255)
    vals = [ssim, psnr]
    if min(h, w) > 160:
        ta, tb = (torch.tensor(luma(x))[None, None] for x in (a, b))
        vals.append(float(ms_ssim(ta, tb, data_range=255, size_average=True)))
    out[f"case{i}.values"] = np.array(vals, dtype=np.float32)
dest = Path(__file__).resolve().parents[1] / "MetricsTests" / "Goldens" / "metrics.safetensors"
save_file(out, str(dest), metadata={"generator": "metrics_goldens.py"})
print(f"wrote {dest}")
for k, v in out.items():
    if k.endswith("values"):
        print(k, v)
