#!/usr/bin/env bash
# aa-sweeps.sh: real A/A sweeps of the demo configuration (cb_focal against its replica), one large-effect sweep, and the
# pool of real cells that `ablate bench calibration` resamples. Run by hand from the repository root (about 15 minutes on
# 2 cores); CI does not run it. Reruns skip the sweeps whose report.json exists.
#
#   bench/aa-sweeps.sh [OUT] [SWEEPS] [SEEDS]      defaults: bench-out/aa 20 3
#
# Each A/A sweep i trains the demo's Stage-1 job, then cb_focal and its replica cb_focal_aa with sweep seeds
# 1000 + SEEDS·i … (SEEDS per side), and is judged by the report's rule (threshold 1 pp, α 0.05). A `better` or
# `worse` verdict of the replica is a false verdict. The large-effect sweep trains cb_focal and a variant whose
# adapters learn at 1e-6 instead of 1e-3 with 5 seeds; it must come out `worse`. Prints one line per sweep and the
# totals; the state directories under OUT/ are the calibration pool.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${1:-bench-out/aa}"
SWEEPS="${2:-20}"
SEEDS="${3:-3}"
ABLATE="${ABLATE:-$(swift build -c release --show-bin-path)/ablate}"
mkdir -p "$OUT"
DATASET="$(cd "$OUT" && pwd)/block16.h5"
[ -f "$DATASET" ] || "$ABLATE" data synth --out "$DATASET" --train 24000 --val 6000 --seed 42 --block-size 16

# The demo's settings (Sources/CLI/DemoSweep.swift), two variants.
sweep_file() { # name seeds variants-yaml
    cat <<EOF
name: $1
dataset: $DATASET
stage1: {epochs: 4, width: 16, seed: 42, max_train_rows: 8000, max_val_rows: 3000}
baseline: cb_focal
seeds: [$2]
train: {width: 16, epochs: 5, max_train_rows: 12000, max_val_rows: 3000, backbone_bn: eval}
variants:
  cb_focal: {loss: cb_focal, gamma: 2.0, beta: 0.9999}
$3
significance: {threshold_pp: 1.0}
EOF
}

run_sweep() { # directory name seeds variants-yaml
    local dir="$OUT/$1"
    if [ ! -f "$dir/report.json" ]; then
        mkdir -p "$dir"
        sweep_file "$2" "$3" "$4" > "$dir.yaml"
        "$ABLATE" local --sweep "$dir.yaml" --state "$dir" --workers 2 > "$dir.log" 2>&1 || {
            echo "$dir: ablate local failed; see $dir.log" >&2
            exit 1
        }
    fi
}

for ((i = 0; i < SWEEPS; i++)); do
    seeds=$(seq -s ", " $((1000 + SEEDS * i)) $((1000 + SEEDS * i + SEEDS - 1)))
    run_sweep "aa-$i" "aa-$i" "$seeds" "  cb_focal_aa: {replica_of: cb_focal}"
done
run_sweep large-effect large-effect "2000, 2001, 2002, 2003, 2004" \
    "  slow_adapters: {loss: cb_focal, gamma: 2.0, beta: 0.9999, lr_adapter: 1.0e-6}"

# Judge every sweep again with this binary's rule (report.json is from the binary that ran the sweep).
for dir in "$OUT"/aa-* "$OUT"/large-effect; do
    [ -d "$dir" ] && "$ABLATE" report --state "$dir" --format json --out "$dir/verdicts.json"
done

python3 - "$OUT" "$SWEEPS" <<'PY'
import json, sys
out, sweeps = sys.argv[1], int(sys.argv[2])
false = 0
counts = {}
for i in range(sweeps):
    report = json.load(open(f"{out}/aa-{i}/verdicts.json"))
    v = next(v for v in report["variants"] if v["name"] == "cb_focal_aa")
    verdict = v["verdict"]
    counts[verdict] = counts.get(verdict, 0) + 1
    false += verdict in ("better", "worse")
    print(f"aa-{i:<3} seeds {len(v['paired_seeds'])}  Δ {v['delta_pp']:+6.2f} pp  CI [{v['ci_low_pp']:+7.2f}, {v['ci_high_pp']:+7.2f}]"
          f"  seed SD {v['seed_sd_pp']:.2f}  row SE {v['row_se_pp']:.2f}  p {v['p_value']:.3f}  {verdict}")
print(f"A/A sweeps: {sweeps}; false verdicts (better/worse): {false}; " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
report = json.load(open(f"{out}/large-effect/verdicts.json"))
v = next(v for v in report["variants"] if v["name"] == "slow_adapters")
print(f"large effect (lr_adapter 1e-6, {len(v['paired_seeds'])} seeds): Δ {v['delta_pp']:+.2f} pp "
      f"CI [{v['ci_low_pp']:+.2f}, {v['ci_high_pp']:+.2f}] p-Holm {v['p_holm']:.4f} verdict {v['verdict']}")
PY
