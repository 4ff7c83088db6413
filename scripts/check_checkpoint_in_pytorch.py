#!/usr/bin/env python3
"""Documented check that PyTorch loads an Ablate checkpoint with the snippet of docs/checkpoint-format.md and
computes the same logits as `ablate predict`.

Usage: python3 scripts/check_checkpoint_in_pytorch.py CHECKPOINT.h5 DATASET.h5 PREDICTIONS.h5
(PREDICTIONS.h5 from `ablate predict --checkpoint CHECKPOINT.h5 --data DATASET.h5`). Needs torch and h5py.
"""
import importlib.util
import json
import pathlib
import sys

import h5py
import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("tree", HERE / "fixtures/make_model_fixture.py")
tree = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tree)

HEADS = {"1": ([256], 0.3, 2), "2": ([256, 128], 0.4, 3), "3rect": ([128, 64], 0.2, 2), "3ab": ([256, 128], 0.5, 4)}


def main():
    checkpoint, dataset, predictions = sys.argv[1:4]
    with h5py.File(checkpoint, "r") as f:
        config = json.loads(f.attrs["config"])
        width, stage = config["width"], config["stage"]
        hidden, p, classes = HEADS[stage]
        layers = [] if stage == "1" else config["adapter_layers"]
        model = tree.Model(width, layers, tree.Head(8 * width, hidden, p, classes))
        model.load_state_dict({k: torch.from_numpy(f["model"][k][()]) for k in f["model"]})  # the documented snippet
    model.eval()
    with h5py.File(predictions, "r") as pred, h5py.File(dataset, "r") as data:
        rows = pred["rows"][()]
        split = pred.attrs["split"]
        blocks = data[f"{split}/blocks"][()][rows].astype(np.float32) / float(2 ** int(data.attrs["bit_depth"]) - 1)
        with torch.no_grad():
            logits = model(torch.from_numpy(blocks[:, None, :, :])).numpy()
        ablate = pred["logits"][()]
    diff = np.abs(logits - ablate).max()
    agree = (logits.argmax(1) == ablate.argmax(1)).mean()
    print(f"loaded {checkpoint} (stage {stage}, width {width}) into PyTorch {torch.__version__}; {len(rows)} rows: "
          f"max |logit difference| {diff:.3g}, argmax agreement {100 * agree:.2f} %")
    sys.exit(0 if diff < 1e-3 else 1)


if __name__ == "__main__":
    main()
