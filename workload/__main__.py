"""``python -m workload <command>``: ``trace`` (layer-wise MACs and memory accesses of one
training iteration, :mod:`workload.cli`). ``python -m learning trace`` forwards here."""

from __future__ import annotations

import sys

COMMANDS = {
    "trace": "Layer-wise MACs and memory accesses of a training step.",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``argv`` (default ``sys.argv[1:]``) to its command; returns the exit status
    (2 for an unknown command)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"workload: unknown command {argv[0]!r}; use one of: {', '.join(COMMANDS)}",
                  file=sys.stderr)
            return 2
        lines = [f"  {name:<8}{doc}" for name, doc in COMMANDS.items()]
        print("usage: python -m workload {trace} [options]\n" + "\n".join(lines))
        return 0
    from workload.cli import main as trace_main

    return int(trace_main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
