"""A problem found in a file: where it is, what is wrong, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {self.message}"
        return f"{text}（{self.hint}）" if self.hint else text

    def to_dict(self) -> dict:
        return asdict(self)


class ProblemsFound(Exception):
    """Raised when a command refuses to go on because of problems in the input."""

    def __init__(self, problems: list[Problem], what: str):
        self.problems = problems
        super().__init__(f"{what}：发现 {len(problems)} 个问题，已停止")


# PyYAML (and libyaml under it) explains in English: what they say most often, as an
# author would understand it.
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "这里不能出现“键: 值”（值里有冒号时给值加引号，或检查缩进）"),
    ("found unexpected end of stream", "引号或括号没有闭合，文件就结束了"),
    ("could not find expected ':'", "缺少冒号 :（写成“键: 值”，冒号后留一个空格）"),
    ("did not find expected key", "缩进不一致，或列表项前少了 -"),
    ("did not find expected ',' or ']'", "方括号列表里缺少逗号或右括号 ]"),
    ("did not find expected ',' or '}'", "花括号里缺少逗号或右括号 }"),
    ("did not find expected '-' indicator", "列表项的缩进不一致"),
    ("expected <block end>", "缩进不一致"),
    ("expected ',' or ']'", "方括号列表里缺少逗号或右括号 ]"),
    ("expected ',' or '}'", "花括号里缺少逗号或右括号 }"),
    ("that cannot start any token", "这里有不能出现在值开头的字符（如 Tab、@、`）；用空格缩进，特殊字符开头的值加引号"),
    ("found unknown escape character", "双引号里的反斜杠 \\ 后面是不认识的字符（改用单引号，或写成 \\\\）"),
    ("found undefined alias", "用了未定义的 *别名（以 * 开头的值要加引号）"),
    ("found duplicate anchor", "& 锚点重复（以 & 开头的值要加引号）"),
    ("found unexpected ':'", "多了一个冒号（值里有冒号时给值加引号）"),
    ("expected alphabetic or numeric character", "& 或 * 后面缺少名字（以 & 或 * 开头的值要加引号）"),
)


def yaml_reason(err: Exception) -> str:
    """Why PyYAML could not read a text, in Chinese."""
    problem = str(getattr(err, "problem", None) or err)
    return next((chinese for english, chinese in _YAML_PROBLEMS if english in problem), "格式不正确")
