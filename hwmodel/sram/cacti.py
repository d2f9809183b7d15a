"""Optional backend: build CACTI 7 from the zigzag-dse wheel and run it on the same configuration.

The wheel (``pip download --no-deps zigzag-dse==3.9.1``) ships CACTI 7's C++ source in
``zigzag/cacti/cacti_master``.  :func:`ensure_cacti` unpacks that folder into the cache
directory (``$PNS_CACHE_DIR/cacti`` or ``~/.cache/pns-hwcost/cacti``), runs ``make opt`` and
returns the folder; :func:`run_cacti` writes a configuration file, runs ``./cacti -infile`` from
that folder (CACTI needs relative paths) and parses the report.  Results are cached as JSON per
configuration, so repeated comparisons cost nothing.  Any failure raises
:class:`CactiUnavailableError` with the reason; the analytical model does not depend on this.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from hwmodel.sram.errors import CactiUnavailableError, SramInputError
from pnsutil import atomic_write
from pnsutil import cache_dir as pns_cache_dir

ZIGZAG_VERSION = "3.9.1"
WHEEL_SUBDIR = "zigzag/cacti/cacti_master/"
_FLAVOUR_CFG = {"hp": "itrs-hp", "lp": "itrs-lstp", "lstp": "itrs-lstp", "lop": "itrs-lop"}
BUILD_TIMEOUT_S = 600
RUN_TIMEOUT_S = 300


def cache_dir() -> Path:
    """Cache root for CACTI: :func:`pnsutil.cache_dir` ``("cacti")``."""
    return pns_cache_dir("cacti")


def _download_wheel(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           f"zigzag-dse=={ZIGZAG_VERSION}", "-d", str(dest), "-q"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CactiUnavailableError(f"cacti: pip download of zigzag-dse failed: {e}") from e
    wheels = sorted(dest.glob("zigzag_dse-*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CactiUnavailableError(
            f"cacti: could not download the zigzag-dse {ZIGZAG_VERSION} wheel ({tail[0]}); "
            "set PNS_ZIGZAG_WHEEL to a local copy")
    return wheels[0]


def ensure_cacti(wheel: str | Path | None = None) -> Path:
    """Return the folder holding a built ``cacti`` binary, building it first if needed.

    ``wheel`` (or env ``PNS_ZIGZAG_WHEEL``) names a local zigzag-dse wheel; otherwise it is
    downloaded with pip.  Raises :class:`CactiUnavailableError` when anything fails.
    """
    root = cache_dir()
    src = root / "cacti_master"
    if (src / "cacti").is_file() and os.access(src / "cacti", os.X_OK):
        return src
    if shutil.which("make") is None or shutil.which("g++") is None:
        raise CactiUnavailableError("cacti: building CACTI needs `make` and `g++` on PATH")
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".build-") as tmp:
        tmpd = Path(tmp)
        whl = wheel or os.environ.get("PNS_ZIGZAG_WHEEL")
        whl_path = Path(whl) if whl else _download_wheel(tmpd / "wheel")
        if not whl_path.is_file():
            raise CactiUnavailableError(f"cacti: wheel {whl_path} does not exist")
        out = tmpd / "cacti_master"
        try:
            with zipfile.ZipFile(whl_path) as zf:
                members = [m for m in zf.namelist() if m.startswith(WHEEL_SUBDIR)]
                if not members:
                    raise CactiUnavailableError(f"cacti: {whl_path.name} has no {WHEEL_SUBDIR}")
                for m in members:
                    rel = m[len(WHEEL_SUBDIR):]
                    if not rel or m.endswith("/"):
                        continue
                    target = out / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(m))
        except zipfile.BadZipFile as e:
            raise CactiUnavailableError(f"cacti: {whl_path} is not a valid wheel: {e}") from e
        # drop the prebuilt objects shipped in the wheel and build from source
        for stale in ("cacti", "obj_dbg", "obj_opt"):
            p = out / stale
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        jobs = str(max(1, min(4, os.cpu_count() or 1)))
        try:
            proc = subprocess.run(["make", "opt", f"-j{jobs}", "NTHREADS=1"], cwd=out,
                                  capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise CactiUnavailableError(f"cacti: `make opt` failed to run: {e}") from e
        if proc.returncode != 0 or not (out / "cacti").is_file():
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise CactiUnavailableError(f"cacti: `make opt` failed (rc={proc.returncode}): {tail}")
        if src.exists():
            shutil.rmtree(src)
        os.replace(out, src)
    return src


def config_text(capacity_bytes: int, word_bits: int, *, banks: int = 1, node: int = 45,
                flavour: str = "hp", temp_k: float = 360.0, rw_ports: int = 1,
                read_ports: int = 0, write_ports: int = 0) -> str:
    """CACTI 7 ``.cfg`` for a scratch RAM (no tag), one word per access, ED^2 objective."""
    if flavour not in _FLAVOUR_CFG:
        raise SramInputError(f"flavour: unknown flavour {flavour!r}")
    if word_bits % 8:
        raise SramInputError("word_bits: CACTI needs a whole number of bytes per word")
    t = int(round(temp_k / 10.0) * 10)
    ft = _FLAVOUR_CFG[flavour]
    lines = [
        f"-size (bytes) {int(capacity_bytes)}",
        f"-block size (bytes) {word_bits // 8}",
        "-associativity 1",
        f"-read-write port {rw_ports}",
        f"-exclusive read port {read_ports}",
        f"-exclusive write port {write_ports}",
        "-single ended read ports 0",
        f"-UCA bank count {banks}",
        f"-technology (u) {node / 1000:.3f}",
        "-page size (bits) 8192",
        "-burst length 8",
        "-internal prefetch width 8",
        f'-Data array cell type - "{ft}"',
        f'-Data array peripheral type - "{ft}"',
        f'-Tag array cell type - "{ft}"',
        f'-Tag array peripheral type - "{ft}"',
        f"-output/input bus width {word_bits}",
        f"-operating temperature (K) {t}",
        '-cache type "ram"',
        '-tag size (b) "default"',
        '-access mode (normal, sequential, fast) - "normal"',
        "-design objective (weight delay, dynamic power, leakage power, cycle time, area) "
        "0:0:0:100:0",
        "-deviate (delay, dynamic power, leakage power, cycle time, area) "
        "20:100000:100000:100000:100000",
        "-NUCAdesign objective (weight delay, dynamic power, leakage power, cycle time, area) "
        "100:100:0:0:100",
        "-NUCAdeviate (delay, dynamic power, leakage power, cycle time, area) "
        "10:10000:10000:10000:10000",
        '-Optimize ED or ED^2 (ED, ED^2, NONE): "ED^2"',
        '-Cache model (NUCA, UCA)  - "UCA"',
        "-NUCA bank count 0",
        '-Wire signaling (fullswing, lowswing, default) - "Global_30"',
        '-Wire inside mat - "semi-global"',
        '-Wire outside mat - "semi-global"',
        '-Interconnect projection - "conservative"',
        "-Core count 8",
        '-Cache level (L2/L3) - "L3"',
        '-Add ECC - "false"',
        '-Print level (DETAILED, CONCISE) - "DETAILED"',
        '-Print input parameters - "false"',
        '-Force cache config - "false"',
        "-Ndwl 1", "-Ndbl 1", "-Nspd 0", "-Ndcm 1", "-Ndsam1 0", "-Ndsam2 0",
        '-Array Power Gating - "false"',
        '-WL Power Gating - "false"',
        '-CL Power Gating - "false"',
        '-Bitline floating - "false"',
        '-Interconnect Power Gating - "false"',
        "-Power Gating Performance Loss 0.01",
        # off-chip I/O block: CACTI parses it unconditionally (values of its sample config)
        '-dram_type "DDR3"', '-io state "WRITE"', "-addr_timing 1.0", "-mem_density 4 Gb",
        "-bus_freq 800 MHz", "-duty_cycle 1.0", "-activity_dq 1.0", "-activity_ca 0.5",
        "-num_dq 72", "-num_dqs 18", "-num_ca 25", "-num_clk  2", "-num_mem_dq 2",
        "-mem_data_width 8", "-rtt_value 10000", "-ron_value 34", "-tflight_value",
        "-num_bobs 1", "-capacity 80", "-num_channels_per_bob 1", '-first metric "Cost"',
        '-second metric "Bandwidth"', '-third metric "Energy"', '-DIMM model "ALL"',
        '-mirror_in_bob "F"',
    ]
    return "\n".join(lines) + "\n"


_FIELDS = {
    "access_time_ns": (r"Access time \(ns\):\s*([0-9.eE+-]+)", 1.0),
    "cycle_time_ns": (r"Cycle time \(ns\):\s*([0-9.eE+-]+)", 1.0),
    "read_energy_pj": (r"Total dynamic read energy per access \(nJ\):\s*([0-9.eE+-]+)", 1e3),
    "write_energy_pj": (r"Total dynamic write energy per access \(nJ\):\s*([0-9.eE+-]+)", 1e3),
    "leakage_mw": (r"Total leakage power of a bank \(mW\):\s*([0-9.eE+-]+)", 1.0),
    "gate_leakage_mw": (r"Total gate leakage power of a bank \(mW\):\s*([0-9.eE+-]+)", 1.0),
    "area_mm2": (r"Data array: Area \(mm2\):\s*([0-9.eE+-]+)", 1.0),
    "ndwl": (r"Best Ndwl\s*:\s*([0-9]+)", 1.0),
    "ndbl": (r"Best Ndbl\s*:\s*([0-9]+)", 1.0),
    "nspd": (r"Best Nspd\s*:\s*([0-9.]+)", 1.0),
    "ndcm": (r"Best Ndcm\s*:\s*([0-9]+)", 1.0),
}


def parse_report(text: str) -> dict[str, float]:
    """Parse CACTI's DETAILED report into floats (pJ, ns, mW, mm^2)."""
    body = text.split("Cache Parameters", 1)[-1]
    out: dict[str, float] = {}
    for key, (pat, scale) in _FIELDS.items():
        m = re.search(pat, body)
        if not m:
            raise CactiUnavailableError(f"cacti: report has no {key!r} field")
        out[key] = float(m.group(1)) * scale
    return out


def run_cacti(capacity_bytes: int, word_bits: int, *, use_cache: bool = True,
              **kw) -> dict[str, float]:
    """Run CACTI on one configuration (same keywords as :func:`config_text`).

    Returns read/write energy (pJ), access/cycle time (ns), total leakage (subthreshold + gate,
    all banks, mW), area (mm^2) and CACTI's organization (Ndwl, Ndbl, Nspd,
    Ndcm).  Results are cached in ``cache_dir()/results``.
    """
    cfg = config_text(capacity_bytes, word_bits, **kw)
    key = hashlib.sha256((ZIGZAG_VERSION + cfg).encode()).hexdigest()[:16]
    res_dir = cache_dir() / "results"
    res_file = res_dir / f"{key}.json"
    if use_cache and res_file.is_file():
        return json.loads(res_file.read_text())
    src = ensure_cacti()
    cfg_dir = src / "pns_cfg"
    cfg_dir.mkdir(exist_ok=True)
    cfg_file = cfg_dir / f"{key}.cfg"
    cfg_file.write_text(cfg)
    try:
        proc = subprocess.run(["./cacti", "-infile", f"pns_cfg/{key}.cfg"], cwd=src,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CactiUnavailableError(f"cacti: running CACTI failed: {e}") from e
    if proc.returncode != 0 or "Cache Parameters" not in proc.stdout:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
        raise CactiUnavailableError(f"cacti: CACTI rc={proc.returncode}: {tail}")
    res = parse_report(proc.stdout)
    # total leakage = subthreshold + gate, per bank as CACTI reports it; x banks for the memory
    banks = int(kw.get("banks", 1))
    res["subthreshold_leakage_mw"] = res["leakage_mw"]
    res["leakage_mw"] = (res["leakage_mw"] + res["gate_leakage_mw"]) * banks
    atomic_write(res_file, json.dumps(res))
    return res
