"""The ticket store (kb.tickets.store) and what `kb link` keeps in it."""

import json
import sqlite3

import pytest

from conftest import copy_sample
from kb.project import Project
from kb.tickets.linking import article_symptoms, link_exports, open_store
from kb.tickets.store import SCHEMA_VERSION, StoreError, StoredTicket, TicketStore


def ticket(ticket_id, articles=("KB-0001",), symptoms=("公文发送失败",), month="2026-03"):
    return StoredTicket(ticket_id, month, f"{month}-05", "公文", tuple(articles), (), tuple(symptoms))


@pytest.fixture
def store(tmp_path):
    with TicketStore(tmp_path / "tickets.sqlite") as s:
        yield s


def test_upsert_replaces_a_ticket_and_aggregates_count_distinct_tickets(store):
    with store.writing():
        store.upsert([ticket("T1"), ticket("T2"), ticket("T3", articles=())])
    with store.writing():
        store.upsert([ticket("T2", symptoms=("公文发送失败", "正文乱码"))])
    assert store.counts() == (3, 2)
    phrases = {(p.article_id, p.phrase): p.tickets for p in store.article_phrases()}
    assert phrases == {("KB-0001", "公文发送失败"): 2, ("KB-0001", "正文乱码"): 1}
    assert [(p.phrase, p.tickets) for p in store.unlinked_phrases()] == [("公文发送失败", 1)]
    assert store.article_ticket_counts() == {"KB-0001": 2}


def test_a_failed_run_changes_nothing(store):
    with store.writing():
        store.upsert([ticket("T1")])
    version = store.version
    with pytest.raises(RuntimeError), store.writing():
        store.upsert([ticket("T2")])
        raise RuntimeError("export broke half-way")
    assert store.counts() == (1, 1) and store.version == version


def test_a_run_that_changes_nothing_keeps_the_version(store):
    with store.writing():
        store.remember_names({b"x" * 16})
    version = store.version
    with store.writing():
        store.remember_names({b"x" * 16})
        store.record_import("f" * 64, "a.csv", 0, [])
    assert store.version == version


def test_a_newer_store_is_refused_with_advice(tmp_path):
    path = tmp_path / "tickets.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="tickets.sqlite.*升级 kb"):
        TicketStore(path)


def test_a_damaged_store_is_an_error_naming_it(tmp_path):
    path = tmp_path / "tickets.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="tickets.sqlite.*删除该文件后重新运行 kb link"):
        TicketStore(path)


def test_a_json_link_file_is_migrated_once_and_scrubbed_again(tmp_path):
    project = Project.load(copy_sample(tmp_path / "p"))
    legacy = project.data_dir / "ticket_links.json"
    legacy.write_text(json.dumps({"version": 1, "tickets": {"OLD-1": {
        "month": "2026-01", "opened": "2026-01-05", "module": "公文", "articles": ["KB-0001"],
        "dangling": [["http://10.1.2.3:8080/kb/KB-0999/?u=zhangsan", "链接指向的文章 KB-0999 在知识库中不存在"]],
        "symptoms": ["公文发送失败，请回电 138.1234.5678"]}}}, ensure_ascii=False), encoding="utf-8")
    with open_store(project) as store:
        assert store.counts() == (1, 1)
        assert [p.phrase for p in store.article_phrases()] == ["公文发送失败，请回电 〔手机号〕"]
        assert store.dangling() == [("OLD-1", "/kb/KB-0999/", "链接指向的文章 KB-0999 在知识库中不存在")]
    assert not legacy.exists()
    # A legacy file that turns up again (restored from a backup) is not merged a second time.
    legacy.write_text(json.dumps({"version": 1, "tickets": {"OLD-2": {
        "month": "2026-01", "opened": "2026-01-05", "module": "", "articles": [], "dangling": [], "symptoms": []}}}),
        encoding="utf-8")
    with open_store(project) as store:
        assert store.counts() == (1, 1)


def export(path, rows, reporter=True):
    header = "工单号,创建时间,问题描述,处理结果" + (",报告人" if reporter else "")
    path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_reporters_of_an_earlier_run_are_scrubbed_in_a_later_one(tmp_path):
    project = Project.load(copy_sample(tmp_path / "p"))
    first = export(tmp_path / "a.csv", [("A1", "2026-03-01 10:00", "公文发送失败", "按 KB-0001 处理", "欧阳振华")])
    later = export(tmp_path / "b.csv", [(f"B{i}", "2026-03-02 10:00", "欧阳振华那边公文发送失败", "按 KB-0001 处理")
                                       for i in range(3)], reporter=False)
    link_exports(project, [first])
    link_exports(project, [later])
    with open_store(project) as store:
        phrases = [p.phrase for p in store.article_phrases()]
        assert "〔姓名〕那边公文发送失败" in phrases
        assert not any("欧阳" in p or "振华" in p for p in phrases)
        names = store.db.execute("SELECT digest FROM reporter_names").fetchall()
        assert names and all(len(d) == 16 and "欧阳".encode() not in d for (d,) in names)


def test_months_follow_the_project_timezone(tmp_path):
    """23:30 UTC on 31 January is 1 February in Asia/Shanghai, as kb report sla counts it."""
    project = Project.load(copy_sample(tmp_path / "p"))
    link_exports(project, [export(tmp_path / "a.csv", [("Z1", "2026-01-31T23:30:00Z", "公文发送失败", "按 KB-0001 处理"),
                                                        ("E1", "1769902200000", "公文发送失败", "按 KB-0001 处理")],
                                  reporter=False)])
    with open_store(project) as store:
        assert store.rate_table("month") == [("2026-02", 2, 2)]


def test_an_unchanged_export_is_skipped_and_a_changed_one_read(tmp_path):
    project = Project.load(copy_sample(tmp_path / "p"))
    path = export(tmp_path / "a.csv", [("A1", "2026-03-01 10:00", "公文发送失败", "按 KB-0001 处理", "")])
    assert not link_exports(project, [path]).files[0]["skipped"]
    assert link_exports(project, [path]).files[0]["skipped"]
    export(path, [("A1", "2026-03-01 10:00", "公文发送失败", "按 KB-0001 处理", ""),
                  ("A2", "2026-03-01 11:00", "公文打不开", "已远程处理", "")])
    again = link_exports(project, [path])
    assert not again.files[0]["skipped"] and again.tickets == 2
    # An article change can change what a ticket cites: the export is read again.
    article = project.articles[0].path
    article.write_text(article.read_text(encoding="utf-8").replace("title: ", "title: 新", 1), encoding="utf-8")
    assert not link_exports(Project.load(project.root), [path]).files[0]["skipped"]


def test_public_phrases_need_three_tickets(tmp_path):
    project = Project.load(copy_sample(tmp_path / "p"))
    path = export(tmp_path / "a.csv", [(f"A{i}", "2026-03-01 10:00", "公文发送失败", "按 KB-0001 处理", "") for i in range(3)]
                  + [("B1", "2026-03-01 10:00", "正文变成乱码", "按 KB-0001 处理", "")])
    link_exports(project, [path])
    public = [s.phrase for s in article_symptoms(project, "public")["KB-0001"]]
    internal = [s.phrase for s in article_symptoms(project, "internal")["KB-0001"]]
    assert public == ["公文发送失败"] and internal == ["公文发送失败", "正文变成乱码"]

