"""`kb link`: merge ticket exports into the project's link data and measure it (KCS).

The generated file `docs/_data/ticket_links.json` is reviewable and holds no ticket text
beyond scrubbed symptom phrases: per ticket id its month, module, cited articles, dangling
references and symptom phrases. Exports merge by ticket id, so re-running on the same or
an overlapping export counts nothing twice. Everything else (per-article symptoms, link
rate, gaps) is derived from that file, the same way for the report, the site and search.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kb.project import Project
from kb.tickets.model import RejectedRow, Ticket
from kb.tickets.privacy import Scrubber
from kb.tickets.references import ReferenceResolver
from kb.tickets.symptoms import extract_symptoms, group_symptoms

FORMAT_VERSION = 1
GAP_LIMIT = 30            # gap groups reported (largest first)
SUGGESTION_MIN_SCORE = 5.0  # below this a search hit is too weak to call the gap covered


def load_links(project: Project) -> dict:
    """The merged ticket state ({} when `kb link` has not run); a broken file is an error
    naming it, since silently starting over would lose the merge history."""
    path = project.ticket_links_path
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"{project.display(path)}: 无法读取工单关联数据（{err}）；删除该文件后重新运行 kb link") from None
    return data.get("tickets", {}) if data.get("version") == FORMAT_VERSION else {}


def ticket_entries(tickets: Iterable[Ticket], project: Project, scrubber: Scrubber) -> dict[str, dict]:
    """What is kept of each ticket: scrubbed symptom phrases and the references found."""
    resolver = ReferenceResolver.for_project(project)
    entries = {}
    for ticket in tickets:
        links, dangling = resolver.ticket_references(ticket)
        entries[ticket.id] = {
            "month": ticket.opened_at.strftime("%Y-%m"),
            "opened": ticket.opened_at.date().isoformat(),
            "module": ticket.module,
            "articles": sorted({ref.article_id for ref in links}),
            "dangling": sorted({(d.text, d.reason) for d in dangling}),
            "symptoms": list(dict.fromkeys(scrubber.scrub(s.text) for s in extract_symptoms(ticket.description))),
        }
    return entries


def save_links(project: Project, tickets: dict[str, dict]) -> Path:
    path = project.ticket_links_path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    body = {"version": FORMAT_VERSION, "generated_by": "kb link", "tickets": dict(sorted(tickets.items()))}
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# Derived views -----------------------------------------------------------------------------

@dataclass
class ArticleSymptom:
    phrase: str
    count: int
    first_seen: str
    last_seen: str


def article_symptoms(tickets: dict[str, dict]) -> dict[str, list[ArticleSymptom]]:
    """Article id → the symptoms its tickets reported, near-duplicates merged, most frequent first."""
    occurrences = [(article, ticket_id, phrase)
                   for ticket_id, t in tickets.items() for article in t["articles"] for phrase in t["symptoms"]]
    opened = {ticket_id: t["opened"] for ticket_id, t in tickets.items()}
    result: dict[str, list[ArticleSymptom]] = defaultdict(list)
    for group in group_symptoms(occurrences):
        dates = sorted(opened[t] for t in group.ticket_ids)
        result[group.article_id].append(ArticleSymptom(group.phrase, group.count, dates[0], dates[-1]))
    return dict(result)


@dataclass
class LinkReport:
    tickets: int
    linked: int
    link_rate: float
    rows_rejected: list[dict] = field(default_factory=list)
    articles: dict[str, dict] = field(default_factory=dict)
    dangling: list[dict] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)
    by_month: list[dict] = field(default_factory=list)
    by_module: list[dict] = field(default_factory=list)
    data_file: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def rate_table(tickets: dict[str, dict], key: str) -> list[dict]:
    total, linked = Counter(), Counter()
    for t in tickets.values():
        total[t[key] or "（未填）"] += 1
        linked[t[key] or "（未填）"] += bool(t["articles"])
    return [{key: k, "tickets": total[k], "linked": linked[k], "link_rate": round(linked[k] / total[k], 3)}
            for k in sorted(total)]


def build_report(project: Project, tickets: dict[str, dict], rejected: list[RejectedRow],
                 suggest: Callable[[str], tuple[str, str, float] | None] | None,
                 per_article: dict[str, list[ArticleSymptom]] | None = None) -> LinkReport:
    """`per_article`: article_symptoms(tickets) when the caller has it already."""
    linked = sum(1 for t in tickets.values() if t["articles"])
    if per_article is None:
        per_article = article_symptoms(tickets)
    ticket_counts = Counter(a for t in tickets.values() for a in t["articles"])
    articles = {
        article_id: {"tickets": ticket_counts[article_id],
                     "symptoms": [asdict(s) for s in per_article.get(article_id, [])]}
        for article_id in sorted(ticket_counts)
    }
    dangling = [{"ticket_id": ticket_id, "reference": text, "reason": reason}
                for ticket_id, t in sorted(tickets.items()) for text, reason in t["dangling"]]
    unlinked = [(None, ticket_id, phrase) for ticket_id, t in tickets.items() if not t["articles"] for phrase in t["symptoms"]]
    gaps = []
    for group in group_symptoms(unlinked)[:GAP_LIMIT]:
        hit = suggest(group.phrase) if suggest else None
        gap = {"symptom": group.phrase, "tickets": len(set(group.ticket_ids))}
        if hit and hit[2] >= SUGGESTION_MIN_SCORE:
            gap["suggestion"] = {"id": hit[0], "title": hit[1], "score": round(hit[2], 2)}
        else:
            gap["suggestion"] = None
            gap["advice"] = "没有合适的文章——请新写一篇"
        gaps.append(gap)
    return LinkReport(
        tickets=len(tickets), linked=linked, link_rate=round(linked / len(tickets), 3) if tickets else 0.0,
        rows_rejected=[{"path": r.path, "row": r.row_number, "reason": r.reason} for r in rejected],
        articles=articles, dangling=dangling, gaps=gaps,
        by_month=rate_table(tickets, "month"), by_module=rate_table(tickets, "module"),
        data_file=project.display(project.ticket_links_path),
    )


def search_suggester(project: Project, per_article: dict[str, list[ArticleSymptom]] | None = None,
                     ) -> Callable[[str], tuple[str, str, float] | None] | None:
    """Best existing article for a gap's symptom, from the internal search index (built
    or refreshed first, so the suggestion reflects the articles as they are now).
    `per_article`: article_symptoms() of the saved link data, when the caller has it
    (otherwise the index reads the data file back and groups its symptoms again)."""
    from kb.search.index import update_index
    from kb.search.query import search

    def reported(article):  # as kb.search.index.reported_symptoms, without re-reading the file
        return [s.phrase for s in per_article.get(article.id, [])]
    update_index(project, "internal", reported=reported if per_article is not None else None)

    def suggest(phrase: str):
        hits = search(project, phrase, audience="internal", limit=1).hits
        return (hits[0].id, hits[0].title, hits[0].score) if hits else None
    return suggest


def link_exports(project: Project, paths: Iterable[Path], *, encoding: str | None = None,
                 mapping: str | None = None, suggest=True,
                 progress: Callable[[int, int], None] | None = None) -> LinkReport:
    """Read every export, scrub, extract, merge into the project's link data, write it, report."""
    from kb.tickets.reader import read_tickets

    batches = [read_tickets(p, encoding=encoding, mapping=mapping) for p in paths]
    every = [t for b in batches for t in b.tickets]
    keep = [h.number for h in project.commitments.hotlines] if project.commitments else []
    scrubber = Scrubber.for_tickets(every, keep_numbers=keep)
    merged = load_links(project)
    chunk = 2000
    for start in range(0, len(every), chunk):
        merged.update(ticket_entries(every[start:start + chunk], project, scrubber))
        if progress:
            progress(min(start + chunk, len(every)), len(every))
    ordered = dict(sorted(merged.items()))  # as saved: what the index and the site read back
    save_links(project, ordered)
    rejected = [r for b in batches for r in b.rejected]
    # Grouping the symptoms of 100,000 tickets takes seconds, so it is done once where it
    # can be: the index needs it for the saved data (in id order); the report groups in
    # merge order, and ties go to the first seen, so it reuses that only when the two
    # orders agree (a re-run, or an export in ticket-id order).
    same_order = list(merged) == list(ordered)
    per_article = article_symptoms(ordered) if suggest or same_order else None
    suggester = search_suggester(project, per_article) if suggest else None
    return build_report(project, merged, rejected, suggester, per_article if same_order else None)
