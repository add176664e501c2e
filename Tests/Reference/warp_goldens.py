"""Golden values for the bilinear backward warp (Sources/Tensor/Warp.swift) from PyTorch's
grid_sample(mode="bilinear", padding_mode="border", align_corners=True), in float64.
Run: python Tests/Reference/warp_goldens.py  (writes Tests/TensorTests/Goldens/warp.safetensors)"""
import os
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(7)
C, H, W = 3, 5, 7
image = torch.rand(C, H, W, dtype=torch.float64, requires_grad=True)
# Flows up to ±3 px so that some samples fall outside the image (border clamping).
flow = ((torch.rand(2, H, W, dtype=torch.float64) - 0.5) * 6).requires_grad_(True)
ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64), indexing="ij")
gx = 2 * (xs + flow[0]) / (W - 1) - 1
gy = 2 * (ys + flow[1]) / (H - 1) - 1
grid = torch.stack([gx, gy], dim=-1)[None]
out = F.grid_sample(image[None], grid, mode="bilinear", padding_mode="border", align_corners=True)[0]
dout = torch.randn(C, H, W, dtype=torch.float64)
out.backward(dout)

# Bicubic warp (forward only): taps outside the image take the border's value.
bicubic = F.grid_sample(image.detach()[None], grid.detach(), mode="bicubic", padding_mode="border", align_corners=True)[0]

# Flow resizing as interpolate(bilinear, align_corners=False) with the vectors scaled.
small = torch.randn(1, 2, 4, 6, dtype=torch.float64)
big = F.interpolate(small, size=(9, 10), mode="bilinear", align_corners=False)[0]
big[0] *= 10 / 6
big[1] *= 9 / 4

here = os.path.dirname(os.path.abspath(__file__))
tensors = {
    "warp.image": image.detach(), "warp.flow": flow.detach(), "warp.dout": dout,
    "warp.out": out.detach(), "warp.dimage": image.grad, "warp.dflow": flow.grad,
    "bicubic.out": bicubic, "resize.small": small[0], "resize.big": big,
}
save_file({k: v.float().contiguous() for k, v in tensors.items()},
          os.path.join(here, "..", "TensorTests", "Goldens", "warp.safetensors"))
print("wrote warp.safetensors")
