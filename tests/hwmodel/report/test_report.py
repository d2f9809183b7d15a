"""End to end: a small report run writes every file, and Chromium renders its images."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from hwmodel.report import config as report_config
from hwmodel.report.__main__ import main as report_main
from hwmodel.report.figures import FIGURES

TINY = """
description = "tiny end-to-end check"
learning = "fast"
format = "fp32"
stream = "tensor"
op_vectors = 40
trace_iterations = 1
pe_array = 2
[learning_overrides]
train_per_class = 40
test_per_class = 20
epochs = 1
output_dir = "{out}/learning"
[accelerator]
mac_units = 64
[memory]
global_buffer = "64KiB"
"""


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    cfg = tmp / "tiny.toml"
    cfg.write_text(TINY.format(out=tmp))
    out = tmp / "run"
    assert report_main(["--config", str(cfg), "--out", str(out), "--quiet"]) == 0
    return out


def test_report_files(report_dir: Path) -> None:
    names = {p.name for p in report_dir.iterdir()}
    assert {"report.md", "report.html", "summary.json", "sweep.csv", "methods.csv",
            "combination.csv", "savings.csv", "op_costs.csv", "sram.csv"} <= names
    assert set(FIGURES) <= names
    summary = json.loads((report_dir / "summary.json").read_text())
    sweep = summary["sweep"]
    assert sweep[0]["share_k"] == 0 and len(sweep) >= 2
    # More sharing never costs more computation per iteration (frozen layers skip backward).
    energies = [p["compute_energy_pj"] for p in sweep]
    assert all(b <= a for a, b in zip(energies, energies[1:], strict=False))
    assert energies[-1] < energies[0]
    # model storage: the no-sharing curve is constant; sharing stores the trunk once
    without = {p["model_storage_without_sharing_bytes"] for p in sweep}
    assert len(without) == 1
    assert sweep[0]["model_storage_with_sharing_bytes"] == without.pop()
    stored = [p["model_storage_with_sharing_bytes"] for p in sweep]
    assert stored[-1] < stored[0]
    # totals are dynamic + static, and the clock is a unit's fmax or the target
    for p in sweep:
        assert p["total_energy_pj"] == pytest.approx(p["dynamic_energy_pj"]
                                                     + p["static_energy_pj"])
        assert p["static_energy_pj"] > 0
    costing = summary["costing"]
    # the totals use the glitch-aware figure, shown beside the zero-delay ones
    assert costing["energy_figure"] == "yosys-timed"
    ops = pd.read_csv(report_dir / "op_costs.csv")
    mac = ops[(ops.unit == "fp_mac") & (ops.path == "yosys")].iloc[0]
    assert costing["units"]["fp_mac"]["dynamic_pj"] == pytest.approx(
        mac.energy_timed_logic_pj + mac.energy_timed_seq_pj)
    assert mac.energy_timed_logic_pj > mac.energy_logic_pj
    assert set(ops.path) == {"default", "yosys"} and (ops.nonfinite_pct <= 1.0).all()
    assert costing["clock_mhz"] == pytest.approx(min(
        [u["fmax_mhz"] for u in costing["units"].values()] + [costing["clock_target_mhz"]]))
    # every combination rule is reported with the rule that produced the method's accuracy
    learning = summary["learning"]
    rules = {c["rule"] for c in learning["combination"]}
    assert {"max-softmax", "temperature", "energy", "mahalanobis"} <= rules
    assert learning["methods"]["sharing"]["combiner"] == "mahalanobis"
    maha = [c for c in learning["combination"] if c["rule"] == "mahalanobis"]
    assert all(c["storage_bytes"] > 0 and c["energy_per_inference_pj"] > 0 for c in maha)
    md = (report_dir / "report.md").read_text()
    assert "## Combination rules" in md
    for fig in FIGURES:
        assert f"]({fig})" in md
    assert not list(report_dir.parent.glob(".run.*")), "temporary folder left behind"


def test_the_accelerator_back_end_costs_every_point_beside_the_mac_model(
        report_dir: Path) -> None:
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["accelerator"]["arch"] == "ws"
    # the PE energy was measured in an RTL array in dataflow order, and the report says so
    pe = summary["accelerator"]["pe_energy"]
    assert "2x2 array (sa_ws.v)" in pe and "dataflow order" in pe and "bit-exact" in pe
    sweep = pd.DataFrame(summary["sweep"])
    assert (sweep["cost_model"] == "accel").all()
    for col in ("compute_energy_pj", "total_energy_pj", "modeled_time_s", "dram_bytes"):
        assert (sweep[col] == sweep[f"accel_{col}"]).all()  # the figures use the back-end
        assert (sweep[f"mac_{col}"] > 0).all() and (sweep[f"mac_{col}"] != sweep[col]).any()
    assert list(sweep["accel_total_energy_pj"]) == pytest.approx(
        list(sweep["accel_dynamic_energy_pj"] + sweep["accel_static_energy_pj"]))
    # the breakdown (phase x level) adds up to each point's total
    bd = pd.read_csv(report_dir / "accel_breakdown.csv")
    tot = bd.groupby("label")["energy_pj"].sum()
    for _, p in sweep.iterrows():
        assert tot[p["label"]] == pytest.approx(p["accel_total_energy_pj"])
    # sharing freezes layers: fewer weight-gradient and input-gradient GEMMs, less energy
    wg = bd[bd.phase == "weight_grad"].groupby("sharing_point_pct")["energy_pj"].sum()
    assert wg.iloc[-1] < wg.iloc[0]
    maps = pd.read_csv(report_dir / "accel_mappings.csv")
    assert maps["mapping"].str.startswith("ws tile").all() and (maps["cycles"] > 0).all()
    models = pd.read_csv(report_dir / "models.csv")
    assert {"compute_energy_saving_mac_pct", "compute_energy_saving_accel_pct"} <= set(models)
    md = (report_dir / "report.md").read_text()
    assert "## Both cost models" in md and "](accel_breakdown.png)" in md


def test_bad_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert report_main(["--config", "no-such-config"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no-such-config" in err and "default" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('learning = "fast"\nbogus = 1\n')
    with pytest.raises(report_config.ReportError, match="unknown key 'bogus'"):
        report_config.load(str(bad))


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_chromium_loads_every_image(report_dir: Path, tmp_path: Path) -> None:
    html = (report_dir / "report.html").resolve()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", html.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    m = re.search(r'data-images-loaded="(\d+)/(\d+)"', dom)
    assert m, "the page's load handler did not run"
    assert m.group(1) == m.group(2) == str(len(FIGURES) + 1)  # + the accelerator breakdown
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", *flags, f"--screenshot={shot}", "--window-size=1200,2400",
                    html.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_no_table_is_cut_off_at_1300_px(report_dir: Path, tmp_path: Path) -> None:
    html = (report_dir / "report.html").resolve()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
             "--window-size=1300,900"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", html.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    attrs = dict(re.findall(r'data-([a-z-]+)="(\d+)"', dom))
    assert {"table-right", "window-width", "scroll-width"} <= set(attrs), dom[-500:]
    assert int(attrs["window-width"]) == 1300
    assert int(attrs["table-right"]) <= 1300, "a table is wider than a 1300 px window"
    assert int(attrs["scroll-width"]) <= 1300, "the page scrolls sideways at 1300 px"


def test_report_tables_are_formatted_for_reading(report_dir: Path) -> None:
    md = (report_dir / "report.md").read_text()
    assert "True" not in md and "False" not in md and "✓" in md
    assert "(pJ)" in md or "(nJ)" in md or "(µJ)" in md
    # a number with 5+ decimals (not part of an identifier such as a DOI) is unrounded
    assert not re.search(r"(?<![\w.])\d+\.\d{5,}", md.split("## Provenance")[0]), \
        "unrounded number"


@pytest.mark.parametrize("name", report_config.available())
def test_every_named_config_loads_with_a_valid_learning_config(name: str) -> None:
    from learning.config import load_config

    cfg = report_config.load(name)
    lcfg = load_config(cfg.learning, dict(cfg.learning_overrides) or None)
    assert lcfg.name == cfg.learning
    assert {"paper-digits-letters", "paper-cifar10-clone", "paper-cifar100-resnet101",
            "paper-imagenet-resnet18"} <= set(report_config.available())


def test_paper_config_without_its_data_is_a_one_line_error(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = report_main(["--config", "paper-imagenet-resnet18", "--out", str(tmp_path / "r"),
                      "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1 and "data_path" in err[0]
    assert not (tmp_path / "r").exists()


def test_unknown_stream_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('learning = "fast"\nstream = "gaussian"\n')
    with pytest.raises(report_config.ReportError, match="unknown stream 'gaussian'"):
        report_config.load(str(bad))


def test_approaches_without_a_sweep_are_costed_at_their_own_point() -> None:
    from hwmodel.report.pipeline import sharing_points
    from learning.config import config_from_dict
    from learning.incremental import run_and_keep

    cfg = config_from_dict({"dataset": "fashion-mnist", "splits": [4, 3, 3], "model": "lenet",
                            "approach": "clone", "clone_blocks": 1, "train_per_class": 30,
                            "test_per_class": 10, "epochs": 1, "batch_size": 32, "seed": 2,
                            "baselines": ["no-sharing"], "threads": 1})
    res, exp = run_and_keep(cfg, progress=False, write=False)
    pts = {p.share_k: p for p in sharing_points(res, exp)}
    k = res.chosen_share_k
    assert set(pts) == {0, k} and k > 0
    assert pts[k].chosen and not pts[0].chosen
    share = res.method("sharing").branches[1]
    noshare = res.method("no-sharing").branches[1]
    assert pts[k].test_acc_pct == share.test_acc_task_aware_pct
    assert pts[k].sharing_point_pct == share.sharing_point_pct > 0
    assert pts[0].test_acc_pct == noshare.test_acc_task_aware_pct


def test_approach_1_is_costed_on_the_trained_widen_branch() -> None:
    """The report used to trace a rebuilt LeNet with block 0 frozen for approach 1: about 25 %
    fewer MACs and 40 % fewer trained parameters than the widen branch that trained."""
    from hwmodel.report.config import ReportConfig
    from hwmodel.report.pipeline import trace_points
    from learning.config import config_from_dict
    from learning.incremental import run_and_keep
    from learning.models import build_model, freeze_prefix
    from workload import trace_training

    cfg = config_from_dict({"dataset": "fashion-mnist", "splits": [4, 3, 3], "model": "lenet",
                            "approach": "widen", "new_maps": 4, "train_per_class": 30,
                            "test_per_class": 10, "epochs": 1, "batch_size": 16, "seed": 1,
                            "baselines": ["no-sharing"], "threads": 1})
    res, exp = run_and_keep(cfg, progress=False, write=False)
    pts = trace_points(res, exp, ReportConfig(name="t", trace_iterations=1), progress=False)
    widen = next(p for p in pts if p.point.method == "sharing")
    entry = exp.sharing_labels(1)[widen.point.label]
    assert entry["kind"] == "widen" and widen.point.chosen
    tr = widen.trace
    assert int(tr["weight_write_elems"].sum()) == entry["trained_params"]  # what trained
    rebuilt = freeze_prefix(build_model("lenet", 3, 1, 28, cfg.width), 1)
    old = trace_training(rebuilt, (1, 28, 28), 16).df
    assert int(old["weight_write_elems"].sum()) != entry["trained_params"]
    # the model storage of the grown widen network: base + each installment's own kernels
    nets = widen.networks
    assert nets[0][0] == nets[0][1] and all(own < net for net, own in nets[1:])
