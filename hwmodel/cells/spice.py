"""ngspice runner: FreePDK45 model lookup, batch runs with timeouts, content-hash cache.

Every simulation is one ngspice deck run with ``ngspice -b``; results are the ``.measure``
values it prints. Results are cached in ``$PNS_CACHE_DIR`` (default
``~/.cache/pns-hwcost/cells``) under the SHA-256 of the deck text, the model file contents and
the ngspice version, so a rerun of an unchanged characterization does not call ngspice.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pnsutil import atomic_write
from pnsutil import cache_dir as pns_cache_dir

from .errors import CellLibraryError

CORNERS = ("nom", "ff", "ss")
PDK_FIX = "pip install --no-deps c4m-pdk-freepdk45==0.0.1"
NGSPICE_FIX = "apt-get install ngspice"
DEFAULT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class SimSettings:
    """Operating point: process corner, supply (V) and temperature (degC)."""

    corner: str = "nom"
    vdd_v: float = 1.1
    temp_c: float = 25.0

    def __post_init__(self) -> None:
        if self.corner not in CORNERS:
            raise CellLibraryError(
                f"unknown corner {self.corner!r}; choose one of {', '.join(CORNERS)}")
        if not 0.5 <= self.vdd_v <= 1.5:
            raise CellLibraryError(
                f"supply {self.vdd_v} V is outside the 0.5-1.5 V range the 45 nm models cover")
        if not -55.0 <= self.temp_c <= 150.0:
            raise CellLibraryError(f"temperature {self.temp_c} degC is outside -55..150 degC")

    @property
    def tag(self) -> str:
        """File-name tag, e.g. ``nom_1p10v_25c``."""
        v = f"{self.vdd_v:.2f}".replace(".", "p")
        t = f"{self.temp_c:g}".replace("-", "m").replace(".", "p")
        return f"{self.corner}_{v}v_{t}c"


def model_file(corner: str) -> Path:
    """Path of ``freepdk45_<corner>.spi`` inside the installed c4m-pdk-freepdk45 wheel."""
    if corner not in CORNERS:
        raise CellLibraryError(f"unknown corner {corner!r}; choose one of {', '.join(CORNERS)}")
    try:
        spec = importlib.util.find_spec("c4m.pdk.freepdk45")
    except ModuleNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise CellLibraryError(f"FreePDK45 models not installed; fix: {PDK_FIX}")
    for folder in spec.submodule_search_locations:
        p = Path(folder) / f"freepdk45_{corner}.spi"
        if p.is_file():
            return p
    raise CellLibraryError(f"freepdk45_{corner}.spi missing from c4m-pdk-freepdk45; fix: {PDK_FIX}")


@lru_cache(maxsize=8)
def _file_sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_sha256(corner: str) -> str:
    return _file_sha(str(model_file(corner)))


def ngspice_path() -> str:
    exe = shutil.which("ngspice")
    if exe is None:
        raise CellLibraryError(f"ngspice not found on PATH; fix: {NGSPICE_FIX}")
    return exe


@lru_cache(maxsize=1)
def ngspice_version() -> str:
    out = subprocess.run([ngspice_path(), "-v"], capture_output=True, text=True, timeout=30)
    m = re.search(r"ngspice-(\S+)", out.stdout + out.stderr)
    return m.group(1) if m else "unknown"


def cache_dir() -> Path:
    """ngspice results: :func:`pnsutil.cache_dir` ``("cells")``."""
    return pns_cache_dir("cells")


def deck_header(settings: SimSettings, title: str) -> str:
    """Title, model include, temperature and solver options shared by every deck."""
    return (f"* {title}\n"
            f".include \"{model_file(settings.corner)}\"\n"
            f".temp {settings.temp_c:g}\n"
            ".options method=gear trtol=1\n")


_MEAS_RE = re.compile(r"^([a-z][a-z0-9_]*)\s*=\s*([-+]?[0-9.]+(?:e[-+]?[0-9]+)?)", re.I | re.M)
_FAIL_RE = re.compile(r"(timestep too small|transient solution failed|"
                      r"simulation\(s\) aborted|no convergence)", re.I)
_DETAIL_RE = re.compile(r"(singular matrix:\s*check node \S+|Error: .*)", re.I)


def run_deck(deck: str, *, cell: str, arc: str, timeout_s: float = DEFAULT_TIMEOUT_S,
             use_cache: bool = True, required: tuple[str, ...] = ()) -> dict[str, float]:
    """Run ``deck`` with ``ngspice -b``; return ``{measure_name: value}`` (SI units).

    ``required`` names measures that must be present; a missing one is reported as a failed
    measurement of ``cell``/``arc``. Non-convergence, a non-zero exit or a timeout raise
    :class:`CellLibraryError` naming the cell, arc and cause.
    """
    exe = ngspice_path()
    key_src = deck
    for inc in re.findall(r'^\.include "([^"]+)"', deck, re.M):
        key_src = key_src.replace(inc, _file_sha(inc))
    key = hashlib.sha256((ngspice_version() + "\n" + key_src).encode()).hexdigest()
    cpath = cache_dir() / key[:2] / f"{key}.json"
    if use_cache and cpath.is_file():
        try:
            cached = json.loads(cpath.read_text())
            if all(r in cached for r in required):
                return cached
        except (OSError, json.JSONDecodeError):
            pass  # unreadable cache entry: rerun
    with tempfile.TemporaryDirectory(prefix="pns_spice_") as tmp:
        sp = Path(tmp) / "deck.sp"
        sp.write_text(deck)
        try:
            proc = subprocess.run([exe, "-b", str(sp)], capture_output=True, text=True,
                                  timeout=timeout_s, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise CellLibraryError(f"ngspice timed out after {timeout_s:g} s; fix: raise the "
                                   "timeout or shrink the tables", cell=cell, arc=arc) from None
    text = proc.stdout + "\n" + proc.stderr
    bad = _FAIL_RE.search(text)
    if bad or proc.returncode != 0:
        cause = bad.group(1) if bad else f"ngspice exit status {proc.returncode}"
        det = _DETAIL_RE.search(text)
        detail = f" ({det.group(1).strip()})" if det and det.group(1) not in cause else ""
        raise CellLibraryError(f"simulation did not converge: {cause}{detail}; fix: check the "
                               "netlist and settings", cell=cell, arc=arc)
    # only lines of the measurement section(s)
    results: dict[str, float] = {}
    for section in re.split(r"Measurements for \w+ Analysis", text)[1:]:
        for name, val in _MEAS_RE.findall(section.split("Total analysis time")[0]):
            results[name.lower()] = float(val)
    missing = [r for r in required if r not in results]
    if missing:
        raise CellLibraryError(f"measurement {missing[0]} failed (signal never crossed its "
                               "threshold: the cell did not switch)", cell=cell, arc=arc)
    atomic_write(cpath, json.dumps(results))
    return results
