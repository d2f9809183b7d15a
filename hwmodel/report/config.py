"""Report configurations: named TOML files in ``hwmodel/report/configs`` or a path."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hwmodel.errors import HwmodelError

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
MEMORY_KEYS = {"global_buffer", "word_bits", "dram", "temp_k", "flavour", "dram_background_mw",
               "hierarchy"}


class ReportError(HwmodelError):
    """Bad input to the report; the message is one line naming the thing and the fix."""


@dataclass(frozen=True)
class ReportConfig:
    """What the main job runs; units in the names."""

    name: str
    description: str = ""
    learning: str = "fast"
    learning_overrides: dict = field(default_factory=dict)  # e.g. {epochs = 1}
    format: str = "fp32"
    stream: str = "uniform"
    op_vectors: int = 1000
    trace_iterations: int = 5
    # operating point of the logic: the cell library's supply (V) and temperature (degC; None:
    # the committed library's, 27 degC below 1.1 V); the SRAM follows the temperature
    vdd_v: float = 1.0
    temp_c: float | None = None
    energy: str = "yosys-timed"  # hwmodel.cost.ENERGY_FIGURES: the figure the totals use
    latency: int = 1  # register stages of the MAC, multiplier and adder (>= 2: pipelined)
    dot_length: int | None = None  # MAC terms per accumulation (None: from the workload)
    accelerator: dict = field(default_factory=dict)  # the MAC-count model's lanes and clock
    # the cost model the report's figures use: "accel" (the accelerator back-end,
    # hwmodel.accel) or "mac" (the paper's MAC count x op energy); both are always shown
    model: str = "accel"
    arch: str = "ws"  # hwmodel.accel preset (ws, os, flex) or an architecture .toml file
    objective: str = "edp"  # mapping search objective: energy, delay or edp
    # the PE's energy per MAC: "array" = measured at gate level in an RTL systolic array of
    # pe_array x pe_array PEs in dataflow order (rtl/systolic), "op-table" = the MAC unit alone
    # on an independent operand stream
    pe_energy: str = "array"
    pe_array: int = 4
    memory: dict = field(default_factory=dict)
    # a user's own Verilog unit for an op: {mac = {rtl = "my_mac.v", params = {W = 16}}}
    units: dict = field(default_factory=dict)


def available() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))


def load(name_or_path: str) -> ReportConfig:
    """Load a named config or a TOML path; unknown keys and bad values are one-line errors."""
    p = Path(name_or_path)
    if p.suffix != ".toml":
        p = CONFIG_DIR / f"{name_or_path}.toml"
    if not p.is_file():
        raise ReportError(f"report config {name_or_path!r} not found; use a .toml path or one "
                          f"of: {', '.join(available())}")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ReportError(f"report config {p}: invalid TOML ({exc})") from None
    known = set(ReportConfig.__dataclass_fields__) - {"name"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ReportError(f"report config {p}: unknown key {unknown[0]!r}; "
                          f"known: {', '.join(sorted(known))}")
    cfg = ReportConfig(name=p.stem, **data)
    from hwmodel.ops.streams import STREAM_KINDS

    if cfg.stream not in STREAM_KINDS:
        raise ReportError(f"report config {p}: unknown stream {cfg.stream!r}; use one of: "
                          f"{', '.join(STREAM_KINDS)}")
    if cfg.op_vectors < 10 or cfg.trace_iterations < 1:
        raise ReportError(f"report config {p}: op_vectors must be >= 10 and "
                          "trace_iterations >= 1")
    from hwmodel.cost import ENERGY_FIGURES

    if cfg.energy not in ENERGY_FIGURES:
        raise ReportError(f"report config {p}: unknown energy figure {cfg.energy!r}; use one "
                          f"of: {', '.join(ENERGY_FIGURES)}")
    if isinstance(cfg.latency, bool) or not isinstance(cfg.latency, int) or cfg.latency < 1:
        raise ReportError(f"report config {p}: latency must be an integer >= 1 register "
                          f"stages, got {cfg.latency!r}")
    if cfg.dot_length is not None and (not isinstance(cfg.dot_length, int)
                                       or cfg.dot_length < 1):
        raise ReportError(f"report config {p}: dot_length must be an integer >= 1 or left "
                          "out (taken from the workload)")
    _check_model(cfg, p)
    unknown_mem = sorted(set(cfg.memory) - MEMORY_KEYS)
    if unknown_mem:
        raise ReportError(f"report config {p}: unknown [memory] key {unknown_mem[0]!r}; known: "
                          f"{', '.join(sorted(MEMORY_KEYS))}")
    _check_units(cfg, p)
    if "hierarchy" in cfg.memory:
        hp = Path(cfg.memory["hierarchy"])
        hp = hp if hp.is_absolute() else (p.parent / hp)
        if not hp.is_file():
            raise ReportError(f"report config {p}: [memory] hierarchy file {hp} not found; give "
                              "a TOML path (relative to the config) with [[buffer]] tables")
        cfg.memory["hierarchy"] = str(hp)
    return cfg


def override(cfg: ReportConfig, **changes) -> ReportConfig:
    """``cfg`` with the given fields replaced (``None`` values ignored), checked again."""
    import dataclasses

    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return cfg
    new = dataclasses.replace(cfg, **changes)
    _check_model(new, Path("--" + next(iter(changes))))
    return new


def _check_model(cfg: ReportConfig, p: Path) -> None:
    """``model``, ``objective`` and ``arch`` (a preset name or a TOML path relative to the
    config) are known."""
    from hwmodel.accel.arch import presets
    from hwmodel.accel.mapping import OBJECTIVES
    from hwmodel.report.costing import MODELS

    if cfg.model not in MODELS:
        raise ReportError(f"report config {p}: model {cfg.model!r} is unknown; use one of "
                          f"{', '.join(MODELS)}")
    if cfg.pe_energy not in ("array", "op-table"):
        raise ReportError(f"report config {p}: pe_energy {cfg.pe_energy!r} is unknown; use "
                          "array or op-table")
    if isinstance(cfg.pe_array, bool) or not isinstance(cfg.pe_array, int) or not (
            1 <= cfg.pe_array <= 8):
        raise ReportError(f"report config {p}: pe_array must be an integer 1..8 (PEs per side "
                          f"of the measured array), got {cfg.pe_array!r}")
    if cfg.objective not in OBJECTIVES:
        raise ReportError(f"report config {p}: objective {cfg.objective!r} is unknown; use one "
                          f"of {', '.join(OBJECTIVES)}")
    if str(cfg.arch).endswith(".toml"):
        ap = Path(cfg.arch)
        ap = ap if ap.is_absolute() else p.parent / ap
        if not ap.is_file():
            raise ReportError(f"report config {p}: arch file {ap} not found; give a preset "
                              f"({', '.join(presets())}) or an architecture .toml")
        object.__setattr__(cfg, "arch", str(ap))
    elif cfg.arch not in presets():
        raise ReportError(f"report config {p}: arch {cfg.arch!r} is not a preset; use one of "
                          f"{', '.join(presets())} or an architecture .toml")


def _check_units(cfg: ReportConfig, p: Path) -> None:
    """``[units.<op>] rtl = "file.v"`` (relative to the config), optional ``params``."""
    for op, spec in cfg.units.items():
        if op not in ("mac", "mul", "add"):
            raise ReportError(f"report config {p}: [units] key {op!r} is not an op; use mac, "
                              "mul or add")
        spec = {"rtl": spec} if isinstance(spec, str) else spec
        if not isinstance(spec, dict) or "rtl" not in spec or set(spec) - {"rtl", "params"}:
            raise ReportError(f"report config {p}: [units.{op}] needs rtl = \"file.v\" and "
                              "optionally params = {W = 16}")
        rtl = Path(spec["rtl"])
        rtl = rtl if rtl.is_absolute() else p.parent / rtl
        if not rtl.is_file():
            raise ReportError(f"report config {p}: [units.{op}] rtl file {rtl} not found")
        cfg.units[op] = {"rtl": str(rtl), "params": dict(spec.get("params", {}))}
