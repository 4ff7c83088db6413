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

swift build --build-tests
swift test
