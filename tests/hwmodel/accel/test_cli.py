"""``python -m hwmodel.accel``: SCALE-Sim topologies and configs in, SCALE-Sim's names out;
bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwmodel.accel import topology
from hwmodel.accel.cli import main
from hwmodel.accel.errors import AccelError
from hwmodel.accel.result import SCALESIM_NAMES
from hwmodel.accel.timing import gemm_cycles

CONV = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides,\n") + """conv1, 10, 10, 3, 3, 4, 8, 1,
conv2, 9, 9, 3, 3, 8, 6, 2,
"""
GEMM = """Layer, M, N, K,
g1, 20, 12, 30,
"""
CFG = """[general]
run_name = t
[architecture_presets]
ArrayHeight : 4
ArrayWidth : 8
IfmapSramSzkB : 64
FilterSramSzkB : 64
OfmapSramSzkB : 32
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Bandwidth : 64
Dataflow : os
"""


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    (tmp_path / "c.csv").write_text(CONV)
    (tmp_path / "g.csv").write_text(GEMM)
    (tmp_path / "s.cfg").write_text(CFG)
    return tmp_path / "c.csv", tmp_path / "g.csv", tmp_path / "s.cfg"


def test_conv_rows_become_scalesims_gemms(tmp_path) -> None:
    c, g, _ = _files(tmp_path)
    layers = topology.read_topology(c)
    assert [(x.m, x.n, x.k) for x in layers] == [(64, 8, 36), (16, 6, 72)]
    assert [(x.m, x.n, x.k) for x in topology.read_topology(g, gemm=True)] == [(20, 12, 30)]


def test_topology_prints_scalesims_names(tmp_path, capsys) -> None:
    c, _, cfg = _files(tmp_path)
    assert main(["topology", str(c), "--cfg", str(cfg), "--mapping", "scalesim",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert set(SCALESIM_NAMES.values()) <= set(rows[0])
    for r in rows:  # os on 4x8, SCALE-Sim's schedule: its compute cycles exactly
        assert r["Compute Cycles"] == gemm_cycles("os", 4, 8, r["M"], r["N"], r["K"])
        assert r["Total Cycles"] == r["Compute Cycles"] + r["Stall Cycles"]
    assert main(["topology", str(c), "--cfg", str(cfg), "--mode", "cycle", "--json"]) == 0
    slow = json.loads(capsys.readouterr().out)
    assert main(["topology", str(c), "--cfg", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == slow  # both modes, same numbers
    assert main(["topology", str(c), "--arch", "ws"]) == 0
    assert "SRAM IFMAP Reads" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "field"), [
    ("Layer, M, N, K,\ng1, 20, x, 30,\n", "N = 'x' is not an integer"),
    ("Layer, M, N, K,\ng1, 20, 0, 30,\n", "N = 0 must be > 0"),
    ("Layer, M, N, K,\ng1, 20,\n", "has 1 of the 3 fields"),
    ("Layer, M, N, K,\n", "no layer rows"),
])
def test_malformed_topology_is_one_line(tmp_path, capsys, text, field) -> None:
    p = tmp_path / "t.csv"
    p.write_text(text)
    assert main(["topology", str(p), "--gemm"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and field in err and str(p) in err


def test_bad_configs_are_one_line(tmp_path, capsys) -> None:
    c, _, cfg = _files(tmp_path)
    for old, new, msg in (("Bandwidth : 64", "Bandwidth : 0", "Bandwidth = 0.0 must be > 0"),
                          ("Dataflow : os", "Dataflow : rs", "dataflow 'rs' is unknown"),
                          ("ArrayHeight : 4", "ArrayHeight : 0", "ArrayHeight = 0"),
                          ("IfmapSramSzkB : 64\n", "", "lacks IfmapSramSzkB"),
                          ("Bandwidth : 64\n", "", "lacks Bandwidth")):
        cfg.write_text(CFG.replace(old, new))
        assert main(["topology", str(c), "--cfg", str(cfg)]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and msg in err, err
    with pytest.raises(AccelError, match="larger than the IFMAP"):
        (tmp_path / "x.csv").write_text(CONV.replace("conv1, 10, 10", "conv1, 2, 2"))
        topology.read_topology(tmp_path / "x.csv")


def test_archs_lists_the_presets(capsys) -> None:
    assert main(["archs"]) == 0
    out = capsys.readouterr().out
    assert "ws" in out and "Jouppi" in out and "Du et al." in out


def test_trace_costs_one_iteration_and_bad_traces_are_one_line(tmp_path, capsys) -> None:
    import torch

    from workload import trace_training
    from workload.io import write_table

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 6 * 6, 3))
    path = tmp_path / "t.csv"
    write_table(trace_training(net, (1, 8, 8), 4), str(path))
    assert main(["trace", str(path), "--pe-array", "2", "--vectors", "40", "--json",
                 "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cycles"] > 0 and out["energy_pj"] > 0
    assert "2x2 array (sa_ws.v)" in out["pe_energy"]
    assert {g["phase"] for g in out["gemms"]} == {"forward", "input_grad", "weight_grad"}
    for bad, msg in ((tmp_path / "none.csv", "not found"), (tmp_path / "t.txt", "must end in")):
        assert main(["trace", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and msg in err
    (tmp_path / "cut.csv").write_text("layer,kind\nfc,linear\n")
    assert main(["trace", str(tmp_path / "cut.csv")]) == 2
    assert "missing column" in capsys.readouterr().err
