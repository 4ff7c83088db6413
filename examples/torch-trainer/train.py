#!/usr/bin/env python3
# train.py: the stage-2 loss ablation as a PyTorch script, run by Ablate workers through the command contract.
"""Stage-2 (SPLIT / RECT / AB) training of the partition model with one of the loss ablation's losses.

    python3 train.py --loss-type cb_focal --seed 42 --output-dir runs/cb_focal-42 --data data/synth.h5

The model is Ablate's native model tree built in PyTorch (ResNet-18-style backbone with squeeze-excitation and
spatial attention, Conv-Adapters on layer3 and layer4, the stage-2 head [256, 128] with dropout 0.4), under the
same state_dict names as Ablate's checkpoints (docs/checkpoint-format.md), so an Ablate stage-1 checkpoint
(`$ABLATE_STAGE1`, HDF5) loads into its backbone. With a stage-1 checkpoint the backbone is frozen and kept in
eval mode (its BatchNorm statistics neither used per batch nor updated); without one it trains too.

Under an Ablate worker it follows docs/bring-your-own-trainer.md: it reads `$ABLATE_DATASET` with h5py, writes
one JSON line per epoch to `$ABLATE_OUT/metrics.jsonl`, keeps `last.pt` (the sweep's `resume_file`) and resumes
from `$ABLATE_RESUME`, and writes `predictions.h5` (logits and labels of the best epoch) for the paired row tests.
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

# Raw AV1 partition id -> stage-2 label: SPLIT 0 <- {3}, RECT 1 <- {1, 2}, AB 2 <- {4, 5, 6, 7}; others excluded.
STAGE2 = {3: 0, 1: 1, 2: 1, 4: 2, 5: 2, 6: 2, 7: 2}
CLASS_NAMES = ["split", "rect", "ab"]
K = 3

# --loss-type: the loss ablation's five losses under the names Ablate's sweeps give them (focal_gamma3 is
# cb_focal with γ = 3), plus Ablate's two extra losses. Each with the hyper-parameters it uses and their defaults
# (Sources/NN/Losses.swift: LossKind.named) and whether it weights rows by class-balanced weights.
LOSSES = {
    "cb_focal": ({"gamma": 2.0, "beta": 0.9999}, True),
    "focal_gamma3": ({"gamma": 3.0, "beta": 0.9999}, True),
    "poly": ({"epsilon": 1.0, "beta": 0.9999}, True),
    "asymmetric": ({"gamma_pos": 2.0, "gamma_neg": 4.0, "beta": 0.9999}, True),
    "focal_smoothing": ({"gamma": 2.0, "smoothing": 0.1, "beta": 0.9999}, True),
    "focal": ({"gamma": 2.0}, False),
    "ce": ({}, False),
}
MODELS = {"full": 64, "tiny": 16}  # backbone base width: 64 is the research model, 16 Ablate's demo model


# ---- data -------------------------------------------------------------------------------------------------------

def load_split(path, split, max_rows=None):
    """The split's stage-2 rows in file order: inputs [N, 1, B, B] (samples / (2^bit_depth - 1)) and labels."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") not in ("ablate-dataset", b"ablate-dataset"):
            raise SystemExit(f"train.py: {path} is not an Ablate dataset (docs/dataset-format.md)")
        scale = float((1 << int(f.attrs["bit_depth"])) - 1)
        ids = f[f"{split}/labels"][:]
        keep = np.flatnonzero(np.isin(ids, list(STAGE2)))
        if max_rows:
            keep = keep[:max_rows]
        blocks = f[f"{split}/blocks"][:][keep].astype(np.float32) / scale
    labels = np.array([STAGE2[int(v)] for v in ids[keep]], dtype=np.int64)
    return torch.from_numpy(blocks).unsqueeze(1), torch.from_numpy(labels)


def class_balanced_weights(counts, beta):
    """w_c = (1 - β) / (1 - β^{n_c}), renormalised to sum to K (Cui et al. 2019)."""
    n = np.asarray(counts, dtype=np.float64)
    w = (1 - beta) / (1 - np.power(beta, n))
    return torch.tensor(w * len(n) / w.sum(), dtype=torch.float32)


# ---- losses (per row, then a plain mean over the batch, as Ablate's native trainer) ---------------------------

def make_loss(loss_type, hp, weights):
    """The loss as a function of (logits [N, K], labels [N]) -> scalar; `weights` is ŵ or None."""
    def fn(logits, y):
        logp = torch.log_softmax(logits, dim=1)
        p = logp.exp()
        wy = weights[y].to(logits.dtype) if weights is not None else torch.ones_like(logp[:, 0])
        logp_y = logp.gather(1, y[:, None]).squeeze(1)
        if loss_type in ("cb_focal", "focal_gamma3", "focal"):
            per = wy * (1 - logp_y.exp()) ** hp["gamma"] * -logp_y
        elif loss_type == "ce":
            per = -logp_y
        elif loss_type == "poly":
            ce = wy * -logp_y
            per = ce + hp["epsilon"] * (1 - torch.exp(-ce))
        elif loss_type == "asymmetric":
            onehot = nn.functional.one_hot(y, logits.shape[1]).to(logits.dtype)
            pos = onehot * (1 - p) ** hp["gamma_pos"] * -torch.log(p + 1e-8)
            neg = (1 - onehot) * p ** hp["gamma_neg"] * -torch.log(1 - p + 1e-8)
            per = wy * (pos + neg).sum(1)
        elif loss_type == "focal_smoothing":
            eps = hp["smoothing"]
            target = (1 - eps) * nn.functional.one_hot(y, logits.shape[1]).to(logits.dtype) + eps / logits.shape[1]
            per = wy * ((1 - p) ** hp["gamma"] * target * -logp).sum(1)
        else:
            raise ValueError(loss_type)
        return per.mean()
    return fn


# ---- the model tree (names as Ablate's checkpoints) -----------------------------------------------------------

class SE(nn.Module):
    def __init__(self, c, r=16):
        super().__init__()
        self.excitation = nn.Sequential(nn.Linear(c, c // r, bias=False), nn.ReLU(), nn.Linear(c // r, c, bias=False),
                                        nn.Sigmoid())

    def forward(self, x):
        return x * self.excitation(x.mean(dim=(2, 3)))[:, :, None, None]


class SpatialAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, padding=3, bias=False)

    def forward(self, x):
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class Backbone(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.conv1 = nn.Conv2d(1, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = w
        for i, c in enumerate([w, 2 * w, 4 * w, 8 * w]):
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, c, 1 if i == 0 else 2), BasicBlock(c, c, 1)))
            setattr(self, f"se{i + 1}", SE(c))
            cin = c
        self.spatial_attn = SpatialAttention()


class ConvAdapter(nn.Module):
    """h + α ⊙ Up(ReLU(DW(ReLU(BN(Down(h)))))), near identity at start."""

    def __init__(self, c, reduction):
        super().__init__()
        m = c // reduction
        self.down_proj = nn.Conv2d(c, m, 1, bias=False)
        self.bn = nn.BatchNorm2d(m)
        self.dw_conv = nn.Conv2d(m, m, 3, padding=1, groups=m, bias=False)
        self.up_proj = nn.Conv2d(m, c, 1, bias=False)
        self.alpha = nn.Parameter(torch.ones(c))
        for conv in (self.down_proj, self.dw_conv, self.up_proj):
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            with torch.no_grad():
                conv.weight.mul_(0.01)

    def forward(self, h):
        d = self.up_proj(torch.relu(self.dw_conv(torch.relu(self.bn(self.down_proj(h))))))
        return h + self.alpha.view(1, -1, 1, 1) * d


class Head(nn.Module):
    def __init__(self, cin, hidden=(256, 128), p=0.4, classes=K):
        super().__init__()
        layers, prev = [], cin
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.ReLU(), nn.Dropout(p)]
            prev = h
        self.head = nn.Sequential(*layers, nn.Linear(prev, classes))

    def forward(self, x):
        return self.head(x)


class Stage2Model(nn.Module):
    def __init__(self, width, reduction=4, adapter_layers=(3, 4)):
        super().__init__()
        self.backbone = Backbone(width)
        self.adapters = nn.ModuleDict({f"layer{k}": ConvAdapter(width * 2 ** (k - 1), reduction)
                                       for k in adapter_layers})
        self.head = Head(8 * width)

    def forward(self, x):
        b = self.backbone
        x = b.maxpool(torch.relu(b.bn1(b.conv1(x))))
        for k in range(1, 5):
            x = getattr(b, f"se{k}")(getattr(b, f"layer{k}")(x))
            if k == 4:
                x = b.spatial_attn(x)
            if f"layer{k}" in self.adapters:
                x = self.adapters[f"layer{k}"](x)
        return self.head(x.mean(dim=(2, 3)))


def load_stage1(model, path):
    """Loads the backbone from a stage-1 checkpoint: Ablate's HDF5 (`/model/backbone.*`) or a torch file (a
    state_dict, or a dict with `model_state_dict`), keys `backbone.*`."""
    if h5py.is_hdf5(path):
        with h5py.File(path, "r") as f:
            state = {k: torch.from_numpy(np.asarray(f["model"][k][()])) for k in f["model"] if k.startswith("backbone.")}
    else:
        raw = torch.load(path, map_location="cpu", weights_only=True)
        raw = raw.get("model_state_dict", raw)
        state = {k: v for k, v in raw.items() if k.startswith("backbone.")}
    own = model.backbone.state_dict()
    state = {k[len("backbone."):]: v for k, v in state.items()}
    want = tuple(own["conv1.weight"].shape)
    got = tuple(state["conv1.weight"].shape) if "conv1.weight" in state else None
    if got != want:
        raise SystemExit(f"train.py: the stage-1 checkpoint {path} has backbone conv1 {got}, --model needs {want} "
                         f"(full: width 64, tiny: width 16)")
    # Ablate stores BatchNorm's num_batches_tracked with one element; PyTorch's is 0-dimensional.
    state = {k: v.reshape(own[k].shape) if k in own else v for k, v in state.items()}
    model.backbone.load_state_dict(state, strict=True)


# ---- metrics ----------------------------------------------------------------------------------------------------

def classification_metrics(pred, y):
    """Macro F1 / precision / recall (zero when undefined), accuracy and per-class F1."""
    f1s, precisions, recalls = [], [], []
    for c in range(K):
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        precisions.append(tp / (tp + fp) if tp else 0.0)
        recalls.append(tp / (tp + fn) if tp else 0.0)
    return {"macro_f1": sum(f1s) / K, "macro_precision": sum(precisions) / K, "macro_recall": sum(recalls) / K,
            "accuracy": float((pred == y).float().mean()), "per_class_f1": f1s}


def save_atomic(write, path):
    """Writes under a name the worker does not stream, then renames: a half-written file is never seen."""
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)


# ---- main -------------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loss-type", required=True, choices=sorted(LOSSES))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("ABLATE_SEED", "42")))
    parser.add_argument("--output-dir", default=os.environ.get("ABLATE_OUT"),
                        help="where metrics.jsonl, last.pt, best.pt, predictions.h5 go (default $ABLATE_OUT)")
    parser.add_argument("--data", default=os.environ.get("ABLATE_DATASET"),
                        help="the Ablate HDF5 dataset (default $ABLATE_DATASET)")
    parser.add_argument("--stage1-checkpoint", default=os.environ.get("ABLATE_STAGE1"),
                        help="stage-1 model whose backbone is frozen (default $ABLATE_STAGE1; none: train it too)")
    parser.add_argument("--model", choices=sorted(MODELS), default="full",
                        help="full: the research width 64; tiny: width 16, for CPUs")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr-adapter", type=float, default=1e-3)
    parser.add_argument("--lr-head", type=float, default=1e-4)
    parser.add_argument("--lr-backbone", type=float, default=1e-4, help="only without a stage-1 checkpoint")
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--adapter-reduction", type=int, default=4)
    parser.add_argument("--patience", type=int, default=15, help="early stopping on val macro-F1")
    parser.add_argument("--max-train-rows", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    for name in ("gamma", "beta", "epsilon", "gamma_pos", "gamma_neg", "smoothing"):
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=float, default=None,
                            help=f"loss hyper-parameter (default: the variant's {name} in $ABLATE_CONFIG, "
                                 f"else the loss's default)")
    args = parser.parse_args(argv)
    if not args.output_dir or not args.data:
        parser.error("give --output-dir and --data (or run under an Ablate worker, which sets $ABLATE_OUT and "
                     "$ABLATE_DATASET)")
    return args


def loss_hyperparameters(args):
    """Each hyper-parameter the loss uses: the flag, else the variant's resolved setting in $ABLATE_CONFIG when the
    variant's `loss` is this loss type (so `--loss-type {loss}` trains what the sweep's settings say), else the
    loss's default."""
    defaults, weighted = LOSSES[args.loss_type]
    config = json.loads(os.environ.get("ABLATE_CONFIG") or "{}")
    from_config = config if config.get("loss") == args.loss_type else {}
    hp = {}
    for name, default in defaults.items():
        given = getattr(args, name)
        hp[name] = float(given if given is not None else from_config.get(name) if from_config.get(name) is not None
                         else default)
    return hp, weighted


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.output_dir, exist_ok=True)
    seed_everything(args.seed)
    device = torch.device(args.device)  # under `ablate worker --gpus`, CUDA_VISIBLE_DEVICES is the job's GPU
    hp, weighted = loss_hyperparameters(args)

    x_train, y_train = load_split(args.data, "train", args.max_train_rows)
    x_val, y_val = load_split(args.data, "val")
    counts = torch.bincount(y_train, minlength=K)
    weights = class_balanced_weights(counts.tolist(), hp["beta"]).to(device) if weighted else None
    criterion = make_loss(args.loss_type, hp, weights)
    # The sampler: each row drawn with probability ∝ 1/n_class (≈ a third of each class), with replacement,
    # as many draws per epoch as training rows.
    row_weights = (1.0 / counts.clamp(min=1).double())[y_train]
    sampler = torch.Generator().manual_seed(args.seed)

    model = Stage2Model(MODELS[args.model], args.adapter_reduction).to(device)
    frozen = bool(args.stage1_checkpoint)
    if frozen:
        load_stage1(model, args.stage1_checkpoint)
        for p in model.backbone.parameters():
            p.requires_grad_(False)
    groups = [{"params": list(model.adapters.parameters()), "lr": args.lr_adapter, "name": "adapter"},
              {"params": list(model.head.parameters()), "lr": args.lr_head, "name": "head"}]
    if not frozen:
        groups.append({"params": list(model.backbone.parameters()), "lr": args.lr_backbone, "name": "backbone"})
    optimizer = torch.optim.AdamW(groups, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=5)
    x_train, y_train, x_val, y_val = x_train.to(device), y_train.to(device), x_val.to(device), y_val.to(device)

    state = {"epoch": 0, "best_f1": -1.0, "best_epoch": 0, "bad_epochs": 0, "best_logits": None}
    resume = os.environ.get("ABLATE_RESUME") or next(
        (p for p in [os.path.join(args.output_dir, "last.pt")] if os.path.exists(p)), None)
    if resume:
        saved = torch.load(resume, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        sampler.set_state(saved["sampler"])
        torch.set_rng_state(saved["torch_rng"])
        if torch.cuda.is_available() and saved.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(saved["cuda_rng"])
        np.random.set_state(saved["numpy_rng"])
        random.setstate(saved["python_rng"])
        state = saved["progress"]
        print(f"resuming from {resume} after epoch {state['epoch']}", flush=True)

    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"loss {args.loss_type} {hp}, model {args.model} ({trainable:,} trainable of "
          f"{sum(p.numel() for p in model.parameters()):,}), backbone {'frozen' if frozen else 'trained'}, "
          f"{len(y_train)} train / {len(y_val)} val rows, device {device}", flush=True)
    metrics_path = os.path.join(args.output_dir, "metrics.jsonl")
    for epoch in range(state["epoch"] + 1, args.epochs + 1):
        if state["bad_epochs"] >= args.patience:
            break
        started = time.time()
        model.train()
        if frozen:
            model.backbone.eval()  # frozen BatchNorm keeps its stage-1 running statistics
        order = torch.multinomial(row_weights, len(row_weights), replacement=True, generator=sampler).to(device)
        total, batches, train_pred = 0.0, 0, []
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            logits = model(x_train[idx])
            loss = criterion(logits, y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
            train_pred.append(logits.argmax(1).detach())
        train = classification_metrics(torch.cat(train_pred), y_train[order])
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(x_val[i:i + 1024]) for i in range(0, len(y_val), 1024)]).float()
            val_loss = float(criterion(logits, y_val))
        val = classification_metrics(logits.argmax(1), y_val)
        lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
        scheduler.step(val["macro_f1"])
        improved = val["macro_f1"] > state["best_f1"]
        if improved:
            state.update(best_f1=val["macro_f1"], best_epoch=epoch, bad_epochs=0, best_logits=logits.cpu())
            trained = {k: v for k, v in model.state_dict().items() if not (frozen and k.startswith("backbone."))}
            save_atomic(lambda p: torch.save({"model": trained, "epoch": epoch, "loss_type": args.loss_type,
                                              "loss_hyperparameters": hp, "model_size": args.model}, p),
                        os.path.join(args.output_dir, "best.pt"))
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                      "scheduler": scheduler.state_dict(), "sampler": sampler.get_state(),
                      "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state(),
                      "python_rng": random.getstate(),
                      "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                      "progress": dict(state)}
        # The checkpoint first, then the epoch's line: the worker ties a streamed file to the last line before it.
        save_atomic(lambda p: torch.save(checkpoint, p), os.path.join(args.output_dir, "last.pt"))
        record = {"epoch": epoch, "val_macro_f1": val["macro_f1"], "val_macro_precision": val["macro_precision"],
                  "val_macro_recall": val["macro_recall"], "val_accuracy": val["accuracy"], "val_loss": val_loss,
                  **{f"val_f1_{n}": f for n, f in zip(CLASS_NAMES, val["per_class_f1"])},
                  "train_loss": total / max(1, batches), "train_macro_f1": train["macro_f1"],
                  "lr": lrs["head"], "lr_adapter": lrs["adapter"], "seconds": time.time() - started}
        with open(metrics_path, "a") as f:
            f.write(json.dumps(record, allow_nan=False) + "\n")
        print(f"epoch {epoch}: train loss {record['train_loss']:.4f}, val loss {val_loss:.4f}, "
              f"val macro-F1 {val['macro_f1']:.4f}{' (best)' if improved else ''}, {record['seconds']:.1f} s",
              flush=True)

    if state["best_logits"] is None:
        raise SystemExit("train.py: no epoch was trained")

    def write_predictions(path):
        with h5py.File(path, "w") as f:
            f.attrs["format"] = "ablate-predictions"
            f.attrs["format_version"] = np.int64(1)
            f.attrs["epoch"] = np.int64(state["best_epoch"])
            f.create_dataset("logits", data=state["best_logits"].numpy().astype(np.float32))
            f.create_dataset("labels", data=y_val.cpu().numpy().astype(np.int64))
    save_atomic(write_predictions, os.path.join(args.output_dir, "predictions.h5"))
    print(f"best epoch {state['best_epoch']}: val macro-F1 {state['best_f1']:.4f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
