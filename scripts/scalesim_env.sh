#!/usr/bin/env bash
# Idempotent: creates .venv-scalesim with SCALE-Sim v3 (PyPI scalesim==3.0.0) for
# hwmodel/accel/scalesim_ref.py. Kept apart from .venv because scalesim 3.0.0 needs numpy<2
# (numpy 2 raises a TypeError in memory/double_buffered_scratchpad_mem.py:307).
# Usage: scripts/scalesim_env.sh   (prints the venv's python at the end)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${SCALESIM_VENV:-.venv-scalesim}
PYTHON=${PYTHON:-python3}
PKGS=("scalesim==3.0.0" "numpy<2")

if [ ! -x "$VENV/bin/python" ]; then
    echo "scalesim_env: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi

if "$VENV/bin/python" - <<'PY' 2>/dev/null; then
import importlib.metadata as md
import sys
ok = md.version("scalesim") == "3.0.0" and int(md.version("numpy").split(".")[0]) < 2
import scalesim.scale_sim  # noqa: F401  (fails if a dependency is missing)
sys.exit(0 if ok else 1)
PY
    echo "scalesim_env: scalesim 3.0.0 already installed"
else
    echo "scalesim_env: installing ${PKGS[*]}"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q "${PKGS[@]}"
fi

"$VENV/bin/python" -c 'import numpy, scalesim, sys; print("numpy", numpy.__version__)'
echo "scalesim_env: ready: $(cd "$VENV" && pwd)/bin/python"
