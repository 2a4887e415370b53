"""`kb init`: a new, empty but buildable KB project from the files in scaffold/."""

from __future__ import annotations

import shutil
from pathlib import Path

TEMPLATE = Path(__file__).parent / "scaffold"
# Stored without the leading dot so packaging tools do not skip it.
RENAMES = {"gitignore": ".gitignore"}


class InitRefused(Exception):
    pass


def init_project(target: Path) -> list[Path]:
    """Copy the template into `target` (which must be missing or empty); returns the files made."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InitRefused(f"{target}: 目录已存在且不为空（kb init 不会覆盖已有文件，请指定新目录）")
    made = []
    for source in sorted(TEMPLATE.rglob("*")):
        rel = source.relative_to(TEMPLATE)
        dest = target / rel.parent / RENAMES.get(rel.name, rel.name)
        if source.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            made.append(dest)
    for folder in ("kb_articles", "search_index", "docs/_data"):
        (target / folder).mkdir(parents=True, exist_ok=True)
    return made
