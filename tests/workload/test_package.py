"""The workload package: dependency direction (learning never imports workload), a light
import of the schema, and its command-line dispatch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_learning_never_imports_workload() -> None:
    for path in sorted((ROOT / "learning").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n == "workload" or n.startswith("workload.") for n in names), path


def test_schema_imports_without_torch() -> None:
    code = ("import sys, workload, workload.schema, hwmodel.memory; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


def test_package_main_dispatch(capsys) -> None:
    from workload.__main__ import main

    assert main([]) == 0 and "trace" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
    assert main(["trace", "--model", "vgg99"]) == 2
    assert capsys.readouterr().err.startswith("workload trace: error: unknown model")
