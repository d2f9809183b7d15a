"""Shared pytest options and fixtures.

``--sim-full`` (set by ``make sim``) runs the RTL units at full vector counts; without it the RTL
tests run a light subset. ``sim_log`` records per-unit vector counts and times for the summary
printed at the end of the session.
"""

from __future__ import annotations

import pytest

_SIM_LOG: list[tuple[str, int, float]] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--sim-full", action="store_true", default=False,
                     help="run RTL units at full vector counts (exhaustive int8, >=100k random)")


@pytest.fixture(scope="session")
def sim_full(request: pytest.FixtureRequest) -> bool:
    """True under `make sim`: full vector counts."""
    return bool(request.config.getoption("--sim-full"))


@pytest.fixture
def sim_log():
    """Call ``sim_log(unit_label, vectors, seconds)`` to list a unit in the end-of-run summary."""

    def record(label: str, vectors: int, seconds: float) -> None:
        _SIM_LOG.append((label, int(vectors), float(seconds)))

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if not _SIM_LOG:
        return
    mode = "full" if config.getoption("--sim-full") else "subset (use `make sim` for full counts)"
    tr = terminalreporter
    tr.section(f"RTL simulation: vectors per unit, {mode}")
    width = max(len(label) for label, _, _ in _SIM_LOG)
    tr.write_line(f"{'unit':<{width}}  {'vectors':>9}  {'sim s':>7}  {'vec/s':>8}")
    for label, vectors, seconds in _SIM_LOG:
        rate = vectors / seconds if seconds > 0 else float("nan")
        tr.write_line(f"{label:<{width}}  {vectors:>9,}  {seconds:>7.1f}  {rate:>8,.0f}")
    total_v = sum(v for _, v, _ in _SIM_LOG)
    total_s = sum(s for _, _, s in _SIM_LOG)
    tr.write_line(f"{'total':<{width}}  {total_v:>9,}  {total_s:>7.1f}")
