"""``python -m hwmodel.report``: the main job.

The full report (energy, time, storage and memory-access savings of partial network sharing,
tied to real training) is assembled from the toolkit's stages. Until every stage is in place this
command lists the stages that are available and the commands that run them.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

STAGES = [
    ("hwmodel.rtlsim.__main__", "python -m hwmodel.rtlsim FILE.v",
     "stream operands through any RTL unit"),
    ("hwmodel.cells.__main__", "python -m hwmodel.cells build",
     "characterize the 45 nm cell library"),
    ("hwmodel.ops.__main__", "python -m hwmodel.ops --json", "per-operation energy/latency table"),
    ("hwmodel.sram.__main__", "python -m hwmodel.sram --capacity 64KiB --word-bits 64",
     "SRAM energy, delay, leakage, area"),
    ("learning.cli_run", "python -m learning run --config fast", "incremental training"),
    ("learning.cli_trace", "python -m learning trace --model resnet18 --share 80",
     "training MACs and memory accesses"),
]


def available() -> list[tuple[str, str, str, bool]]:
    """(module, command, purpose, present) for each stage of the pipeline."""
    out = []
    for module, command, purpose in STAGES:
        try:
            present = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            present = False
        out.append((module, command, purpose, present))
    return out


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m hwmodel.report", description=__doc__).parse_args(argv)
    print("pns-hwcost report: stages of the pipeline")
    for _module, command, purpose, present in available():
        mark = "ready  " if present else "pending"
        print(f"  [{mark}] {command:<58} {purpose}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
