#!/usr/bin/env bash
# test.sh: the README's second command — set up, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

# Optional: h5py lets one test check that h5py reads Ablate's files; without it that test is skipped with a message.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import h5py" >/dev/null 2>&1; then
    python3 -m pip install --quiet h5py >/dev/null 2>&1 \
        || echo "test: h5py could not be installed; the h5py interoperability test will be skipped"
fi

# Optional Debian packages: without them the tests that need them are skipped with a message.
#   chromium: renders the HTML report headless and checks the screenshot is not blank;
#   iproute2: `ip netns` for the multi-host test (which also needs root);
#   systemd:  `systemd-analyze verify` on the deploy/ units;
#   munge, slurmctld, slurmd, slurm-client: the one-node Slurm lab (scripts/slurm-lab.sh) that SlurmLabTests submit
#             deploy/slurm/ablate-workers.sbatch to (which also needs root).
optional=()
command -v chromium >/dev/null 2>&1 || optional+=(chromium)
command -v ip >/dev/null 2>&1 || optional+=(iproute2)
command -v systemd-analyze >/dev/null 2>&1 || optional+=(systemd)
if [ "$(id -u)" -eq 0 ]; then
    command -v munged >/dev/null 2>&1 || optional+=(munge)
    command -v slurmctld >/dev/null 2>&1 || optional+=(slurmctld)
    command -v slurmd >/dev/null 2>&1 || optional+=(slurmd)
    command -v sbatch >/dev/null 2>&1 || optional+=(slurm-client)
else
    echo "test: not root; the Slurm lab tests will be skipped"
fi
if ((${#optional[@]})); then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "test: installing optional ${optional[*]}"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${optional[@]}"; } >/dev/null 2>&1 \
        || echo "test: could not install ${optional[*]}; the tests that need them will be skipped"
fi

# The tree follows .swift-format (scripts/format.sh formats it); a finding fails the run before anything builds.
if swift format --version >/dev/null 2>&1; then
    ./scripts/format.sh --check
else
    echo "test: 'swift format' is not available with this toolchain; formatting not checked"
fi

swift build --build-tests
# The tests run on the OpenBLAS kernels `ablate` itself selects (OpenBLAS picks them when the library loads, so
# the test process needs them in its environment): e.g. Sandybridge where OpenBLAS's own Zen kernels fail the
# row-invariance probe that the trainer's bitwise guarantees rest on. A value already set is kept unless its kernels
# fail that probe (some environments preset e.g. Haswell, whose kernels do).
ablate="$(swift build --show-bin-path)/ablate"
if [ -n "${OPENBLAS_CORETYPE:-}" ] && "$ablate" version | grep -q "NOT row-invariant"; then
    echo "test: the preset OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE fails the row-invariance probe; using the kernels ablate selects"
    unset OPENBLAS_CORETYPE
fi
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    kernel="$("$ablate" version | sed -n 's/^openblas core \([A-Za-z0-9]*\).*/\1/p')"
    if [ -n "$kernel" ]; then export OPENBLAS_CORETYPE="$kernel"; fi
fi
echo "test: OpenBLAS kernels: ${OPENBLAS_CORETYPE:-as OpenBLAS detects them}"
# The whole log is kept; on failure its failing lines are repeated last, so a log's tail names what failed
# (XCTest reports before swift-testing, whose output would otherwise end the log).
log="$(mktemp -t ablate-test-XXXXXX.log)"
status=0
swift test 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
    echo "test: swift test exited with $status; the failures (full log: $log):"
    grep -E "error: |: failed|✘|Fatal error|Test Case .* failed" "$log" | tail -n 60 || true
fi
exit "$status"
