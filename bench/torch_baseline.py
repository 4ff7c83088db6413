#!/usr/bin/env python3
"""PyTorch CPU baseline for `ablate bench train`: the research Stage-2 model (width 64, Conv-Adapters γ = 4 on
layer3 + layer4, head 256-128-3), frozen backbone in eval mode, AdamW groups (adapters 1e-3, head 1e-4, weight
decay 0.01), class-balanced focal loss, batch 128, 16×16 inputs, the given thread count. Prints one JSON object:
training samples/s (PyTorch recomputes the frozen backbone every batch, as the research code did) and inference
samples/s.

Usage: python3 bench/torch_baseline.py --threads 1 [--seconds 20]
"""
import argparse
import importlib.util
import json
import pathlib
import time

import torch

HERE = pathlib.Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("tree", HERE.parent / "scripts/fixtures/make_model_fixture.py")
tree = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tree)


def measure(step, batch, seconds):
    step()  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        done += batch
    return done / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = tree.Model(64, [3, 4], tree.Head(512, [256, 128], 0.4, 3))
    for p in model.backbone.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.AdamW([
        {"params": list(model.adapters.parameters()), "lr": 1e-3},
        {"params": list(model.head.parameters()), "lr": 1e-4}], weight_decay=0.01)
    weights = tree.cb_weights([23942, 71378, 57280])
    x = torch.rand(args.batch, 1, 16, 16)
    y = torch.randint(0, 3, (args.batch,))

    def train_step():
        model.train()
        model.backbone.eval()
        optimizer.zero_grad()
        loss = tree.focal(model(x), y, 2.0, weights)
        loss.backward()
        optimizer.step()

    def infer_step():
        model.eval()
        with torch.no_grad():
            model(x)

    result = {
        "torch": torch.__version__, "threads": args.threads, "batch": args.batch,
        "train_samples_per_s": measure(train_step, args.batch, args.seconds),
        "inference_samples_per_s": measure(infer_step, args.batch, args.seconds / 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
