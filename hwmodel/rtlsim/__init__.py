"""Simulation harness for handshake units (cocotb + Icarus), shared by RTL tests and op costing.

>>> from hwmodel.rtlsim import load_unit, simulate
>>> spec = load_unit(rtl.RTL_DIR / "int" / "add_rca.v")
>>> res = simulate(spec, {"a": a, "b": b}, params={"W": 8})
"""

from hwmodel.rtlsim.deps import dependency_files, module_index
from hwmodel.rtlsim.handshake import HANDSHAKE, Handshake
from hwmodel.rtlsim.sim import SimResult, build_unit, cache_root, require_icarus, simulate
from hwmodel.rtlsim.unit import (
    Port,
    UnitError,
    UnitSpec,
    check_handshake,
    eval_expr,
    load_unit,
    parse_param,
)

__all__ = [
    "HANDSHAKE",
    "Handshake",
    "Port",
    "SimResult",
    "UnitError",
    "UnitSpec",
    "build_unit",
    "cache_root",
    "check_handshake",
    "dependency_files",
    "eval_expr",
    "load_unit",
    "module_index",
    "parse_param",
    "require_icarus",
    "simulate",
]
