#!/usr/bin/env bash
# demo.sh: the README's first command — set up, build, and run `ablate local --demo`: a coordinator and two
# workers on this machine train a small Stage-1 job, then the five-loss ablation × 2 seeds on its frozen
# backbone (narrow backbone, width 16, so it runs in minutes on 2 cores), and print the verdict table.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
swift build -c release --product ablate
ABLATE="$(swift build -c release --show-bin-path)/ablate"
"$ABLATE" local --demo --workers 2 --state ablate-demo
