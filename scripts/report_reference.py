#!/usr/bin/env python3
"""Independent NumPy/SciPy reference for the statistics of `ablate report` (run by hand; CI does not run it).

Reads the fixture predictions Tests/ReportKitTests/Fixtures/report-predictions.json (creating it, synthetic and
seeded, when absent or with --make-inputs) and writes Tests/ReportKitTests/Fixtures/report-expected.json with,
per variant against the baseline: Δ macro-F1 (pp), the paired-bootstrap percentile interval (overall and per
class), the paired approximate-randomization p-value and the Holm-corrected p-values.

Definitions (docs/report-format.md): macro-F1 as scikit-learn's f1_score(average="macro", zero_division=0) over
all classes; Δ = mean over the variant's seeds − mean over the baseline's seeds (seeds paired by position).
Bootstrap: rng = numpy.random.default_rng(seed); each resample takes rng.integers(0, n, size=n) rows, the same
rows for every comparison; interval = numpy.percentile(Δ*, [100·α/2, 100·(1−α/2)]).
Approximate randomization: rng = default_rng(seed + 1); each round swaps row i of every seed pair when
rng.integers(0, 2, size=n)[i] == 1; p = (count(|Δ*| ≥ |Δ| − 1e-12) + 1) / (rounds + 1).
Holm: sorted ascending, p_(i) ← max_{j≤i} min(1, (m − j + 1)·p_(j)).

Seed-and-row interval (the verdict's): d_s = macro-F1(variant seed s) − macro-F1(baseline seed s) in pp;
Δ̂ = mean d_s; V_seed = var(d_s, ddof=1)/n; V_rows = var(bootstrap Δ*, ddof=1); SE = √(V_seed + V_rows);
df = n − 1 (not Welch–Satterthwaite's, which the calibration showed too optimistic at 2–3 seeds); CI = Δ̂ ± t.ppf(1 − α/2, df)·SE; p = 2·t.sf(|Δ̂|/SE, df),
Holm-corrected over the variants; TOST interval Δ̂ ± t.ppf(1 − α, df)·SE. Verdict with threshold δ (pp):
better/worse when p-Holm ≤ α, the CI excludes 0 and |Δ̂| > δ (sign of Δ̂); equivalent when the TOST interval lies
inside (−δ, δ); else undecided, with seeds_to_decide = the smallest m > n (≤ 1000) at which
t(m − 1)·√(var(d_s)/m + V_rows) < |Δ̂| − δ (or < δ − |Δ̂| with t.ppf(1 − α) for equivalence), None if none.

Usage: python3 scripts/report_reference.py [--make-inputs]
"""
import json
import pathlib
import sys

import numpy as np
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests/ReportKitTests/Fixtures"
INPUTS = FIXTURES / "report-predictions.json"
EXPECTED = FIXTURES / "report-expected.json"
CHUNK = 500


def make_inputs():
    """Three classes, 2,000 rows; a baseline and three variants (clearly better, equal, slightly worse), 3 seeds."""
    rng = np.random.default_rng(20260501)
    rows, classes = 2000, 3
    labels = rng.choice(classes, size=rows, p=[0.2, 0.45, 0.35])
    difficulty = rng.random(rows)

    def predictions(skill, seed_noise):
        cells = []
        for _ in range(3):
            correct = difficulty + seed_noise * rng.standard_normal(rows) < skill
            wrong = (labels + rng.integers(1, classes, size=rows)) % classes
            cells.append(np.where(correct, labels, wrong).tolist())
        return cells

    systems = {"baseline": predictions(0.60, 0.10), "better": predictions(0.66, 0.10),
               "same": predictions(0.60, 0.10), "worse": predictions(0.585, 0.10)}
    data = {"classes": classes, "labels": labels.tolist(), "baseline": "baseline",
            "resamples": 10000, "seed": 7, "alpha": 0.05, "systems": systems}
    INPUTS.write_text(json.dumps(data, separators=(",", ":")) + "\n")


def f1_per_class(labels, predicted, classes):
    """Per-class F1 with zero_division=0 for each row of `predicted` (cells × rows)."""
    out = np.zeros((predicted.shape[0], classes))
    for c in range(classes):
        is_true = labels == c
        is_pred = predicted == c
        tp = np.sum(is_pred & is_true[None, :], axis=1)
        fp = np.sum(is_pred & ~is_true[None, :], axis=1)
        fn = np.sum(~is_pred & is_true[None, :], axis=1)
        denominator = 2 * tp + fp + fn
        out[:, c] = np.where(tp > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
    return out


def delta(labels, variant, baseline, classes):
    v = f1_per_class(labels, variant, classes)
    b = f1_per_class(labels, baseline, classes)
    per_class = v.mean(axis=0) - b.mean(axis=0)
    return v.mean(axis=1).mean() - b.mean(axis=1).mean(), per_class


def holm(p):
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


MAX_DF = 1e6


def seeds_df(n):
    """n − 1 degrees of freedom for n paired seeds (at least 1)."""
    return float(max(1, n - 1))


def seed_row(per_seed, row_sd, alpha, threshold):
    """The seed-and-row components, interval, p-value and seeds-to-decide of one comparison (before Holm)."""
    d = np.asarray(per_seed, dtype=float)
    n = len(d)
    s2 = float(np.var(d, ddof=1))
    v_seed, v_rows = s2 / n, row_sd ** 2
    se = float(np.sqrt(v_seed + v_rows))
    df = seeds_df(n)
    mean = float(d.mean())
    half = stats.t.ppf(1 - alpha / 2, df) * se
    one_sided = stats.t.ppf(1 - alpha, df) * se
    p = float(2 * stats.t.sf(abs(mean) / se, df)) if se > 0 else (1.0 if mean == 0 else 0.0)
    magnitude = abs(mean)
    direction = magnitude > threshold
    margin = magnitude - threshold if direction else threshold - magnitude
    level = 1 - alpha / 2 if direction else 1 - alpha
    seeds = None
    if margin > 0 and stats.t.ppf(level, MAX_DF) * np.sqrt(v_rows) < margin:
        for m in range(n + 1, 1001):
            v = s2 / m
            if stats.t.ppf(level, seeds_df(m)) * np.sqrt(v + v_rows) < margin:
                seeds = m
                break
    return {"seed_row_delta_pp": mean, "per_seed_delta_pp": d.tolist(), "seed_sd_pp": float(np.sqrt(s2)),
            "seed_variance_pp2": v_seed, "row_variance_pp2": v_rows, "se_pp": se, "df": df,
            "seed_row_ci_low_pp": mean - half, "seed_row_ci_high_pp": mean + half,
            "equivalence_ci_low_pp": mean - one_sided, "equivalence_ci_high_pp": mean + one_sided,
            "seed_row_p_value": p, "seeds_to_decide_if_undecided": seeds}


def judge(r, alpha, threshold):
    if r["seed_row_p_holm"] <= alpha and r["seed_row_ci_low_pp"] > 0 and r["seed_row_delta_pp"] > threshold:
        return "better"
    if r["seed_row_p_holm"] <= alpha and r["seed_row_ci_high_pp"] < 0 and r["seed_row_delta_pp"] < -threshold:
        return "worse"
    if r["equivalence_ci_low_pp"] > -threshold and r["equivalence_ci_high_pp"] < threshold:
        return "equivalent"
    return "undecided"


def main():
    if "--make-inputs" in sys.argv or not INPUTS.exists():
        make_inputs()
    data = json.loads(INPUTS.read_text())
    classes, labels = data["classes"], np.asarray(data["labels"])
    rows = len(labels)
    baseline = np.asarray(data["systems"][data["baseline"]])
    names = [name for name in data["systems"] if name != data["baseline"]]
    variants = {name: np.asarray(data["systems"][name]) for name in names}
    resamples, seed, alpha = data["resamples"], data["seed"], data["alpha"]

    observed = {name: delta(labels, variants[name], baseline, classes) for name in names}

    rng = np.random.default_rng(seed)
    boot = {name: [] for name in names}
    boot_class = {name: [] for name in names}
    for start in range(0, resamples, CHUNK):
        block = rng.integers(0, rows, size=(min(CHUNK, resamples - start), rows))
        for index in block:
            for name in names:
                d, per_class = delta(labels[index], variants[name][:, index], baseline[:, index], classes)
                boot[name].append(100 * d)
                boot_class[name].append(100 * per_class)

    rng = np.random.default_rng(seed + 1)
    reached = {name: 0 for name in names}
    for start in range(0, resamples, CHUNK):
        block = rng.integers(0, 2, size=(min(CHUNK, resamples - start), rows)).astype(bool)
        for swap in block:
            for name in names:
                v = np.where(swap[None, :], baseline, variants[name])
                b = np.where(swap[None, :], variants[name], baseline)
                d, _ = delta(labels, v, b, classes)
                if abs(d) >= abs(observed[name][0]) - 1e-12:
                    reached[name] += 1
    p_values = [(reached[name] + 1) / (resamples + 1) for name in names]
    p_holm = holm(p_values)

    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
    results = {}
    for i, name in enumerate(names):
        low, high = np.percentile(boot[name], q)
        class_bounds = np.percentile(np.asarray(boot_class[name]), q, axis=0)
        sd = float(np.std(boot[name], ddof=1))
        results[name] = {
            "delta_pp": 100 * observed[name][0],
            "per_class_delta_pp": (100 * observed[name][1]).tolist(),
            "ci_low_pp": float(low), "ci_high_pp": float(high),
            "per_class_ci_low_pp": class_bounds[0].tolist(), "per_class_ci_high_pp": class_bounds[1].tolist(),
            "bootstrap_sd_pp": sd,
            "p_value": p_values[i], "p_holm": p_holm[i],
        }
    # A normal-theory cross-check of the bootstrap spread (not compared by the tests).
    z = stats.norm.ppf(1 - alpha / 2)
    for name in names:
        results[name]["normal_ci_pp"] = [results[name]["delta_pp"] - z * results[name]["bootstrap_sd_pp"],
                                         results[name]["delta_pp"] + z * results[name]["bootstrap_sd_pp"]]
    # The verdict's seed-and-row interval: per-seed differences plus the bootstrap's row variance.
    threshold = data.get("threshold_pp", 1.0)
    for name in names:
        per_seed = [100 * delta(labels, variants[name][s:s + 1], baseline[s:s + 1], classes)[0] for s in range(len(baseline))]
        results[name].update(seed_row(per_seed, results[name]["bootstrap_sd_pp"], alpha, threshold))
    seed_row_holm = holm([results[name]["seed_row_p_value"] for name in names])
    for i, name in enumerate(names):
        results[name]["seed_row_p_holm"] = seed_row_holm[i]
        results[name]["verdict"] = judge(results[name], alpha, threshold)
        results[name]["seeds_to_decide"] = (results[name]["seeds_to_decide_if_undecided"]
                                            if results[name]["verdict"] == "undecided" else None)
    EXPECTED.write_text(json.dumps({"resamples": resamples, "seed": seed, "alpha": alpha, "threshold_pp": threshold,
                                    "variants": results},
                                   indent=1, sort_keys=True) + "\n")
    print(json.dumps(results, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
