"""文章审核清单: stale, draft, orphaned and archived-but-used articles in a seeded sample copy."""

import datetime as dt
import json
import re

import pytest

from conftest import ROOT, copy_sample
from kb.project import Project
from kb.reports.review import REASONS, review
from kb.tickets.linking import link_exports, open_store
from kb.tickets.store import StoredTicket

TODAY = dt.date(2026, 11, 20)   # window for 6 months: tickets created from 2026-05 on


def ticket(month, articles=(), dangling=()):
    """dangling: (reference, reason, archived article id or None)"""
    return {"month": month, "articles": tuple(articles), "dangling": tuple(dangling)}


def save_links(project, tickets):
    with open_store(project, create=True) as store, store.writing():
        store.upsert(StoredTicket(i, t["month"], f"{t['month']}-10", "", t["articles"], t["dangling"], ())
                     for i, t in tickets.items())


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def seeded(tmp_path):
    root = copy_sample(tmp_path / "sample")
    arts = root / "kb_articles"
    # Stale: review date passed.
    edit(arts / "document" / "KB-0003-editor-control-not-loading.md", "review_by: 2026-12-09", "review_by: 2026-10-01")
    # An old draft (KB-0036, updated yesterday, is a fresh one and is not listed).
    draft = (arts / "mobile" / "KB-0036-dingtalk-attachment-preview-blank.md").read_text(encoding="utf-8")
    draft = draft.replace("id: KB-0036", "id: KB-0040").replace("updated: 2026-11-19", "updated: 2026-08-01")
    (arts / "mobile" / "KB-0040-old-draft.md").write_text(draft, encoding="utf-8")
    # Archived, yet linked from another article by relative path (KB-0032 links it by id already).
    edit(arts / "files" / "KB-0019-large-upload-interrupted.md", "status: validated", "status: archived")
    source = arts / "files" / "KB-0017-local-helper-access-denied.md"
    text = source.read_text(encoding="utf-8").rstrip("\n")
    source.write_text(text + "\n\n大文件另见 [上传中断](KB-0019-large-upload-interrupted.md)。\n", encoding="utf-8")
    link_line = text.count("\n") + 3

    project = Project.load(root)
    tickets = {}
    # Every validated public article cited in the window, except KB-0015 (last cited in February);
    # KB-0023 only under its old id KB-9001.
    for i, article in enumerate(a for a in project.articles if a.status == "validated" and a.audience == "public"):
        if article.id not in ("KB-0015", "KB-0023"):
            tickets[f"W{i:03d}"] = ticket("2026-07", [article.id])
    tickets["ALIAS"] = ticket("2026-05", ["KB-9001"])
    tickets["OLD-15"] = ticket("2026-02", ["KB-0015"])
    # Archived articles still cited: KB-0019 (archived after the ticket was linked, under its
    # old id KB-9003) and KB-0037 (a dangling reference). A citation before the window is ignored.
    tickets["ARCH-19"] = ticket("2026-09", ["KB-9003"])
    tickets["ARCH-37"] = ticket("2026-06", dangling=[("KB-0037", "文章 KB-0037 已归档，不再作为处理依据", "KB-0037")])
    tickets["ARCH-37-OLD"] = ticket("2026-01", dangling=[("KB0037", "文章 KB-0037 已归档，不再作为处理依据", "KB-0037")])
    tickets["GONE"] = ticket("2026-08", dangling=[("KB-0999", "编号指向的文章 KB-0999 在知识库中不存在", None)])
    save_links(project, tickets)
    return root, link_line


def test_review_finds_each_seeded_problem(seeded):
    root, link_line = seeded
    report = review(Project.load(root), today=TODAY)
    found = [(i.reason, i.id) for i in report.items]
    assert found == [
        ("review_overdue", "KB-0003"),
        ("draft_stale", "KB-0040"),
        ("orphaned", "KB-0015"),
        ("archived_cited_by_tickets", "KB-0019"),
        ("archived_cited_by_tickets", "KB-0037"),
        ("archived_linked_from_articles", "KB-0019"),
    ]
    items = {(i.reason, i.id): i for i in report.items}
    stale = items[("review_overdue", "KB-0003")]
    assert stale.path == "kb_articles/document/KB-0003-editor-control-not-loading.md"
    assert "审核期限 2026-10-01，已逾期 50 天" in stale.detail and stale.title.startswith("正文")
    assert "2026-08-01" in items[("draft_stale", "KB-0040")].detail and "111 天" in items[("draft_stale", "KB-0040")].detail
    assert "上次被引用在 2026-02（工单 OLD-15）" in items[("orphaned", "KB-0015")].detail
    assert "1 张工单" in items[("archived_cited_by_tickets", "KB-0019")].detail
    assert "（ARCH-37）" in items[("archived_cited_by_tickets", "KB-0037")].detail   # not ARCH-37-OLD
    linked = items[("archived_linked_from_articles", "KB-0019")].detail
    kb32 = (root / "kb_articles" / "admin" / "KB-0032-disk-full-upload-failed.md").read_text(encoding="utf-8")
    kb32_line = next(n for n, line in enumerate(kb32.splitlines(), 1) if "(KB-0019)" in line)
    assert f"KB-0017 第 {link_line} 行" in linked and f"KB-0032 第 {kb32_line} 行" in linked
    assert report.window_start == "2026-05"
    assert report.counts() == {"review_overdue": 1, "draft_stale": 1, "orphaned": 1,
                               "archived_cited_by_tickets": 2, "archived_linked_from_articles": 1}


def test_windows_and_thresholds_are_options(seeded):
    root, _ = seeded
    project = Project.load(root)
    # A longer window reaches February's citation of KB-0015 and the old KB-0037 one.
    wide = review(project, today=TODAY, orphan_months=10)
    assert wide.window_start == "2026-01"
    assert not wide.by_reason("orphaned")
    assert "2 张工单" in wide.by_reason("archived_cited_by_tickets")[1].detail
    # A draft is listed only once it is older than draft_days.
    assert not review(project, today=TODAY, draft_days=120).by_reason("draft_stale")
    assert [i.id for i in review(project, today=TODAY, draft_days=0).by_reason("draft_stale")] == ["KB-0036", "KB-0040"]


def test_without_link_data_the_ticket_checks_are_skipped(seeded):
    root, _ = seeded
    project = Project.load(root)
    project.ticket_store_path.unlink()
    report = review(project, today=TODAY)
    assert not report.by_reason("orphaned") and not report.by_reason("archived_cited_by_tickets")
    assert any("kb link" in n for n in report.notes)
    assert [i.id for i in report.by_reason("archived_linked_from_articles")] == ["KB-0019"]
    # Link data with nothing recent: the orphan check says why it did not run.
    save_links(project, {"OLD": ticket("2025-01", ["KB-0001"])})
    report = review(project, today=TODAY)
    assert not report.by_reason("orphaned") and any("2026-05 以来的工单" in n for n in report.notes)


def test_the_sample_with_its_export_linked(tmp_path):
    """The sample export linked by `kb link`: only the archived KB-0037 is still cited, by 3 tickets."""
    project = Project.load(copy_sample(tmp_path / "sample"))
    link_exports(project, [ROOT / "tools" / "sample_data" / "helpdesk_export_2026.csv"])
    report = review(Project.load(project.root), today=TODAY)
    assert [(i.reason, i.id) for i in report.items] == [("archived_cited_by_tickets", "KB-0037")]
    assert "3 张工单" in report.items[0].detail


def test_outputs(seeded):
    root, _ = seeded
    report = review(Project.load(root), today=TODAY)
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["today"] == "2026-11-20" and data["counts"]["archived_cited_by_tickets"] == 2
    assert set(data["items"][0]) == {"id", "title", "path", "reason", "label", "detail"}
    assert {i["reason"] for i in data["items"]} <= set(REASONS)

    lines = report.table_lines()
    assert lines[0] == "文章审核清单" and "需处理 6 项" in lines[1]
    assert "逾期未审核（1）" in lines and any(line.strip().startswith("KB-0003") for line in lines)

    page = report.markdown_page()
    assert page.startswith("---\ntitle: 文章审核清单\naudience: internal\n---\n")
    assert "## 已归档仍被文章链接（1）" in page and "| KB-0019 |" in page
    assert not re.search(r"\]\(KB-\d+", page)   # ids are text: a link to an archived article fails kb check


def test_page_text_is_escaped(seeded):
    root, _ = seeded
    edit(root / "kb_articles" / "document" / "KB-0003-editor-control-not-loading.md", "owner: ", "owner: <b>A|B</b> ")
    page = review(Project.load(root), today=TODAY).markdown_page()
    assert "<b>" not in page and "&lt;b&gt;A&#124;B&lt;/b&gt;" in page
