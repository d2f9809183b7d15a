"""Full cold rebuild of the library (slow: ~5-10 min on 2 cores) must reproduce the committed
library and its Liberty must map a design with Yosys."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from hwmodel.cells import default_liberty_path
from hwmodel.cells.build import build_library

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("ngspice") is None,
                                 reason="ngspice not installed (apt-get install ngspice)")]


def test_cold_rebuild_reproduces_committed_library(tmp_path, monkeypatch):
    monkeypatch.setenv("PNS_CACHE_DIR", str(tmp_path / "cache"))
    res = build_library(out_dir=tmp_path / "out", progress=False)
    committed = json.loads(default_liberty_path().with_suffix(".json").read_text())
    new = res.summary
    assert set(new["cells"]) == set(committed["cells"])
    for k, v in committed["key_figures"].items():
        assert new["key_figures"][k] == pytest.approx(v, rel=0.02, abs=1e-3), k
    for name, c in committed["cells"].items():
        for pin, cap in c["inputs"].items():
            assert new["cells"][name]["inputs"][pin]["capacitance_ff"] == pytest.approx(
                cap["capacitance_ff"], rel=0.02)
    if shutil.which("yosys"):
        lib = res.paths["liberty"]
        (tmp_path / "m.v").write_text(
            "module m(input [3:0] a, b, output [7:0] y); assign y = a * b; endmodule\n")
        p = subprocess.run(["yosys", "-q", "-p", f"read_verilog m.v; synth -top m; "
                            f"abc -liberty {lib}; stat -liberty {lib}"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
