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
