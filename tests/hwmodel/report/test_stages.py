"""The report's stage list: explicit inputs and outputs, checked before and after each stage."""

from __future__ import annotations

import pytest

from hwmodel.report.config import ReportConfig, ReportError
from hwmodel.report.pipeline import report_stages
from hwmodel.report.stages import Cost, Render, Setup, Stage, State, run_stages


def test_the_report_is_one_visible_list() -> None:
    names = [s.name for s in report_stages()]
    assert names == ["setup", "learning", "traces", "op_costs", "cost", "accelerator",
                     "assemble"]
    assert isinstance(report_stages("out")[-1], Render)
    made: set[str] = {"cfg"}
    for stage in report_stages("out"):  # every input is made by an earlier stage
        assert set(stage.needs) <= made, stage.name
        made |= set(stage.gives)


def test_a_stage_without_its_inputs_is_a_one_line_error() -> None:
    with pytest.raises(ReportError, match="stage 'cost' needs 'points'"):
        run_stages([Setup(), Cost()], State(ReportConfig(name="t"), log=lambda _: None))


def test_a_stage_that_gives_nothing_is_caught() -> None:
    class Lazy(Stage):
        name, gives = "lazy", ("sweep",)

        def run(self, s: State) -> None:
            pass

    with pytest.raises(ReportError, match="did not give 'sweep'"):
        run_stages([Lazy()], State(ReportConfig(name="t"), log=lambda _: None))


def test_setup_reads_the_config() -> None:
    s = run_stages([Setup()], State(ReportConfig(name="t", vdd_v=0.9), log=lambda _: None))
    assert s.corner.vdd_v == 0.9 and s.hierarchy.temp_k == pytest.approx(300.15)
    assert s.accel.mac_units == 256 and "setup_s" in s.timings_s
    with pytest.raises(ReportError, match=r"no cell library at 0.8 V.*hwmodel.cells build"):
        run_stages([Setup()], State(ReportConfig(name="t", vdd_v=0.8), log=lambda _: None))
    with pytest.raises(ReportError, match=r"\[accelerator\]"):
        run_stages([Setup()], State(ReportConfig(name="t", accelerator={"lanes": 4}),
                                    log=lambda _: None))


def test_a_hierarchy_file_replaces_the_global_buffer(tmp_path) -> None:
    from hwmodel.report.config import load

    (tmp_path / "mem.toml").write_text(
        'dram = "ddr3"\ntemp_k = 300.0\n[[buffer]]\nname = "wbuf"\ncapacity = "64KiB"\n'
        'word_bits = 64\ndata_types = ["weight", "optstate"]\n[[buffer]]\nname = "abuf"\n'
        'capacity = "128KiB"\nword_bits = 128\ndata_types = ["activation", "gradient"]\n')
    (tmp_path / "r.toml").write_text('learning = "fast"\n[memory]\nhierarchy = "mem.toml"\n')
    s = run_stages([Setup()], State(load(str(tmp_path / "r.toml")), log=lambda _: None))
    assert [b.name for b in s.hierarchy.buffers] == ["wbuf", "abuf"]
    (tmp_path / "bad.toml").write_text('learning = "fast"\n[memory]\nhierarchy = "no.toml"\n')
    with pytest.raises(ReportError, match="hierarchy file .* not found"):
        load(str(tmp_path / "bad.toml"))


@pytest.mark.sim
def test_a_users_own_unit_costs_an_op(tmp_path) -> None:
    """[units.add] rtl = "add_hs.v": the report characterizes the user's Verilog adder on both
    energy paths and costs every add with it."""
    from pathlib import Path

    from hwmodel.ops.compute import library_corner
    from hwmodel.report.config import load
    from hwmodel.report.stages import op_costs

    rtl = Path(__file__).parents[1] / "ops" / "data" / "add_hs.v"
    (tmp_path / "r.toml").write_text(
        f'learning = "fast"\nformat = "int8"\nstream = "uniform"\nop_vectors = 20\n'
        f'energy = "yosys"\n[units.add]\nrtl = "{rtl}"\n')
    cfg = load(str(tmp_path / "r.toml"))
    table, costs = op_costs(cfg, library_corner(1.0), 16, None, progress=False)
    assert costs.add.unit == "add_hs" and costs.mac.unit == "mac_int"
    row = table[(table.unit == "add_hs") & (table.path == "yosys")].iloc[0]
    assert costs.add.dynamic_pj == pytest.approx(row.energy_logic_pj + row.energy_seq_pj)
    assert set(table[table.unit == "add_hs"].path) == {"default", "yosys"}
    (tmp_path / "bad.toml").write_text('learning = "fast"\n[units.div]\nrtl = "x.v"\n')
    with pytest.raises(ReportError, match=r"\[units\] key 'div' is not an op"):
        load(str(tmp_path / "bad.toml"))


def test_cost_model_and_architecture_choices(tmp_path) -> None:
    from hwmodel.report.config import load, override

    cfg = load("default")
    assert (cfg.model, cfg.arch, cfg.objective) == ("accel", "ws", "edp")
    assert override(cfg, model="mac", arch=None).model == "mac"
    with pytest.raises(ReportError, match="model 'exact' is unknown; use one of accel, mac"):
        override(cfg, model="exact")
    with pytest.raises(ReportError, match="arch 'tpu' is not a preset"):
        override(cfg, arch="tpu")
    p = tmp_path / "r.toml"
    p.write_text('learning = "fast"\narch = "mine.toml"\n')
    with pytest.raises(ReportError, match="arch file .*mine.toml not found"):
        load(str(p))
    p.write_text('learning = "fast"\nobjective = "speed"\n')
    with pytest.raises(ReportError, match="objective 'speed' is unknown"):
        load(str(p))
