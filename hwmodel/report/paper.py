"""The paper's published numbers beside this run's: its accuracy tables (Tables 1, 2, 3, 5) and
its hardware claims (Figs. 4a, 4b, 5a, 5b), read from a packaged copy of the paper's
``results.csv`` (``hwmodel/report/data/paper_results.csv``, byte for byte the project's
``../shared/paper/results.csv``).

Sarwar, Ankit, Roy, "Incremental Learning in Deep Convolutional Neural Networks Using Partial
Network Sharing", IEEE Access 7, 2019, doi 10.1109/ACCESS.2019.2963056. Quoted facts, not
results of this toolkit: every table and figure that shows them cites :data:`SOURCE`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hwmodel.report.config import ReportError

SOURCE = "Sarwar, Ankit, Roy, IEEE Access 7, 2019 (doi 10.1109/ACCESS.2019.2963056)"
DATA = Path(__file__).resolve().parent / "data"
PACKAGED = DATA / "paper_results.csv"
SHARING_POINTS = DATA / "paper_sharing_points.csv"
REPO = Path(__file__).resolve().parents[2]
COLUMNS = ("table", "approach", "dataset", "network", "classes", "metric", "with_sharing",
           "without_sharing")
PAPER_RULE = "max-softmax"  # learning.combine.MaxSoftmax: the paper's combination rule

#: our dataset name -> the paper's dataset it stands in for (add your own loader's name here)
STAND_INS: dict[str, str] = {"digits-letters": "tich", "imagefolder": "imagenet"}
NAMES = {"resnet101": "ResNet-101", "resnet34": "ResNet-34", "cifar100": "CIFAR-100",
         "cifar10": "CIFAR-10", "imagenet": "ImageNet", "tich": "TiCH"}


@dataclass(frozen=True)
class Quantity:
    """A claimed saving: how the report names it and the columns of ours it compares with
    (``saving_col`` in :func:`hwmodel.report.costing.savings_table`, % saved)."""

    name: str
    saving_col: str


#: claim metric (without its ``_x`` / ``_pct`` form) -> the quantity of ours it compares with
QUANTITIES: dict[str, Quantity] = {
    "compute_energy_saving": Quantity("computation energy", "compute_energy_saving_pct"),
    "time_per_iteration_saving": Quantity("time per iteration", "modeled_time_saving_pct"),
    "storage_saving": Quantity("storage", "model_storage_saving_pct"),
    "memory_access_saving": Quantity("memory access", "memory_access_saving_pct"),
}


# -- finding and reading the tables -----------------------------------------------------------


def search_paths(data_root: str | Path | None = None) -> list[Path]:
    """Where the paper's CSV is looked for, in order: the packaged copy,
    ``<data-root>/../paper/results.csv``, the repository's sibling ``../shared/paper/``."""
    paths = [PACKAGED]
    if data_root:
        paths.append(Path(data_root).resolve().parent / "paper" / "results.csv")
    return [*paths, REPO.parent / "shared" / "paper" / "results.csv"]


def find_csv(paths: list[Path]) -> Path | None:
    """The first of ``paths`` that is a file, or None."""
    return next((p for p in paths if p.is_file()), None)


def not_found(paths: list[Path]) -> str:
    """The report's one line when no copy of the paper's tables is found."""
    return (f"paper tables not found (put the paper's results.csv at {paths[0]} or "
            "<data-root>/../paper/results.csv); the comparison with the paper is left out")


def load_tables(path: Path) -> pd.DataFrame:
    """The paper's tables and claims as strings (empty = not published); a missing column is a
    one-line ReportError."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise ReportError(f"paper tables {path}: unreadable ({exc}); give a copy of "
                          "../shared/paper/results.csv") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ReportError(f"paper tables {path}: no column {missing[0]!r}; give a copy of "
                          "../shared/paper/results.csv")
    return df


def _num(v: object) -> float:
    """A published cell or one of ours as a float (empty, None or a range -> NaN)."""
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


# -- hardware claims ---------------------------------------------------------------------------


def _range(text: str) -> tuple[float, float]:
    """``"2.3-2.6"`` -> (2.3, 2.6); ``"1.89"`` -> (1.89, 1.89)."""
    lo, _, hi = text.partition("-")
    return float(lo), float(hi or lo)


def _where(network: str, dataset: str, where: str) -> tuple[float, float]:
    """The sharing (%) a claim holds at: ``"80% sharing"`` -> (80, 80); ``"all sharing
    points"`` -> the paper's shared points of that network (NaN: not known)."""
    m = re.match(r"([\d.]+)\s*%", where)
    if m:
        return float(m.group(1)), float(m.group(1))
    pts = pd.read_csv(SHARING_POINTS, comment="#")
    pts = pts[(pts["network"] == network) & (pts["dataset"] == dataset) & (pts["sharing_pct"] > 0)]
    if pts.empty:
        return math.nan, math.nan
    return float(pts["sharing_pct"].min()), float(pts["sharing_pct"].max())


def claims(tables: pd.DataFrame) -> pd.DataFrame:
    """One row per published hardware claim: ``quantity`` (a :data:`QUANTITIES` key), its
    ``claim`` as published, ``x_lo_pct``/``x_hi_pct`` (the sharing it holds at), and
    ``norm_lo``/``norm_hi`` (our cost with sharing / without, the form of Figs. 4 and 5)."""
    rows = []
    for _, r in tables[tables["table"] == "claim"].iterrows():
        key, _, form = r["metric"].rpartition("_")
        lo, hi = _range(r["with_sharing"])
        norm = (1.0 / hi, 1.0 / lo) if form == "x" else (1.0 - hi / 100.0, 1.0 - lo / 100.0)
        x_lo, x_hi = _where(r["network"], r["dataset"], r["classes"])
        net, ds = NAMES.get(r["network"], r["network"]), NAMES.get(r["dataset"], r["dataset"])
        rows.append({"setting": f"{net}, {ds}, {r['classes'].replace('%', ' %')}",
                     "label": f"paper ({net}, {ds})", "quantity": key, "form": form,
                     "claim": r["with_sharing"] + ("×" if form == "x" else " %"),
                     "x_lo_pct": x_lo, "x_hi_pct": x_hi, "norm_lo": norm[0], "norm_hi": norm[1]})
    return pd.DataFrame(rows, columns=["setting", "label", "quantity", "form", "claim",
                                       "x_lo_pct", "x_hi_pct", "norm_lo", "norm_hi"])


def beside_the_paper(savings: pd.DataFrame, tables: pd.DataFrame | None = None) -> pd.DataFrame:
    """The paper's claims with this run's figure for the same quantity at its chosen sharing
    point (or the most shared point when none is chosen), in the paper's form (× or %)."""
    if tables is None:
        path = find_csv(search_paths())
        tables = load_tables(path) if path else pd.DataFrame(columns=list(COLUMNS))
    chosen = savings[savings["chosen"]]
    row = chosen.iloc[0] if not chosen.empty else savings.iloc[-1]
    out = []
    for _, c in claims(tables).iterrows():
        if c["quantity"] not in QUANTITIES:
            continue
        q = QUANTITIES[c["quantity"]]
        pct = float(row[q.saving_col])
        ours = f"{1.0 / (1.0 - pct / 100.0):.2f}×" if c["form"] == "x" else f"{pct:.1f} %"
        out.append({"paper: setting": c["setting"], "quantity": q.name,
                    "paper claims": c["claim"],
                    f"this run at {row['sharing_point_pct']:.1f} % shared": ours})
    return pd.DataFrame(out)


# -- accuracy tables ---------------------------------------------------------------------------


def paper_rows(tables: pd.DataFrame, approach: str, dataset: str) -> pd.DataFrame:
    """The paper's accuracy rows of the experiment ``approach`` on ``dataset`` (our names;
    :data:`STAND_INS` maps our datasets to the paper's); empty when the paper has none."""
    ds = STAND_INS.get(dataset, dataset)
    rows = tables[(tables["table"] != "claim") & (tables["approach"] == approach)
                  & (tables["dataset"] == ds)]
    return rows[rows["table"] == rows["table"].iloc[0]] if len(rows) else rows


def _row_kind(label: str, installments_before: int) -> tuple[str, int | None]:
    """A paper row label -> (kind, our task index): ``"0-9 base"`` -> (base, 0), ``"3 task2"``
    -> (installment, 1), ``"A-E"`` -> (installment, its order), ``"10 updated"`` ->
    (updated, None), ``"10 joint"`` -> (joint, None)."""
    last = label.split()[-1]
    if last in ("base", "joint", "updated"):
        return last, 0 if last == "base" else None
    m = re.fullmatch(r"task(\d+)", last)
    return "installment", int(m.group(1)) - 1 if m else installments_before + 1


def _method(res, name: str):
    return next((m for m in res.methods if m.method == name), None)


def _task(m, t: int | None) -> float:
    accs = m.task_aware_acc_pct if m is not None else []
    return _num(accs[t]) if t is not None and t < len(accs) else math.nan


def _updated(res, method: str, rule: str, top5: bool) -> float:
    """The all-class accuracy of ``method``'s updated network under ``rule``."""
    c = next((c for c in res.combinations if c.method == method and c.rule == rule), None)
    src = c if c is not None else _method(res, method)
    if src is None or (c is None and src.combiner != rule):
        return math.nan
    return _num(src.top5_pct if top5 else src.top1_pct)


def _ours(res, kind: str, t: int | None, top5: bool, rule: str) -> tuple[float, float]:
    """(with sharing, without sharing) of ours for one paper row (NaN: not measured)."""
    share, alone = _method(res, "sharing"), _method(res, "no-sharing")
    if kind == "updated":
        return _updated(res, "sharing", rule, top5), _updated(res, "no-sharing", rule, top5)
    if kind == "joint":
        joint = _method(res, "joint")
        return math.nan, _num((joint.top5_pct if top5 else joint.top1_pct) if joint else None)
    if top5:  # per-branch top-5 is not recorded
        return math.nan, math.nan
    if kind == "base":
        return math.nan, _task(alone or share, 0)
    return _task(share, t), _task(alone, t)


def _classes(res, kind: str, t: int | None) -> str:
    """Our classes of a row: their number, with the class names where the run recorded them
    (``Results.installments``, e.g. ``"5 (A-E)"``); empty for a task we did not run."""
    sizes = [len(c) for c in res.tasks]
    if kind in ("joint", "updated"):
        return str(sum(sizes))
    if t is None or t >= len(sizes):
        return ""
    names = {r.task: r.class_names for r in getattr(res, "installments", None) or []}
    return f"{sizes[t]} ({names[t]})" if names.get(t) else str(sizes[t])


def _row(res, paper: dict, kind: str, t: int | None, rule: str) -> dict:
    with_, without = _ours(res, kind, t, paper["metric"] == "top5_pct", rule)
    p_with, p_without = _num(paper["with_sharing"]), _num(paper["without_sharing"])
    ours = {"base": "base", "joint": "joint training", "installment": f"task {t}",
            "updated": f"updated network, {rule} rule"
            + (" (the paper's)" if rule == PAPER_RULE else "")}[kind]
    return {"table": paper["table"], "paper_classes": paper["classes"], "ours": ours,
            "our_classes": _classes(res, kind, t),
            "metric": paper["metric"], "ours_with_sharing_pct": with_,
            "paper_with_sharing_pct": p_with, "with_sharing_diff_pts": round(with_ - p_with, 6),
            "ours_without_sharing_pct": without, "paper_without_sharing_pct": p_without,
            "without_sharing_diff_pts": round(without - p_without, 6)}


def accuracy_beside(res, tables: pd.DataFrame) -> pd.DataFrame | None:
    """This run's accuracy beside the paper's table for the same approach and dataset, row by
    row (difference = ours - paper, points; NaN where either is missing); the updated network
    once under the run's combination rule and once under the paper's max-softmax rule. None
    when the paper has no table for this experiment."""
    rows = paper_rows(tables, str(res.config.get("approach")), str(res.config.get("dataset")))
    if rows.empty:
        return None
    rules = list(dict.fromkeys([str(res.config.get("combiner") or PAPER_RULE), PAPER_RULE]))
    out: list[dict] = []
    seen: set[int] = set()
    for paper in rows.to_dict("records"):
        kind, t = _row_kind(paper["classes"], len(seen))
        if kind == "installment":
            seen.add(t)  # type: ignore[arg-type]
        for rule in rules if kind == "updated" else rules[:1]:
            out.append(_row(res, paper, kind, t, rule))
    last = max((i for i, r in enumerate(out) if r["ours"].startswith("task")), default=len(out))
    extra = [t for t in range(1, len(res.tasks)) if t not in seen]
    blank = {"table": rows["table"].iloc[0], "classes": "-", "metric": "top1_pct",
             "with_sharing": "", "without_sharing": ""}
    out[last + 1:last + 1] = [_row(res, blank, "installment", t, rules[0]) for t in extra]
    return pd.DataFrame(out)


def tables_index(tables: pd.DataFrame) -> str:
    """``Table 1: widen on tich, ...``: which experiment each paper table belongs to."""
    acc = tables[tables["table"] != "claim"].drop_duplicates("table")
    return ", ".join(f"Table {r.table}: {r.approach} on {r.dataset}" for r in acc.itertuples())


# -- the report's view -------------------------------------------------------------------------


@dataclass
class Beside:
    """What the report shows of the paper for one run."""

    path: Path | None  # the CSV read (None: not found)
    message: str  # one line: the source and what matched, or why nothing is shown
    table: str | None  # the paper's table this run's accuracy is beside ("1", "2", "3", "5")
    accuracy: pd.DataFrame | None  # :func:`accuracy_beside`
    claims: pd.DataFrame  # :func:`claims` (empty without the CSV)


def view(res, paths: list[Path] | None = None) -> Beside:
    """The paper's tables for ``res`` (a :class:`learning.results.Results`), found on
    ``paths`` (default :func:`search_paths` with the run's data root); a missing CSV is one
    line in :attr:`Beside.message`, never an error."""
    paths = paths or search_paths(res.config.get("data_root"))
    path = find_csv(paths)
    if path is None:
        return Beside(None, not_found(paths), None, None, claims(pd.DataFrame(columns=COLUMNS)))
    tables = load_tables(path)
    acc = accuracy_beside(res, tables)
    approach, ds = res.config.get("approach"), res.config.get("dataset")
    if acc is None:
        msg = (f"The paper has no accuracy table for approach {approach!r} on {ds!r} "
               f"({tables_index(tables)}; {SOURCE}).")
        return Beside(path, msg, None, None, claims(tables))
    table = str(acc["table"].iloc[0])
    stand_in = (f" (our {ds} stands in for the paper's {NAMES.get(STAND_INS[ds], STAND_INS[ds])})"
                if ds in STAND_INS else "")
    msg = (f"Paper Table {table} ({SOURCE}){stand_in}, from {path.name}: test accuracy, "
           "difference = ours - paper (points); blank where either side has no number.")
    if res.chosen_sharing_point_pct is not None:
        msg += (f" With sharing: this run's chosen sharing point, "
                f"{res.chosen_sharing_point_pct:.1f} % of the base network's parameters.")
    return Beside(path, msg, table, acc, claims(tables))
