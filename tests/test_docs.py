"""``make docs``: README blocks are replaced between their markers only, and README carries
exactly the blocks scripts/docs.py produces."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _docs():
    spec = importlib.util.spec_from_file_location("docs_script", ROOT / "scripts" / "docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_blocks_are_replaced_between_their_markers_only() -> None:
    docs = _docs()
    text = ("intro\n<!-- BEGIN docs:a -->\nold a\n<!-- END docs:a -->\nmiddle\n"
            "<!-- BEGIN docs:b -->\nold b\n<!-- END docs:b -->\nend\n")
    out = docs.replace_blocks(text, {"a": "new a\n"})
    assert out == text.replace("old a\n", "new a\n")
    assert "does not make" in docs.check_homes({"a": [Path("README.md")]})
    assert "no page holds block" in docs.check_homes({"horowitz": [Path("README.md")]})
    assert "2 places" in docs.check_homes({n: [Path("x.md")] * (2 if n == "horowitz" else 1)
                                            for n in docs.BLOCKS})


def test_the_pages_hold_exactly_the_generated_blocks() -> None:
    assert _docs().main(["--check"]) == 0
