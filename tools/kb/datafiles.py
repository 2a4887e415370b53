"""Project data files (docs/_data/*.yml): YAML read with the node tree kept, so problems
can name the line of the entry they are about."""

from __future__ import annotations

from pathlib import Path

import yaml

from kb.problems import Problem, yaml_reason


def load_yaml(path: Path, display: str) -> tuple[object, yaml.Node | None, list[Problem]]:
    """(data, node tree, problems) of a UTF-8 YAML file; data is None when unreadable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        return yaml.safe_load(text), node, []
    except UnicodeDecodeError:
        return None, None, [Problem(display, 1, "文件不是 UTF-8 编码", "以 UTF-8 编码另存")]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        return None, None, [Problem(display, mark.line + 1 if mark else 1,
                                    f"YAML 语法错误：{yaml_reason(err)}", "检查缩进、括号和引号")]


def entry_lines(node: yaml.Node | None) -> dict[tuple[str, int | None], int]:
    """(top-level key, None) and (key, list index) → 1-based line, for messages."""
    lines: dict[tuple[str, int | None], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[(str(key.value), None)] = key.start_mark.line + 1
            if isinstance(value, yaml.SequenceNode):
                for i, item in enumerate(value.value):
                    lines[(str(key.value), i)] = item.start_mark.line + 1
    return lines
