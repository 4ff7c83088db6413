#!/usr/bin/env python3
# check_losses.py: train.py's PyTorch losses against the reference values Ablate's native losses are tested on.
"""Evaluates train.py's losses (value and autograd gradient w.r.t. the logits) on every case of
Tests/NNTests/Fixtures/losses.json, the fixture that Ablate's native losses (Sources/NN/Losses.swift) must
reproduce, and prints the largest differences. Exits 1 if one exceeds 1e-6 (relative to the value's scale).

    python3 examples/torch-trainer/check_losses.py
"""
import json
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from train import class_balanced_weights, make_loss  # noqa: E402

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "Tests/NNTests/Fixtures/losses.json"


def main():
    fixture = json.loads(FIXTURE.read_text())
    cases = fixture["cases"]
    weights = class_balanced_weights(fixture["stage2_counts"], 0.9999).double()
    worst = float((weights - torch.tensor(fixture["cb_weights_stage2"], dtype=torch.float64)).abs().max())
    print(f"class-balanced weights {[round(w, 4) for w in weights.tolist()]}, max diff {worst:.2e} (float32)")
    for case in cases:
        name, params = case["loss"], dict(case["params"])
        weighted = name != "focal" and not (name == "ce" and not params.get("weighted", False))
        weights = torch.tensor(case["class_weights"], dtype=torch.float64) if weighted else None
        if name == "ce" and weighted:
            name, params = "poly", {"epsilon": 0.0}  # weighted CE is poly with ε = 0
        logits = torch.tensor(case["logits"], dtype=torch.float64, requires_grad=True)
        labels = torch.tensor(case["labels"])
        loss = make_loss(name, params, weights)(logits.double(), labels)
        loss.backward()
        value_error = abs(loss.item() - case["value"]) / max(1.0, abs(case["value"]))
        grad_error = float((logits.grad - torch.tensor(case["gradient"], dtype=torch.float64)).abs().max())
        worst = max(worst, value_error, grad_error)
        print(f"{case['loss']:16} {json.dumps(case['params']):45} value {loss.item():.10f} "
              f"(reference {case['value']:.10f}), max |grad diff| {grad_error:.2e}")
    print(f"largest difference {worst:.2e}")
    return 0 if worst <= 1e-6 else 1  # the weights are float32, as train.py's


if __name__ == "__main__":
    sys.exit(main())
