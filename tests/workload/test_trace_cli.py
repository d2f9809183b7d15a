"""``python -m workload trace`` (and its alias ``python -m learning trace``): JSON/CSV/Parquet
outputs and one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from learning.__main__ import main as learning_main
from workload import COLUMNS
from workload.cli import main

BASE = ["--model", "lenet", "--batch", "4", "--iterations", "1", "--threads", "1"]


def test_json_summary_and_rows(capsys) -> None:
    assert main([*BASE, "--share", "50", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "lenet" and doc["batch"] == 4 and doc["input_shape"] == [1, 28, 28]
    assert 0 < doc["share_pct"] <= 50 and doc["blocks_frozen"] >= 1
    rows = pd.DataFrame(doc["rows"])
    assert list(rows.columns) == list(COLUMNS)
    m = doc["macs_by_phase"]
    assert m["forward"] == rows["fwd_macs"].sum() > 0
    assert m["total"] == m["forward"] + m["backward_input"] + m["backward_weight"]
    assert doc["checks"]["bwd_macs_dispatched"] == doc["checks"]["bwd_macs_rows"]
    assert set(doc["timing_s"]) == {"forward", "backward", "step", "iteration"}
    assert {s["branch"] for s in doc["storage"]} == {"shared", "private"}


@pytest.mark.parametrize("ext", ["csv", "parquet", "json"])
def test_table_outputs(tmp_path, ext: str, capsys) -> None:
    out = tmp_path / f"trace.{ext}"
    assert main([*BASE, "--out", str(out)]) == 0
    assert "forward MACs" in capsys.readouterr().out
    df = {"csv": pd.read_csv, "parquet": pd.read_parquet,
          "json": lambda p: pd.read_json(p, orient="records")}[ext](out)
    assert list(df.columns) == list(COLUMNS)
    assert df["fwd_macs"].sum() > 0 and (df["branch"] == "private").all()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp files left


def test_operand_samples_file(tmp_path) -> None:
    out = tmp_path / "ops.npz"
    assert main([*BASE, "--samples", "8", "--samples-out", str(out), "--json"]) == 0
    import numpy as np

    with np.load(out) as z:
        assert any(k.endswith("|ifmap") for k in z.files)
        assert all(z[k].size <= 8 for k in z.files)


@pytest.mark.parametrize("argv,needle", [
    (["--model", "vgg99"], "unknown model"),
    (["--model", "lenet", "--share", "101"], "outside 0-100"),
    (["--model", "lenet", "--share", "-1"], "outside 0-100"),
    (["--model", "lenet", "--batch", "0"], "--batch"),
    (["--model", "lenet", "--out", "x.txt"], ".csv, .parquet or .json"),
    (["--model", "lenet", "--out", "/nonexistent-dir/x.csv"], "does not exist"),
])
def test_bad_input_one_line_exit_2(argv: list[str], needle: str, capsys, tmp_path) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("workload trace: error:") and needle in err


def test_dispatch_through_package_main(capsys) -> None:
    assert learning_main(["trace", *BASE, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "lenet"


@pytest.mark.data
def test_real_batch_same_work_different_operands(tmp_path, capsys) -> None:
    from learning.data import FASHION_MNIST_DIR

    if not (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"Fashion-MNIST not installed at {FASHION_MNIST_DIR} "
                    "(Debian package dataset-fashion-mnist)")
    rand, real = tmp_path / "rand.npz", tmp_path / "real.npz"
    assert main([*BASE, "--json", "--samples", "32", "--samples-out", str(rand)]) == 0
    doc_rand = json.loads(capsys.readouterr().out)
    assert main([*BASE, "--json", "--samples", "32", "--samples-out", str(real),
                 "--dataset", "fashion-mnist"]) == 0
    doc_real = json.loads(capsys.readouterr().out)
    assert doc_real["inputs"] == "fashion-mnist"
    assert doc_real["macs_by_phase"] == doc_rand["macs_by_phase"]  # work is data-independent
    import numpy as np

    with np.load(rand) as a, np.load(real) as b:
        key = "blocks.0.units.0.0|ifmap"
        # Real images: a black background gives many repeated values; N(0,1) noise does not.
        assert len(np.unique(b[key])) < len(np.unique(a[key]))


def test_weight_decay_is_traced_and_refused_when_negative(capsys) -> None:
    """The CLI traced SGD without weight decay only; training uses 5e-4."""
    def updates(extra: list[str]) -> tuple[int, int]:
        assert main([*BASE, "--json", *extra]) == 0
        rows = pd.DataFrame(json.loads(capsys.readouterr().out)["rows"])
        return int(rows["update_mults"].sum()), int(rows["params"].sum())

    (plain, n), (decay, _) = updates([]), updates(["--weight-decay", "5e-4"])
    assert decay - plain == n  # one more multiply per trainable parameter
    assert main([*BASE, "--weight-decay", "-1"]) == 2
    assert "--weight-decay must be >= 0" in capsys.readouterr().err
