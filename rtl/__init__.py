"""Verilog arithmetic units of pns-hwcost, shipped as package data.

``RTL_DIR`` is the folder holding ``cells/``, ``int/`` and ``fp/``; it resolves both in a source
checkout and in an installed toolkit.
"""

from pathlib import Path

RTL_DIR: Path = Path(__file__).resolve().parent


def verilog_files(subdir: str | None = None) -> list[Path]:
    """All ``.v`` files under ``RTL_DIR`` (or one of its sub-folders), sorted."""
    root = RTL_DIR / subdir if subdir else RTL_DIR
    return sorted(root.rglob("*.v"))
