"""Synonym groups: loaded from the project's data file, checked, matched in queries."""

from conftest import ROOT, vendor_project
from kb.checks import check_project
from kb.project import Project
from kb.search.synonyms import load_synonyms


def test_sample_synonyms_load():
    project = Project.load(ROOT)
    assert project.synonyms_problems == []
    found = project.synonyms.find("手机App闪一下就没了，公文发不出去")
    variants = [v for v, _ in found]
    assert variants == ["手机", "app", "闪一下就没了", "公文", "发不出去"]
    group = dict(found)["发不出去"]
    assert "无法发送" in group and "发送失败" in group


def test_longest_variant_wins(tmp_path):
    path = tmp_path / "s.yml"
    path.write_text("groups:\n  - [发送, 寄出]\n  - [无法发送, 发不出去]\n", encoding="utf-8")
    synonyms, problems = load_synonyms(path, "s.yml")
    assert problems == []
    assert [v for v, _ in synonyms.find("邮件无法发送")] == ["无法发送"]


def test_full_width_and_case_normalised(tmp_path):
    path = tmp_path / "s.yml"
    path.write_text("groups:\n  - [License, 许可证]\n", encoding="utf-8")
    synonyms, _ = load_synonyms(path, "s.yml")
    assert synonyms.find("ＬＩＣＥＮＳＥ 过期")[0][1] == ("License", "许可证")


def test_bad_synonyms_file_is_reported_by_check(tmp_path):
    root = tmp_path / "p"
    vendor_project(root)
    (root / "docs" / "_data" / "synonyms.yml").write_text(
        "groups:\n  - [闪退, 崩溃]\n  - [单个]\n  - [崩溃, 自动关闭]\n", encoding="utf-8")
    problems = check_project(Project.load(root))
    assert [(p.path, p.line) for p in problems] == [("docs/_data/synonyms.yml", 3), ("docs/_data/synonyms.yml", 4)]
    assert "已在第 2 行的组里" in problems[1].message
