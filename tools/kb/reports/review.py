"""文章审核清单: the articles that need an editor's attention.

    report = review(project, today=dt.date(2026, 11, 20))

| reason | what is listed |
| --- | --- |
| `review_overdue` | articles (not archived) whose `review_by` date has passed |
| `draft_stale` | drafts not updated for more than `draft_days` days |
| `orphaned` | validated public articles no ticket cited in the window |
| `archived_cited_by_tickets` | archived articles tickets in the window still cite |
| `archived_linked_from_articles` | archived articles other articles still link to |

The window is the `orphan_months` whole months before today's month, plus today's month
(months of ticket creation in the project's timezone, as `kb link` stores them in
docs/_data/tickets.sqlite). Ticket citations come from that store: an article a ticket
cites, or a dangling reference to an archived article. Ids stored there resolve through `Project.resolve()`, so a citation of an old id counts for the
article that now has it as an alias. Links between articles are those of
`kb.links.find_article_links`, by id, alias or relative path; links from archived
articles are not counted (nobody follows them any more).

Without link data, or with none in the window, the orphan check is skipped and a note
says so, instead of listing every article as never cited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kb.articles import Article
from kb.links import find_article_links
from kb.project import Project
from kb.reports.sla import project_zone
from kb.reports.text import md_escape, md_table
from kb.tickets.linking import open_store

REASONS: dict[str, str] = {
    "review_overdue": "逾期未审核",
    "draft_stale": "草稿长期未更新",
    "orphaned": "长期无工单引用",
    "archived_cited_by_tickets": "已归档仍被工单引用",
    "archived_linked_from_articles": "已归档仍被文章链接",
}
EXAMPLES = 5  # ticket ids named in a detail


@dataclass(frozen=True)
class ReviewItem:
    id: str
    title: str
    path: str
    reason: str      # a key of REASONS
    detail: str      # Chinese, for people

    @property
    def label(self) -> str:
        return REASONS[self.reason]

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "path": self.path, "reason": self.reason,
                "label": self.label, "detail": self.detail}


@dataclass
class ReviewReport:
    today: dt.date
    draft_days: int
    orphan_months: int
    window_start: str               # first month (YYYY-MM) of the citation window
    tickets_in_window: int          # tickets of the link data in the window
    items: list[ReviewItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def by_reason(self, reason: str) -> list[ReviewItem]:
        return [i for i in self.items if i.reason == reason]

    def counts(self) -> dict[str, int]:
        return {reason: len(self.by_reason(reason)) for reason in REASONS}

    def to_dict(self) -> dict:
        return {"today": self.today.isoformat(), "draft_days": self.draft_days,
                "orphan_months": self.orphan_months, "window_start": self.window_start,
                "tickets_in_window": self.tickets_in_window, "counts": self.counts(),
                "items": [i.to_dict() for i in self.items], "notes": self.notes}

    def summary_line(self) -> str:
        counts = "，".join(f"{REASONS[r]} {n} 篇" for r, n in self.counts().items() if n)
        return f"{self.today.isoformat()}：" + (f"需处理 {len(self.items)} 项（{counts}）" if self.items else "没有需要处理的文章")

    def table_lines(self) -> list[str]:
        """Terminal lines: one block per reason, each article on one line and its detail
        indented below it (details are too long for a column)."""
        lines = ["文章审核清单", self.summary_line()]
        for reason, label in REASONS.items():
            items = self.by_reason(reason)
            if not items:
                continue
            lines += ["", f"{label}（{len(items)}）"]
            for i in items:
                lines += [f"  {i.id}  {i.title}  {i.path}", f"      {i.detail}"]
        if self.notes:
            lines += ["", "说明"] + [f"- {n}" for n in self.notes]
        return lines

    def markdown_page(self) -> str:
        """The internal page 文章审核清单. Article ids are plain text, not links: a link to an
        archived article would fail `kb check`, and the list may outlive an article."""
        out = ["---", "title: 文章审核清单", "audience: internal", "---", "", "# 文章审核清单", "",
               md_escape(self.summary_line()) + "。"]
        for reason, label in REASONS.items():
            items = self.by_reason(reason)
            out += ["", f"## {label}（{len(items)}）", ""]
            if items:
                out += md_table(["编号", "标题", "说明", "文件"], [[i.id, i.title, i.detail, i.path] for i in items])
            else:
                out.append("无。")
        if self.notes:
            out += ["", "## 说明", ""] + [f"- {md_escape(n)}" for n in self.notes]
        return "\n".join(out) + "\n"


def _month_minus(day: dt.date, months: int) -> str:
    index = day.year * 12 + day.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def review(project: Project, *, today: dt.date | None = None, draft_days: int = 30,
           orphan_months: int = 6) -> ReviewReport:
    if draft_days < 0 or orphan_months < 0:
        raise ValueError("draft_days 和 orphan_months 不能为负数")
    today = today or dt.datetime.now(project_zone(project.timezone)).date()
    articles = project.articles
    table = project.resolve()
    by_path = {a.path.resolve(): a for a in articles}
    window_start = _month_minus(today, orphan_months)
    store = open_store(project)  # StoreError naming the file when it cannot be opened
    if store is None:
        citations, in_window = [], 0
    else:
        with store:
            citations, in_window = store.citations(), store.tickets_since(window_start)
    report = ReviewReport(today, draft_days, orphan_months, window_start, in_window)
    items = report.items

    def item(article: Article, reason: str, detail: str) -> None:
        items.append(ReviewItem(article.id, article.title, project.display(article.path), reason, detail))

    # Review dates and drafts ---------------------------------------------------------------
    for a in articles:
        if a.status != "archived" and a.review_by < today:
            item(a, "review_overdue", f"审核期限 {a.review_by.isoformat()}，已逾期 {(today - a.review_by).days} 天；"
                                      f"负责人 {a.owner}（审核后更新 updated 和 review_by）")
        if a.status == "draft" and (today - a.updated).days > draft_days:
            item(a, "draft_stale", f"草稿最后更新于 {a.updated.isoformat()}，已 {(today - a.updated).days} 天未更新"
                                   f"（超过 {draft_days} 天）；负责人 {a.owner}（完成后发布，或不再需要时删除）")

    # Ticket citations --------------------------------------------------------------------
    cited: dict[str, list[tuple[str, str]]] = {}          # article id → [(month, ticket id)], whole store
    archived_cited: dict[str, list[str]] = {}             # article id → ticket ids in the window
    for ticket_id, month, key in citations:
        article = table.get(key)
        if article is None:
            continue
        cited.setdefault(article.id, []).append((month, ticket_id))
        if article.status == "archived" and month >= window_start:
            tickets = archived_cited.setdefault(article.id, [])
            if ticket_id not in tickets:
                tickets.append(ticket_id)

    report.notes.append(f"工单引用按 {window_start} 起创建的工单统计（本月及之前 {orphan_months} 个整月，"
                        f"{project.display(project.ticket_store_path)} 中共 {in_window} 张）；"
                        f"草稿超过 {draft_days} 天未更新即列出；已归档的文章不列入逾期未审核。")
    if store is None:
        report.notes.append(f"没有工单关联数据（{project.display(project.ticket_store_path)}），未检查长期无工单引用的文章和"
                            "被工单引用的已归档文章：先用工单导出运行 kb link。")
    elif not in_window:
        report.notes.append(f"工单关联数据中没有 {window_start} 以来的工单，未检查长期无工单引用的文章："
                            "用最新的工单导出运行 kb link 后再审核。")
    else:
        for a in articles:
            if a.status != "validated" or a.audience != "public":
                continue
            if any(month >= window_start for month, _ in cited.get(a.id, [])):
                continue
            history = sorted(cited.get(a.id, []))
            last = (f"上次被引用在 {history[-1][0]}（工单 {history[-1][1]}）" if history else "关联数据中从未被工单引用")
            item(a, "orphaned", f"{window_start} 以来没有工单引用本文，{last}；确认内容是否仍然适用，"
                                "或合并到常用文章后归档")

    for article_id, tickets in sorted(archived_cited.items()):
        a = table[article_id]
        shown = "、".join(tickets[:EXAMPLES]) + (" 等" if len(tickets) > EXAMPLES else "")
        item(a, "archived_cited_by_tickets", f"{window_start} 以来有 {len(tickets)} 张工单引用本文（{shown}）；"
                                             "提醒工程师改用替代文章，必要时在本文写明替代文章")

    # Links between articles --------------------------------------------------------------
    linked_from: dict[str, list[str]] = {}
    for source in articles:
        if source.status == "archived":
            continue
        for link in find_article_links(source.body, source.body_line, source.path):
            target = table.get(link.key) if link.key else by_path.get(link.path)
            if target is None or target.status != "archived" or target.id == source.id:
                continue
            where = f"{source.id} 第 {link.line} 行"
            if where not in linked_from.setdefault(target.id, []):
                linked_from[target.id].append(where)
    for article_id, sources in sorted(linked_from.items()):
        item(table[article_id], "archived_linked_from_articles",
             f"仍被 {'、'.join(sources)} 链接；把这些链接改为替代文章（kb check 也会报告）")

    order = {reason: i for i, reason in enumerate(REASONS)}
    items.sort(key=lambda i: (order[i.reason], i.id))
    return report
