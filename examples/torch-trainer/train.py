#!/usr/bin/env python3
# train.py: a small PyTorch trainer that follows Ablate's bring-your-own-trainer contract
# (docs/bring-your-own-trainer.md): it reads the sweep's HDF5 dataset with h5py, trains a small CNN on the
# stage-2 partition labels, appends one JSON line per epoch to $ABLATE_OUT/metrics.jsonl, keeps last.h5 (a
# torch.save checkpoint: the name is what Ablate resumes from) and writes predictions.h5 at the end.
import argparse
import json
import os
import time

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Raw AV1 partition id -> stage-2 label (SPLIT, RECT, AB); other ids are not stage-2 rows.
STAGE2 = {3: 0, 1: 1, 2: 1, 4: 2, 5: 2, 6: 2, 7: 2}
CLASSES = 3


def load_split(path, split, max_rows=None):
    """The split's stage-2 rows, in file order: inputs (N x 2 x B x B: each block standardised, and the samples
    scaled to [-1, 1]) and labels."""
    with h5py.File(path, "r") as f:
        scale = float((1 << int(f.attrs["bit_depth"])) - 1)
        ids = f[f"{split}/labels"][:]
        rows = np.array([i for i, v in enumerate(ids) if int(v) in STAGE2], dtype=np.int64)
        if max_rows:
            rows = rows[:max_rows]
        blocks = f[f"{split}/blocks"][:][rows].astype(np.float32) / scale
    labels = np.array([STAGE2[int(ids[r])] for r in rows], dtype=np.int64)
    x = torch.from_numpy(blocks).unsqueeze(1)
    mean, std = x.mean(dim=(2, 3), keepdim=True), x.std(dim=(2, 3), keepdim=True) + 1e-3
    return torch.cat([(x - mean) / std, 2 * x - 1], 1), torch.from_numpy(labels)


class SmallNet(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.conv1 = nn.Conv2d(2, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.head = nn.Linear(2 * width, CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def loss_fn(name, gamma, weights):
    """Class-weighted cross-entropy or focal loss (weights: inverse class frequencies)."""
    if name == "ce":
        return lambda logits, y: F.cross_entropy(logits, y, weight=weights)
    if name == "focal":
        def focal(logits, y):
            logp = F.log_softmax(logits, 1).gather(1, y[:, None]).squeeze(1)
            return (-weights[y] * (1 - logp.exp()) ** gamma * logp).sum() / weights[y].sum()
        return focal
    raise SystemExit(f"train.py: unknown --loss '{name}' (ce or focal)")


def macro_f1(pred, y):
    scores = []
    for c in range(CLASSES):
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / CLASSES


def save_atomic(write, path):
    """Writes under a name the worker ignores, then renames: the worker never sees half a file."""
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loss", default="ce")
    config = json.loads(os.environ.get("ABLATE_CONFIG") or "{}")  # the variant's resolved settings
    parser.add_argument("--gamma", type=float, default=config.get("gamma") or 2.0)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-train-rows", type=int, default=None)
    parser.add_argument("--out", default=os.environ.get("ABLATE_OUT"))
    parser.add_argument("--dataset", default=os.environ.get("ABLATE_DATASET"))
    args = parser.parse_args()
    if not args.out or not args.dataset:
        raise SystemExit("train.py: give --out and --dataset (or run under an Ablate worker)")

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # CUDA_VISIBLE_DEVICES is the worker's GPU
    x_train, y_train = load_split(args.dataset, "train", args.max_train_rows)
    x_val, y_val = load_split(args.dataset, "val")
    x_val, y_val = x_val.to(device), y_val.to(device)
    model = SmallNet().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    counts = torch.bincount(y_train, minlength=CLASSES).float().clamp(min=1)
    criterion = loss_fn(args.loss, args.gamma, (len(y_train) / (CLASSES * counts)).to(device))
    start_epoch, best_f1, best_logits, best_epoch = 1, -1.0, None, 0

    resume = os.environ.get("ABLATE_RESUME")
    if resume:
        state = torch.load(resume, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        start_epoch, best_f1, best_epoch = state["epoch"] + 1, state["best_f1"], state["best_epoch"]
        best_logits = state["best_logits"]
        print(f"resuming after epoch {state['epoch']}", flush=True)

    metrics_path = os.path.join(args.out, "metrics.jsonl")
    for epoch in range(start_epoch, args.epochs + 1):
        started = time.time()
        model.train()
        order = torch.randperm(len(y_train))
        total, batches = 0.0, 0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            logits = model(x_train[idx].to(device))
            loss = criterion(logits, y_train[idx].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        model.eval()
        with torch.no_grad():
            logits = model(x_val)
            val_loss = float(criterion(logits, y_val))
        f1 = macro_f1(logits.argmax(1), y_val)
        accuracy = float((logits.argmax(1) == y_val).float().mean())
        if f1 > best_f1:
            best_f1, best_logits, best_epoch = f1, logits.float().cpu(), epoch
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state(),
                 "epoch": epoch, "best_f1": best_f1, "best_epoch": best_epoch, "best_logits": best_logits}
        # The checkpoint first, then the epoch's line (the line ties the checkpoint to its epoch).
        save_atomic(lambda p: torch.save(state, p), os.path.join(args.out, "last.h5"))
        record = {"epoch": epoch, "val_macro_f1": f1, "val_loss": val_loss, "train_loss": total / max(1, batches),
                  "val_accuracy": accuracy, "seconds": time.time() - started, "device": device}
        with open(metrics_path, "a") as f:
            f.write(json.dumps(record, allow_nan=False) + "\n")
        print(f"epoch {epoch}: val macro-F1 {f1:.4f}, val loss {val_loss:.4f}", flush=True)

    def write_predictions(path):
        with h5py.File(path, "w") as f:
            f.attrs["format"] = "ablate-predictions"
            f.attrs["format_version"] = np.int64(1)
            f.attrs["epoch"] = np.int64(best_epoch)
            f.create_dataset("logits", data=best_logits.numpy().astype(np.float32))
            f.create_dataset("labels", data=y_val.cpu().numpy().astype(np.int64))
    save_atomic(write_predictions, os.path.join(args.out, "predictions.h5"))


if __name__ == "__main__":
    main()
