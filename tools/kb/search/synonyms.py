"""Synonym groups (docs/_data/synonyms.yml), applied at query time: a caller's 发不出去
also looks for 无法发送 and 发送失败. Matching is on the query text, before tokenizing,
so multi-word variants such as 闪一下就没了 work whatever the segmenter makes of them.

The file is curated by hand and by `kb synonyms add` / `kb synonyms reject`, which take
or turn down what kb.search.vocabulary learns from tickets and searches: they edit the
file line by line, so its comments and layout stay, and write it whole or not at all."""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.datafiles import entry_lines, load_yaml
from kb.problems import Problem

FILE_NAME = "synonyms.yml"


def normalise(text: str) -> str:
    """Full-width to half-width and lower case, as queries and variants are compared."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Synonyms:
    groups: tuple[tuple[str, ...], ...]
    rejected: tuple[tuple[str, str], ...] = ()  # learned pairs a curator turned down

    def __post_init__(self):
        # variant → its group, longest variants first so 无法发送 wins over 发送.
        table = {normalise(v): group for group in self.groups for v in group}
        object.__setattr__(self, "_table", dict(sorted(table.items(), key=lambda kv: -len(kv[0]))))
        # ...and by first character: a query is not compared with every variant at each place.
        by_first: dict[str, list[str]] = {}
        for v in self._table:
            if v:
                by_first.setdefault(v[0], []).append(v)
        object.__setattr__(self, "_by_first", by_first)

    @property
    def variants(self) -> set[str]:
        return {v for group in self.groups for v in group}

    def find(self, query: str) -> list[tuple[str, tuple[str, ...]]]:
        """Non-overlapping (variant, group) occurrences in the query, left to right."""
        text, found, i = normalise(query), [], 0
        while i < len(text):
            match = next((v for v in self._by_first.get(text[i], ()) if text.startswith(v, i)), None)
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
    rejected = data.get("rejected") or []
    if not isinstance(rejected, list) or any(not isinstance(r, list) or len(r) != 2 for r in rejected):
        problems.append(Problem(display, lines.get(("rejected", None), 1), "rejected 不是成对说法的列表",
                                "写成 rejected: 下面每行一对 - [口语说法, 文章用词]"))
        rejected = []
    return Synonyms(tuple(good), tuple((str(w), str(t)) for w, t in rejected)), problems


class SynonymsEditError(ValueError):
    """The synonyms file cannot be changed as asked; the message says why and what to do."""


_PLAIN = re.compile(r"[\w\u3400-\u9fff][\w\u3400-\u9fff+#. -]*[\w\u3400-\u9fff+#]|[\w\u3400-\u9fff]")


def _scalar(text: str) -> str:
    """A variant as written in a flow list: bare when YAML reads it back as the same
    string, else double-quoted (JSON's quoting is YAML's)."""
    if _PLAIN.fullmatch(text) and yaml.safe_load(f"[{text}]") == [text]:
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(values) -> str:
    return "[" + ", ".join(_scalar(v) for v in values) + "]"


def _read_for_edit(path: Path, display: str) -> tuple[list[str], yaml.Node | None, Synonyms]:
    synonyms, problems = load_synonyms(path, display)
    if problems:
        first = problems[0]
        raise SynonymsEditError(f"{display}:{first.line}: {first.message}；先修正（kb check）再运行")
    text = path.read_text(encoding="utf-8-sig") if path.is_file() else "groups:\n"
    return text.splitlines(keepends=True), yaml.compose(text, Loader=yaml.SafeLoader), synonyms


def _write(path: Path, lines: list[str], display: str) -> None:
    text = "".join(lines)
    check = path.with_name(f".{path.name}.check")
    check.write_text(text, encoding="utf-8")
    try:
        _, problems = load_synonyms(check, display)
    finally:
        check.unlink()
    if problems:  # a bug of ours, not the user's: never leave the file broken
        raise SynonymsEditError(f"{display}: 修改后无法读取（{problems[0].message}），文件未改动；请手工编辑")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _section(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, value in node.value:
            if k.value == key:
                return value
    return None


def _append_item(lines: list[str], node: yaml.Node | None, key: str, item: str, comment: str) -> None:
    """Add `- item` as the last entry of the block list under top-level `key`, creating
    the key at the end of the file when it is not there."""
    section = _section(node, key)
    entry = f"  - {item}  # {comment}\n"
    if section is None or (isinstance(section, yaml.ScalarNode) and section.value in ("", "~", "null")):
        if section is not None:  # `key:` with nothing under it
            at = section.start_mark.line + 1
            lines.insert(at, entry)
            return
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.extend([f"{key}:\n", entry])
        return
    if not isinstance(section, yaml.SequenceNode) or section.flow_style:
        raise SynonymsEditError(f"{key} 不是逐行书写的列表（- [说法1, 说法2]），无法自动添加；请手工编辑")
    if not section.value:
        raise SynonymsEditError(f"{key} 是空列表，无法自动添加；请手工编辑")
    last = section.value[-1]
    end = last.end_mark.line + (1 if last.end_mark.column else 0)
    lines.insert(end, entry)


def add_synonyms(path: Path, display: str, words: list[str], comment: str) -> tuple[str, ...]:
    """Put `words` into one group: the group already holding any of them, or a new one.
    Returns the group as it now is."""
    words = list(dict.fromkeys(w.strip() for w in words if w.strip()))
    if len(words) < 2:
        raise SynonymsEditError("至少给出两个说法（例如 kb synonyms add 开会软件 Teams）")
    lines, node, synonyms = _read_for_edit(path, display)
    groups = _section(node, "groups")
    holding = {}
    for i, group in enumerate(synonyms.groups):
        if any(normalise(v) == normalise(w) for v in group for w in words):
            holding[i] = group
    if len(holding) > 1:
        at = ", ".join(f"第 {groups.value[i].start_mark.line + 1} 行" for i in holding)
        raise SynonymsEditError(f"{display}: 这些说法分属不同的组（{at}）；请手工合并这些组")
    if not holding:
        _append_item(lines, node, "groups", _flow(words), comment)
        _write(path, lines, display)
        return tuple(words)
    (i, group), = holding.items()
    item = groups.value[i]
    if not item.flow_style or item.start_mark.line != item.end_mark.line:
        raise SynonymsEditError(f"{display}:{item.start_mark.line + 1}: 这一组不是写在一行的 [..] 列表；请手工添加")
    added = [w for w in words if all(normalise(w) != normalise(v) for v in group)]
    if not added:
        return group
    line = lines[item.start_mark.line]
    merged = (*group, *added)
    lines[item.start_mark.line] = line[:item.start_mark.column] + _flow(merged) + line[item.end_mark.column:]
    _write(path, lines, display)
    return merged


def reject_synonyms(path: Path, display: str, word: str, term: str, comment: str) -> bool:
    """Record that `word` is not a synonym of `term`, so the pair is not suggested again;
    False when it was already recorded."""
    lines, node, synonyms = _read_for_edit(path, display)
    if any(normalise(w) == normalise(word) and normalise(t) == normalise(term) for w, t in synonyms.rejected):
        return False
    _append_item(lines, node, "rejected", _flow([word, term]), comment)
    _write(path, lines, display)
    return True

