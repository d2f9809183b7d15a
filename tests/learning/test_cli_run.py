"""``python -m learning run``: bad input gives one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from learning.__main__ import main as learning_main
from learning.cli_run import main
from learning.config import available_configs, load_config
from learning.incremental import default_output_dir

from .fmnist import needs_fmnist

TINY = ["--train-per-class", "30", "--test-per-class", "10", "--epochs", "1", "--threads", "1",
        "--no-progress"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["--model", "vgg16"], "unknown model 'vgg16'"),
        (["--splits", "4+3+5"], "needs 12 classes but fashion-mnist has 10"),
        (["--sharing", "150"], "outside 0-100 %"),
        (["--sharing", "-1"], "outside 0-100 %"),
        (["--data-root", "/nonexistent/data"], "does not exist"),
        (["--config", "no-such-config"], "unknown config 'no-such-config'"),
        (["--approach", "4"], "unknown approach"),
        (["--dataset", "cifar100", "--data-root", "."], "no cifar-100-python folder"),
        (["--approach", "widen", "--model", "resnet18"], "approach widen (1) needs"),
    ],
)
def test_bad_input_one_line_error_nothing_written(tmp_path, capsys, args, needle):
    out = tmp_path / "out"
    rc = main([*args, "--output-dir", str(out), *TINY])
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err
    assert err.startswith("python -m learning run: error: ") and err.count("\n") == 1
    assert not out.exists()


@needs_fmnist
def test_corrupted_checkpoint_is_an_error(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"PK\x03\x04broken zip")
    rc = main(["--output-dir", str(out), *TINY])
    err = capsys.readouterr().err
    assert rc == 2 and "checkpoint" in err and "corrupted" in err and err.count("\n") == 1
    assert [p.name for p in out.iterdir()] == ["checkpoint.pt"]


@needs_fmnist
def test_run_writes_results_and_prints_table(tmp_path, capsys):
    out = tmp_path / "out"
    rc = learning_main(["run", "--config", "fast", "--output-dir", str(out), "--width", "1",
                        *TINY])
    text = capsys.readouterr().out
    assert rc == 0
    assert "| sharing |" in text and "| no-sharing |" in text and "| joint |" in text
    res = json.loads((out / "results.json").read_text())
    assert [m["method"] for m in res["methods"]] == ["sharing", "no-sharing", "joint"]
    assert {p.name for p in out.iterdir()} >= {"results.json", "summary.csv", "checkpoint.pt"}
    # rerun resumes every stage from the checkpoint and prints the same table
    rc = main(["--config", "fast", "--output-dir", str(out), "--width", "1", "--json", *TINY])
    again = json.loads(capsys.readouterr().out)
    assert rc == 0 and again["resumed_stages"]
    assert again["methods"][0]["accuracy_matrix_pct"] == res["methods"][0]["accuracy_matrix_pct"]


def test_named_configs_are_valid():
    names = available_configs()
    assert {"fast", "cifar10-clone", "digits-letters-widen-13", "paper-digits-letters",
            "cifar100-resnet-sweep"} <= set(names)
    for name in names:
        cfg = load_config(name, {"data_root": None})
        assert cfg.name == name and cfg.description
        assert default_output_dir(cfg) == Path("reports") / "learning" / name
