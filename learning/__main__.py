"""``python -m learning <command>``: ``run`` (incremental training), ``trace`` (training traces)."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "run": ("learning.cli_run", "Partial-sharing incremental training from a TOML config."),
    "trace": ("learning.cli_trace", "Layer-wise MACs and memory accesses of a training step."),
}


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
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
