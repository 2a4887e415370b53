"""Article references in resolutions: every written form, aliases, dangling references."""

import datetime as dt

import pytest

from conftest import ROOT
from kb.project import Project
from kb.tickets import ReferenceResolver, Ticket, find_references, link_tickets


@pytest.fixture(scope="module")
def project():
    return Project.load(ROOT)


@pytest.fixture(scope="module")
def resolver(project):
    return ReferenceResolver.for_project(project)


def ticket(resolution, notes="", id="T1"):
    return Ticket(id, dt.datetime(2026, 3, 5, 14, 20), "描述", resolution, notes=notes)


@pytest.mark.parametrize("text, form, article_id", [
    ("按 KB-0023 处理", "id", "KB-0023"),
    ("按kb0023处理", "id", "KB-0023"),
    ("参见 KB 23。", "id", "KB-0023"),
    ("参见KB-23", "id", "KB-0023"),
    ("全角ＫＢ－００２３", "id", "KB-0023"),
    ("知识库23号", "number", "KB-0023"),
    ("请看知识库第23号文章", "number", "KB-0023"),
    ("知识库文章第 23 号", "number", "KB-0023"),
    ("文章编号 KB0023", "id", "KB-0023"),
    ("文章编号：23", "number", "KB-0023"),
    ("详见https://support.example.com/kb/KB-0023/。", "url", "KB-0023"),
    ("详见 http://10.20.1.15:8000/oa-help/kb/KB-0023/#解决办法 ", "url", "KB-0023"),
    ("旧链接 /kb/account-locked/ 仍可用", "url", "KB-0023"),
    ("旧编号 KB-9001", "id", "KB-0023"),
    ("按《密码正确仍提示“用户名或密码错误”（账号被锁定 AUTH-1003）》操作", "title", "KB-0023"),
    ("按《密码正确仍提示“用户名或密码错误”》操作", "title", "KB-0023"),       # without the trailing bracket
    ("参考“附件下载后文件名乱码”", "title", "KB-0018"),
    ("参考「附件下载后文件名乱码」", "title", "KB-0018"),
    ("见《KB-0018 附件下载后文件名乱码》一文", "title", "KB-0018"),         # quote contains the title
    ("见《上传大附件时进度条中断》", "title", "KB-0019"),                   # beginning of exactly one title
])
def test_each_reference_form_resolves(resolver, text, form, article_id):
    links, dangling = resolver.ticket_references(ticket(text))
    assert [(link.form, link.article_id) for link in links] == [(form, article_id)]
    assert dangling == []


@pytest.mark.parametrize("text", [
    "提示“用户名或密码错误”",                  # an error message inside a title is not a reference
    "“HTTP 500 内部服务器错误”",
    "已按《关于加强公文管理的通知》执行",        # a notice, not an article
    "附件超过 500 KB 3 个都传不了",            # a size
    "安装补丁 KB4012212 后重启",               # a Windows update
    "首页 https://support.example.com/kb/symptoms/ 和 /kb/module/document/",  # site pages
    "已处理",
])
def test_things_that_are_not_references(resolver, text):
    assert resolver.ticket_references(ticket(text)) == ([], [])


def test_dangling_references(resolver):
    links, dangling = resolver.ticket_references(ticket(
        "按KB-0999处理；旧文 KB-0037 不再适用；见 /kb/old-ie-print/ 和知识库999号；另见 KB-0024", notes="备注：KB-0123"))
    assert [link.article_id for link in links] == ["KB-0024"]
    assert [(d.ticket_id, d.text, d.article_id) for d in dangling] == [
        ("T1", "KB-0999", None), ("T1", "KB-0037", "KB-0037"), ("T1", "/kb/old-ie-print/", None),
        ("T1", "知识库999号", None), ("T1", "KB-0123", None)]
    assert "不存在" in dangling[0].reason and "已归档" in dangling[1].reason


def test_one_link_per_article_and_notes_are_searched(resolver):
    links, _ = resolver.ticket_references(ticket(
        "按 KB-0001 和 https://support.example.com/kb/KB-0001/ 处理", notes="同 /kb/document-send-500/，另见 kb0008"))
    assert [(link.field, link.text, link.article_id) for link in links] == [
        ("resolution", "KB-0001", "KB-0001"), ("notes", "kb0008", "KB-0008")]


def test_find_references_keeps_the_written_text_and_does_not_count_urls_twice():
    found = find_references("见 https://x.example/kb/KB-0042/ 与 KB 7、知识库第8号文章")
    assert [(f.form, f.key, f.text) for f in found] == [
        ("url", "KB-0042", "https://x.example/kb/KB-0042/"), ("id", "KB-0007", "KB 7"), ("number", "KB-0008", "知识库第8号文章")]


def test_link_tickets_over_a_batch(project):
    result = link_tickets([ticket("KB-0001", id="A"), ticket("已处理", id="B"), ticket("KB-0999", id="C")], project)
    assert [(link.ticket_id, link.article_id) for link in result.links] == [("A", "KB-0001")]
    assert [d.ticket_id for d in result.dangling] == ["C"]
    assert result.unlinked == ["B"]
