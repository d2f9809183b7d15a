"""``python -m learning <command>``: ``run`` (incremental training), ``trace`` (training traces,
an alias of ``python -m workload trace``, forwarded without importing :mod:`workload`: the
learning side never depends on the workload stage)."""

from __future__ import annotations

import importlib
import runpy
import sys
import warnings

COMMANDS = {
    "run": ("learning.cli_run", "Partial-sharing incremental training from a TOML config."),
    "trace": ("workload", "Layer-wise MACs and memory accesses of a training step "
                          "(= python -m workload trace)."),
}


def _forward_trace(argv: list[str]) -> int:
    """Run ``python -m workload trace <argv>`` in this process; its exit status."""
    saved = sys.argv
    sys.argv = ["workload", "trace", *argv]
    try:
        with warnings.catch_warnings():  # harmless when workload.__main__ was imported before
            warnings.filterwarnings("ignore", r"'workload\.__main__' found in sys\.modules",
                                    RuntimeWarning)
            runpy.run_module("workload", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        print(exc.code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        lines = [f"  {name:<8}{doc}" for name, (_, doc) in COMMANDS.items()]
        msg = "usage: python -m learning {run,trace} [options]\n" + "\n".join(lines)
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"learning: unknown command {argv[0]!r}; use one of: run, trace", file=sys.stderr)
            return 2
        print(msg)
        return 0
    if argv[0] == "trace":
        return _forward_trace(argv[1:])
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
