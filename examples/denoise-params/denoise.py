#!/usr/bin/env python3
# denoise.py: a small PyTorch block denoiser judged on a lower-is-better metric, swept over its own params.
"""Trains a small residual CNN to remove Gaussian noise from the luma blocks of an Ablate dataset and reports the
validation RMSE in sample levels (lower is better).

    python3 denoise.py --seed 1 --out runs/base-1 --data data/synth.h5 --channels 16 --depth 3 --lr 0.001

Every block gets noise of standard deviation `--noise` sample levels (16 by default, of 1023 at 10 bits); the
model predicts the noise and subtracts it. The validation noise is drawn once from a fixed seed (not the run's),
so every run of a sweep scores the same noisy blocks and the report can pair them row by row.

Under an Ablate worker it follows docs/bring-your-own-trainer.md: the dataset is `$ABLATE_DATASET`, the params
arrive as flags (and in `$ABLATE_OUT/params.json`), each epoch appends a line to `$ABLATE_OUT/metrics.jsonl` with
`val_rmse` (the mean over validation blocks of each block's RMSE; the sweep's metric, so the only metric key a
line needs), `last.pt` is the resume point, and `predictions.h5` holds each validation block's
RMSE at the best epoch as `score`, for the report's row-level tests.
"""
import argparse
import json
import os
import random
import sys
import time

import h5py
import numpy as np
import torch
from torch import nn

VAL_NOISE_SEED = 20261203  # the same validation noise for every run


def load_blocks(path, split, max_rows=None):
    """All blocks of the split as float32 [N, 1, B, B] in sample levels, and the largest level."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") not in ("ablate-dataset", b"ablate-dataset"):
            raise SystemExit(f"denoise.py: {path} is not an Ablate dataset (docs/dataset-format.md)")
        top = float((1 << int(f.attrs["bit_depth"])) - 1)
        blocks = f[f"{split}/blocks"]
        blocks = blocks[:max_rows] if max_rows else blocks[:]
    return torch.from_numpy(blocks.astype(np.float32)).unsqueeze(1), top


class Denoiser(nn.Module):
    """depth 3×3 convolutions (channels wide, ReLU between), predicting the noise of a block scaled to [0, 1]."""

    def __init__(self, channels, depth, dropout):
        super().__init__()
        layers, cin = [], 1
        for _ in range(depth - 1):
            layers += [nn.Conv2d(cin, channels, 3, padding=1), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout2d(dropout))
            cin = channels
        layers.append(nn.Conv2d(cin, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, noisy):
        return noisy - self.net(noisy)


def block_rmse(denoised, clean):
    """Each block's RMSE, in the units of its inputs."""
    return ((denoised - clean) ** 2).mean(dim=(1, 2, 3)).sqrt()


def save_atomic(write, path):
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("ABLATE_SEED", "1")))
    parser.add_argument("--out", default=os.environ.get("ABLATE_OUT"), help="output directory (default $ABLATE_OUT)")
    parser.add_argument("--data", default=os.environ.get("ABLATE_DATASET"), help="default $ABLATE_DATASET")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--depth", type=int, default=3, help="convolutions, at least 2")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--noise", type=float, default=16.0, help="noise standard deviation, in sample levels")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-train-rows", type=int, default=None)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    if not args.out or not args.data:
        parser.error("give --out and --data (or run under an Ablate worker)")
    if args.depth < 2:
        parser.error("--depth must be at least 2")
    os.makedirs(args.out, exist_ok=True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.cuda.manual_seed_all(args.seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    device = torch.device(args.device)

    train, top = load_blocks(args.data, "train", args.max_train_rows)
    val, _ = load_blocks(args.data, "val")
    train, val = train.to(device) / top, val.to(device) / top
    sigma = args.noise / top
    val_noisy = val + sigma * torch.randn(val.shape, generator=torch.Generator().manual_seed(VAL_NOISE_SEED)).to(device)
    noisy_rmse = float(block_rmse(val_noisy, val).mean()) * top

    model = Denoiser(args.channels, args.depth, args.dropout).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    shuffle = torch.Generator().manual_seed(args.seed)
    progress = {"epoch": 0, "best_rmse": float("inf"), "best_epoch": 0, "best_scores": None}
    resume = os.environ.get("ABLATE_RESUME")
    if resume:
        saved = torch.load(resume, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        shuffle.set_state(saved["shuffle"])
        torch.set_rng_state(saved["torch_rng"])
        progress = saved["progress"]
        print(f"resuming from {resume} after epoch {progress['epoch']}", flush=True)

    print(f"channels {args.channels}, depth {args.depth}, dropout {args.dropout}, lr {args.lr}; "
          f"{len(train)} train / {len(val)} val blocks; noisy RMSE {noisy_rmse:.3f} levels; device {device}",
          flush=True)
    for epoch in range(progress["epoch"] + 1, args.epochs + 1):
        started = time.time()
        model.train()
        order = torch.randperm(len(train), generator=shuffle).to(device)
        total, batches = 0.0, 0
        for i in range(0, len(order), args.batch_size):
            clean = train[order[i:i + args.batch_size]]
            noisy = clean + sigma * torch.randn_like(clean)
            loss = ((model(noisy) - clean) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        model.eval()
        with torch.no_grad():
            denoised = torch.cat([model(val_noisy[i:i + 1024]) for i in range(0, len(val), 1024)])
            scores = (block_rmse(denoised, val) * top).double().cpu()
        rmse = float(scores.mean())
        improved = rmse < progress["best_rmse"]
        if improved:
            progress.update(best_rmse=rmse, best_epoch=epoch, best_scores=scores)
        progress["epoch"] = epoch
        checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "shuffle": shuffle.get_state(),
                      "torch_rng": torch.get_rng_state(), "progress": dict(progress)}
        save_atomic(lambda p: torch.save(checkpoint, p), os.path.join(args.out, "last.pt"))
        mse = float(((denoised - val) ** 2).mean())
        record = {"epoch": epoch, "val_rmse": rmse,
                  "val_psnr_db": 10 * np.log10(1.0 / max(mse, 1e-12)), "val_rmse_noisy": noisy_rmse,
                  "train_loss": total / max(1, batches), "lr": args.lr, "seconds": time.time() - started}
        with open(os.path.join(args.out, "metrics.jsonl"), "a") as f:
            f.write(json.dumps(record, allow_nan=False) + "\n")
        print(f"epoch {epoch}: val RMSE {rmse:.3f} levels{' (best)' if improved else ''}, "
              f"PSNR {record['val_psnr_db']:.2f} dB, {record['seconds']:.1f} s", flush=True)

    def write_predictions(path):
        with h5py.File(path, "w") as f:
            f.attrs["format"] = "ablate-predictions"
            f.attrs["format_version"] = np.int64(1)
            f.attrs["epoch"] = np.int64(progress["best_epoch"])
            f.create_dataset("score", data=progress["best_scores"].numpy())
    if progress["best_scores"] is None:
        raise SystemExit("denoise.py: no epoch was trained")
    save_atomic(write_predictions, os.path.join(args.out, "predictions.h5"))
    print(f"best epoch {progress['best_epoch']}: val RMSE {progress['best_rmse']:.3f} levels", flush=True)


if __name__ == "__main__":
    sys.exit(main())
