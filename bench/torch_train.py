#!/usr/bin/python3
"""torch_train.py -- the PyTorch counterpart of `nninit train` (one epoch, timed).

Trains, on Fashion-MNIST's 60000 training images, the MLP
784-256-256-256-256-10 with ReLU, PyTorch's default init (nn.Linear's),
softmax cross-entropy, SGD (lr 0.01, momentum 0.9), batch 128 with the last
partial batch dropped (468 steps an epoch) and a fresh random permutation per
epoch -- the same work as

  nninit train --arch "784 -> [dense 256 relu] x4 -> dense 10" --optim sgd \\
               --lr 0.01 --momentum 0.9 --batch 128 --epochs 1 --threads T

The data is read (gzipped IDX, gzip + numpy), scaled to x/255 and standardized
with the training set's scalar mean and std once, before any timing, and kept
in memory as one float32 tensor; a step gathers its 128 rows with index_select.

Timing (time.perf_counter, CLOCK_MONOTONIC on Linux) covers only the training
loop: permutation, gather, forward, loss, zero_grad(set_to_none=True),
backward, optimizer step. Before the first timed epoch, WARMUP steps (default
5) are run on a throw-away copy of the network and optimizer, so thread-pool
start-up and first-call allocations are not timed and the timed network starts
from its init. Each of the REPEATS timed runs builds a fresh network with
torch.manual_seed(SEED) and a fresh optimizer and trains EPOCHS epochs; the
reported "seconds" is the best (minimum) run time divided by EPOCHS. The test
accuracy of the last run is measured after timing, under torch.no_grad().

torch.set_num_threads(THREADS) and torch.set_num_interop_threads(1); Debian's torch
does its matrix products in OpenBLAS (pthreads), whose thread count torch does
not set: OPENBLAS_NUM_THREADS is set to BLAS_THREADS (default THREADS) before
torch (and numpy, which loads OpenBLAS too) is imported, so a run never uses
more cores than asked.

usage: torch_train.py [--threads T] [--epochs E] [--batch B] [--lr LR]
                      [--momentum M] [--seed S] [--repeats R] [--warmup W]
                      [--blas-threads N] [--data DIR]

Prints one JSON object on stdout: {"seconds", "all", "steps",
"examples_per_s", "final_train_loss", "test_acc", "test_loss",
"torch_version", "threads", "blas_threads", ...}.
"""
import argparse
import gzip
import json
import os
import sys
import time

# numpy and torch are imported in main(), after OPENBLAS_NUM_THREADS is set:
# both load OpenBLAS, which reads it once, when it is loaded.

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """A gzipped IDX file (unsigned bytes) as a numpy array of its shape."""
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    off = 4 + 4 * ndim
    n = int(np.prod(dims))
    if len(raw) - off != n:
        raise ValueError(f"{path}: {len(raw) - off} data bytes, header says {n}")
    return np.frombuffer(raw, dtype=np.uint8, offset=off).reshape(dims)


def load(data_dir):
    import numpy as np

    def p(name):
        return os.path.join(data_dir, name)
    xtr = read_idx(p("train-images-idx3-ubyte.gz")).reshape(-1, 784)
    ytr = read_idx(p("train-labels-idx1-ubyte.gz"))
    xte = read_idx(p("t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
    yte = read_idx(p("t10k-labels-idx1-ubyte.gz"))
    xtr = xtr.astype(np.float64) / 255.0
    xte = xte.astype(np.float64) / 255.0
    mean, std = xtr.mean(), xtr.std()  # scalars of the training set
    xtr = ((xtr - mean) / std).astype(np.float32)
    xte = ((xte - mean) / std).astype(np.float32)
    return xtr, ytr.astype(np.int64), xte, yte.astype(np.int64), float(mean), float(std)


def make_net(torch, widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))  # default init
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def openblas_threads(asked):
    """The thread count of the OpenBLAS that torch loaded, or asked if unknown."""
    import ctypes
    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            fn = ctypes.CDLL(name).openblas_get_num_threads
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_int
        return fn()
    return asked


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per timed run (default 1)")
    ap.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    ap.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (default 0.01)")
    ap.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    ap.add_argument("--seed", type=int, default=0, help="init and shuffle seed (default 0)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs, best kept (default 3)")
    ap.add_argument("--warmup", type=int, default=5,
                    help="untimed steps on a throw-away network first (default 5)")
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="OpenBLAS threads for torch's sgemm (default: --threads)")
    ap.add_argument("--data", default=DATA_DIR, help=f"Fashion-MNIST directory ({DATA_DIR})")
    args = ap.parse_args()
    if (args.threads < 1 or args.epochs < 1 or args.batch < 1 or args.repeats < 1
            or args.warmup < 0 or (args.blas_threads is not None and args.blas_threads < 1)):
        ap.error("need --threads, --epochs, --batch, --repeats, --blas-threads >= 1 "
                 "and --warmup >= 0")
    blas_threads = args.threads if args.blas_threads is None else args.blas_threads
    # Debian's torch does its matrix products in OpenBLAS (pthreads build),
    # whose own thread pool ignores torch.set_num_threads and would use every
    # core: pin it before the library is loaded.
    os.environ["OPENBLAS_NUM_THREADS"] = str(blas_threads)

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    xtr_np, ytr_np, xte_np, yte_np, mean, std = load(args.data)
    xtr = torch.from_numpy(xtr_np)
    ytr = torch.from_numpy(ytr_np)
    xte = torch.from_numpy(xte_np)
    yte = torch.from_numpy(yte_np)
    n = xtr.shape[0]
    b = args.batch
    steps_per_epoch = n // b  # the last partial batch is dropped
    if steps_per_epoch < 1:
        ap.error("--batch larger than the training set")
    widths = [784, 256, 256, 256, 256, 10]

    def train_step(net, opt, idx):
        xb = xtr.index_select(0, idx)
        yb = ytr.index_select(0, idx)
        loss = F.cross_entropy(net(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    # Warm-up: a throw-away network, so the timed one starts from its init.
    if args.warmup:
        torch.manual_seed(args.seed + 1)
        wnet = make_net(torch, widths)
        wopt = torch.optim.SGD(wnet.parameters(), lr=args.lr, momentum=args.momentum)
        wperm = torch.randperm(n)
        for s in range(args.warmup):
            train_step(wnet, wopt, wperm[(s % steps_per_epoch) * b:(s % steps_per_epoch + 1) * b])
        del wnet, wopt

    times = []
    net = None
    last_loss = float("nan")
    for _ in range(args.repeats):
        torch.manual_seed(args.seed)
        net = make_net(torch, widths)
        opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum)
        gen = torch.Generator().manual_seed(args.seed)
        net.train()
        t0 = time.perf_counter()
        for _e in range(args.epochs):
            perm = torch.randperm(n, generator=gen)  # a fresh permutation per epoch
            for s in range(steps_per_epoch):
                loss = train_step(net, opt, perm[s * b:(s + 1) * b])
        dt = time.perf_counter() - t0
        last_loss = loss.item()  # outside the timed region
        times.append(dt / args.epochs)

    # Evaluation, after (and outside) the timing.
    net.eval()
    with torch.no_grad():
        logits = net(xte)
        test_loss = F.cross_entropy(logits, yte).item()
        test_acc = (logits.argmax(1) == yte).float().mean().item()

    best = min(times)
    print(json.dumps({
        "impl": "torch",
        "seconds": round(best, 6),
        "all": [round(t, 6) for t in times],
        "steps": steps_per_epoch * args.epochs,
        "steps_per_epoch": steps_per_epoch,
        "examples_per_s": round(steps_per_epoch * b / best, 1),
        "final_train_loss": last_loss,
        "test_loss": test_loss,
        "test_acc": test_acc,
        "epochs": args.epochs,
        "batch": b,
        "lr": args.lr,
        "momentum": args.momentum,
        "seed": args.seed,
        "repeats": args.repeats,
        "warmup_steps": args.warmup,
        "data_mean": mean,
        "data_std": std,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "blas_threads": openblas_threads(blas_threads),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
