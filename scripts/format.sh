#!/usr/bin/env bash
# format.sh: formats Sources, Tests and Package.swift in place with `swift format` and the repository's
# .swift-format; `format.sh --check` changes nothing and exits non-zero when the linter has any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! swift format --version >/dev/null 2>&1; then
    echo "format: 'swift format' is not available (it ships with the Swift 6 toolchain)" >&2
    exit 2
fi

case "${1:-}" in
    "")
        exec swift format format --configuration .swift-format --in-place --recursive Sources Tests Package.swift
        ;;
    --check)
        exec swift format lint --configuration .swift-format --strict --recursive Sources Tests Package.swift
        ;;
    *)
        echo "usage: scripts/format.sh [--check]" >&2
        exit 2
        ;;
esac
