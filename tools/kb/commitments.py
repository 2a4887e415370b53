"""Service commitments: one YAML data file renders the 服务承诺 page, every article's
escalation footer and the hotline box, so a number changed once changes everywhere."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from kb.datafiles import entry_lines, load_yaml
from kb.problems import Problem

FILE_NAME = "commitments.yml"
# What `kb init` writes where a new vendor's own data belongs (hotlines, promised hours and
# services here, site_name and site_url in mkdocs.yml): kb.checks reports each one left,
# so that no site publishes it, and an unfilled value is not also reported as invalid.
UNFILLED = re.compile(r"〔待填写：([^〕\r\n]+)〕")


def unfilled(label: str) -> str:
    return f"〔待填写：{label}〕"


@dataclass(frozen=True)
class Hotline:
    name: str
    number: str
    when: str


def limit_text(limit_hours: float, inclusive: bool) -> str:
    """A promised limit as the service plan words it: "< 1 小时", "≤ 4 小时"."""
    hours = int(limit_hours) if float(limit_hours).is_integer() else limit_hours
    return f"{'≤' if inclusive else '<'} {hours} 小时"


@dataclass(frozen=True)
class Target:
    """A time limit promised for one kind of event (key: response, fix, onsite, ...)."""

    key: str
    title: str
    limit_hours: float
    inclusive: bool
    description: str

    @property
    def limit_text(self) -> str:
        return limit_text(self.limit_hours, self.inclusive)


@dataclass(frozen=True)
class Service:
    title: str
    term: str
    description: str


@dataclass(frozen=True)
class Commitments:
    service_centre: str
    hotlines: tuple[Hotline, ...]
    targets: tuple[Target, ...]
    services: tuple[Service, ...]

    def target(self, key: str) -> Target | None:
        return next((t for t in self.targets if t.key == key), None)

    # Rendering: HTML, because it goes into Markdown pages and must stay escaped.

    def hotline_html(self) -> str:
        items = "".join(
            f'<li><span class="kb-hotline__name">{_e(h.name)}</span> '
            f'<a class="kb-hotline__number" href="tel:{_e(_tel(h.number))}">{_e(h.number)}</a> '
            f'<span class="kb-hotline__when">{_e(h.when)}</span></li>'
            for h in self.hotlines
        )
        limits = "；".join(f"{_e(t.title)} {_e(t.limit_text)}" for t in self.targets)
        return (f'<div class="kb-hotline"><p class="kb-hotline__centre">{_e(self.service_centre)}</p>'
                f"<ul>{items}</ul><p class=\"kb-hotline__limits\">{limits}</p></div>")

    def call_html(self) -> str:
        """One tap-to-call line for the first phone screen: the first hotline."""
        h = self.hotlines[0]
        return (f'<p class="kb-call">找不到答案？<a href="tel:{_e(_tel(h.number))}">'
                f"拨打{_e(h.name)} {_e(h.number)}</a></p>")

    def escalation_html(self, article_id: str) -> str:
        return (f'<div class="kb-escalation">{self.hotline_html()}'
                f"<p>致电时请说明文章编号 <strong>{_e(article_id)}</strong>、"
                f"您已完成到哪一步，以及出现问题的时间和截图，工程师可直接接续处理。</p></div>")

    def table_html(self) -> str:
        rows = "".join(
            f"<tr><td>{_e(t.title)}</td><td><strong>{_e(t.limit_text)}</strong></td><td>{_e(t.description)}</td></tr>"
            for t in self.targets
        ) + "".join(
            f"<tr><td>{_e(s.title)}</td><td><strong>{_e(s.term)}</strong></td><td>{_e(s.description)}</td></tr>"
            for s in self.services
        )
        return ('<table><thead><tr><th>服务项目</th><th>承诺</th><th>说明</th></tr></thead>'
                f"<tbody>{rows}</tbody></table>\n\n{self.hotline_html()}")


def _e(value: object) -> str:
    return html.escape(str(value))


def _tel(number: str) -> str:
    """What a tel: link dials: the digits and a leading +, not the spaces, dashes and brackets."""
    return re.sub(r"[^0-9+]", "", number)


def load_commitments(path: Path, display: str) -> tuple[Commitments | None, list[Problem]]:
    """Load and validate the commitments file; problems name the line of the bad entry."""
    if not path.is_file():
        return None, [Problem(display, 1, "找不到服务承诺数据文件", "运行 kb init 查看示例，或从示例项目复制 docs/_data/commitments.yml")]
    data, node, problems = load_yaml(path, display)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(display, 1, "服务承诺文件必须是键值映射", "参照示例项目的 commitments.yml")]

    lines = entry_lines(node)

    def entries(key: str, fields: tuple[str, ...]) -> list[dict]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            problems.append(Problem(display, lines.get((key, None), 1), f"{key} 必须是非空列表", f"每项包含 {', '.join(fields)}"))
            return []
        good = []
        for i, entry in enumerate(value):
            missing = [f for f in fields if not isinstance(entry, dict) or entry.get(f) in (None, "")]
            if missing:
                problems.append(Problem(display, lines.get((key, i), 1), f"{key} 第 {i + 1} 项缺少 {', '.join(missing)}", f"每项包含 {', '.join(fields)}"))
            else:
                good.append(entry)
        return good

    hotlines = [Hotline(str(e["name"]), str(e["number"]), str(e["when"])) for e in entries("hotlines", ("name", "number", "when"))]
    targets = []
    for i, e in enumerate(entries("targets", ("key", "title", "limit_hours", "description"))):
        hours = e["limit_hours"]
        if isinstance(hours, str) and UNFILLED.search(hours):
            continue
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
            problems.append(Problem(display, lines.get(("targets", i), 1), f"limit_hours {hours!r} 必须是正数", "例如 limit_hours: 4"))
            continue
        targets.append(Target(str(e["key"]), str(e["title"]), float(hours), bool(e.get("inclusive", True)), str(e["description"])))
    services = [Service(str(e["title"]), str(e["term"]), str(e["description"])) for e in entries("services", ("title", "term", "description"))]
    if not data.get("service_centre"):
        problems.append(Problem(display, 1, "缺少 service_centre", "例如 service_centre: 7×24 小时服务中心"))
    if problems:
        return None, problems
    return Commitments(str(data["service_centre"]), tuple(hotlines), tuple(targets), tuple(services)), []

