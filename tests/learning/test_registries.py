"""Registries: a user's model named ``package.module:factory`` (checked, one-line errors), a
dataset loader and an approach strategy added without touching ``learning/``, and the built-in
names and the paper's approach numbers resolving as before."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from learning import approaches, models
from learning import data as D
from learning.approaches import APPROACHES, Clone, Partial, Widen, approach_class, approach_key
from learning.cli_run import main as run_main
from learning.config import config_from_dict
from learning.errors import LearningError
from learning.incremental import run_experiment
from learning.models import MODELS, BlockNet, build_model, sharing_points

from .fmnist import needs_fmnist, tiny_fmnist

torch.set_num_threads(1)

HERE = __name__  # "tests.learning.test_registries": importable as package.module


# -- a user's own models (factories) and approach, as a user's module would define them -------


def tiny_cnn(num_classes: int, in_channels: int, image_size: int, width: float) -> BlockNet:
    """Three blocks (two sharing points besides 0); no input_shape: build_model sets it."""
    c = max(1, round(4 * width))
    s = image_size // 2
    return BlockNet([
        nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2)),
        nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU()),
        nn.Sequential(nn.Flatten(), nn.Linear(c * s * s, num_classes)),
    ], name="tiny-cnn")


def not_a_blocknet(num_classes: int, in_channels: int, image_size: int, width: float):
    return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * image_size**2, num_classes))


def one_block(num_classes: int, in_channels: int, image_size: int, width: float) -> BlockNet:
    return BlockNet([not_a_blocknet(num_classes, in_channels, image_size, width)])


def no_output_layer(num_classes: int, in_channels: int, image_size: int,
                    width: float) -> BlockNet:
    return BlockNet([nn.Conv2d(in_channels, 2, 3), nn.Flatten()])


def wrong_outputs(num_classes: int, in_channels: int, image_size: int, width: float) -> BlockNet:
    return tiny_cnn(num_classes + 1, in_channels, image_size, width)


def too_few_args(num_classes: int) -> BlockNet:
    return tiny_cnn(num_classes, 1, 28, 1.0)


NOT_CALLABLE = 3


class CloneAtOne(Clone):
    """A user's approach: every branch clones the base from sharing point 1."""

    name = "clone-at-one"
    number = None

    def prepare(self) -> None:
        self.share_k = 1


def not_a_dataset(req: D.DataRequest) -> int:
    return 3


def toy_loader(req: D.DataRequest) -> D.ImageDataset:
    """A registry plumbing check only (nothing is trained on it)."""
    x = np.zeros((4, req.channels, req.image_size, req.image_size), dtype=np.uint8)
    y = np.array([0, 1, 0, 1], dtype=np.int64)
    return D.ImageDataset("toy", x, y, x, y, ["a", "b"], "zeros")


# -- models ---------------------------------------------------------------------------------------


def test_user_model_factory_builds_a_checked_blocknet():
    net = build_model(f"{HERE}:tiny_cnn", 3, 1, 28, 0.5)
    assert isinstance(net, BlockNet) and net.num_classes == 3
    assert net.input_shape == (1, 28, 28)  # filled in for the factory
    assert [k for k, _ in sharing_points(net)] == [0, 1, 2]
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 3)
    assert set(MODELS) >= {"lenet", "mlpconv", "resnet18", "resnet34", "resnet50", "resnet101"}
    assert build_model("LeNet", 4).name == "lenet"  # registered names ignore case


def test_registered_model(monkeypatch):
    monkeypatch.setattr(models, "MODELS", dict(MODELS))
    models.register_model("Tiny", tiny_cnn)
    assert build_model("tiny", 2, 3, 16).input_shape == (3, 16, 16)
    assert config_from_dict(tiny_fmnist(model="TINY")).model == "tiny"


@pytest.mark.parametrize(("factory", "needle"), [
    ("not_a_blocknet", "returned a Sequential, not a BlockNet"),
    ("one_block", "has one block, so no sharing point"),
    ("no_output_layer", "no nn.Linear output layer"),
    ("wrong_outputs", "has 4 outputs, but 3 were asked for"),
    ("too_few_args", "does not take (num_classes, in_channels, image_size, width)"),
    ("NOT_CALLABLE", "is a int, not a factory"),
    ("missing", "has no 'missing'"),
])
def test_bad_user_model_fails_in_one_line_naming_the_factory(factory, needle):
    spec = f"{HERE}:{factory}"
    with pytest.raises(LearningError) as err:
        build_model(spec, 3, 1, 28)
    msg = str(err.value)
    assert needle in msg and spec in msg and "\n" not in msg


def test_unimportable_model_module_and_bad_names():
    with pytest.raises(LearningError, match="cannot import module 'no_such_pkg.models'"):
        build_model("no_such_pkg.models:net", 3)
    with pytest.raises(LearningError, match="not like package.module:factory"):
        build_model("tests.learning:", 3)
    with pytest.raises(LearningError, match="unknown model 'vgg'.*package.module"):
        config_from_dict(tiny_fmnist(model="vgg"))


def test_config_keeps_a_factory_name_as_written():
    cfg = config_from_dict(tiny_fmnist(model=f"{HERE}:tiny_cnn"))
    assert cfg.model == f"{HERE}:tiny_cnn"
    assert config_from_dict(tiny_fmnist(model="ResNet18")).model == "resnet18"


@needs_fmnist
def test_user_model_trains_with_the_sweep_and_refuses_widen():
    spec = f"{HERE}:tiny_cnn"
    res = run_experiment(config_from_dict(tiny_fmnist(model=spec, baselines=["no-sharing"])),
                         progress=False, write=False)
    assert [p.share_k for p in res.sweep] == [0, 1, 2]
    assert res.method("sharing").old_logits_identical is True
    with pytest.raises(LearningError, match=f"approach widen \\(1\\) needs lenet or mlpconv, "
                                            f"not {spec}"):
        run_experiment(config_from_dict(tiny_fmnist(model=spec, approach="widen")),
                       progress=False, write=False)


@needs_fmnist
def test_cli_trains_a_user_model_from_a_toml_config(tmp_path, capsys):
    toml = tmp_path / "mine.toml"
    toml.write_text(f'model = "{HERE}:tiny_cnn"\ndataset = "fashion-mnist"\nsplits = [4, 3, 3]\n'
                    'approach = "clone"\nbaselines = []\ntrain_per_class = 30\n'
                    'test_per_class = 10\nepochs = 1\n')
    out = tmp_path / "out"
    assert run_main(["--config", str(toml), "--output-dir", str(out), "--threads", "1",
                     "--no-progress"]) == 0
    saved = json.loads((out / "results.json").read_text())
    assert saved["config"]["model"] == f"{HERE}:tiny_cnn"
    assert saved["chosen_share_k"] == 2  # 3 blocks, the last one cloned
    capsys.readouterr()


# -- datasets -------------------------------------------------------------------------------------


def test_dataset_registry_and_user_loader(monkeypatch):
    assert set(D.DATASETS) >= {"fashion-mnist", "mnist5k", "cifar10", "imagefolder"}
    ds = D.load_dataset(f"{HERE}:toy_loader", image_size=8, channels=1)
    assert ds.name == "toy" and ds.x_train.shape == (4, 1, 8, 8)
    monkeypatch.setattr(D, "DATASETS", dict(D.DATASETS))
    D.register_dataset("Toy_Set", toy_loader)
    assert D.load_dataset("toy-set").source == "zeros"
    with pytest.raises(LearningError, match="unknown dataset 'nope'"):
        D.load_dataset("nope")
    with pytest.raises(LearningError, match="returned a int, not an ImageDataset"):
        D.load_dataset(f"{HERE}:not_a_dataset")


# -- approaches -----------------------------------------------------------------------------------


def test_approach_registry_names_and_paper_numbers():
    assert APPROACHES == {"widen": Widen, "clone": Clone, "partial": Partial}
    assert [approach_key(n) for n in ("1", "2", "3", 3, "Clone")] == [
        "widen", "clone", "partial", "partial", "clone"]
    assert approach_class("3") is Partial
    with pytest.raises(LearningError, match=r"unknown approach '4'; use widen \(1\), clone \(2\)"):
        approach_class("4")
    with pytest.raises(LearningError, match="not a subclass of learning.approaches.Approach"):
        approach_class(f"{HERE}:tiny_cnn")


@needs_fmnist
def test_user_approach_by_name_and_registered(monkeypatch):
    cfg = config_from_dict(tiny_fmnist(approach=f"{HERE}:CloneAtOne", baselines=[]))
    res = run_experiment(cfg, progress=False, write=False)
    assert [b.share_k for b in res.method("sharing").branches] == [0, 1, 1]
    assert [b.label for b in res.method("sharing").branches[1:]] == ["clone-t1-k1",
                                                                    "clone-t2-k1"]
    monkeypatch.setattr(approaches, "APPROACHES", dict(APPROACHES))
    assert approaches.register_approach(CloneAtOne) is CloneAtOne
    assert config_from_dict(tiny_fmnist(approach="clone-at-one")).approach == "clone-at-one"
