"""Synonym groups (docs/_data/synonyms.yml), applied at query time: a caller's 发不出去
also looks for 无法发送 and 发送失败. Matching is on the query text, before tokenizing,
so multi-word variants such as 闪一下就没了 work whatever the segmenter makes of them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from kb.datafiles import entry_lines, load_yaml
from kb.problems import Problem

FILE_NAME = "synonyms.yml"


def normalise(text: str) -> str:
    """Full-width to half-width and lower case, as queries and variants are compared."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Synonyms:
    groups: tuple[tuple[str, ...], ...]

    def __post_init__(self):
        # variant → its group, longest variants first so 无法发送 wins over 发送.
        table = {normalise(v): group for group in self.groups for v in group}
        object.__setattr__(self, "_table", dict(sorted(table.items(), key=lambda kv: -len(kv[0]))))

    @property
    def variants(self) -> set[str]:
        return {v for group in self.groups for v in group}

    def find(self, query: str) -> list[tuple[str, tuple[str, ...]]]:
        """Non-overlapping (variant, group) occurrences in the query, left to right."""
        text, found, i = normalise(query), [], 0
        while i < len(text):
            match = next((v for v in self._table if text.startswith(v, i)), None)
            if match:
                found.append((match, self._table[match]))
                i += len(match)
            else:
                i += 1
        return found


EMPTY = Synonyms(())


def load_synonyms(path: Path, display: str) -> tuple[Synonyms, list[Problem]]:
    """Load the synonyms file; a missing file means no synonyms, a broken one is reported."""
    if not path.is_file():
        return EMPTY, []
    data, node, problems = load_yaml(path, display)
    if problems:
        return EMPTY, problems
    data = data or {}
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        return EMPTY, [Problem(display, 1, "缺少 groups 列表", "写成 groups: 下面每行一组 - [说法1, 说法2]")]
    lines = entry_lines(node)
    problems, good, seen = [], [], {}
    for i, group in enumerate(groups):
        line = lines.get(("groups", i), 1)
        if not isinstance(group, list) or len(group) < 2 or any(not isinstance(v, (str, int)) or not str(v).strip() for v in group):
            problems.append(Problem(display, line, f"第 {i + 1} 组不是至少两个说法的列表", "写成 - [说法1, 说法2]"))
            continue
        variants = tuple(str(v).strip() for v in group)
        for variant in variants:
            key = normalise(variant)
            if key in seen:
                problems.append(Problem(display, line, f"说法 “{variant}” 已在第 {seen[key]} 行的组里", "每个说法只放在一组里，合并这两组"))
            seen.setdefault(key, line)
        good.append(variants)
    return Synonyms(tuple(good)), problems

