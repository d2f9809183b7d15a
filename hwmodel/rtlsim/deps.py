"""Find the Verilog files a unit needs: the unit's file plus every module it instantiates.

Modules are indexed by name over search folders (the project's ``rtl/`` by default, plus the unit's
own folder), and dependencies are followed transitively by scanning each file's identifiers. Only
the files actually needed are compiled, so a broken unrelated file cannot break a simulation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import rtl

_MODULE_RE = re.compile(r"^\s*module\s+([A-Za-z_][A-Za-z0-9_$]*)", re.MULTILINE)
_IDENT_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_$]*)\b")
_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


@lru_cache(maxsize=4096)
def _scan(path: str, mtime_ns: int, size: int) -> tuple[Path, frozenset[str], frozenset[str]]:
    """A file's resolved path, the modules it defines and the identifiers it uses (comments
    stripped). Memoized on (path, mtime, size), so an edited file is scanned again."""
    text = _COMMENT_RE.sub("", Path(path).read_text(errors="replace"))
    return (Path(path).resolve(), frozenset(_MODULE_RE.findall(text)),
            frozenset(_IDENT_RE.findall(text)))


def _scanned(path: Path) -> tuple[Path, frozenset[str], frozenset[str]]:
    st = path.stat()
    return _scan(str(path), st.st_mtime_ns, st.st_size)


def module_index(search_dirs: Iterable[Path]) -> dict[str, Path]:
    """Map module name -> defining ``.v`` file over the folders (first definition wins)."""
    index: dict[str, Path] = {}
    for folder in search_dirs:
        for path in sorted(Path(folder).rglob("*.v")):
            resolved, modules, _ = _scanned(path)
            for name in sorted(modules):
                index.setdefault(name, resolved)
    return index


def default_search_dirs() -> list[Path]:
    """The project's RTL folders."""
    return [rtl.RTL_DIR]


def dependency_files(top_file: Path, search_dirs: Iterable[Path] | None = None) -> list[Path]:
    """``top_file`` plus the files of all modules it uses, transitively (dependencies first)."""
    top_file = Path(top_file).resolve()
    dirs = [top_file.parent, *(search_dirs or default_search_dirs())]
    index = module_index(dirs)
    own = _scanned(top_file)[1]
    ordered: list[Path] = []
    seen: set[Path] = {top_file}
    stack = [top_file]
    while stack:
        path = stack.pop()
        for ident in sorted(_scanned(path)[2]):
            dep = index.get(ident)
            if dep is not None and dep not in seen and ident not in own:
                seen.add(dep)
                ordered.append(dep)
                stack.append(dep)
    return [*sorted(ordered), top_file]
