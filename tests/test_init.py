"""`kb init` makes a new project that carries the new vendor's own name, hotlines and site
address, marks what it was not given (and the promises only the vendor can make) as
〔待填写：…〕 for `kb check` to report, and holds nothing of the sample vendor's."""

import os
import pty
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from conftest import HOTLINE, ROOT, fill_in_promises, vendor_project
from kb.checks import check_project
from kb.cli import cli
from kb.commitments import Hotline, load_commitments
from kb.project import Project, read_mkdocs_yml
from kb.scaffold import TEMPLATE, Vendor, init_project, parse_hotline, parse_site_url

OPTIONS = ["--name", "某某科技", "--hotline", HOTLINE, "--hotline", "值班手机=139 0000 0000=节假日及夜间",
           "--site-url", "https://kb.acme.test"]
# What kb init leaves for every vendor to fill in: the promised hours and the services.
PROMISES = {"故障响应承诺小时数", "故障排除承诺小时数", "现场到场承诺小时数", "服务项目", "服务期限或频次", "服务内容说明"}
MARKER = re.compile(r"〔待填写：([^〕]+)〕")
# The vendor's first article: the site's search examples come from it.
ARTICLE = """---
id: KB-0001
title: 登录时提示证书已过期
module: 常见问题
symptoms: [登录时提示“证书已过期”, 错误代码 AUTH-2001]
audience: public
status: validated
applies_to: [V1.0]
updated: 2026-01-05
review_by: 2026-07-05
owner: 测试组
---

## 现象

无法登录。

## 适用范围/环境

V1.0。

## 原因

证书过期。

## 解决办法

更新证书。
"""


def unfilled(root):
    """label → (path, line) of each problem kb check reports for a 〔待填写〕, after checking
    that the line it names does hold that marker and the hint says what to do there."""
    found = {}
    for p in check_project(Project.load(root)):
        label = p.message.removesuffix("尚未填写")
        assert label != p.message, p
        assert f"〔待填写：{label}〕" in (root / p.path).read_text(encoding="utf-8").split("\n")[p.line - 1], p
        assert p.hint == f"请把 {p.path} 第 {p.line} 行的“〔待填写：{label}〕”换成贵单位的{label}", p
        found[label] = (p.path, p.line)
    return found


def test_init_then_build_an_empty_project(tmp_path):
    target = tmp_path / "newkb"
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(target), *OPTIONS])
    assert result.exit_code == 0, result.output
    assert "还有 6 处" in result.output and "kb check" in result.output
    for name in ("mkdocs.yml", "docs/index.md", "docs/_data/commitments.yml", "kb_articles/README.md", "search_index/README.md", ".gitignore"):
        assert (target / name).is_file(), name
    assert set(unfilled(target)) == PROMISES
    fill_in_promises(target)
    assert runner.invoke(cli, ["check", "--project", str(target)]).exit_code == 0
    build = runner.invoke(cli, ["build", "--project", str(target)])
    assert build.exit_code == 0, build.output
    assert (target / "site" / "index.html").is_file()
    kb_index = (target / "site" / "kb" / "index.html").read_text(encoding="utf-8")
    assert "例如" not in kb_index  # no articles, no examples to give
    home = (target / "site" / "index.html").read_text(encoding="utf-8")
    assert "某某科技 自助服务中心" in home and 'href="tel:4001234567"' in home and "139 0000 0000" in home
    assert 'href="tel:13900000000"' in home and 'placeholder="输入您看到的现象或错误代码"' in home
    listing = runner.invoke(cli, ["list", "--project", str(target), "--json"])
    assert listing.exit_code == 0 and listing.stdout.strip() == "[]"


def test_the_vendor_given_goes_where_users_see_it(tmp_path):
    name = '某某"科技": #1'  # YAML specials are quoted, not interpreted
    hotlines = (Hotline("", "400-123-4567", "工作日 9:00–17:00"), Hotline("值班手机", "+86 (10) 1234-5678", ""))
    init_project(tmp_path / "p", Vendor(name, hotlines, "https://kb.acme.test/"))
    root = tmp_path / "p"
    config = read_mkdocs_yml(root / "mkdocs.yml")
    assert (config["site_name"], config["site_url"]) == (f"{name} 自助服务中心", "https://kb.acme.test/")
    assert f"# {name} 自助服务中心\n" in (root / "docs" / "index.md").read_text(encoding="utf-8")
    commitments = Project.load(root).commitments
    assert commitments.service_centre == f"{name} 服务中心"
    assert commitments.hotlines == (Hotline("服务热线", "400-123-4567", "工作日 9:00–17:00"),
                                    Hotline("值班手机", "+86 (10) 1234-5678", "〔待填写：值班手机受理时段〕"))
    assert set(unfilled(root)) == PROMISES | {"值班手机受理时段"}


def test_what_was_not_given_is_reported_until_filled_in_and_not_built(tmp_path):
    root = tmp_path / "p"
    init_project(root)
    found = unfilled(root)
    assert set(found) == PROMISES | {"组织名称", "站点网址", "服务热线号码", "服务热线受理时段"}
    assert found["组织名称"] == ("mkdocs.yml", 2) and found["站点网址"] == ("mkdocs.yml", 3)
    assert found["服务热线号码"][0] == "docs/_data/commitments.yml"
    # kb build runs kb check first: a site that would publish 〔待填写〕 as its hotline is not built.
    build = CliRunner().invoke(cli, ["build", "--project", str(root)])
    assert build.exit_code == 1 and "服务热线号码尚未填写" in build.output and "未构建站点" in build.output
    assert not (root / "site").exists()
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("〔待填写：组织名称〕", "某某科技"), encoding="utf-8")
    assert "组织名称" not in unfilled(root) and len(unfilled(root)) == len(found) - 1


def test_not_on_a_terminal_nothing_is_asked(tmp_path):
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "p")], input="某某科技\n400-123-4567\n")
    assert result.exit_code == 0, result.output
    assert "组织名称" not in result.output and "还有 10 处" in result.output
    assert "组织名称" in unfilled(tmp_path / "p")


def kb_init_on_a_terminal(args, answers: str) -> subprocess.CompletedProcess:
    """`kb init` with a pseudo-terminal as standard input, typed `answers`: a real TTY, as
    a user's shell gives it, rather than a patched check."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kb", "init", *map(str, args)], stdin=terminal,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(terminal)
    try:
        os.write(controller, answers.encode("utf-8"))
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        os.close(controller)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_a_terminal_is_asked_for_what_the_options_did_not_give(tmp_path):
    root = tmp_path / "p"
    # An answer that is no phone number is asked again; an empty one ends the hotlines.
    result = kb_init_on_a_terminal([root, "--site-url", "https://kb.acme.test"],
                                   f"某某科技\n客服=abc\n{HOTLINE}\n\n")
    assert result.returncode == 0, result.stderr
    assert "组织名称：" in result.stdout and "再添加一条服务热线" in result.stdout
    assert "站点网址" not in result.stdout  # given as an option
    assert "“abc”不是电话号码" in result.stderr
    config = read_mkdocs_yml(root / "mkdocs.yml")
    assert (config["site_name"], config["site_url"]) == ("某某科技 自助服务中心", "https://kb.acme.test/")
    assert Project.load(root).commitments.hotlines == (Hotline("服务热线", "400-123-4567", "工作日 9:00–17:00"),)
    assert set(unfilled(root)) == PROMISES


def test_a_terminal_is_not_asked_what_the_options_gave(tmp_path):
    result = kb_init_on_a_terminal([tmp_path / "p", *OPTIONS], "")  # a question would time out
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("已创建") and "还有 6 处" in result.stdout
    assert set(unfilled(tmp_path / "p")) == PROMISES


def test_empty_answers_on_a_terminal_leave_everything_to_fill_in(tmp_path):
    result = kb_init_on_a_terminal([tmp_path / "p"], "\n\n\n")
    assert result.returncode == 0, result.stderr
    assert "站点网址" in result.stdout and "还有 10 处" in result.stdout
    assert {"组织名称", "站点网址", "服务热线号码"} <= set(unfilled(tmp_path / "p"))


def test_hotline_format():
    assert parse_hotline(" 400-123-4567 ") == Hotline("", "400-123-4567", "")
    assert parse_hotline("值班手机=139 0000 0000") == Hotline("值班手机", "139 0000 0000", "")
    assert parse_hotline("国际=+86 (10) 1234-5678=工作日（午休=12:00–13:00 除外）") == \
        Hotline("国际", "+86 (10) 1234-5678", "工作日（午休=12:00–13:00 除外）")
    for bad in ("", "客服=", "abc", "12", "400-123-4567 转 8", "1+400-123-4567"):
        with pytest.raises(ValueError, match="号码"):
            parse_hotline(bad)


def test_site_url_format():
    assert parse_site_url(" https://kb.acme.test ") == "https://kb.acme.test/"
    assert parse_site_url("http://10.0.0.5:8000/kb/") == "http://10.0.0.5:8000/kb/"
    for bad in ("kb.acme.test", "ftp://kb.acme.test/", "https://", "https://kb acme.test/"):
        with pytest.raises(ValueError, match="http:// 或 https://"):
            parse_site_url(bad)


@pytest.mark.parametrize("option,value,says", [
    ("--hotline", "客服=abc", "“abc”不是电话号码"),
    ("--site-url", "kb.acme.test", "http:// 或 https://"),
])
def test_a_bad_option_is_refused_before_anything_is_made(tmp_path, option, value, says):
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "p"), option, value])
    assert result.exit_code == 2
    assert f"{option} 的值无效" in result.output and says in result.output
    assert not (tmp_path / "p").exists()


def test_init_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "existing.txt").write_text("x")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1 and "不为空" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.txt"]


def sample_strings() -> set[str]:
    """The sample vendor's own data: its hotlines (as shown and as dialled), service
    centre, the wording of its promises, its site's name and address."""
    commitments, problems = load_commitments(ROOT / "docs" / "_data" / "commitments.yml", "commitments.yml")
    assert not problems
    config = read_mkdocs_yml(ROOT / "mkdocs.yml")
    host = urlsplit(config["site_url"]).hostname
    found = {commitments.service_centre, "7×24", config["site_name"], config["site_description"], host,
             host.split(".", 1)[1], "公文 发送 失败", "公文发送失败", "ORA-12541"}
    for hotline in commitments.hotlines:
        found |= {hotline.number, re.sub(r"\D", "", hotline.number)}
    found |= {t.description for t in commitments.targets} | {s.description for s in commitments.services}
    return found


def test_a_new_project_holds_nothing_of_the_sample_vendor(tmp_path):
    root = vendor_project(tmp_path / "p")
    forbidden = sample_strings()
    # 公文 is the sample's module and its search example. The authoring guide (the same file
    # as the sample's, below) and the starter synonyms are about the product, not the vendor.
    shared = {root / "kb_articles" / "README.md", root / "docs" / "_data" / "synonyms.yml"}
    made = [p for p in root.rglob("*") if p.is_file()]
    assert [p for p in made if p not in shared and "公文" in p.read_text(encoding="utf-8")] == []

    (root / "kb_articles" / "a.md").write_text(ARTICLE, encoding="utf-8")
    build = CliRunner().invoke(cli, ["build", "--project", str(root)])
    assert build.exit_code == 0, build.output
    # The search examples are the project's own: its latest article's symptom and an error code.
    kb_index = (root / "site" / "kb" / "index.html").read_text(encoding="utf-8")
    assert "例如“登录时提示“证书已过期””“AUTH-2001”" in kb_index
    assert 'placeholder="输入您看到的现象或错误代码，例如：登录时提示“证书已过期”"' in (root / "site" / "index.html").read_text(encoding="utf-8")
    # Neither the files kb init made nor the site built from them.
    leaks = [(path.relative_to(root).as_posix(), s) for path in root.rglob("*") if path.is_file()
             for s in forbidden if s in path.read_bytes().decode("utf-8", "ignore")]
    assert leaks == []


def test_scaffold_shares_the_authoring_guide_and_commitments_schema():
    assert (TEMPLATE / "kb_articles" / "README.md").read_text(encoding="utf-8") == (ROOT / "kb_articles" / "README.md").read_text(encoding="utf-8")
    assert (TEMPLATE / "search_index" / "README.md").read_text(encoding="utf-8") == (ROOT / "search_index" / "README.md").read_text(encoding="utf-8")
