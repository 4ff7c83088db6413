#!/usr/bin/env python3
"""Converts a research-pipeline Stage-1 checkpoint (`stage1_model_best.pt`: a dict with `model_state_dict`, or a
bare state_dict) into an Ablate checkpoint usable as `ablate train --stage1-checkpoint`.

The backbone tensors (`backbone.*`) are copied under the same names and layouts; a Stage-1 head is copied when
its keys are `head.head.N.*` (other head layouts are dropped: Stage 2 only needs the backbone). Needs torch, h5py
and numpy; CI does not use it.

Usage: python3 tools/convert_research_checkpoint.py stage1_model_best.pt stage1.h5
"""
import json
import sys

import h5py
import numpy as np
import torch

STAGE1_CONFIG = {"stage": "1", "width": 64}


def main():
    source, target = sys.argv[1:3]
    loaded = torch.load(source, map_location="cpu", weights_only=False)
    state = loaded.get("model_state_dict", loaded) if isinstance(loaded, dict) else loaded
    backbone = {k: v for k, v in state.items() if k.startswith("backbone.")}
    if "backbone.conv1.weight" not in backbone:
        sys.exit(f"{source}: no backbone.* tensors (keys start with {sorted(state)[:3]})")
    width = int(backbone["backbone.conv1.weight"].shape[0])
    head = {k: v for k, v in state.items() if k.startswith("head.head.")}
    with h5py.File(target, "w", libver=("earliest", "v108")) as f:
        f.attrs["format"] = "ablate-checkpoint"
        f.attrs["format_version"] = np.int64(1)
        f.attrs["kind"] = "full"
        f.attrs["config"] = json.dumps({**STAGE1_CONFIG, "width": width}, sort_keys=True)
        f.attrs["dataset_sha256"] = ""
        f.attrs["stage1_sha256"] = ""
        f.attrs["seed"] = np.int64(-1)
        f.attrs["epoch"] = np.int64(loaded.get("epoch", 0) if isinstance(loaded, dict) else 0)
        f.attrs["code_version"] = f"converted from {source}"
        f.attrs["blas_core"] = ""
        f.attrs["blas_threads"] = np.int64(0)
        model = f.create_group("model")
        for k, v in {**backbone, **head}.items():
            array = v.detach().cpu().numpy()
            if k.endswith("num_batches_tracked"):
                model.create_dataset(k, data=array.astype("<i8").reshape(1))
            else:
                model.create_dataset(k, data=array.astype("<f4"))
    print(f"wrote {target}: {len(backbone)} backbone and {len(head)} head tensors (width {width})")


if __name__ == "__main__":
    main()
