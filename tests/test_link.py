"""`kb link` end to end on real files: the report, the merge, the site and the index."""

import csv
import io
import json
import re
import shutil

import pytest
from click.testing import CliRunner

from conftest import ROOT, copy_sample
from kb.build import build_site
from kb.cli import cli
from kb.project import Project
from kb.search.index import update_index
from kb.tickets import reporter_names

SAMPLE = ROOT / "tools" / "sample_data" / "helpdesk_export_2026.csv"


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
    data = (root / "docs" / "_data" / "ticket_links.json").read_bytes()
    second = run_link(root, SAMPLE)
    assert second == first
    assert (root / "docs" / "_data" / "ticket_links.json").read_bytes() == data


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
    assert not (root / "docs" / "_data" / "ticket_links.json").exists()


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
    outputs = [work / "docs" / "_data" / "ticket_links.json",
               *[p for d in ("site", "site-internal", "search_index") for p in (work / d).rglob("*") if p.is_file()]]
    leaks = []
    for path in outputs:
        content = path.read_bytes().decode("utf-8", errors="ignore")
        if path.suffix == ".json":
            content += json.dumps(json.loads(content), ensure_ascii=False) if content.strip().startswith(("{", "[")) else ""
        leaks += [(path.name, value) for value in seeded | names if value in content]
    assert leaks == []


def test_ticket_html_is_escaped_on_the_article_page(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"工单号": "X1", "创建时间": "2026-03-01 10:00", "问题描述": "<script>alert(1)</script>公文发送失败",
                                "处理结果": "按 KB-0001 处理"}, ensure_ascii=False) + "\n", encoding="utf-8")
    root = copy_sample(tmp_path / "p")
    run_link(root, path)
    html = (build_site(Project.load(root)) / "kb" / "KB-0001" / "index.html").read_text(encoding="utf-8")
    assert "用户反馈的现象" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
