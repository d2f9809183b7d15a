"""The one cache folder: ``$PNS_CACHE_DIR`` or ``~/.cache/pns-hwcost``, one sub-folder per kind
of cached result (``sim``, ``synth``, ``ops``, ``cells``, ``cacti``, ``data``, ...)."""

from __future__ import annotations

import os
from pathlib import Path

ENV = "PNS_CACHE_DIR"


def cache_dir(kind: str = "") -> Path:
    """``$PNS_CACHE_DIR/<kind>`` (default ``~/.cache/pns-hwcost/<kind>``); not created here."""
    base = os.environ.get(ENV)
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "pns-hwcost"
    return root / kind if kind else root
