#!/usr/bin/env python3
"""Independent check of `ablate data import`: rebuilds the research pipeline's split of a raw layout with NumPy
(sorted sequences, numpy.random.default_rng(seed).permutation(N), first int(N*(1-f)) train) and compares every
array of the Ablate dataset file, read with h5py.

Usage: python3 scripts/check_import_against_numpy.py RAW_DIR DATASET.h5 [--block-size 16] [--seed 42] [--val-fraction 0.2]
Needs numpy and h5py (not needed by CI; the Swift tests cover the same with fixtures).
"""
import argparse
import glob
import os
import sys

import h5py
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("dataset")
    parser.add_argument("--block-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--val-fraction", type=float, default=0.2)
    args = parser.parse_args()
    b = args.block_size
    suffix = f"_sample_{b}.txt"
    names = sorted(os.path.basename(p)[: -len(suffix)] for p in glob.glob(f"{args.raw}/intra_raw_blocks/*{suffix}"))
    names = [n for n in names
             if os.path.exists(f"{args.raw}/labels/{n}_labels_{b}_intra.txt") and os.path.exists(f"{args.raw}/qps/{n}_qps_{b}_intra.txt")]
    blocks = np.concatenate([np.fromfile(f"{args.raw}/intra_raw_blocks/{n}{suffix}", "<u2").reshape(-1, b, b) for n in names])
    labels = np.concatenate([np.loadtxt(f"{args.raw}/labels/{n}_labels_{b}_intra.txt", dtype=np.uint8, ndmin=1) for n in names])
    qps = np.concatenate([np.loadtxt(f"{args.raw}/qps/{n}_qps_{b}_intra.txt", dtype=np.uint8, ndmin=1) for n in names])
    perm = np.random.default_rng(args.seed).permutation(len(labels))
    n_train = int(len(labels) * (1 - args.val_fraction))
    expected = {"train": perm[:n_train], "val": perm[n_train:]}
    ok = True
    with h5py.File(args.dataset, "r") as f:
        for split, rows in expected.items():
            for name, array in [("blocks", blocks), ("labels", labels), ("qp", qps)]:
                same = np.array_equal(f[f"{split}/{name}"][()], array[rows])
                ok &= same
                print(f"{split}/{name}: {'equal' if same else 'DIFFERENT'} ({len(rows)} rows)")
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
