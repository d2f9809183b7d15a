"""The CPU training recipe (learning.training.Recipe) and the paper's MlpConv network: LR
schedule shapes, label smoothing, test-time flips, bf16 autocast, channels-last, augmented
trunk views, per-epoch resume; ``mlpconv`` is the paper's network and ``nin`` the original."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from learning.config import config_from_dict
from learning.errors import LearningError
from learning.incremental import Checkpoint, Experiment, eval_format
from learning.models import build_model, count_params, freeze
from learning.network import make_clone_branch
from learning.training import (
    LR_SCHEDULES,
    Recipe,
    TrunkCache,
    augment,
    augmented_views,
    batched,
    module_digest,
    train_model,
    trunk_outputs,
)

from .fmnist import needs_fmnist, tiny_fmnist

torch.set_num_threads(1)


def _data(n: int = 48, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed)
    return g.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), g.integers(0, classes, n)


def _train(recipe: Recipe, epochs: int = 2, dropout: float = 0.2,
           **kw) -> tuple[nn.Module, object]:
    torch.manual_seed(0)
    net = build_model("mlpconv", 3, 3, 32, width=0.125, dropout=dropout)
    x, y = _data()
    st = train_model(net, net, x, y, epochs=epochs, batch_size=16, lr=0.05, seed=3,
                     progress=False, recipe=recipe, **kw)
    return net, st


# -- schedules and losses ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["onecycle", "triangular"])
def test_warmup_schedules_rise_peak_and_fall(name):
    f = [LR_SCHEDULES[name](s, 100, 0.2) for s in range(101)]
    assert f[0] < 0.5 and max(f) == pytest.approx(1.0) and int(np.argmax(f)) == 20
    assert all(a <= b for a, b in zip(f[:20], f[1:21], strict=True))  # rising
    assert all(a >= b for a, b in zip(f[20:100], f[21:], strict=True))  # falling
    assert f[100] == pytest.approx(0.0, abs=1e-12)


def test_cosine_schedule_unchanged():
    assert [LR_SCHEDULES["cosine"](s, 10, 0.2) for s in (0, 5, 10)] == pytest.approx(
        [1.0, 0.5, 0.0])


def test_label_smoothing_changes_the_loss_as_defined():
    logits, y = torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([0])
    logp = torch.log_softmax(logits, 1)
    want = -(0.8 * logp[0, 0] + 0.2 * logp[0].mean())
    got = nn.functional.cross_entropy(logits, y, label_smoothing=0.2)
    assert float(got) == pytest.approx(float(want))
    a, _ = _train(Recipe())
    b, _ = _train(Recipe(label_smoothing=0.2))
    assert module_digest(a) != module_digest(b)  # the recipe reaches the loss


def test_tta_is_the_mean_of_flipped_and_unflipped_logits():
    torch.manual_seed(0)
    net = build_model("mlpconv", 4, 3, 32, width=0.125).eval()
    x, _ = _data(10)
    (plain,) = batched(net, x)
    (mirror,) = batched(net, x[..., ::-1].copy())
    (tta,) = batched(net, x, tta=True)
    assert torch.allclose(tta, (plain + mirror) / 2, atol=1e-6)
    assert not torch.allclose(tta, plain)


def test_channels_last_evaluation_feeds_nhwc_and_gives_the_same_logits():
    torch.manual_seed(0)
    net = build_model("mlpconv", 4, 3, 32, width=0.125).eval()
    x, _ = _data(10)
    seen = []

    def fn(xb: torch.Tensor) -> torch.Tensor:
        seen.append(xb.is_contiguous(memory_format=torch.channels_last))
        return net(xb)

    (plain,) = batched(net, x, tta=True)
    (nhwc,) = batched(fn, x, tta=True, memory_format=torch.channels_last)
    assert seen and all(seen)
    assert torch.allclose(plain, nhwc, atol=1e-5)


def test_experiment_evaluates_in_the_training_layout():
    assert eval_format(SimpleNamespace(channels_last=True)) == torch.channels_last
    assert eval_format(SimpleNamespace(channels_last=False)) == torch.contiguous_format


def test_augment_translate_is_a_shifted_crop_and_translate_0_only_flips():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4)
    out = augment(x, torch.Generator().manual_seed(0), translate=0)
    for i in range(2):
        assert torch.equal(out[i], x[i]) or torch.equal(out[i], x[i].flip(-1))
    g = torch.Generator().manual_seed(1)
    dy, dx = torch.randint(0, 5, (2,), generator=g), torch.randint(0, 5, (2,), generator=g)
    flip = torch.rand(2, generator=g) < 0.5
    out = augment(x, torch.Generator().manual_seed(1), translate=2)
    padded = nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        want = padded[i, :, dy[i] : dy[i] + 4, dx[i] : dx[i] + 4]
        assert torch.equal(out[i], want.flip(-1) if flip[i] else want)


# -- precision and memory format -------------------------------------------------------------


def test_bf16_trains_and_is_deterministic_for_fixed_threads():
    a, sa = _train(Recipe(precision="bf16"))
    b, _ = _train(Recipe(precision="bf16"))
    c, _ = _train(Recipe())
    assert math.isfinite(sa.final_loss)
    assert module_digest(a) == module_digest(b)
    assert module_digest(a) != module_digest(c)  # autocast really ran
    assert all(p.dtype == torch.float32 for p in a.parameters())


def test_channels_last_equals_contiguous_within_tolerance():
    # no dropout: a channels-last dropout mask is drawn in NHWC memory order, so it differs
    # from the contiguous run's mask (same distribution)
    a, _ = _train(Recipe(), epochs=1, dropout=0.0)
    b, _ = _train(Recipe(channels_last=True), epochs=1, dropout=0.0)
    for (k, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.allclose(p.float(), q.float(), atol=1e-4, rtol=1e-4), k
        assert q.is_contiguous()  # back to the default format after training


def test_ema_replaces_weights_by_their_average():
    a, _ = _train(Recipe())
    b, _ = _train(Recipe(ema_decay=0.9))
    assert module_digest(a) != module_digest(b)


# -- trunk views -----------------------------------------------------------------------------


def test_trunk_view_cache_equals_the_trunk_on_the_same_views():
    torch.manual_seed(0)
    base = freeze(build_model("mlpconv", 4, 3, 32, width=0.125))
    branch = make_clone_branch(base, base, 2, 3, seed=1)
    trunk, _ = Experiment.branch_forward(SimpleNamespace(base=base), branch, split=True)
    x, _ = _data(40)
    cache = TrunkCache.build(trunk, x, 16, views=3, seed=5, translate=4)
    assert not isinstance(cache, str)
    views = augmented_views(x, 16, 3, seed=5)
    assert views.shape[0] == 120 and not torch.equal(views[:40], views[40:80])
    want = torch.cat([trunk_outputs(trunk, views[s : s + 16], 16)[0]
                      for s in range(0, 120, 16)])
    rows = torch.tensor([0, 39, 40, 85, 119])
    assert torch.equal(cache.gather(rows)[0], want[rows])
    assert cache.nbytes == 120 * want[0].numel() * 4  # views x images x one trunk output


def test_augmented_branch_training_uses_the_view_cache():
    torch.manual_seed(0)
    base = freeze(build_model("mlpconv", 4, 3, 32, width=0.125))
    branch = make_clone_branch(base, base, 2, 3, seed=1)
    trunk, head = Experiment.branch_forward(SimpleNamespace(base=base), branch, split=True)
    x, y = _data(40)
    st = train_model(head, branch, x, y, epochs=2, batch_size=16, lr=0.05, progress=False,
                     trunk=trunk, use_augment=True, recipe=Recipe(trunk_views=2))
    assert (st.trunk_cache, st.trunk_views) == ("memory", 2)
    off = train_model(head, branch, x, y, epochs=1, batch_size=16, lr=0.05, progress=False,
                      trunk=trunk, use_augment=True)
    assert off.trunk_cache == "off" and "trunk_views" in off.trunk_cache_reason


# -- resume ----------------------------------------------------------------------------------


class _Stop(Exception):
    pass


def test_mid_stage_resume_gives_the_weights_of_an_uninterrupted_run():
    full, _ = _train(Recipe(ema_decay=0.5, lr_schedule="onecycle"), epochs=3)
    saved: list[dict] = []

    def interrupt(state: dict) -> None:
        saved.append(state)
        if state["epoch"] == 1:
            raise _Stop

    with pytest.raises(_Stop):
        _train(Recipe(ema_decay=0.5, lr_schedule="onecycle"), epochs=3, on_epoch=interrupt)
    torch.manual_seed(123)  # resume must not depend on the RNG state it starts in
    resumed, st = _train(Recipe(ema_decay=0.5, lr_schedule="onecycle"), epochs=3,
                         resume=saved[-1])
    assert st.resumed_from_epoch == 1
    assert module_digest(resumed) == module_digest(full)


def test_checkpoint_file_keeps_epoch_states_until_the_stage_is_done(tmp_path):
    ck = Checkpoint(tmp_path / "c.pt", "fp")
    _train(Recipe(), epochs=3, on_epoch=lambda st: ck.put_epoch("base", st))
    again = Checkpoint(tmp_path / "c.pt", "fp")
    again.load()
    assert again.epochs["base"]["epoch"] == 2  # weights_only load reads the epoch state
    again.put("base", nn.Linear(1, 1), {})
    last = Checkpoint(tmp_path / "c.pt", "fp")
    last.load()
    assert last.epochs == {} and "base" in last.infos


# -- the paper's network ---------------------------------------------------------------------


def test_mlpconv_is_the_papers_network():
    net = build_model("mlpconv", 10, 3, 32)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    got = [(c.in_channels, c.out_channels, c.kernel_size[0]) for c in convs]
    assert got == [(3, 128, 5), (128, 100, 1), (100, 64, 1), (64, 128, 5), (128, 128, 1),
                   (128, 128, 1), (128, 128, 3), (128, 128, 1)]
    assert len(net.blocks) == 4 and net.name == "mlpconv"
    pools = [m for m in net.modules() if isinstance(m, nn.MaxPool2d)]
    assert [p.kernel_size for p in pools] == [3, 3]
    assert count_params(net) == 433_362  # with BatchNorm (no conv biases)
    assert count_params(build_model("mlpconv", 10, 3, 32, batch_norm=False)) == 432_430
    assert not any(isinstance(m, nn.Dropout) for m in net.modules())
    assert any(isinstance(m, nn.Dropout) for m in build_model("mlpconv", 10, 3, 32,
                                                                dropout=0.5).modules())


def test_nin_is_the_former_mlpconv_unchanged():
    net = build_model("nin", 10, 3, 32)
    assert net.name == "nin" and count_params(net) == 1_005_642  # docs/learning.md's count
    convs = [m.out_channels for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [192, 160, 96, 192, 192, 192, 192, 192, 192]


# -- config ----------------------------------------------------------------------------------


def test_recipe_config_keys_validate_in_one_line():
    cfg = config_from_dict({"model": "mlpconv", "model_args": {"batch_norm": False},
                            "lr_schedule": "triangular", "precision": "bf16", "nesterov": True,
                            "trunk_views": 4, "tta": True})
    assert Recipe.from_config(cfg).trunk_views == 4
    bad = [({"lr_schedule": "steps"}, "lr_schedule"), ({"precision": "fp16"}, "precision"),
           ({"model_args": {"bogus": 1}, "model": "mlpconv"}, "model_args"),
           ({"nesterov": True, "momentum": 0.0}, "nesterov"),
           ({"label_smoothing": 1.5}, "label_smoothing"), ({"trunk_views": -1}, "trunk_views")]
    for over, word in bad:
        with pytest.raises(LearningError, match=word):
            config_from_dict(over)


def test_recipe_keys_at_defaults_keep_old_fingerprints():
    plain = config_from_dict({})
    assert "tta" not in plain.training_dict()
    assert config_from_dict({"tta": True}).fingerprint() != plain.fingerprint()


@needs_fmnist
def test_experiment_stage_interrupted_mid_training_resumes_identically(tmp_path, monkeypatch):
    from learning import data as D
    from learning.incremental import run_experiment

    ds = D.load_dataset("fashion-mnist")
    over = {"epochs": 3, "approach": "clone", "clone_blocks": 1, "baselines": [],
            "augment": True, "trunk_views": 2, "translate": 2, "precision": "bf16",
            "ema_decay": 0.5, "lr_schedule": "triangular", "tta": True}
    full = run_experiment(config_from_dict(tiny_fmnist(**over, output_dir=str(tmp_path / "a"))),
                          progress=False, dataset=ds)
    real_put = Checkpoint.put_epoch

    def put_then_stop(self: Checkpoint, label: str, state: dict) -> None:
        real_put(self, label, state)
        if label != "base":  # the first branch stage, after its first epoch
            raise _Stop

    monkeypatch.setattr(Checkpoint, "put_epoch", put_then_stop)
    cfg = config_from_dict(tiny_fmnist(**over, output_dir=str(tmp_path / "b")))
    with pytest.raises(_Stop):
        run_experiment(cfg, progress=False, dataset=ds)
    monkeypatch.setattr(Checkpoint, "put_epoch", real_put)
    ck = Checkpoint(tmp_path / "b" / "checkpoint.pt", cfg.fingerprint())
    ck.load()
    assert list(ck.epochs) and all(s["epoch"] == 1 for s in ck.epochs.values())
    import learning.incremental as inc

    starts: list[int] = []

    def spy(*a, **kw):
        starts.append(kw["resume"]["epoch"] if kw.get("resume") else 0)
        return train_model(*a, **kw)

    monkeypatch.setattr(inc, "train_model", spy)
    resumed = run_experiment(cfg, progress=False, dataset=ds)
    assert starts[0] == 1  # the interrupted stage restarted after its first epoch
    for a, b in zip(resumed.methods, full.methods, strict=True):
        assert (a.method, a.top1_pct) == (b.method, b.top1_pct)
        assert [i.param_digest for i in a.branches] == [i.param_digest for i in b.branches]
