"""Report configurations: named TOML files in ``hwmodel/report/configs`` or a path."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


class ReportError(ValueError):
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
    accelerator: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)


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
    return cfg
