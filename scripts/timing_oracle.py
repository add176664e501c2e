# Oracle experiment behind the timed blend (Samples/models/README.md): on synthetic transitions, PSNR of
# linear motion with a plain or a visibility-weighted blend, a smoothstep retiming, and the best time per frame.
# Usage: python3 scripts/timing_oracle.py DATASET_FOLDER MAX_CASES (needs opencv-python-headless, numpy).
import json, sys, cv2, numpy as np
folder, L, maxc = sys.argv[1], 12, int(sys.argv[2])
man = json.load(open(f"{folder}/manifest.json"))
dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
def frames(path):
    cap = cv2.VideoCapture(path); out = []
    while True:
        ok, f = cap.read()
        if not ok: break
        out.append(f.astype(np.float32))
    return out
def psnr(a, b): return 10 * np.log10(255**2 / max(1e-10, np.mean((a - b) ** 2)))
def vis(f, g):  # forward-backward consistency of f (a->b) using g (b->a)
    h, w = f.shape[:2]; xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    gw = cv2.remap(g, xs + f[..., 0], ys + f[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    d = np.sum((f + gw) ** 2, -1); return np.exp(-d / (0.01 * (np.sum(f**2, -1) + np.sum(gw**2, -1)) + 0.5))
res = {}
n = 0
for e in man["entries"]:
    fr = None
    for t in e["transitions"]:
        c = (t["start"] + t["end"]) // 2; s = c - (L + 1) // 2; en = s + L + 1
        if s - 2 < 0 or en + 2 >= e["frames"]: continue
        if fr is None: fr = frames(f"{folder}/{e['file']}")
        a, b = fr[s], fr[en]
        ga, gb = [cv2.cvtColor(x.astype(np.uint8), cv2.COLOR_BGR2GRAY) for x in (a, b)]
        f01, f10 = dis.calc(ga, gb, None), dis.calc(gb, ga, None)
        v0, v1 = vis(f01, f10), vis(f10, f01)
        h, w = ga.shape
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        def warp(img, f): return cv2.remap(img, xs + f[..., 0], ys + f[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        def synth(t, tb=None, visw=False):
            tb = t if tb is None else tb
            ft0 = (-(1 - t) * t * f01 + t * t * f10).astype(np.float32); ft1 = ((1 - t) ** 2 * f01 - t * (1 - t) * f10).astype(np.float32)
            A, B = warp(a, ft0), warp(b, ft1)
            if visw:
                ws = (1 - tb) * warp(v0, ft0); we = tb * warp(v1, ft1); m = (ws / np.maximum(1e-4, ws + we))[..., None]
            else: m = 1 - tb
            return m * A + (1 - m) * B
        taus = [float(x) for x in np.linspace(0, 1, 41)]
        for k in range(1, L + 1):
            t = float(k / (L + 1)); truth = fr[s + k]
            add = lambda key, v: res.setdefault(key, []).append(v)
            add("plain", psnr(synth(t), truth)); add("vis", psnr(synth(t, visw=True), truth))
            add("repeat", psnr(a if k <= L // 2 else b, truth))
            ease = float(t * t * (3 - 2 * t)); add("ease", psnr(synth(ease), truth))
            add("oracle_tau", max(psnr(synth(u), truth) for u in taus))
            add("oracle_tau_vis", max(psnr(synth(u, visw=True), truth) for u in taus))
        n += 1
        if n >= maxc: break
    if n >= maxc: break
print(n, "cases")
for k, v in res.items(): print(f"{k:16s} {np.mean(v):6.2f}")
