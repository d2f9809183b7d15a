"""Find the Verilog files a unit needs: the unit's file plus every module it instantiates.

Modules are indexed by name over search folders (the project's ``rtl/`` by default, plus the unit's
own folder), and dependencies are followed transitively by scanning each file's identifiers. Only
the files actually needed are compiled, so a broken unrelated file cannot break a simulation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import rtl

_MODULE_RE = re.compile(r"^\s*module\s+([A-Za-z_][A-Za-z0-9_$]*)", re.MULTILINE)
_IDENT_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_$]*)\b")
_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def module_index(search_dirs: Iterable[Path]) -> dict[str, Path]:
    """Map module name -> defining ``.v`` file over the folders (first definition wins)."""
    index: dict[str, Path] = {}
    for folder in search_dirs:
        for path in sorted(Path(folder).rglob("*.v")):
            for name in _MODULE_RE.findall(_COMMENT_RE.sub("", path.read_text(errors="replace"))):
                index.setdefault(name, path.resolve())
    return index


def default_search_dirs() -> list[Path]:
    """The project's RTL folders."""
    return [rtl.RTL_DIR]


def dependency_files(top_file: Path, search_dirs: Iterable[Path] | None = None) -> list[Path]:
    """``top_file`` plus the files of all modules it uses, transitively (dependencies first)."""
    top_file = Path(top_file).resolve()
    dirs = [top_file.parent, *(search_dirs or default_search_dirs())]
    index = module_index(dirs)
    own = set(_MODULE_RE.findall(_COMMENT_RE.sub("", top_file.read_text(errors="replace"))))
    ordered: list[Path] = []
    seen: set[Path] = {top_file}
    stack = [top_file]
    while stack:
        path = stack.pop()
        text = _COMMENT_RE.sub("", path.read_text(errors="replace"))
        for ident in set(_IDENT_RE.findall(text)):
            dep = index.get(ident)
            if dep is not None and dep not in seen and ident not in own:
                seen.add(dep)
                ordered.append(dep)
                stack.append(dep)
    return [*sorted(ordered), top_file]
