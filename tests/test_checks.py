"""`kb check`: the sample passes; a folder of broken articles yields every problem, located."""

import json

from click.testing import CliRunner

from conftest import vendor_project
from kb.checks import check_project
from kb.cli import cli
from kb.project import Project

ARTICLE = """---
id: {id}
title: 测试文章 {id}
module: 常见问题
symptoms: [页面打不开]
audience: {audience}
status: {status}
applies_to: [V8.0]
updated: 2026-01-05
review_by: 2026-07-05
owner: 测试组
---

## 现象

打不开。

## 适用范围/环境

V8.0。

## 原因

未知。

## 解决办法

{solution}
"""


def article(id="KB-0001", audience="public", status="validated", solution="重启浏览器。"):
    return ARTICLE.format(id=id, audience=audience, status=status, solution=solution)


def broken_project(tmp_path):
    root = tmp_path / "broken"
    vendor_project(root)
    arts = root / "kb_articles"
    (arts / "ok.md").write_text(article("KB-0001"), encoding="utf-8")
    (arts / "archived.md").write_text(article("KB-0009", status="archived"), encoding="utf-8")
    (arts / "internal.md").write_text(article("KB-0010", audience="internal"), encoding="utf-8")
    (arts / "bad_yaml.md").write_text(article("KB-0002").replace("title: 测试文章 KB-0002", 'title: "未闭合'), encoding="utf-8")
    (arts / "dup.md").write_text(article("KB-0001"), encoding="utf-8")
    (arts / "no_section.md").write_text(article("KB-0003").replace("## 原因\n", ""), encoding="utf-8")
    (arts / "links.md").write_text(article("KB-0004", solution="见 [另一篇](KB-0404)、[归档](KB-0009)、[内部](KB-0010) 和 [文件](missing.md)。"), encoding="utf-8")
    (arts / "bad_date.md").write_text(article("KB-0005").replace("updated: 2026-01-05", "updated: 2026-13-01"), encoding="utf-8")
    (arts / "gbk.md").write_bytes(article("KB-0006").encode("gbk"))
    (arts / "module.md").write_text(article("KB-0007").replace("module: 常见问题", "module: 不存在的模块"), encoding="utf-8")
    (root / "docs" / "page.md").write_text("# 页\n\n见 [x](KB-0505)。\n\n<!-- kb:nonsense -->\n", encoding="utf-8")
    return root


EXPECTED = {
    ("kb_articles/bad_yaml.md", 3, "YAML 语法错误"),
    ("kb_articles/dup.md", 2, "编号 KB-0001 已被 kb_articles/ok.md 使用"),
    ("kb_articles/ok.md", 2, "编号 KB-0001 已被 kb_articles/dup.md 使用"),
    ("kb_articles/no_section.md", 13, "缺少正文小节 “## 原因”"),
    ("kb_articles/links.md", 28, "链接 KB-0404 指向不存在的文章"),
    ("kb_articles/links.md", 28, "链接 KB-0009 指向已归档文章 KB-0009"),
    ("kb_articles/links.md", 28, "公开内容链接到了内部或草稿文章 KB-0010"),
    ("kb_articles/links.md", 28, "链接 missing.md 指向的文件不存在"),
    ("kb_articles/bad_date.md", 9, "updated 的日期 '2026-13-01' 无效"),
    ("kb_articles/gbk.md", 3, "文件不是 UTF-8 编码"),
    ("kb_articles/module.md", 4, "模块 '不存在的模块' 不在项目的模块列表中"),
    ("docs/page.md", 3, "链接 KB-0505 指向不存在的文章"),
    ("docs/page.md", 5, "未知的占位标记 kb:nonsense"),
}


def located(problems):
    return {(p["path"], p["line"], p["message"]) for p in problems}


def test_sample_project_passes(tmp_path):
    from conftest import ROOT
    assert check_project(Project.load(ROOT)) == []
    result = CliRunner().invoke(cli, ["check", "--project", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert "检查通过" in result.output


def test_every_problem_reported_in_one_run(tmp_path):
    root = broken_project(tmp_path)
    problems = [p.to_dict() for p in check_project(Project.load(root))]
    found = {(p, line, msg if not msg.startswith("YAML") else "YAML 语法错误") for p, line, msg in located(problems)}
    assert found == EXPECTED
    assert all(p["hint"] for p in problems)


def test_cli_exit_status_and_json(tmp_path):
    root = broken_project(tmp_path)
    text = CliRunner().invoke(cli, ["check", "--project", str(root)])
    assert text.exit_code == 1
    assert "kb_articles/dup.md:2: 编号 KB-0001 已被 kb_articles/ok.md 使用" in text.output
    as_json = CliRunner().invoke(cli, ["check", "--project", str(root), "--json"])
    assert as_json.exit_code == 1
    assert len(json.loads(as_json.stdout)) == len(EXPECTED)


def test_alias_clashing_with_an_id(tmp_path):
    root = tmp_path / "p"
    vendor_project(root)
    (root / "kb_articles" / "a.md").write_text(article("KB-0001"), encoding="utf-8")
    (root / "kb_articles" / "b.md").write_text(article("KB-0002").replace("owner: 测试组", "owner: 测试组\naliases: [KB-0001]"), encoding="utf-8")
    problems = check_project(Project.load(root))
    assert [(p.path, p.line, p.message) for p in problems] == [
        ("kb_articles/a.md", 2, "编号 KB-0001 已被 kb_articles/b.md 使用"),
        ("kb_articles/b.md", 12, "别名 KB-0001 已被 kb_articles/a.md 使用"),
    ]


def test_commitments_file_is_checked(tmp_path):
    root = tmp_path / "p"
    vendor_project(root)
    path = root / "docs" / "_data" / "commitments.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("limit_hours: 4", "limit_hours: soon"), encoding="utf-8")
    problems = check_project(Project.load(root))
    assert len(problems) == 1 and problems[0].path == "docs/_data/commitments.yml" and "limit_hours" in problems[0].message
    assert problems[0].line > 1


def test_missing_project_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["check", "--project", str(tmp_path)])
    assert result.exit_code == 1
    assert "找不到 mkdocs.yml" in result.output and "Traceback" not in result.output


def test_line_numbers_count_only_real_line_breaks(tmp_path):
    """U+2028, form feeds and \\x85 inside a line (pasted from Word or a web page) are not
    line breaks for editors or Markdown, so they must not shift the reported line."""
    root = tmp_path / "p"
    vendor_project(root)
    text = article("KB-0001", solution="第一步\u2028接着\x0c再\x85然后。\n\n见 [另一篇](KB-0404)。")
    (root / "kb_articles" / "a.md").write_text(text, encoding="utf-8")
    line = text.split("\n").index("见 [另一篇](KB-0404)。") + 1
    problems = check_project(Project.load(root))
    assert [(p.line, p.message) for p in problems] == [(line, "链接 KB-0404 指向不存在的文章")]
