"""`kb link` end to end on real files: the report, the merge, the site and the index."""

import csv
import io
import json
import re
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from conftest import ROOT, copy_sample
from kb.build import build_site
from kb.cli import cli
from kb.project import Project
from kb.search.index import update_index
from kb.tickets import reporter_names

SAMPLE = ROOT / "tools" / "sample_data" / "helpdesk_export_2026.csv"


def store_dump(root):
    """Every row of every table of the project's ticket store, as text."""
    db = sqlite3.connect(root / "docs" / "_data" / "tickets.sqlite")
    tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    dump = {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}"))) for t in tables if t not in ("meta", "imports")}
    db.close()
    return dump


def run_link(root, *paths, extra=()):
    result = CliRunner().invoke(cli, ["link", *map(str, paths), "--project", str(root), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    root = copy_sample(tmp_path_factory.mktemp("link") / "sample")
    return root, run_link(root, SAMPLE)


def test_report_on_the_sample_export(linked):
    _, report = linked
    assert report["tickets"] == 1200
    assert len(report["rows_rejected"]) == 7 and all(r["row"] > 1 and r["reason"] for r in report["rows_rejected"])
    assert 0.6 < report["link_rate"] < 0.9 and report["linked"] == round(report["link_rate"] * 1200)
    references = [d["reference"] for d in report["dangling"]]
    assert "KB-0037" in references and any("999" in r for r in references)
    assert any("已归档" in d["reason"] for d in report["dangling"])
    symptoms = report["articles"]["KB-0001"]["symptoms"]
    assert symptoms and symptoms == sorted(symptoms, key=lambda s: -s["count"])
    gap = report["gaps"][0]
    assert gap["tickets"] >= report["gaps"][-1]["tickets"]
    assert gap["suggestion"] is None or set(gap["suggestion"]) == {"id", "title", "score"}
    assert any(g["suggestion"] is None and g["advice"] for g in report["gaps"]) or all(g["suggestion"] for g in report["gaps"])


def test_rerun_is_idempotent(linked):
    root, first = linked
    data = store_dump(root)
    second = run_link(root, SAMPLE)
    assert second["files"] == [{"path": str(SAMPLE), "skipped": True, "rejected": 7}]
    assert {**second, "files": None} == {**first, "files": None}
    assert store_dump(root) == data


def test_overlapping_exports_merge_by_ticket_id(tmp_path):
    text = SAMPLE.read_bytes().decode("gb18030")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    good = [r for r in body if len(r) == len(header)][:400]

    def export(name, part):
        out = io.StringIO()
        csv.writer(out).writerows([header, *part])
        path = tmp_path / name
        path.write_bytes(out.getvalue().encode("gbk", errors="replace"))
        return path

    first, second = export("a.csv", good[:250]), export("b.csv", good[150:])
    root = copy_sample(tmp_path / "p")
    run_link(root, first)
    merged = run_link(root, second)
    together = copy_sample(tmp_path / "q")
    once = run_link(together, export("all.csv", good))
    assert merged["tickets"] == once["tickets"] == len({r[0] for r in good})
    assert merged["linked"] == once["linked"] and merged["articles"] == once["articles"]


def test_missing_required_column_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("工单号,问题描述\nT1,打不开\n", encoding="utf-8")
    root = copy_sample(tmp_path / "p")
    result = CliRunner().invoke(cli, ["link", str(path), "--project", str(root)])
    assert result.exit_code == 1 and "bad.csv" in result.output and "Traceback" not in result.output
    assert not (root / "docs" / "_data" / "tickets.sqlite").exists()


def test_linked_symptoms_reach_the_site_and_the_index(linked, tmp_path):
    root, report = linked
    work = tmp_path / "copy"
    shutil.copytree(root, work)
    project = Project.load(work)
    phrase = report["articles"]["KB-0032"]["symptoms"][0]["phrase"]
    site = build_site(project)
    html = (site / "kb" / "KB-0032" / "index.html").read_text(encoding="utf-8")
    assert "用户反馈的现象" in html
    update_index(project, "public")
    from kb.search.query import search
    assert "KB-0032" in [h.id for h in search(Project.load(work), phrase, limit=5).hits]
    internal = build_site(Project.load(work), "internal")
    health = (internal / "kb" / "health" / "index.html").read_text(encoding="utf-8")
    assert "关联率" in health and "<svg" in health and "KB-0037" in health
    assert not (site / "kb" / "health").exists()


PHONE = re.compile(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
ID_NUMBER = re.compile(r"\d{17}[\dXx]")


def test_no_personal_data_leaves_the_tool(linked, tmp_path):
    root, _ = linked
    text = SAMPLE.read_bytes().decode("gb18030")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    reporter = header.index("报告人")
    names = set(reporter_names(r[reporter] for r in rows[1:] if len(r) == len(header)))  # role words such as 办公室 are not names
    seeded = set(PHONE.findall(text)) | set(EMAIL.findall(text)) | set(ID_NUMBER.findall(text))
    assert len(names) > 50 and len(seeded) > 100
    work = tmp_path / "copy"
    shutil.copytree(root, work)
    project = Project.load(work)
    build_site(project)
    build_site(Project.load(work), "internal")
    update_index(Project.load(work), "public")
    update_index(Project.load(work), "internal")
    outputs = [p for d in ("site", "site-internal", "search_index") for p in (work / d).rglob("*") if p.is_file()]
    leaks = [("tickets.sqlite", value) for value in seeded | names if value in repr(store_dump(work))]
    for path in outputs:
        content = path.read_bytes().decode("utf-8", errors="ignore")
        if path.suffix == ".json":
            content += json.dumps(json.loads(content), ensure_ascii=False) if content.strip().startswith(("{", "[")) else ""
        leaks += [(path.name, value) for value in seeded | names if value in content]
    assert leaks == []


def ticket_lines(*rows):
    return "".join(json.dumps({"工单号": i, "创建时间": "2026-03-01 10:00", "问题描述": d, "处理结果": r},
                              ensure_ascii=False) + "\n" for i, d, r in rows)


def test_ticket_html_is_escaped_on_the_article_page(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(ticket_lines(*[(f"X{i}", "<script>alert(1)</script>公文发送失败", "按 KB-0001 处理") for i in range(3)]),
                    encoding="utf-8")
    root = copy_sample(tmp_path / "p")
    run_link(root, path)
    html = (build_site(Project.load(root)) / "kb" / "KB-0001" / "index.html").read_text(encoding="utf-8")
    assert "用户反馈的现象" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def reported_box(page):
    html = page.read_text(encoding="utf-8")
    return html[html.index('class="kb-reported"'):html.index("</details>", html.index('class="kb-reported"'))]


def test_the_public_site_shows_only_phrases_several_tickets_reported(tmp_path):
    """Three tickets in the same words reach the public page; two do not, nor does a long
    number that is not an error code the articles mention; the internal site shows all."""
    path = tmp_path / "t.jsonl"
    path.write_text(ticket_lines(
        *[(f"A{i}", "公文发送失败，提示 DOC-5001", "按 KB-0001 处理") for i in range(3)],
        *[(f"B{i}", "公文正文变成乱码", "按 KB-0001 处理") for i in range(2)],
        *[(f"C{i}", "公文发送失败，流水号 4021733 报错", "按 KB-0001 处理") for i in range(4)]), encoding="utf-8")
    root = copy_sample(tmp_path / "p")
    run_link(root, path)
    public, internal = (reported_box(build_site(Project.load(root), audience) / "kb" / "KB-0001" / "index.html")
                        for audience in ("public", "internal"))
    assert "DOC-5001" in public and "乱码" not in public and "4021733" not in public
    assert "DOC-5001" in internal and "乱码" in internal and "4021733" in internal
