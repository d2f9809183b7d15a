"""Helpers every package of pns-hwcost shares, defined once: atomic file writes
(:mod:`pnsutil.files`), the cache folder (:mod:`pnsutil.cache`) and the error base class that
every command-line entry point catches (:mod:`pnsutil.errors`). Imports nothing of the project."""

from pnsutil.cache import cache_dir
from pnsutil.errors import PnsError
from pnsutil.files import atomic_dir, atomic_path, atomic_write

__all__ = ["PnsError", "atomic_dir", "atomic_path", "atomic_write", "cache_dir"]
