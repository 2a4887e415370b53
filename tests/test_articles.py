"""The Article model: one parser for front matter and body, with problems located by line."""

import datetime as dt

from kb.articles import parse_article, parse_page

GOOD = """---
id: KB-0042
title: 公文发送失败
module: 公文流转
symptoms:
  - 提示“HTTP 500 内部服务器错误”
audience: public
status: validated
applies_to: [V8.0, V8.1]
updated: 2026-09-12
review_by: 2027-03-12
owner: 公文产品组
aliases: [old-slug, KB-9042]
---

## 现象

发送时报错。

## 适用范围/环境

V8.0。

## 原因

```
## 不是小节（在代码块里）
```

## 解决办法

1. 清缓存。
"""


def write(tmp_path, text, name="a.md", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_parses_every_field(tmp_path):
    article, problems = parse_article(write(tmp_path, GOOD))
    assert problems == []
    assert article.id == "KB-0042"
    assert article.symptoms == ("提示“HTTP 500 内部服务器错误”",)
    assert article.applies_to == ("V8.0", "V8.1")
    assert article.updated == dt.date(2026, 9, 12)
    assert article.aliases == ("old-slug", "KB-9042")
    assert article.url_path == "kb/KB-0042/"
    assert article.is_public
    assert [s.title for s in article.sections()] == ["现象", "适用范围/环境", "原因", "解决办法"]
    assert article.line_of("module") == 4
    assert article.sections()[0].line == 16


def test_draft_and_internal_are_not_public(tmp_path):
    draft, _ = parse_article(write(tmp_path, GOOD.replace("status: validated", "status: draft")))
    internal, _ = parse_article(write(tmp_path, GOOD.replace("audience: public", "audience: internal"), "b.md"))
    assert not draft.is_public and draft.in_build("internal")
    assert not internal.is_public and not internal.in_build("public")


def test_bad_values_are_each_reported_with_their_line(tmp_path):
    text = (GOOD.replace("id: KB-0042", "id: KB42")
                .replace("status: validated", "status: done")
                .replace("review_by: 2027-03-12", "review_by: 2027-02-30")
                .replace("aliases: [old-slug, KB-9042]", "aliases: [../../etc]"))
    article, problems = parse_article(write(tmp_path, text))
    assert article is None
    assert {(p.line, p.message.split(" ")[0]) for p in problems} >= {(2, "编号"), (8, "status"), (11, "review_by"), (13, "别名")}
    assert all(p.hint for p in problems)


def test_missing_fields_and_sections(tmp_path):
    text = GOOD.replace("owner: 公文产品组\n", "").replace("## 原因\n", "")
    article, problems = parse_article(write(tmp_path, text))
    assert article is None
    messages = [p.message for p in problems]
    assert "缺少必填字段 owner" in messages
    assert "缺少正文小节 “## 原因”" in messages


def test_unknown_fields_are_problems_with_did_you_mean(tmp_path):
    text = (GOOD.replace("review_by: 2027-03-12", "reveiw_by: 2027-03-12")
                .replace("aliases: [old-slug, KB-9042]", "alias: [old-slug]\ncolour: red"))
    article, problems = parse_article(write(tmp_path, text))
    assert article is None  # review_by is required
    found = [(p.line, p.message, p.hint) for p in problems]
    assert (11, "缺少必填字段 review_by：第 11 行写成了 reveiw_by", "改成 review_by") in found
    assert (13, "未知字段 alias", "是不是 aliases？改成 aliases") in found
    assert any(line == 14 and message == "未知字段 colour" and "可用字段" in hint for line, message, hint in found)
    assert not any("reveiw_by" in message and "未知字段" in message for _, message, _ in found)  # reported once
    # An optional field misspelt on an otherwise good article: the article still parses.
    article, problems = parse_article(write(tmp_path, GOOD.replace("aliases:", "aliasses:"), "b.md"))
    assert article is not None and [(p.line, p.message) for p in problems] == [(13, "未知字段 aliasses")]


def test_sections_out_of_order(tmp_path):
    text = GOOD.replace("## 现象\n", "## 临时\n").replace("## 解决办法\n", "## 解决办法\n\n## 现象\n")
    _, problems = parse_article(write(tmp_path, text))
    assert [p.message for p in problems] == ["小节 “## 现象” 顺序不对"]


def test_yaml_error_names_the_line(tmp_path):
    _, problems = parse_article(write(tmp_path, GOOD.replace("title: 公文发送失败", "title: [公文发送失败")))
    assert len(problems) == 1 and problems[0].line == 3 and "YAML" in problems[0].message


def test_yaml_errors_are_explained_in_chinese(tmp_path):
    cases = {
        "title: 公文: 发送失败": "这里不能出现“键: 值”",
        'title: "公文发送失败': "引号或括号没有闭合",
        "applies_to: [V8.0, V8.1": "方括号列表里缺少逗号或右括号",
        "title: @公文": "这里有不能出现在值开头的字符",
    }
    for i, (line, reason) in enumerate(cases.items()):
        text = GOOD.replace("title: 公文发送失败", line).replace("applies_to: [V8.0, V8.1]", line) if "applies_to" in line \
            else GOOD.replace("title: 公文发送失败", line)
        article, problems = parse_article(write(tmp_path, text, f"{i}.md"))
        assert article is None and problems[0].message.startswith("YAML 语法错误：" + reason), (line, problems)
        assert not any(w in p.message for p in problems for w in ("found", "expected")), problems


def test_a_yaml_error_does_not_hide_the_files_other_problems(tmp_path):
    """One `kb check` run reports everything: each broken entry, then the fields and the
    body as if the broken entries were absent (an unreadable required field is not also
    reported missing)."""
    text = (GOOD.replace("title: 公文发送失败", 'title: "公文发送失败')
            .replace("applies_to: [V8.0, V8.1]", "applies_to: [V8.0, V8.1")
            .replace("status: validated", "status: published")
            .replace("## 原因\n", "## 起因\n")
            .replace("owner:", "reveiw_by: 2027-01-01\nowner:"))
    article, problems = parse_article(write(tmp_path, text))
    assert article is None
    found = {(p.line, p.message.split("：")[0].split("（")[0]) for p in problems}
    lines = text.splitlines()
    line_of = lambda start: next(i for i, l in enumerate(lines, 1) if l.startswith(start))
    assert (line_of("title:"), "YAML 语法错误") in found
    assert (line_of("applies_to:"), "YAML 语法错误") in found
    assert any(p.line == line_of("status:") and "published" in p.message for p in problems)
    assert any(p.line == line_of("reveiw_by:") and "review_by" in p.hint for p in problems)
    assert any("## 原因" in p.message for p in problems)
    assert not any("缺少必填字段 title" in p.message or "缺少必填字段 applies_to" in p.message for p in problems)


def test_duplicate_key(tmp_path):
    _, problems = parse_article(write(tmp_path, GOOD.replace("owner: 公文产品组", "owner: 公文产品组\ntitle: 另一个")))
    assert any("字段 title 重复" in p.message and p.line == 13 for p in problems)


def test_non_utf8_names_the_line(tmp_path):
    _, problems = parse_article(write(tmp_path, GOOD, encoding="gb18030"))
    assert len(problems) == 1 and problems[0].line == 3 and "UTF-8" in problems[0].message


def test_utf8_bom_is_accepted(tmp_path):
    article, problems = parse_article(write(tmp_path, "\ufeff" + GOOD))
    assert problems == [] and article.id == "KB-0042"


def test_unterminated_front_matter(tmp_path):
    _, problems = parse_article(write(tmp_path, "---\nid: KB-0001\n"))
    assert problems[0].line == 1 and "结束标记" in problems[0].message


def test_page_audience_validated(tmp_path):
    fm, problems = parse_page(write(tmp_path, "---\ntitle: x\naudience: secret\n---\n# x\n"))
    assert fm.data["title"] == "x" and problems[0].line == 3


def test_one_line_code_span_is_not_a_fence(tmp_path):
    text = GOOD.replace("发送时报错。", "```Set-CASMailbox -Identity x```")
    article, problems = parse_article(write(tmp_path, text))
    assert problems == [] and len(article.sections()) == 4
