#!/usr/bin/env bash
# fault-matrix.sh: the whole fault-injection matrix (every phase × worker/coordinator/both), printed as a table.
# CI runs a subset of the same test; docs/fault-injection.md records the last full result. Takes ~15 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build --build-tests
ablate="$(swift build --show-bin-path)/ablate"
if [ -z "${OPENBLAS_CORETYPE:-}" ] || "$ablate" version | grep -q "NOT row-invariant"; then
    kernel="$("$ablate" version | sed -n 's/^openblas core \([A-Za-z0-9]*\).*/\1/p')"
    if [ -n "$kernel" ]; then export OPENBLAS_CORETYPE="$kernel"; fi
fi
log="$(mktemp -t ablate-fault-matrix-XXXXXX.log)"
status=0
ABLATE_FAULT_MATRIX=full swift test --skip-build --filter FaultMatrixTests >"$log" 2>&1 || status=$?
awk '/^fault-injection matrix:/ { p = 1; print; next } p && /^\|/ { print; next } p { exit }' "$log"
grep -E "error: .*FaultMatrixTests" "$log" | sed 's/^.*error: //' || true
echo "fault-matrix: full log in $log"
exit "$status"
