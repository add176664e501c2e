"""numpy reference of the Gaussian filter mixer (MAVIN Eq. 4-7), independent of the Swift code.

    .venv/bin/python Tests/Reference/gfm_reference.py   # writes Tests/ModelTests/Goldens/gfm.safetensors

For each infill frame n in s+1..e-1: the nearest boundary latent (s if n <= (s+e)//2, else e),
repeated over the l infill frames, and fresh noise are 3D-FFT'd over (frames, H, W); a centred
Gaussian low-pass G with stop frequency f(n) = max(0, f0 - lambda*min(|n-s|,|n-e|)*f0) on
frequencies normalised to [-1, 1) keeps the boundary's low frequencies, 1-G the noise's high ones;
the inverse FFT's frame n is the initial noise of frame n.
"""
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file


def low_pass(T, H, W, fs, ft):
    if fs <= 0 or ft <= 0:
        return np.zeros((T, H, W))
    def freqs(n):
        return np.fft.fftfreq(n) * 2.0  # cycles/sample scaled so Nyquist is 1
    t, y, x = np.meshgrid(freqs(T), freqs(H), freqs(W), indexing="ij")
    return np.exp(-(x ** 2 + y ** 2) / (2 * fs ** 2) - t ** 2 / (2 * ft ** 2))


def mix(zs, ze, noise, s, e, f0, lam):
    l, C, H, W = noise.shape
    out = np.zeros_like(noise)
    F_noise = np.fft.fftn(noise.transpose(1, 0, 2, 3), axes=(1, 2, 3))
    F_s = np.fft.fftn(np.repeat(zs[:, None], l, axis=1), axes=(1, 2, 3))
    F_e = np.fft.fftn(np.repeat(ze[:, None], l, axis=1), axes=(1, 2, 3))
    for f in range(l):
        n = s + 1 + f
        stop = max(0.0, f0 - lam * min(abs(n - s), abs(n - e)) * f0)
        G = low_pass(l, H, W, stop, stop)[None]
        src = F_s if n <= (s + e) // 2 else F_e
        mixed = np.fft.ifftn(src * G + F_noise * (1 - G), axes=(1, 2, 3)).real
        out[f] = mixed[:, f]
    return out


rng = np.random.default_rng(7)
C, H, W, s, e = 3, 6, 5, 1, 10
l = e - s - 1
zs, ze = rng.standard_normal((C, H, W)), rng.standard_normal((C, H, W)) + 1.5
noise = rng.standard_normal((l, C, H, W))
tensors = {"zs": zs, "ze": ze, "noise": noise}
for name, f0, lam in [("default", 0.6, 0.1), ("high", 0.95, 0.05), ("zero", 0.0, 0.1)]:
    tensors[f"out_{name}"] = mix(zs, ze, noise, s, e, f0, lam)
dest = Path(__file__).resolve().parents[1] / "ModelTests" / "Goldens" / "gfm.safetensors"
save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, str(dest),
          metadata={"s": str(s), "e": str(e), "generator": "gfm_reference.py"})
print(f"wrote {dest}")
