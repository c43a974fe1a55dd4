#!/usr/bin/env bash
# Creates .venv and installs herolion (editable, with test extras) into it.
# Idempotent: re-installs only when pyproject.toml, setup.py or the C extension changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.herolion-install-stamp
# setup.py builds the optional C extension (herolion/data/ops/_jpeg_crop.c): rebuild on change
want=$(cat pyproject.toml setup.py herolion/data/ops/_jpeg_crop.c | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
  echo "$want" > "$stamp"
fi
