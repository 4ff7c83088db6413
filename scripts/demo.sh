#!/usr/bin/env bash
# demo.sh: the README's first command — set up, build, and run today's most complete demo.
# Today: generate a synthetic dataset at the research data's scale and inspect it.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
swift build -c release --product ablate
ABLATE="$(swift build -c release --show-bin-path)/ablate"

mkdir -p out/demo
"$ABLATE" data synth --out out/demo/block16.h5 --train 363168 --val 90793 --seed 42 --force
"$ABLATE" data inspect out/demo/block16.h5
