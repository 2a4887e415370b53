"""自助成效: did self-service work? From what `kb serve` logged (docs/_data/events.sqlite).

    report = feedback_report(project, since=dt.date(2026, 11, 1))

| figure | definition |
| --- | --- |
| votes | every 这篇文章有帮助吗？ answer: `helpful` (有帮助) and `not_helpful` (没帮助) |
| helpful rate of an article | helpful / its votes; articles listed worst first (then most votes first) |
| searches | every query the site's search sent to the server (`/api/search`) |
| click rate | searches from whose results at least one article was opened / searches |
| **self-service success rate** | searches that ended on an article the caller voted helpful — an article opened from that search's results, then voted 有帮助 on the same visit (the vote carries the search's id) — / searches |
| zero-result rate | searches with no result / searches |

The success rate is a lower bound: a caller helped who does not vote counts as not
helped. Zero-result and no-click searches (results shown, none opened) are grouped by
their scrubbed words, most frequent first, each with the best existing article — the
internal index's first hit, when the engine is confident of it —, or 不属于服务范围 when the
query is near a listed out-of-scope question (docs/_data/out_of_scope.yml), or 请新写一篇
(or list it as out of scope).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from kb.project import Project
from kb.reports.text import md_escape, md_table, text_table
from kb.serve.events import EventStore

QUERIES_LISTED = 20
COMMENTS_PER_ARTICLE = 5
NEW_ARTICLE = "没有合适的文章——请新写一篇；不属于服务范围的问题请加进 docs/_data/out_of_scope.yml"
OUT_OF_SCOPE = "不属于服务范围（与范围外问题“{question}”相近）——无需写文章"

# A query → its best article (id, title); or the listed out-of-scope question it is near;
# or None.
Suggester = Callable[[str], "tuple[str, str] | str | None"]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


@dataclass
class FeedbackReport:
    audience: str
    since: str | None
    votes: dict[str, int]
    searches: dict[str, int | float | None]
    articles: list[dict] = field(default_factory=list)
    zero_results: list[dict] = field(default_factory=list)
    no_click: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"audience": self.audience, "since": self.since, "votes": self.votes, "searches": self.searches,
                "articles": self.articles, "zero_results": self.zero_results, "no_click": self.no_click,
                "notes": self.notes}

    def summary_line(self) -> str:
        s, v = self.searches, self.votes
        period = f"{self.since} 起" if self.since else "全部记录"
        return (f"{period}：搜索 {s['searches']} 次，自助成功率 {_percent(s['success_rate'])}，"
                f"点击率 {_percent(s['click_rate'])}，零结果 {_percent(s['zero_result_rate'])}；"
                f"反馈 {v['total']} 条（有帮助 {v['helpful']}，没帮助 {v['not_helpful']}）")

    def _article_rows(self) -> list[list[str]]:
        return [[a["id"], a["title"], str(a["helpful"]), str(a["not_helpful"]), _percent(a["helpful_rate"])]
                for a in self.articles]

    @staticmethod
    def _query_rows(groups: list[dict]) -> list[list[str]]:
        return [[g["query"], str(g["searches"]), g["last_day"],
                 f"{g['suggestion']['id']} {g['suggestion']['title']}" if g["suggestion"] else g["advice"]]
                for g in groups]

    def table_lines(self) -> list[str]:
        lines = ["自助成效", self.summary_line()]
        if self.articles:
            lines += ["", "各文章的有帮助率（最差在前）"]
            lines += text_table(["编号", "标题", "有帮助", "没帮助", "有帮助率"], self._article_rows(), right_from=2)
        for title, groups in (("搜不到结果的查询", self.zero_results), ("有结果但没人点开的查询", self.no_click)):
            if groups:
                lines += ["", title]
                lines += text_table(["查询", "次数", "最近", "建议"], self._query_rows(groups))
        if self.notes:
            lines += ["", "说明"] + [f"- {n}" for n in self.notes]
        return lines

    def markdown_page(self) -> str:
        """The internal page 自助成效. Callers' comments and queries are escaped (md_table,
        md_escape): they are text, never markup."""
        out = ["---", "title: 自助成效", "audience: internal", "---", "", "# 自助成效", "",
               md_escape(self.summary_line()) + "。", "",
               "自助成功率：从搜索结果打开的文章随后被评为“有帮助”的搜索占全部搜索的比例（不投票的人算作没有解决，是下限）。"]
        out += ["", "## 各文章的有帮助率", ""]
        out += (md_table(["编号", "标题", "有帮助", "没帮助", "有帮助率"], self._article_rows()) if self.articles
                else ["还没有反馈。"])
        comments = [(a["id"], c) for a in self.articles for c in a["comments"]]
        if comments:
            out += ["", "## 最近的意见", ""]
            out += md_table(["编号", "日期", "评价", "意见"],
                            [[i, c["day"], "有帮助" if c["helpful"] else "没帮助", c["comment"].replace("\n", " ")]
                             for i, c in comments])
        for title, groups in (("搜不到结果的查询", self.zero_results), ("有结果但没人点开的查询", self.no_click)):
            out += ["", f"## {title}", ""]
            out += md_table(["查询", "次数", "最近", "建议"], self._query_rows(groups)) if groups else ["无。"]
        if self.notes:
            out += ["", "## 说明", ""] + [f"- {md_escape(n)}" for n in self.notes]
        return "\n".join(out) + "\n"


def best_article_suggester(project: Project, audience: str) -> Suggester:
    """The best existing article for a query: the internal index's first hit (drafts and
    internal articles included: an unpublished answer is still an answer), or the
    audience's where there is no internal index, when the engine is confident of it; else
    the listed out-of-scope question the query is near, if it is."""
    from kb.search.index import IndexMissing
    from kb.search.query import search

    def suggest(query: str) -> tuple[str, str] | str | None:
        for index in dict.fromkeys(("internal", audience)):
            try:
                result = search(project, query, audience=index, limit=1)
            except IndexMissing:
                continue
            if result.hits and result.confident:
                return result.hits[0].id, result.hits[0].title
            return result.out_of_scope
        return None
    return suggest


def feedback_report(project: Project, *, since: dt.date | None = None, audience: str = "public",
                    suggest: Suggester | None = None) -> FeedbackReport:
    """The report over the events of `audience` from `since` on (every event without it).
    `suggest` finds the best article for a query (default: best_article_suggester)."""
    first = since.isoformat() if since else ""
    path = project.events_path
    empty = {"searches": 0, "zero_results": 0, "clicked": 0, "successful": 0}
    if not EventStore.exists(path):
        report = FeedbackReport(audience, since and first, {"total": 0, "helpful": 0, "not_helpful": 0},
                                _search_figures(empty))
        report.notes.append(f"还没有反馈数据（{project.display(path)}）：用 kb serve 提供站点后，搜索和“这篇文章有帮助吗？”会记录在这里。")
        return report
    with EventStore(path, project.display(path), create=False) as store:
        votes = store.vote_counts(audience, first)
        comments = store.recent_comments(audience, first, COMMENTS_PER_ARTICLE)
        counts = store.search_counts(audience, first)
        zero = store.top_queries(audience, first, "zero", QUERIES_LISTED)
        no_click = store.top_queries(audience, first, "no_click", QUERIES_LISTED)
    titles = {a.id: a.title for a in project.articles}
    articles = []
    for article, (helpful, not_helpful) in votes.items():
        articles.append({"id": article, "title": titles.get(article, "（文章已不存在）"), "helpful": helpful,
                         "not_helpful": not_helpful, "helpful_rate": _rate(helpful, helpful + not_helpful),
                         "comments": [{"day": d, "helpful": h, "comment": c} for d, h, c in comments.get(article, [])]})
    articles.sort(key=lambda a: (a["helpful_rate"], -(a["helpful"] + a["not_helpful"]), a["id"]))
    helpful = sum(h for h, _ in votes.values())
    not_helpful = sum(n for _, n in votes.values())
    suggest = suggest or best_article_suggester(project, audience)
    report = FeedbackReport(audience, since and first, {"total": helpful + not_helpful, "helpful": helpful,
                                                        "not_helpful": not_helpful},
                            _search_figures(counts), articles, _groups(zero, suggest), _groups(no_click, suggest))
    if counts["searches"] and not counts["clicked"]:
        report.notes.append("没有记录到任何从搜索结果打开文章的点击：站点页面需要由 kb serve 提供（kb-serve.js 才会上报），"
                            "否则点击率和自助成功率都是 0。")
    return report


def _search_figures(counts: dict[str, int]) -> dict[str, int | float | None]:
    n = counts["searches"]
    return {**counts, "click_rate": _rate(counts["clicked"], n), "success_rate": _rate(counts["successful"], n),
            "zero_result_rate": _rate(counts["zero_results"], n)}


def _groups(rows: list[tuple[str, int, str]], suggest: Suggester) -> list[dict]:
    groups = []
    for query, searches, last_day in rows:
        hit = suggest(query)
        group = {"query": query, "searches": searches, "last_day": last_day,
                 "suggestion": {"id": hit[0], "title": hit[1]} if isinstance(hit, tuple) else None}
        if not isinstance(hit, tuple):
            group["advice"] = OUT_OF_SCOPE.format(question=hit) if hit else NEW_ARTICLE
        groups.append(group)
    return groups
