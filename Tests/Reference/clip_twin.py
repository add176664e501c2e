"""A tiny random-weight CLIP ViT with OpenAI/open_clip key names (visual.*), and its embedding
of a fixed preprocessed image, for the Swift loader's golden test.

    .venv/bin/python Tests/Reference/clip_twin.py   # writes Tests/MetricsTests/Goldens/clip_tiny.safetensors
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
width, layers, patch, grid, out_dim = 128, 2, 8, 4, 16
heads = width // 64
w = {
    "visual.conv1.weight": torch.randn(width, 3, patch, patch) * 0.05,
    "visual.class_embedding": torch.randn(width) * 0.1,
    "visual.positional_embedding": torch.randn(grid * grid + 1, width) * 0.1,
    "visual.ln_pre.weight": 1 + 0.1 * torch.randn(width), "visual.ln_pre.bias": 0.1 * torch.randn(width),
    "visual.ln_post.weight": 1 + 0.1 * torch.randn(width), "visual.ln_post.bias": 0.1 * torch.randn(width),
    "visual.proj": torch.randn(width, out_dim) * 0.1,
}
for i in range(layers):
    p = f"visual.transformer.resblocks.{i}"
    w.update({
        f"{p}.ln_1.weight": 1 + 0.1 * torch.randn(width), f"{p}.ln_1.bias": 0.1 * torch.randn(width),
        f"{p}.attn.in_proj_weight": torch.randn(3 * width, width) * 0.05, f"{p}.attn.in_proj_bias": 0.05 * torch.randn(3 * width),
        f"{p}.attn.out_proj.weight": torch.randn(width, width) * 0.05, f"{p}.attn.out_proj.bias": 0.05 * torch.randn(width),
        f"{p}.ln_2.weight": 1 + 0.1 * torch.randn(width), f"{p}.ln_2.bias": 0.1 * torch.randn(width),
        f"{p}.mlp.c_fc.weight": torch.randn(4 * width, width) * 0.05, f"{p}.mlp.c_fc.bias": 0.05 * torch.randn(4 * width),
        f"{p}.mlp.c_proj.weight": torch.randn(width, 4 * width) * 0.05, f"{p}.mlp.c_proj.bias": 0.05 * torch.randn(width),
    })

image = torch.randn(1, 3, grid * patch, grid * patch)
x = F.conv2d(image, w["visual.conv1.weight"], stride=patch).flatten(2).transpose(1, 2)
x = torch.cat([w["visual.class_embedding"][None, None], x], 1) + w["visual.positional_embedding"][None]
x = F.layer_norm(x, (width,), w["visual.ln_pre.weight"], w["visual.ln_pre.bias"])
for i in range(layers):
    p = f"visual.transformer.resblocks.{i}"
    h = F.layer_norm(x, (width,), w[f"{p}.ln_1.weight"], w[f"{p}.ln_1.bias"])
    a, _ = F.multi_head_attention_forward(h.transpose(0, 1), h.transpose(0, 1), h.transpose(0, 1), width, heads,
                                          w[f"{p}.attn.in_proj_weight"], w[f"{p}.attn.in_proj_bias"], None, None, False, 0.0,
                                          w[f"{p}.attn.out_proj.weight"], w[f"{p}.attn.out_proj.bias"], training=False, need_weights=False)
    x = x + a.transpose(0, 1)
    h = F.layer_norm(x, (width,), w[f"{p}.ln_2.weight"], w[f"{p}.ln_2.bias"])
    h = F.linear(h, w[f"{p}.mlp.c_fc.weight"], w[f"{p}.mlp.c_fc.bias"])
    h = h * torch.sigmoid(1.702 * h)  # QuickGELU
    x = x + F.linear(h, w[f"{p}.mlp.c_proj.weight"], w[f"{p}.mlp.c_proj.bias"])
emb = F.layer_norm(x[:, 0], (width,), w["visual.ln_post.weight"], w["visual.ln_post.bias"]) @ w["visual.proj"]
w["test.image"] = image[0]
w["test.embedding"] = emb[0]
dest = Path(__file__).resolve().parents[1] / "MetricsTests" / "Goldens" / "clip_tiny.safetensors"
save_file({k: v.contiguous() for k, v in w.items()}, str(dest))
print(f"wrote {dest}")
