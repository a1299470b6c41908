#!/usr/bin/env python3
"""PyTorch side of bench/compare.ts: the same workloads as the engine and tfjs, on the CPU or
(--device cuda) on an NVIDIA GPU, there in full float32 (TF32 off, as the engine computes) with
cuDNN's autotuner on.

Workloads (all float32, batch 64 unless said):
  matmul     1024 x 1024 x 1024 product (torch.mm)
  mlp_step   the paper's MLP: Flatten, 4 x (Linear 128 -> ReLU -> BatchNorm1d -> Dropout 0.05),
             Linear 10; forward, cross-entropy, backward, Adam (lr 3e-4): one unit = one step
  cnn_step   the paper's CNN (the engine's cnn() shape): 4 x (Conv 3x3 pad 1, 64 ch -> ReLU ->
             BatchNorm2d), Conv 3x3 pad 0 to 16 ch, Flatten, Linear 10816 -> 10; one step
  cnn_eval   the same CNN in eval mode (running statistics), forward + per-sample losses of one
             batch (size --batch); one unit = one batch
  delta      per-sample losses of the paper MLP (eval mode) on --samples images at one point
             w* + sigma * eps (every trainable parameter perturbed, eps ~ N(0, I) drawn with
             torch.randn_like, w* restored at the end); one unit = one point
  delta_se   the same loop at plain Monte-Carlo points around the engine's trained w*, on its
             samples (both from the safetensors file "state": the state dict plus x and y, see
             bench/delta_se.ts); setup also runs a seeded pilot of "points" points and returns
             its losses [points, n] and those at w* [n]; one unit = one point (serve mode only)

Usage:
  /usr/bin/python3 bench/torch_bench.py --info
  /usr/bin/python3 bench/torch_bench.py --workload mlp_step [--reps 5] [--inner 20] [--threads N]
  /usr/bin/python3 bench/torch_bench.py --serve [--threads N] [--device cpu|cuda]
      (JSON lines on stdin: {"cmd": "setup", "workload": W, "batch": B, "samples": S},
       {"cmd": "run", "workload": W, "inner": K} -> {"ms": total}, {"cmd": "quit"})
"""
import argparse
import json
import os
import sys
import time


def keep_freed_memory():
    """glibc malloc hands blocks over 128 KiB straight back to the kernel when freed (until a
    large free raises that threshold), so a fresh process re-faults every activation of every
    call: the paper CNN's evaluation then runs 3-5x slower than after one training step. Keep
    blocks up to 32 MiB (the largest threshold glibc allows) in the heap, as PyTorch's own
    tuned deployments do with jemalloc or tcmalloc. Returns whether glibc took both settings."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: its allocator keeps its own policy
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))


MALLOC_TUNED = keep_freed_memory()


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def linked_libraries():
    """Shared libraries mapped into this process that do linear algebra, with their owners."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path).lower()
            if any(k in name for k in ("blas", "lapack", "mkl", "dnnl", "gomp", "omp", "torch_cpu")):
                libs.add(path)
    out = []
    for path in sorted(libs):
        real = os.path.realpath(path)
        owner = None
        try:
            import subprocess

            res = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True, timeout=10)
            if res.returncode == 0:
                owner = res.stdout.split(":")[0].strip()
        except Exception:  # dpkg missing: leave the owner unknown
            pass
        out.append({"path": path, "realpath": real, "package": owner})
    return out


def median_seconds(work, sync=lambda: None):
    """Median of 5 timed calls of work() after one untimed, sync() waiting for the device."""
    work()
    times = []
    for _ in range(5):
        sync()
        t0 = time.perf_counter()
        work()
        sync()
        times.append(time.perf_counter() - t0)
    return sorted(times)[2]


def onednn_gemm_gflops():
    """The CPU's practical float32 rate: a 1024^3 product run as a 1x1 convolution, which
    PyTorch hands to oneDNN (torch.mm goes to the system BLAS instead). Median of 5."""
    import torch

    x, w = torch.randn(1, 1024, 32, 32), torch.randn(1024, 1024, 1, 1)
    return 2 * 1024**3 / median_seconds(lambda: torch.nn.functional.conv2d(x, w)) / 1e9


def cuda_gemm_gflops():
    """The GPU's float32 rate through cuBLAS (TF32 off): a 4096^3 product, median of 5."""
    import torch

    a, b = torch.randn(4096, 4096, device="cuda"), torch.randn(4096, 4096, device="cuda")
    return 2 * 4096**3 / median_seconds(lambda: torch.mm(a, b), torch.cuda.synchronize) / 1e9


def cuda_info():
    """What runs the workloads with --device cuda."""
    import torch

    major, minor = torch.cuda.get_device_capability()
    return {
        "name": torch.cuda.get_device_name(),
        "capability": f"{major}.{minor}",
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "tf32": torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "gemm_gflops": cuda_gemm_gflops(),
    }


def info(threads_used):
    import torch

    a = torch.randn(256, 256)
    torch.mm(a, a)  # loads the BLAS the product dispatches to
    blas_info = None
    for part in torch.__config__.show().replace("\n", " ").split(","):
        if "BLAS_INFO" in part:
            blas_info = part.split("=")[-1].strip()
    libs = linked_libraries()
    # Debian's libblas3 is the netlib reference BLAS (unoptimised, single-threaded); OpenBLAS,
    # BLIS or MKL come from other packages (libopenblas0-*, libblis4-*, libmkl-*).
    reference = any((lib["package"] or "").startswith("libblas3") for lib in libs)
    return {
        "version": torch.__version__,
        "file": torch.__file__,
        "default_threads": DEFAULT_THREADS,
        "malloc_tuned": MALLOC_TUNED,
        "threads": threads_used,
        "interop_threads": torch.get_num_interop_threads(),
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "mkl_available": torch.backends.mkl.is_available(),
        "blas_info": blas_info,
        "linked": libs,
        "reference_blas": reference,
        "onednn_gemm_gflops": onednn_gemm_gflops(),
        "config": torch.__config__.show(),
        "parallel_info": torch.__config__.parallel_info(),
        "device": DEVICE,
        "cuda": cuda_info() if DEVICE == "cuda" else None,
    }


def mlp_model(nn):
    layers = [nn.Flatten()]
    width = 784
    for _ in range(4):
        layers += [nn.Linear(width, 128), nn.ReLU(), nn.BatchNorm1d(128), nn.Dropout(0.05)]
        width = 128
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def cnn_model(nn):
    layers = []
    c = 1
    for _ in range(4):
        layers += [nn.Conv2d(c, 64, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(64)]
        c = 64
    layers += [nn.Conv2d(64, 16, 3), nn.Flatten(), nn.Linear(16 * 26 * 26, 10)]
    return nn.Sequential(*layers)


class Workloads:
    def __init__(self):
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        self.torch, self.nn, self.F = torch, nn, F
        self.device = torch.device(DEVICE)
        self.state = {}

    def sync(self):
        """Waits for the device: CUDA runs its kernels asynchronously."""
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()

    def setup(self, name, batch=64, samples=256, sigma=0.01, state=None, points=0, seed=0):
        torch, nn, F, dev = self.torch, self.nn, self.F, self.device
        torch.manual_seed(0)
        if name == "matmul":
            a, b = torch.randn(1024, 1024, device=dev), torch.randn(1024, 1024, device=dev)
            c = torch.empty(1024, 1024, device=dev)
            self.state[name] = lambda: torch.mm(a, b, out=c)
            return {"parameters": 0}
        if name in ("mlp_step", "cnn_step"):
            model = (mlp_model(nn) if name == "mlp_step" else cnn_model(nn)).to(dev)
            model.train()
            opt = torch.optim.Adam(model.parameters(), lr=3e-4)
            xs = [torch.randn(batch, 1, 28, 28, device=dev) for _ in range(4)]
            ys = [torch.randint(0, 10, (batch,), device=dev) for _ in range(4)]
            counter = [0]

            def step():
                i = counter[0] % 4
                counter[0] += 1
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(xs[i]), ys[i])
                loss.backward()
                opt.step()

            self.state[name] = step
            return {"parameters": sum(p.numel() for p in model.parameters())}
        if name == "cnn_eval":
            model = cnn_model(nn).to(dev).eval()
            x = torch.randn(batch, 1, 28, 28, device=dev)
            y = torch.randint(0, 10, (batch,), device=dev)

            def evaluate():
                with torch.no_grad():
                    F.cross_entropy(model(x), y, reduction="none")

            self.state[name] = evaluate
            return {"parameters": sum(p.numel() for p in model.parameters())}
        if name == "delta":
            model = mlp_model(nn).to(dev).eval()
            params = [p for p in model.parameters()]
            centers = [p.detach().clone() for p in params]
            x = torch.randn(samples, 1, 28, 28, device=dev)
            y = torch.randint(0, 10, (samples,), device=dev)
            out = torch.empty(samples, device=dev)

            def point():
                with torch.no_grad():
                    for p, c in zip(params, centers):
                        torch.add(c, torch.randn_like(c), alpha=sigma, out=p.data)
                    out.copy_(F.cross_entropy(model(x), y, reduction="none"))

            def restore():
                with torch.no_grad():
                    for p, c in zip(params, centers):
                        p.data.copy_(c)

            self.state[name] = point
            self.state[name + ":restore"] = restore
            return {"parameters": sum(p.numel() for p in params)}
        if name == "delta_se":
            return self.setup_delta_se(state, sigma, points, seed)
        raise ValueError(f"unknown workload {name}")

    def setup_delta_se(self, path, sigma, points, seed):
        torch, F = self.torch, self.F
        tensors = read_safetensors(path)
        x, y = tensors.pop("x").to(self.device), tensors.pop("y").long().to(self.device)
        model = mlp_model(self.nn)
        model.load_state_dict(tensors, strict=True)
        model.to(self.device).eval()
        params = list(model.parameters())
        centers = [p.detach().clone() for p in params]

        def losses():
            return F.cross_entropy(model(x), y, reduction="none")

        def point():
            with torch.no_grad():
                for p, c in zip(params, centers):
                    torch.add(c, torch.randn_like(c), alpha=sigma, out=p.data)
                return losses()

        def restore():
            with torch.no_grad():
                for p, c in zip(params, centers):
                    p.data.copy_(c)

        with torch.no_grad():
            center = losses()
        torch.manual_seed(seed)
        pilot = torch.stack([point() for _ in range(points)])
        restore()
        self.state["delta_se"] = point
        self.state["delta_se:restore"] = restore
        return {"parameters": sum(p.numel() for p in params),
                "losses": pilot.flatten().tolist(), "center": center.tolist()}

    def run(self, name, inner=1):
        work = self.state[name]
        self.sync()
        t0 = time.perf_counter()
        for _ in range(inner):
            work()
        self.sync()
        ms = (time.perf_counter() - t0) * 1000
        restore = self.state.get(name + ":restore")
        if restore:
            restore()
        return ms


def read_safetensors(path):
    """Tensors of a safetensors file (F32 and I64), without the safetensors package."""
    import struct

    import numpy as np
    import torch

    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    dtypes = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        data = np.frombuffer(raw[8 + size + begin:8 + size + end], dtype=dtypes[t["dtype"]])
        out[name] = torch.from_numpy(data.reshape(t["shape"]).copy())
    return out


DEFAULT_THREADS = None
DEVICE = "cpu"


def main():
    global DEFAULT_THREADS, DEVICE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--info", action="store_true")
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--workload")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--inner", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: CPUs available)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = ap.parse_args()

    import torch

    if args.device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("--device cuda: this PyTorch sees no CUDA device (torch.cuda.is_available() is False)")
        # Equal precision with the engine's float32, and the conv algorithms a tuned user gets.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    DEVICE = args.device

    DEFAULT_THREADS = torch.get_num_threads()
    threads = args.threads or cpu_count()
    torch.set_num_threads(threads)

    if args.info:
        print(json.dumps(info(threads), indent=2))
        return
    w = Workloads()
    if args.workload:
        meta = w.setup(args.workload, batch=args.batch, samples=args.samples)
        w.run(args.workload, args.inner)  # warm-up
        times = [w.run(args.workload, args.inner) / args.inner for _ in range(args.reps)]
        s = sorted(times)
        print(json.dumps({"workload": args.workload, "threads": threads, "ms_per_unit": times,
                          "median": s[len(s) // 2], **meta}))
        return
    if args.serve:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            msg = json.loads(line)
            try:
                cmd = msg["cmd"]
                if cmd == "quit":
                    break
                if cmd == "info":
                    reply = info(threads)
                elif cmd == "setup":
                    reply = w.setup(msg["workload"], batch=msg.get("batch", 64),
                                    samples=msg.get("samples", 256),
                                    sigma=msg.get("sigma", 0.01), state=msg.get("state"),
                                    points=msg.get("points", 0), seed=msg.get("seed", 0))
                elif cmd == "run":
                    reply = {"ms": w.run(msg["workload"], msg.get("inner", 1))}
                else:
                    raise ValueError(f"unknown command {cmd}")
            except Exception as e:  # reported to the caller, which says so in its table
                reply = {"error": f"{type(e).__name__}: {e}"}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
        return
    ap.print_help()


if __name__ == "__main__":
    main()
