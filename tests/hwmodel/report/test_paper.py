"""The paper's tables beside this run's: the packaged CSV, the accuracy table of each experiment,
the figures' paper marks and the updated-network curve, and the missing-CSV line."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from hwmodel.report import figures, paper
from hwmodel.report.assemble import updated_vs_sharing
from learning.results import CombinationResult, MethodResult, Results, SweepPoint

NAN = math.nan


def _method(name: str, aware: list[float], top1: float, top5: float | None = None,
            combiner: str | None = "mahalanobis") -> MethodResult:
    return MethodResult(method=name, accuracy_matrix_pct=[], final_task_acc_pct=[],
                        task_aware_acc_pct=aware, top1_pct=top1, top5_pct=top5,
                        forgetting_pct=[], avg_forgetting_pct=0.0, trained_params=0,
                        train_time_s=0.0, branches=[], old_logits_identical=None,
                        combiner=combiner)


def _combo(method: str, rule: str, top1: float) -> CombinationResult:
    return CombinationResult(method=method, rule=rule, accuracy_matrix_pct=[],
                             all_class_pct=[top1], task_id_pct=[], top1_pct=top1, top5_pct=None,
                             gap_to_joint_pts=None, storage_bytes=0, macs_per_inference=0)


def _results(approach: str, dataset: str, sizes: list[int], sweep=()) -> Results:
    """A run with made-up accuracies: base 91, sharing tasks 88 + t, no sharing 90 + t,
    updated network 60 / 61 (mahalanobis) and 55 / 57 (max-softmax), joint 87."""
    n = len(sizes)
    share = [91.0] + [88.0 + t for t in range(1, n)]
    alone = [91.0] + [90.0 + t for t in range(1, n)]
    tasks, c = [], 0
    for k in sizes:
        tasks.append(list(range(c, c + k)))
        c += k
    return Results(
        name="synthetic", config={"approach": approach, "dataset": dataset,
                                  "combiner": "mahalanobis", "data_root": None},
        dataset={"name": dataset}, tasks=tasks,
        methods=[_method("sharing", share, 60.0), _method("no-sharing", alone, 61.0),
                 _method("joint", [], 87.0, combiner=None)],
        combinations=[_combo("sharing", "mahalanobis", 60.0), _combo("sharing", "max-softmax",
                                                                     55.0),
                      _combo("no-sharing", "mahalanobis", 61.0),
                      _combo("no-sharing", "max-softmax", 57.0)],
        sweep=list(sweep))


@pytest.fixture(scope="module")
def tables() -> pd.DataFrame:
    return paper.load_tables(paper.PACKAGED)


def test_the_packaged_csv_parses_and_equals_the_shared_one(tables: pd.DataFrame) -> None:
    assert set(tables["table"]) == {"1", "2", "3", "5", "claim"}
    t2 = tables[tables["table"] == "2"].set_index("classes")
    assert t2.loc["10 updated", "with_sharing"] == "58.72"
    assert t2.loc["4 base", "with_sharing"] == ""  # not published: empty, not NaN text
    shared = paper.REPO.parent / "shared" / "paper" / "results.csv"
    if not shared.is_file():
        pytest.skip("../shared/paper/results.csv not present (a user's fresh machine)")
    assert paper.PACKAGED.read_bytes() == shared.read_bytes()


def test_claims_in_the_figures_form(tables: pd.DataFrame) -> None:
    c = paper.claims(tables).set_index(["label", "quantity"])
    energy = c.loc["paper (ResNet-101, CIFAR-100)", "compute_energy_saving"]
    assert energy["x_lo_pct"] == energy["x_hi_pct"] == 80.0
    assert energy["norm_lo"] == energy["norm_hi"] == pytest.approx(1 / 1.89)
    time = c.loc["paper (ResNet-101, CIFAR-100)", "time_per_iteration_saving"]
    assert (time["norm_lo"], time["norm_hi"]) == pytest.approx((1 / 2.6, 1 / 2.3))
    assert (time["x_lo_pct"], time["x_hi_pct"]) == (66.0, 99.0)  # the paper's shared points
    mem = c.loc["paper (ResNet-34, ImageNet)", "memory_access_saving"]
    assert mem["norm_lo"] == pytest.approx(0.81) and mem["x_lo_pct"] == 38.0


def test_table_2_beside_ours_with_differences(tables: pd.DataFrame) -> None:
    acc = paper.accuracy_beside(_results("clone", "cifar10", [4, 3, 3]), tables)
    assert acc is not None and set(acc["table"]) == {"2"}
    rows = acc.set_index("ours")
    joint = rows.loc["joint training"]
    assert math.isnan(joint["ours_with_sharing_pct"])
    assert joint["ours_without_sharing_pct"] == 87.0
    assert joint["without_sharing_diff_pts"] == pytest.approx(87.0 - 88.90)
    base = rows.loc["base"]
    assert base["our_classes"] == "4" and base["paper_without_sharing_pct"] == 91.82
    t1 = rows.loc["task 1"]
    assert t1["paper_classes"] == "3 task2" and t1["ours_with_sharing_pct"] == 89.0
    assert t1["with_sharing_diff_pts"] == pytest.approx(89.0 - 89.60)
    assert t1["without_sharing_diff_pts"] == pytest.approx(91.0 - 90.53)
    maha = rows.loc["updated network, mahalanobis rule"]
    ms = rows.loc["updated network, max-softmax rule (the paper's)"]
    assert maha["our_classes"] == ms["our_classes"] == "10"
    assert maha["with_sharing_diff_pts"] == pytest.approx(60.0 - 58.72)
    assert (ms["ours_with_sharing_pct"], ms["ours_without_sharing_pct"]) == (55.0, 57.0)
    assert ms["without_sharing_diff_pts"] == pytest.approx(57.0 - 60.49)
    assert list(acc["ours"])[:2] == ["joint training", "base"]  # the paper's row order


def test_table_1_rows_we_did_not_run_are_blank(tables: pd.DataFrame,
                                               tmp_path: Path) -> None:
    res = _results("widen", "digits-letters", [10, 13, 13])
    res.installments = [SimpleNamespace(task=1, class_names="A-M")]  # type: ignore[list-item]
    acc = paper.accuracy_beside(res, tables)
    assert acc is not None and set(acc["table"]) == {"1"}
    assert list(acc["our_classes"])[:4] == ["10", "13 (A-M)", "13", ""]
    assert list(acc["paper_classes"]) == ["0-9 base", "A-E", "F-J", "K-O", "P-T", "U-Z"]
    assert acc["ours_with_sharing_pct"].iloc[1:3].tolist() == [89.0, 90.0]
    assert acc.iloc[3:][["ours_with_sharing_pct", "with_sharing_diff_pts"]].isna().all().all()
    assert acc.iloc[3]["paper_with_sharing_pct"] == 98.03
    acc.to_csv(tmp_path / "t.csv", index=False)
    row = (tmp_path / "t.csv").read_text().splitlines()[4].split(",")
    assert row[1] == "K-O" and row[3] == row[5] == "" and row[6] == "98.03"  # blank, not nan


def test_our_extra_installments_get_rows_without_paper_numbers(tables: pd.DataFrame) -> None:
    acc = paper.accuracy_beside(_results("clone", "cifar10", [4, 2, 2, 2]), tables)
    assert acc is not None
    extra = acc[acc["ours"] == "task 3"].iloc[0]
    assert extra["paper_classes"] == "-" and extra["ours_with_sharing_pct"] == 91.0
    assert math.isnan(extra["paper_with_sharing_pct"])
    # it sits after the paper's last installment, before the updated network
    assert list(acc["ours"]).index("task 3") == list(acc["ours"]).index("task 2") + 1


@pytest.mark.parametrize(("approach", "dataset", "table"), [
    ("widen", "digits-letters", "1"), ("clone", "cifar10", "2"), ("partial", "cifar100", "3"),
    ("partial", "imagefolder", "5"), ("partial", "fashion-mnist", None),
    ("partial", "cifar10", None), ("clone", "cifar100", None)])
def test_which_paper_table_an_experiment_matches(tables: pd.DataFrame, approach: str,
                                                 dataset: str, table: str | None) -> None:
    acc = paper.accuracy_beside(_results(approach, dataset, [4, 3, 3]), tables)
    assert (None if acc is None else acc["table"].iloc[0]) == table


def test_table_5_top5_rows_use_our_top5_where_measured(tables: pd.DataFrame) -> None:
    res = _results("partial", "imagefolder", [5, 3, 2])
    res.methods[2].top5_pct = 80.0  # joint
    acc = paper.accuracy_beside(res, tables)
    assert acc is not None
    joint5 = acc[(acc["ours"] == "joint training") & (acc["metric"] == "top5_pct")].iloc[0]
    assert joint5["without_sharing_diff_pts"] == pytest.approx(80.0 - 84.13)
    task5 = acc[(acc["ours"] == "task 1") & (acc["metric"] == "top5_pct")].iloc[0]
    assert math.isnan(task5["ours_with_sharing_pct"]) and task5["paper_with_sharing_pct"] == 82.42


def test_the_default_experiment_says_the_paper_has_no_table() -> None:
    b = paper.view(_results("partial", "fashion-mnist", [4, 3, 3]), [paper.PACKAGED])
    assert b.accuracy is None and b.table is None and b.path == paper.PACKAGED
    assert "no accuracy table for approach 'partial' on 'fashion-mnist'" in b.message
    assert "Table 2: clone on cifar10" in b.message and paper.SOURCE in b.message
    assert len(b.claims) == 7  # the hardware claims still show


def test_a_missing_csv_is_one_line_and_no_comparison(tmp_path: Path) -> None:
    b = paper.view(_results("clone", "cifar10", [4, 3, 3]), [tmp_path / "none.csv"])
    assert b.path is None and b.accuracy is None and b.claims.empty
    assert b.message.startswith("paper tables not found (put the paper's results.csv at ")
    assert "\n" not in b.message and str(tmp_path / "none.csv") in b.message


def test_the_report_shows_the_missing_csv_line_and_no_table(tmp_path: Path) -> None:
    from hwmodel.report.render import _paper_sections

    b = paper.view(_results("clone", "cifar10", [4, 3, 3]), [tmp_path / "none.csv"])
    assert _paper_sections(None, b) == [("Beside the paper: accuracy", b.message, None, None)]


def test_the_reports_accuracy_table_is_blank_where_a_side_has_no_number(
        tables: pd.DataFrame) -> None:
    from hwmodel.report.render import _accuracy_view

    b = paper.view(_results("clone", "cifar10", [4, 3, 3]), [paper.PACKAGED])
    view = _accuracy_view(b.accuracy).set_index("ours")
    assert view.loc["joint training", "ours with sharing (%)"] == ""
    assert view.loc["joint training", "without sharing diff (points)"] == "-1.90"
    assert view.loc["task 1", "with sharing diff (points)"] == "-0.60"
    assert view.loc["task 1", "metric"] == "top-1" and "table" not in view.columns


def test_a_csv_without_the_columns_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "results.csv"
    bad.write_text("table,approach\n1,widen\n")
    with pytest.raises(paper.ReportError, match=r"no column 'dataset'; give a copy of"):
        paper.load_tables(bad)


def test_search_paths_include_the_data_roots_sibling(tmp_path: Path) -> None:
    paths = paper.search_paths(tmp_path / "data")
    assert paths[0] == paper.PACKAGED and paths[1] == tmp_path / "paper" / "results.csv"


def _sweep_df() -> pd.DataFrame:
    x = [0.0, 50.0, 80.0, 95.0]
    return pd.DataFrame({"sharing_point_pct": x, "test_acc_pct": [90.0, 89.5, 88.0, 80.0],
                         "chosen": [False, False, True, False],
                         "modeled_time_norm": [1.0, 0.7, 0.5, 0.4],
                         "measured_iteration_norm": [1.0, 0.8, 0.6, 0.5]})


def _points() -> list[SweepPoint]:
    pts = []
    for k, (x, a, b) in enumerate([(0.0, 70.0, 65.0), (50.0, 69.0, 64.0), (80.0, 66.0, NAN)]):
        p = SweepPoint(share_k=k, sharing_point_pct=x, shared_pct=x, trained_params=1,
                       val_acc_pct=0.0, test_acc_pct=0.0, train_time_s=0.0)
        p.updated_rule, p.updated_top1_pct, p.updated_max_softmax_top1_pct = "mahalanobis", a, b
        pts.append(p)
    return pts


def _drawn(monkeypatch: pytest.MonkeyPatch, fn, *args, **kw):
    """The figure ``fn`` draws (not closed), instead of its PNG."""
    got = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: got.setdefault("fig", fig))
    fn(*args, **kw)
    return got["fig"]


def test_fig2b_draws_the_branch_and_the_updated_network(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    upd = updated_vs_sharing(_results("partial", "cifar10", [4, 3, 3], _points()))
    assert list(upd["rule"]) == ["mahalanobis", "max-softmax", "mahalanobis", "max-softmax",
                                 "mahalanobis"]  # the NaN point is left out
    fig = _drawn(monkeypatch, figures.accuracy_vs_sharing, _sweep_df(), tmp_path / "f.png",
                 overlay=figures.Overlay(updated=upd))
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    assert set(lines) == {"new-task branch (its own classes)",
                          "updated network, all classes (the mahalanobis rule)",
                          "updated network, all classes (the paper's max-softmax rule)"}
    assert list(lines["updated network, all classes (the mahalanobis rule)"].get_ydata()) == [
        70.0, 69.0, 66.0]
    assert not fig.axes[0].texts


def test_fig2b_says_when_the_updated_network_was_not_recorded(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    res = _results("partial", "cifar10", [4, 3, 3], [SweepPoint(0, 0.0, 0.0, 1, 0.0, 0.0, 0.0)])
    upd = updated_vs_sharing(res)
    assert upd.empty
    fig = _drawn(monkeypatch, figures.accuracy_vs_sharing, _sweep_df(), tmp_path / "f.png",
                 overlay=figures.Overlay(updated=upd))
    assert len(fig.axes[0].get_lines()) == 1
    assert "not recorded" in fig.axes[0].texts[0].get_text()


def test_fig4b_marks_the_papers_claims_and_cites_it(monkeypatch: pytest.MonkeyPatch,
                                                    tables: pd.DataFrame,
                                                    tmp_path: Path) -> None:
    ov = figures.Overlay(claims=paper.claims(tables), source=paper.SOURCE)
    fig = _drawn(monkeypatch, figures.time_vs_sharing, _sweep_df().assign(
        cost_model="mac"), tmp_path / "f.png", overlay=ov)
    _, labels = fig.axes[0].get_legend_handles_labels()
    assert "paper (ResNet-101, CIFAR-100): 2.3-2.6× less" in labels
    assert "paper (ResNet-34, ImageNet): 55 % less" in labels
    assert any(paper.SOURCE in t.get_text() for t in fig.texts)
    plain = _drawn(monkeypatch, figures.time_vs_sharing, _sweep_df().assign(
        cost_model="mac"), tmp_path / "g.png")
    assert not plain.texts and len(plain.axes[0].get_legend_handles_labels()[1]) == 2
