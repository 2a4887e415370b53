"""Questions the knowledge base does not answer (docs/_data/out_of_scope.yml): 食堂几点开饭,
工资条上的个税, another vendor's VPN client. A support centre hears the same few of them
every week; listed once, a caller's question close to one of them is answered with
可能没有相关文章 and the hotline instead of the nearest article about something else.

The model embeds each listed question at `kb index` (beside the article vectors, reused by
content key); a query's best cosine with them is weighed against its best article's in
kb.search.fusion.is_in_scope. The model's cosines alone flag few of the out-of-scope
questions that share words with the articles (打印机卡纸, 门禁卡刷不开): e5-small puts
any office question close to every office article.
"""

from __future__ import annotations

from pathlib import Path

from kb.datafiles import entry_lines, load_yaml
from kb.problems import Problem

FILE_NAME = "out_of_scope.yml"
FORMAT_HINT = "写成 questions: 下面每行一个来电者会问、但知识库不解答的问题，例如 - 食堂今天中午几点开饭"


def load_out_of_scope(path: Path, display: str) -> tuple[tuple[str, ...], list[Problem]]:
    """The listed questions, in file order without repeats; a missing file or an empty
    list lists none, a broken entry is reported with its line and the others kept."""
    if not path.is_file():
        return (), []
    data, node, problems = load_yaml(path, display)
    if problems:
        return (), problems
    questions = data.get("questions") if isinstance(data, dict) else None
    if isinstance(data, dict) and "questions" in data and questions is None:  # every entry removed
        return (), []
    if not isinstance(questions, list):
        return (), [Problem(display, 1, "缺少 questions 列表", FORMAT_HINT)]
    lines = entry_lines(node)
    good: dict[str, int] = {}
    for i, question in enumerate(questions):
        line = lines.get(("questions", i), 1)
        if not isinstance(question, str) or not question.strip():
            problems.append(Problem(display, line, f"第 {i + 1} 项不是一句问题", FORMAT_HINT))
            continue
        text = " ".join(question.split())
        if text in good:
            problems.append(Problem(display, line, f"问题“{text}”与第 {good[text]} 行重复", "删去其中一行"))
            continue
        good[text] = line
    return tuple(good), problems
