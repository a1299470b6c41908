#!/usr/bin/python3
"""Your PyTorch model, the tool's answer: trains a small CNN in PyTorch on .npy arrays, saves
its model spec and state dict, asks the tool whether the data is enough for it (`sufficiency`),
and checks that the tool's per-sample losses (`losses`) match PyTorch's.

    deno run -A examples/own_data/export_fashion_mnist.ts runs/own-data   # or your own arrays
    /usr/bin/python3 examples/pytorch/train_and_check.py runs/own-data runs/pytorch

Needs PyTorch (Debian: apt-get install python3-torch) and NumPy. The state dict is saved with
safetensors.torch.save_file when the safetensors package is installed, else by the small writer
below (Debian has no safetensors package; the format is an 8-byte header length, a JSON header,
the raw bytes).
"""
import csv
import json
import pathlib
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

data = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/own-data")
out = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "runs/pytorch")
out.mkdir(parents=True, exist_ok=True)

# The model, and the same model as the tool's spec (PyTorch's layer names are accepted).
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(8 * 7 * 7, 10))
spec = {"name": "pytorch-cnn", "inputShape": [1, 28, 28], "classes": 10, "layers": [
    {"type": "Conv2d", "in": 1, "out": 8, "kernel": 3, "padding": 1},
    {"type": "BatchNorm2d"}, {"type": "ReLU"}, {"type": "MaxPool2d", "kernel": 2},
    {"type": "Conv2d", "in": 8, "out": 8, "kernel": 3, "padding": 1},
    {"type": "ReLU"}, {"type": "MaxPool2d", "kernel": 2},
    {"type": "Flatten"}, {"type": "Linear", "in": 392, "out": 10}]}

x_file, y_file = data / "x.npy", data / "y.npy"
x = np.load(x_file).astype(np.float32)
if np.load(x_file).dtype == np.uint8:
    x /= 255  # the tool reads uint8 arrays scaled into [0, 1] too
y = torch.from_numpy(np.load(y_file).astype(np.int64))
mean, std = float(x.mean()), float(x.std())
inputs = (torch.from_numpy(x) - mean) / std  # the tool is told the same: --mean, --std

torch.manual_seed(0)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(3):
    model.train()
    order = torch.randperm(len(y))
    for i in range(0, len(y), 64):
        batch = order[i:i + 64]
        loss = F.cross_entropy(model(inputs[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
model.eval()
with torch.no_grad():
    losses = F.cross_entropy(model(inputs).double(), y, reduction="none")
print(f"pytorch: trained; mean loss {losses.mean():.4f} on {len(y)} samples")


def save_file(tensors, path):
    """safetensors.torch.save_file, for F32 and I64 tensors."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().tobytes()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header)
    text += " " * (-(8 + len(text)) % 8)
    pathlib.Path(path).write_bytes(struct.pack("<Q", len(text)) + text.encode() + b"".join(blobs))


try:
    from safetensors.torch import save_file
except ImportError:
    pass
save_file(model.state_dict(), str(out / "model.safetensors"))
(out / "model.json").write_text(json.dumps(spec, indent=1) + "\n")

common = ["--model-spec", str(out / "model.json"), "--checkpoint", str(out / "model.safetensors"),
          "--data", "npy", "--x", str(x_file), "--y", str(y_file),
          "--mean", str(mean), "--std", str(std)]


def tool(*args):
    subprocess.run(["deno", "task", "experiment", *args], check=True)


tool("sufficiency", *common, "--samples", str(min(len(y), 1001)), "--points", "32",
     "--out", str(out / "sufficiency"))
tool("losses", *common, "--out", str(out / "losses"))

worst = 0.0
with open(out / "losses" / "losses.csv", newline="") as f:
    for row in csv.DictReader(f):
        i, loss = int(row["index"]), float(row["loss"])
        worst = max(worst, abs(loss - float(losses[i])) / max(float(losses[i]), 1e-12))
print(f"tool vs pytorch: largest relative difference of a sample's loss {worst:.2e}")
sys.exit(0 if worst < 1e-4 else 1)
