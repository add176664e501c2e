#!/usr/bin/env python3
"""Frame-averaged PSNR of a blend of the two boundary frames along the anchor's eased curve
(Anchor.weight) for several sharpness values: on the transitions of a synthetic folder and on
random windows. An analysis aid for Samples/models/README.md, independent of `mavin`
(NumPy + the ffmpeg command line); never needed at run time.

    python3 Samples/models/anchor-curve.py data/train --length 12 --step 2
"""
import argparse, json, os, subprocess
import numpy as np


def frames(path, size):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size, size, 3).astype(np.float32)


def weight(u, a):
    if a < 1e-3:
        return u
    sig = lambda x: 1 / (1 + np.exp(-x))
    return (sig(a * (u - 0.5)) - sig(-a / 2)) / (sig(a / 2) - sig(-a / 2))


def psnr(a, b):
    mse = ((a - b) ** 2).mean(axis=(-1, -2, -3))
    return 10 * np.log10(255 ** 2 / np.maximum(mse, 1e-10))


def score(cases, a, l):
    w = weight(np.arange(1, l + 1) / (l + 1), a)[:, None, None, None]
    return float(np.mean([psnr(xs + w * (xe - xs), x).mean() for xs, x, xe in cases]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--length", type=int, default=12)
    p.add_argument("--step", type=int, default=1, help="use every Nth frame (2 for the 30 fps training footage)")
    p.add_argument("--random", type=int, default=300, help="random windows to add")
    args = p.parse_args()
    l = args.length
    manifest = json.load(open(os.path.join(args.folder, "manifest.json")))
    videos, transitions = [], []
    for entry in manifest["entries"]:
        v = frames(os.path.join(args.folder, entry["file"]), entry["size"])[::args.step]
        videos.append(v)
        for t in entry["transitions"]:
            centre = (t["start"] // args.step + t["end"] // args.step) // 2
            s = centre - (l + 1) // 2
            e = s + l + 1
            if s >= 3 and e + 3 < len(v):
                transitions.append((v[s], v[s + 1:e], v[e]))
    rng = np.random.default_rng(0)
    windows = []
    for _ in range(args.random):
        v = videos[rng.integers(len(videos))]
        s = int(rng.integers(0, len(v) - l - 2))
        windows.append((v[s], v[s + 1:s + l + 1], v[s + l + 1]))
    repeat = float(np.mean([psnr(np.where((np.arange(l) >= (l + 1) // 2)[:, None, None, None], xe, xs), x).mean()
                            for xs, x, xe in transitions]))
    print(f"{len(transitions)} transitions, {len(windows)} random windows, l = {l}; frame repeat on the transitions: {repeat:.2f} dB")
    print("sharpness  transitions (dB)  random windows (dB)")
    for a in [0, 4, 8, 12, 16, 20, 30]:
        print(f"{a:9d}  {score(transitions, a, l):16.2f}  {score(windows, a, l):19.2f}")


if __name__ == "__main__":
    main()
