"""Name -> object registries (models, datasets, approaches), each a plain ``dict`` like
:data:`learning.combine.RULES`, looked up by :func:`lookup`: a registered name, or a user's own
object named ``"package.module:attribute"`` (imported on first use; the module must be
importable, e.g. from the current folder or ``PYTHONPATH``)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TypeVar

from learning.errors import LearningError

T = TypeVar("T")


def is_import_spec(name: str) -> bool:
    """``"package.module:attribute"`` (a user's object) rather than a registered name."""
    return ":" in name


def import_object(spec: str, kind: str) -> object:
    """The object ``"package.module:attribute"`` names; one-line :class:`LearningError` naming
    ``spec`` when the module or the attribute is missing."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise LearningError(f"{kind} {spec!r} is not like package.module:factory")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise LearningError(f"{kind} {spec!r}: cannot import module {module_name!r} ({e}); put "
                            "it on PYTHONPATH or in the current folder") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise LearningError(f"{kind} {spec!r}: module {module_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def lookup(registry: Mapping[str, T], name: str, kind: str, function: str | None = None) -> T:
    """``registry[name]``, or the object a ``"package.module:attribute"`` name imports; else a
    one-line :class:`LearningError` listing the registered names. With ``function`` (what it
    should be, e.g. ``"loader (DataRequest) -> ImageDataset"``) the object must be callable;
    anything else the caller checks."""
    if name in registry:
        obj = registry[name]
    elif is_import_spec(name):
        obj = import_object(name, kind)  # type: ignore[assignment]
    else:
        raise LearningError(f"unknown {kind} {name!r}; use one of: {', '.join(registry)} "
                            "(or package.module:name for your own)")
    if function is not None and not callable(obj):
        raise LearningError(f"{kind} {name!r} is a {type(obj).__name__}, not a {function}")
    return obj
