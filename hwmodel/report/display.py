"""Tables for reading: unit-suffixed columns become headers with units, numbers get 3-4
significant digits in one unit per column (pJ/nJ/uJ/mJ, B/kB/MB, s/ms/us, ...), booleans become
a check mark, lists become one column per element.

The CSVs and ``summary.json`` keep the raw columns; only report.md/report.html use this.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

# suffix -> (quantity's base unit, scale ladder [(factor, unit)], largest first)
_LADDERS: dict[str, list[tuple[float, str]]] = {
    "_pj": [(1e9, "mJ"), (1e6, "µJ"), (1e3, "nJ"), (1.0, "pJ")],
    "_bytes": [(1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1.0, "B")],
    "_s": [(1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")],
    "_mw": [(1e3, "W"), (1.0, "mW"), (1e-3, "µW")],
    "_nw": [(1e6, "mW"), (1e3, "µW"), (1.0, "nW")],
}
_FIXED = {"_pct": "%", "_pts": "points", "_mhz": "MHz", "_ns": "ns", "_um2": "µm²",
          "_mm2": "mm²", "_v": "V", "_c": "°C", "_pj_per_bit": "pJ/bit",
          "_macs": "MACs"}
_WORDS = {"pct": "", "acc": "accuracy", "fwd": "forward", "bwd": "backward", "num": "number",
          "norm": "(× no sharing)", "top1": "top-1", "top5": "top-5"}


def _suffix(col: str) -> str | None:
    for s in sorted([*_LADDERS, *_FIXED], key=len, reverse=True):
        if col.endswith(s):
            return s
    return None


_NAMED = {"temperature_k": "temperature (K)", "temp_k": "temperature (K)",
          "supply_v": "supply (V)", "vdd_v": "supply (V)", "macs": "MACs",
          "dram_bytes": "DRAM traffic", "sram_bytes": "SRAM traffic"}


def header(col: str, unit: str | None = None) -> str:
    """``compute_energy_pj`` -> ``compute energy (µJ)``."""
    if col in _NAMED and unit is None:
        return _NAMED[col]
    if col in _NAMED:
        return f"{_NAMED[col]} ({unit})"
    s = _suffix(col)
    base = col[: -len(s)] if s else col
    words = [_WORDS.get(w, w) for w in base.split("_")]
    text = " ".join(w for w in words if w)
    unit = unit or (_FIXED.get(s) if s else None)
    return f"{text} ({unit})" if unit else text


def sig(v: float, digits: int = 4, max_decimals: int | None = None) -> str:
    """A number with ``digits`` significant digits (at most ``max_decimals`` decimals),
    thousands separated, no exponent below 1e9."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if v == 0:
        return "0"
    if isinstance(v, numbers.Integral) or (float(v).is_integer() and abs(v) < 1e15):
        return f"{int(round(v)):,}"
    mag = math.floor(math.log10(abs(v)))
    if not -4 <= mag < 9:
        return f"{v:.{digits - 1}e}"
    decimals = max(0, digits - 1 - mag)
    if max_decimals is not None:
        decimals = min(decimals, max_decimals)
    return f"{v:,.{decimals}f}"


def _ladder_unit(values: pd.Series, ladder: list[tuple[float, str]]) -> tuple[float, str]:
    vals = pd.to_numeric(values, errors="coerce").abs()
    vals = vals[vals > 0]
    typical = float(vals.median()) if not vals.empty else 0.0
    for factor, unit in ladder:
        if typical >= factor:
            return factor, unit
    return ladder[-1]


def _cell(v: object, max_decimals: int | None = None) -> str:
    if isinstance(v, bool | np.bool_):
        return "✓" if v else ""
    if isinstance(v, numbers.Real):
        return sig(v, max_decimals=max_decimals)
    return "–" if v is None else str(v)


def readable(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` for reading: headers with units, numbers as strings."""
    out = {}
    for col in df.columns:
        vals = df[col]
        if vals.map(lambda x: isinstance(x, list | tuple)).any():
            width = int(vals.map(len).max())
            for i in range(width):
                out[f"{header(col)} [{i}]"] = vals.map(
                    lambda x, i=i: _cell(x[i]) if i < len(x) else "")
            continue
        s = _suffix(col)
        if s in _LADDERS and pd.api.types.is_numeric_dtype(vals):
            factor, unit = _ladder_unit(vals, _LADDERS[s])
            # one unit per column: a value far below the typical one keeps 4 decimals at most
            out[header(col, unit)] = vals.map(lambda x, f=factor: _cell(x / f, 4))
        elif pd.api.types.is_bool_dtype(vals):
            out[header(col)] = vals.map(lambda x: "✓" if x else "")
        else:
            out[header(col)] = vals.map(_cell)
    return pd.DataFrame(out)
