#!/usr/bin/env python3
"""Independent NumPy/SciPy reference for `CalibrationSimulation` (run by hand; CI does not run it).

Usage: python3 scripts/calibration_reference.py [--df seeds|welch]

--df chooses the seed-and-row interval's degrees of freedom: `seeds` (the default) n − 1, as
Sources/Report/SeedRowInterval.swift now has it; `welch` the Welch–Satterthwaite df (V_seed + V_rows)² /
(V_seed² / (n − 1)) capped at 1e6, its earlier rule (still the one scripts/report_reference.py uses). The fixture
records the rule it was made with (`df_rule`); regenerate it when SeedRowInterval's rule changes.

Writes two fixtures for Tests/ReportKitTests/CalibrationReferenceTests.swift:

- Tests/ReportKitTests/Fixtures/calibration-pool.json — a deterministic synthetic pool (numpy default_rng(2026)),
  compact JSON {"classes": 3, "labels": [...], "cells": [[...], ...]}: 600 validation rows with unbalanced labels
  (class probabilities 0.5/0.3/0.2) and 24 cells ("seeds"). Cell c is right on row i when
  difficulty_i + 0.03·noise_ci < skill_c (difficulty ~ U(0, 1) shared by the cells, noise ~ N(0, 1),
  skill_c = 0.70 + 0.003·N(0, 1)); a wrong prediction is the row's shared confusion class (a uniformly chosen
  other class) with probability 0.9, else a uniformly chosen other class. Each cell is right on about two thirds
  of the rows (macro-F1 ≈ 64 pp, SD ≈ 0.7 pp across cells) and the seeds' errors are correlated as real seeds'
  are, so the 1.5 pp effect is sometimes found at 4–6 seeds; with 600 rows the row component keeps `equivalent`
  (±1 pp) nearly out of reach.
- Tests/ReportKitTests/Fixtures/calibration-expected.json — what the simulation must give on that pool with
  SETTINGS below (threshold 1 pp, α 0.05, 200 resamples, seed 0, fixed seed counts [2, 3, 5], effects [0, 1.5]
  × threshold, one adaptive design 3–6; rates over 40 simulations per scenario).

Every random draw uses NumPy's own generator, so the Swift side (which reproduces NumPy's streams) must agree to
floating-point rounding, not just statistically. The steps, mirroring Sources/Report/CalibrationSimulation.swift
and CalibrationPool.swift:

- macro-F1: scikit-learn's f1_score(average="macro", zero_division=0) over all classes, as a fraction.
- effect rows (CalibrationPool.effectRows, target = multiple × threshold): order =
  default_rng(seed + 0xE77EC7).permutation(N); gain(k) = 100 · mean over the pool's cells of
  macro-F1(cell with the first k rows of order set to their labels) − macro-F1(cell), on all N rows; the shortest k
  with gain(k) ≥ target. Computed by a full scan over k (and checked against the Swift code's bisection).
- scenarios (CalibrationSimulation.scenarios): per effect in order, fixed designs 2 … max(largest seed count,
  largest adaptive maximum), then the adaptive designs. Scenario s, simulation j: stream seed
  seed + (s << 24) + j (mod 2^64), sign +1 for even j and −1 for odd j.
- one comparison (CalibrationSimulation.judgedLooks): rng = default_rng(stream seed); drawn =
  rng.integers(0, N, size=N); order = rng.permutation(P) (P cells); with M the scenario's maximum seeds, the variant
  cells are order[0:M], the baseline's order[M:2M]; with an effect the variant's cells are corrected on the effect
  rows for sign +1, the baseline's for −1. Per look with n seeds per side (fixed: n = M at level α; adaptive: n₀ … M
  at SequentialDesign's levels α/(2(K−1)) before M and α/2 at M, α for a single look): per-seed Δ_s =
  100·(F1(variant s) − F1(baseline s)) on the drawn rows; the paired bootstrap over the drawn rows
  (default_rng(stream seed + (n << 40) mod 2^64), resample r = the next integers(0, N, size=N), Δ* = 100·(mean
  macro-F1 of the n variant cells − mean of the n baseline cells), row SD = std(Δ*, ddof=1)); the seed-and-row
  interval (SE = √(var(Δ_s, ddof=1)/n + row SD²), df by --df, CI Δ̂ ± t.ppf(1 − level/2, df)·SE, TOST interval
  Δ̂ ± t.ppf(1 − level, df)·SE, p = 2·t.sf(|Δ̂|/SE, df), with scipy.stats.t); the verdict
  (Verdict.judge with p-Holm = p at the look's level); stop at the first better / worse / equivalent.
- rates (CalibrationSimulation.tally): per scenario over j < simulations, the verdict counts, correct (better on
  +e, worse on −e), false (better or worse without an effect; the wrong direction, or equivalent when the effect exceeds the threshold, with one) and the mean seeds
  per side at the last look.

Keys of calibration-expected.json:
- settings: threshold_pp, alpha, resamples, seed, seed_counts, effects, adaptive ([[initial, maximum], ...]),
  simulations.
- df_rule: "seeds" (n − 1) or "welch": the interval's degrees of freedom the fixture was made with.
- effects: per effect multiple > 0: multiple, target_pp, seed (the permutation's seed), rows (the effect rows, in
  order; their count is the prefix length), effect_pp (the gain they give).
- scenarios: in stream order: index, effect_multiple, fixed_seeds (null for adaptive), adaptive ([initial, maximum]
  or null).
- looks: for every scenario index and simulation j < LISTED_SIMULATIONS: scenario, simulation, stream_seed, sign,
  looks: [{seeds, per_seed_delta_pp, row_sd_pp, level, p_value, verdict}] up to the deciding one.
- rates: per scenario: scenario, effect_pp, simulations, better, worse, equivalent, undecided, correct,
  false_verdicts, mean_seeds.
- stream_check: the stream seeds on which a literal Python port of the Swift draws (PCG64 32-bit buffering,
  `lemireBelow`, `NumPyGenerator.interval`/`shuffle`, fed by numpy's PCG64.random_raw) was checked to equal
  numpy's integers(0, N, size=N) followed by permutation(P).
- closest_call: the smallest distance of any decision quantity ((p − level)/level, interval bounds against 0 and
  ±threshold, Δ̂ against ±threshold) from its cut-off over every simulated look: how far rounding is from
  flipping a verdict.
"""
import argparse
import json
import pathlib

import numpy as np
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests/ReportKitTests/Fixtures"
POOL = FIXTURES / "calibration-pool.json"
EXPECTED = FIXTURES / "calibration-expected.json"

MASK64 = (1 << 64) - 1
EFFECT_SEED_OFFSET = 0xE77EC7
MAX_DF = 1e6
LISTED_SIMULATIONS = 16

SETTINGS = {"threshold_pp": 1.0, "alpha": 0.05, "resamples": 200, "seed": 0, "seed_counts": [2, 3, 5],
            "effects": [0.0, 1.5], "adaptive": [[3, 6]], "simulations": 40}


def make_pool(rows=600, cells=24, classes=3, seed=2026):
    rng = np.random.default_rng(seed)
    labels = rng.choice(classes, size=rows, p=[0.5, 0.3, 0.2])
    difficulty = rng.random(rows)
    confusion = (labels + rng.integers(1, classes, size=rows)) % classes
    out = []
    for _ in range(cells):
        skill = 0.70 + 0.003 * rng.standard_normal()
        correct = difficulty + 0.03 * rng.standard_normal(rows) < skill
        other = (labels + rng.integers(1, classes, size=rows)) % classes
        wrong = np.where(rng.random(rows) < 0.9, confusion, other)
        out.append(np.where(correct, labels, wrong).tolist())
    return classes, labels.tolist(), out


# ---------------------------------------------------------------------------------------------- streams


class SwiftStreamPort:
    """The Swift draws (Sources/Support/NumPyRandom.swift, Sources/Report/PCG64+NumPyIntegers.swift) on numpy's PCG64."""

    def __init__(self, seed):
        self.bits = np.random.PCG64(seed)
        self.buffered = None

    def next_uint32(self):
        if self.buffered is not None:
            value, self.buffered = self.buffered, None
            return value
        raw = int(self.bits.random_raw())
        self.buffered = raw >> 32
        return raw & 0xFFFFFFFF

    def lemire_below(self, bound):
        product = self.next_uint32() * bound
        leftover = product & 0xFFFFFFFF
        if leftover < bound:
            threshold = (0xFFFFFFFF - (bound - 1)) % bound
            while leftover < threshold:
                product = self.next_uint32() * bound
                leftover = product & 0xFFFFFFFF
        return product >> 32

    def interval(self, maximum):
        if maximum == 0:
            return 0
        mask = maximum
        for shift in (1, 2, 4, 8, 16, 32):
            mask |= mask >> shift
        while True:  # maximum < 2^32 here
            value = self.next_uint32() & mask
            if value <= maximum:
                return value

    def permutation(self, count):
        values = list(range(count))
        for i in range(count - 1, 0, -1):
            j = self.interval(i)
            values[i], values[j] = values[j], values[i]
        return values


def check_streams(seeds, rows, cells):
    """The Swift port's row draw then cell permutation equal numpy's integers(0, N, size=N) then permutation(P)."""
    for seed in seeds:
        port = SwiftStreamPort(seed)
        drawn = [port.lemire_below(rows) for _ in range(rows)]
        order = port.permutation(cells)
        rng = np.random.default_rng(seed)
        assert drawn == rng.integers(0, rows, size=rows).tolist(), f"row draw differs at seed {seed}"
        assert order == rng.permutation(cells).tolist(), f"permutation differs at seed {seed}"


# ---------------------------------------------------------------------------------------------- macro-F1


def macro_f1(labels, predicted, classes):
    """Macro-F1 (fraction) of each row of `predicted` (cells × rows) against `labels` (rows), zero_division 0."""
    predicted = np.atleast_2d(predicted)
    total = np.zeros(predicted.shape[0])
    for c in range(classes):
        is_true = labels == c
        is_pred = predicted == c
        tp = np.sum(is_pred & is_true[None, :], axis=1)
        denominator = np.sum(is_pred, axis=1) + np.sum(is_true)
        total += np.where(tp > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
    return total / classes


def bootstrap_deltas(labels, variant, baseline, classes, resamples, seed):
    """100 · (mean macro-F1 of the variant cells − mean of the baseline cells) per resample of the rows."""
    rows = len(labels)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, rows, size=(resamples, rows))
    cells = np.concatenate([variant, baseline])            # (2n, rows)
    n = len(variant)
    k = classes
    # Confusion matrices of every (resample, cell) by bincount on (resample, cell, label, prediction).
    code = labels[None, :] * k + cells                       # (2n, rows)
    picked = code[:, draws]                                  # (2n, R, rows)
    offsets = (np.arange(resamples)[None, :] * (2 * n) + np.arange(2 * n)[:, None]) * k * k   # (2n, R)
    flat = (picked + offsets[:, :, None]).ravel()
    confusion = np.bincount(flat, minlength=resamples * 2 * n * k * k).reshape(resamples, 2 * n, k, k)
    tp = np.diagonal(confusion, axis1=2, axis2=3)            # (R, 2n, k)
    actual = confusion.sum(axis=3)
    predicted = confusion.sum(axis=2)
    f1 = np.where(tp > 0, 2 * tp / np.maximum(actual + predicted, 1), 0.0)
    macro = f1.sum(axis=2) / k                               # (R, 2n)
    return 100 * (macro[:, :n].mean(axis=1) - macro[:, n:].mean(axis=1))


# ---------------------------------------------------------------------------------------------- effect rows


def effect_rows(labels, cells, classes, target_pp, seed):
    rows = len(labels)
    order = np.random.default_rng(seed).permutation(rows)
    base = macro_f1(labels, cells, classes)

    def gain(k):
        corrected = cells.copy()
        fixed = order[:k]
        corrected[:, fixed] = labels[fixed][None, :]
        total = 0.0
        for after, before in zip(macro_f1(labels, corrected, classes), base):
            total += float(after) - float(before)
        return 100 * total / len(cells)

    gains = [gain(k) for k in range(rows + 1)]
    if gains[-1] < target_pp:
        return None
    shortest = next(k for k, g in enumerate(gains) if g >= target_pp)
    # The Swift code bisects, which assumes gain is non-decreasing in k (a correction never lowers an F1).
    assert all(b >= a - 1e-12 for a, b in zip(gains, gains[1:])), "gain not monotone"
    low, high = 0, rows
    while low < high:
        middle = (low + high) // 2
        if gains[middle] >= target_pp:
            high = middle
        else:
            low = middle + 1
    assert low == shortest, (low, shortest)
    return order[:shortest].tolist(), gains[shortest]


# ---------------------------------------------------------------------------------------------- the rule


DF_RULE = "seeds"


def seed_df(v_seed, v_rows, n):
    """The seed-and-row interval's degrees of freedom under DF_RULE."""
    if DF_RULE == "seeds":
        return float(max(1, n - 1))
    return welch_df(v_seed, v_rows, n)


def welch_df(v_seed, v_rows, n):
    if n < 2 or v_seed <= 0:
        return MAX_DF
    df = (v_seed + v_rows) ** 2 / (v_seed ** 2 / (n - 1))
    return min(df, MAX_DF) if np.isfinite(df) else MAX_DF


def judge(per_seed, row_sd, level, threshold):
    """Seed-and-row interval and verdict; returns (p, verdict, closest distance of a decision quantity to its cut)."""
    d = np.asarray(per_seed, dtype=float)
    n = len(d)
    if n < 2 or not np.isfinite(row_sd) or row_sd < 0:
        return float("nan"), "undecided", float("inf")
    mean = float(d.mean())
    v_seed = float(np.var(d, ddof=1)) / n
    v_rows = row_sd ** 2
    se = float(np.sqrt(v_seed + v_rows))
    df = seed_df(v_seed, v_rows, n)
    half = float(stats.t.ppf(1 - level / 2, df)) * se
    one_sided = float(stats.t.ppf(1 - level, df)) * se
    p = float(min(1.0, 2 * stats.t.sf(abs(mean) / se, df))) if se > 0 else (1.0 if mean == 0 else 0.0)
    low, high = mean - half, mean + half
    eq_low, eq_high = mean - one_sided, mean + one_sided
    rejects = p <= level
    if rejects and low > 0 and mean > threshold:
        verdict = "better"
    elif rejects and high < 0 and mean < -threshold:
        verdict = "worse"
    elif eq_low > -threshold and eq_high < threshold:
        verdict = "equivalent"
    else:
        verdict = "undecided"
    closest = min(abs(p - level) / level, abs(low), abs(high), abs(abs(mean) - threshold),
                  abs(eq_low + threshold), abs(eq_high - threshold))
    return p, verdict, closest


def sequential_level(initial, maximum, alpha, seeds):
    maximum = max(initial, maximum)
    looks = maximum - initial + 1
    if looks == 1:
        return alpha
    if seeds >= maximum:
        return alpha / 2
    return alpha / (2 * (looks - 1))


def scenarios(settings):
    largest = max(max(settings["seed_counts"], default=2), max((m for _, m in settings["adaptive"]), default=2))
    out = []
    for effect in settings["effects"]:
        for n in range(2, max(2, largest) + 1):
            out.append({"effect_multiple": effect, "fixed_seeds": n, "adaptive": None})
        for shape in settings["adaptive"]:
            out.append({"effect_multiple": effect, "fixed_seeds": None, "adaptive": list(shape)})
    return out


def maximum_seeds(scenario):
    return scenario["fixed_seeds"] if scenario["fixed_seeds"] is not None else scenario["adaptive"][1]


def stream_seed(seed, scenario, simulation):
    return (seed + (scenario << 24) + simulation) & MASK64


def judged_looks(labels, cells, classes, scenario, seed, rows_fixed, sign, settings):
    """The looks of one simulated comparison; each (seeds, per-seed Δ, row SD, level, p, verdict, closest)."""
    n_rows = len(labels)
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, n_rows, size=n_rows)
    order = rng.permutation(len(cells))
    m = maximum_seeds(scenario)
    corrected = cells.copy()
    if rows_fixed is not None:
        corrected[:, rows_fixed] = labels[rows_fixed][None, :]
    variant_source = corrected if rows_fixed is not None and sign > 0 else cells
    baseline_source = corrected if rows_fixed is not None and sign < 0 else cells
    variant = variant_source[order[:m]][:, drawn]
    baseline = baseline_source[order[m:2 * m]][:, drawn]
    drawn_labels = labels[drawn]
    variant_f1 = macro_f1(drawn_labels, variant, classes)
    baseline_f1 = macro_f1(drawn_labels, baseline, classes)
    alpha = settings["alpha"]
    if scenario["adaptive"] is not None:
        initial, maximum = scenario["adaptive"]
        counts = list(range(initial, max(initial, maximum) + 1))
    else:
        counts = [m]
    looks = []
    for n in counts:
        deltas = [float(100 * (variant_f1[i] - baseline_f1[i])) for i in range(n)]
        boot = bootstrap_deltas(drawn_labels, variant[:n], baseline[:n], classes, settings["resamples"],
                                (seed + (n << 40)) & MASK64)
        row_sd = float(np.std(boot, ddof=1)) if len(boot) > 1 else float("nan")
        level = sequential_level(*scenario["adaptive"], alpha, n) if scenario["adaptive"] is not None else alpha
        p, verdict, closest = judge(deltas, row_sd, level, settings["threshold_pp"])
        looks.append({"seeds": n, "per_seed_delta_pp": deltas, "row_sd_pp": row_sd, "level": level, "p_value": p,
                      "verdict": verdict, "closest": closest})
        if verdict in ("better", "worse", "equivalent"):
            break
    return looks


def main():
    global DF_RULE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--df", choices=["seeds", "welch"], default="seeds",
                        help="degrees of freedom of the seed-and-row interval (default: n − 1)")
    DF_RULE = parser.parse_args().df
    classes, labels_list, cells_list = make_pool()
    POOL.write_text(json.dumps({"classes": classes, "labels": labels_list, "cells": cells_list},
                               separators=(",", ":")) + "\n")
    labels = np.asarray(labels_list)
    cells = np.asarray(cells_list)
    settings = SETTINGS
    threshold = settings["threshold_pp"]

    effects = {}
    for multiple in settings["effects"]:
        if multiple > 0 and multiple not in effects:
            seed = (settings["seed"] + EFFECT_SEED_OFFSET) & MASK64
            found = effect_rows(labels, cells, classes, multiple * threshold, seed)
            assert found is not None, f"the pool cannot give {multiple * threshold} pp"
            effects[multiple] = {"multiple": multiple, "target_pp": multiple * threshold, "seed": seed,
                                 "rows": found[0], "effect_pp": found[1]}

    all_scenarios = scenarios(settings)
    assert 2 * max(map(maximum_seeds, all_scenarios)) <= len(cells)
    checked = [stream_seed(settings["seed"], s, j) for s in range(len(all_scenarios)) for j in range(2)]
    check_streams(checked, len(labels), len(cells))
    check_streams([(settings["seed"] + EFFECT_SEED_OFFSET) & MASK64], 0, len(labels))
    listed, rates = [], []
    closest = float("inf")
    for index, scenario in enumerate(all_scenarios):
        effect = effects.get(scenario["effect_multiple"])
        rows_fixed = np.asarray(effect["rows"]) if effect else None
        tally = {"scenario": index, "effect_pp": effect["effect_pp"] if effect else 0.0,
                 "simulations": settings["simulations"], "better": 0, "worse": 0, "equivalent": 0, "undecided": 0,
                 "correct": 0, "false_verdicts": 0}
        seeds_total = 0
        for j in range(settings["simulations"]):
            seed = stream_seed(settings["seed"], index, j)
            sign = 1 if j % 2 == 0 else -1
            looks = judged_looks(labels, cells, classes, scenario, seed, rows_fixed, sign, settings)
            closest = min([closest] + [look["closest"] for look in looks])
            last = looks[-1]
            seeds_total += last["seeds"]
            tally[last["verdict"]] += 1
            directional = last["verdict"] in ("better", "worse")
            outcome_sign = sign if effect else 1
            if scenario["effect_multiple"] == 0:
                tally["false_verdicts"] += directional
            elif directional:
                if (last["verdict"] == "better") == (outcome_sign > 0):
                    tally["correct"] += 1
                else:
                    tally["false_verdicts"] += 1
            elif last["verdict"] == "equivalent" and scenario["effect_multiple"] > 1:
                tally["false_verdicts"] += 1
            if j < LISTED_SIMULATIONS:
                listed.append({"scenario": index, "simulation": j, "stream_seed": seed, "sign": sign,
                               "looks": [{key: value for key, value in look.items() if key != "closest"}
                                         for look in looks]})
        tally["mean_seeds"] = seeds_total / settings["simulations"]
        rates.append(tally)

    expected = {"settings": settings, "df_rule": DF_RULE, "effects": list(effects.values()),
                "scenarios": [dict(index=i, **s) for i, s in enumerate(all_scenarios)],
                "looks": listed, "rates": rates, "stream_check": checked, "closest_call": closest}
    EXPECTED.write_text(json.dumps(expected, indent=1) + "\n")

    # Summary.
    print(f"pool: {len(cells)} cells × {len(labels)} rows, {classes} classes, label counts {np.bincount(labels).tolist()}")
    f1 = 100 * macro_f1(labels, cells, classes)
    print(f"cell macro-F1: mean {f1.mean():.2f} pp, SD {f1.std(ddof=1):.2f} pp")
    for effect in effects.values():
        print(f"effect {effect['multiple']}× threshold: {len(effect['rows'])} rows give {effect['effect_pp']:.4f} pp")
    for scenario, tally in zip(all_scenarios, rates):
        design = (f"fixed {scenario['fixed_seeds']}" if scenario["fixed_seeds"] is not None
                  else f"adaptive {scenario['adaptive'][0]}–{scenario['adaptive'][1]}")
        print(f"[{tally['scenario']:2d}] effect {scenario['effect_multiple']:.1f}× {design:13s} better {tally['better']:2d} "
              f"worse {tally['worse']:2d} equivalent {tally['equivalent']:2d} undecided {tally['undecided']:2d} "
              f"correct {tally['correct']:2d} false {tally['false_verdicts']:2d} mean seeds {tally['mean_seeds']:.3f}")
    verdicts = {}
    for entry in listed:
        for look in entry["looks"]:
            verdicts[look["verdict"]] = verdicts.get(look["verdict"], 0) + 1
    print(f"listed: {len(listed)} comparisons, {sum(len(e['looks']) for e in listed)} looks, verdicts {verdicts}")
    print(f"df rule: {DF_RULE}")
    print(f"closest call (distance of a decision quantity from its cut-off): {closest:.3g}")
    print(f"wrote {POOL.relative_to(ROOT)} and {EXPECTED.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
