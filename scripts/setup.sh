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
# uv installs the same versions as pip (pip's indexes, find-links and constraints are
# handed over by scripts/uv_env.py) in ~15 s instead of ~90 s; pip is the fallback.
install_with_uv() {
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 &&
  (eval "$(.venv/bin/python scripts/uv_env.py)" &&
   .venv/bin/python -m uv pip install --quiet --python .venv/bin/python -e ".[test]")
}
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if ! install_with_uv; then
    echo "setup: uv unavailable or failed; installing with pip" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
  fi
  echo "$want" > "$stamp"
fi
