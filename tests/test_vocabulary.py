"""Callers' vocabulary learned from linked tickets (kb.search.vocabulary,
kb.reports.vocabulary) and curated with `kb synonyms suggest / add / reject`."""

import json

from click.testing import CliRunner

from conftest import words_only, write_csv_export
from kb.cli import cli
from kb.project import Project
from kb.search.synonyms import load_synonyms
from kb.search.vocabulary import Evidence, suggest_synonyms

HEADER = ["工单编号", "创建时间", "问题描述", "处理结果"]
# 批文 is in no sample article; KB-0001 and KB-0004 are the two articles with 公文 in the title.
TICKETS = [
    ["GD1", "2026-11-02 09:00", "领导的批文发送不出去，一直转圈", "已发送 KB-0001，重新发送成功"],
    ["GD2", "2026-11-02 10:00", "批文发送报错，说服务器内部错误", "参见 KB-0001"],
    ["GD3", "2026-11-03 09:00", "批文卡在办公室那一步不动了", "按 KB-0004 处理"],
    ["GD4", "2026-11-03 11:00", "电脑一直很卡，批文打不开", "无需处理"],  # cites nothing: no evidence
]


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result


def sample_evidence(project):
    return [Evidence("领导的批文发送不出去", "KB-0001"), Evidence("批文卡在办公室那一步不动了", "KB-0004"),
            Evidence("电脑一直很卡", "KB-0001"), Evidence("电脑一直很卡", "KB-0020"),
            Evidence("电脑一直很卡", "KB-0029")]


def test_word_said_of_articles_sharing_a_title_word_is_suggested(sample_copy):
    project = Project.load(sample_copy)
    found = suggest_synonyms(sample_evidence(project), project.articles_for("internal"), project.synonyms)
    assert [(s.word, s.term, s.articles) for s in found] == [("批文", "公文", 2)]
    assert found[0].share == 1.0 and found[0].examples == ["领导的批文发送不出去", "批文卡在办公室那一步不动了"]


def test_what_is_not_suggested(sample_copy):
    project = Project.load(sample_copy)
    articles = project.articles_for("internal")
    # One article's tickets are its symptoms already; a word of the articles' own is no news.
    assert suggest_synonyms([Evidence("批文发不出去", "KB-0001", 9)], articles, project.synonyms) == []
    assert suggest_synonyms([Evidence("公文发送失败", "KB-0001"), Evidence("公文卡住", "KB-0004")],
                            articles, project.synonyms) == []
    # A curator's rejection holds, and an article nobody has is skipped.
    evidence = sample_evidence(project) + [Evidence("批文", "KB-9999")]
    assert suggest_synonyms(evidence, articles, project.synonyms, rejected=[("批文", "公文")]) == []


def test_suggest_add_and_reject_from_linked_tickets(sample_copy):
    words_only(sample_copy)  # the lexical engine shows what the synonym adds (the model may guess it)
    assert run("index", "--project", sample_copy, "--quiet").exit_code == 0
    before = json.loads(run("search", "批文发不出去", "--project", sample_copy, "--json").output)
    assert before[0]["id"] != "KB-0001"
    export = write_csv_export(sample_copy / "export.csv", HEADER, TICKETS, "gbk")
    assert run("link", export, "--project", sample_copy, "--quiet").exit_code == 0

    result = run("synonyms", "suggest", "--project", sample_copy, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["sources"] == {"工单": data["evidence"]} and data["evidence"] >= 3
    assert [(s["word"], s["term"], s["articles"], s["count"]) for s in data["suggestions"]] == [("批文", "公文", 2, 3)]
    table = run("synonyms", "suggest", "--project", sample_copy).output
    assert "批文 → 公文" in table and "kb synonyms add" in table

    path = sample_copy / "docs" / "_data" / "synonyms.yml"
    before = path.read_text(encoding="utf-8")
    result = run("synonyms", "add", "批文", "公文", "--project", sample_copy)
    assert result.exit_code == 0 and "批文" in result.output
    after = path.read_text(encoding="utf-8")
    # Merged into the group that holds 公文, on its own line; every other line as it was.
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert changed == [("  - [公文, 发文, 收文, 文件流转]", "  - [公文, 发文, 收文, 文件流转, 批文]")]
    assert run("synonyms", "suggest", "--project", sample_copy, "--json").output.count('"word"') == 0
    assert run("index", "--project", sample_copy, "--quiet").exit_code == 0  # synonyms shape the index
    hits = json.loads(run("search", "批文发不出去", "--project", sample_copy, "--json").output)
    assert hits[0]["id"] == "KB-0001"

    result = run("synonyms", "reject", "电脑", "公文", "--project", sample_copy)
    assert result.exit_code == 0 and "rejected" in result.output
    assert "already" not in run("synonyms", "reject", "电脑", "公文", "--project", sample_copy).output
    synonyms, problems = load_synonyms(path, "synonyms.yml")
    assert problems == [] and synonyms.rejected == (("电脑", "公文"),)
    assert after in path.read_text(encoding="utf-8").replace("rejected:\n  - [电脑, 公文]  # kb synonyms reject", "")[:len(after) + 1]


def test_add_refuses_clearly_and_leaves_the_file(sample_copy):
    path = sample_copy / "docs" / "_data" / "synonyms.yml"
    before = path.read_bytes()
    result = run("synonyms", "add", "闪退", "公文", "--project", sample_copy)
    assert result.exit_code == 1 and "分属不同的组" in result.output and "第 " in result.output
    result = run("synonyms", "add", "批文", "--project", sample_copy)
    assert result.exit_code == 1 and "至少给出两个说法" in result.output
    assert path.read_bytes() == before
    path.write_text("groups:\n  - [闪退, 崩溃]\n  - [单个]\n", encoding="utf-8")
    result = run("synonyms", "add", "批文", "公文", "--project", sample_copy)
    assert result.exit_code == 1 and "synonyms.yml:3" in result.output


def test_add_writes_a_new_group_with_quoting(tmp_path):
    from kb.search.synonyms import add_synonyms
    path = tmp_path / "synonyms.yml"
    path.write_text("# 注释\ngroups:\n  - [闪退, 崩溃]\n", encoding="utf-8")
    assert add_synonyms(path, "s.yml", ["开会的软件", "Teams", "a: b"], "学自工单") == ("开会的软件", "Teams", "a: b")
    text = path.read_text(encoding="utf-8")
    assert text == '# 注释\ngroups:\n  - [闪退, 崩溃]\n  - [开会的软件, Teams, "a: b"]  # 学自工单\n'
    synonyms, problems = load_synonyms(path, "s.yml")
    assert problems == [] and synonyms.groups[1] == ("开会的软件", "Teams", "a: b")


def test_searches_that_led_to_an_article_are_evidence(sample_copy):
    from kb.serve.events import ClickEvent, EventStore, SearchEvent, Stamp, VoteEvent, new_search_id
    stamp = Stamp("2026-12-01T08:00:00Z", "2026-12-01")
    events, ids = [], []
    for query, article in [("批文发不出去", "KB-0001"), ("批文发不出去", "KB-0001"), ("批文卡住了", "KB-0004"),
                           ("批文在哪里看", "KB-0020")]:
        ids.append(new_search_id())
        events += [SearchEvent(ids[-1], stamp, "public", query, 3, (article,), True), ClickEvent(ids[-1], article, stamp, "public")]
    # Opened and voted unhelpful from that search: not what the caller meant, so no evidence.
    events.append(VoteEvent("KB-0020", False, "", ids[-1], stamp, "public"))
    project = Project.load(sample_copy)
    with EventStore(project.events_path) as store:
        store.write(events, lambda text: text)
        assert store.opened_from_searches() == [("批文卡住了", "KB-0004", 1), ("批文发不出去", "KB-0001", 2)]
    data = json.loads(run("synonyms", "suggest", "--project", sample_copy, "--json").output)
    assert data["sources"] == {"搜索": 2}
    (found,) = data["suggestions"]
    assert (found["word"], found["term"], found["articles"], found["count"], found["sources"]) == ("批文", "公文", 2, 3, ["搜索"])
