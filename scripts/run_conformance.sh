#!/usr/bin/env bash
# The conformance lane: the model files and the emulator checked against the REAL ttnn 0.81.1 wheel in mock mode.
#
#   bash scripts/run_conformance.sh              # setup (idempotent) + the whole lane; `make conformance` does this
#   bash scripts/run_conformance.sh -k rotary    # extra arguments go to pytest
#
# Runs tests/conformance (pytest -m conformance) in the .conformance venv from a temporary directory, so the
# generated/ folder a mock device writes never lands in the repo. Prints the disagreement table and the agreement
# figure ("conformance: N/M cases agree"). Exit status: non-zero on any disagreement or failure. See docs/conformance.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
t0=$(date +%s)

bash "$REPO/scripts/setup_conformance.sh"
# shellcheck disable=SC1091
source "$REPO/.conformance/env.sh"
export TT_LOGGER_LEVEL=${TT_LOGGER_LEVEL:-off} LOGURU_LEVEL=${LOGURU_LEVEL:-INFO} PYTHONDONTWRITEBYTECODE=1

# Paths given relative to the caller's directory (tests/conformance/x.py[::test]) still work after the cd below.
args=() TARGET=("$REPO/tests/conformance")
for a in "$@"; do
    if [[ "$a" != -* && "$a" != /* && -e "$PWD/${a%%::*}" ]]; then a="$PWD/$a"; fi
    if [[ "$a" == /* && -e "${a%%::*}" ]]; then TARGET=(); fi
    args+=("$a")
done

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ttbringup-conformance.XXXXXX")
trap 'rm -rf "$RUN_DIR"' EXIT
cd "$RUN_DIR"

set +e
python -m pytest ${TARGET[@]+"${TARGET[@]}"} -c "$REPO/pyproject.toml" --rootdir "$REPO" -m conformance \
    -p no:cacheprovider -q -rfE ${args[@]+"${args[@]}"} 2>&1 | tee "$RUN_DIR/lane.log"
status=${PIPESTATUS[0]}
set -e

figure=$(grep -E '^conformance: [0-9]+/[0-9]+ cases agree' "$RUN_DIR/lane.log" | tail -n 1 || true)
echo "run_conformance: ${figure:-no agreement figure (op cases not run)}; lane finished in $(( $(date +%s) - t0 ))s (exit $status)"
exit $status
