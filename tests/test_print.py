"""Printable training: each role's guide as one page, and as a PDF, every lesson in order."""

import re

from click.testing import CliRunner
from pypdf import PdfReader

from conftest import copy_sample
from kb.articles import parse_page
from kb.build import build_site
from kb.cli import cli
from kb.project import Project
from kb.site.printing import find_guides
from kb.project import read_mkdocs_yml


def lesson_titles(root, guide):
    return [parse_page(root / "docs" / page)[0].data["title"] for page in guide.pages]


def test_guides_found_from_the_nav(sample_copy):
    guides = find_guides(read_mkdocs_yml(sample_copy / "mkdocs.yml")["nav"])
    assert [g.title for g in guides] == ["系统管理员", "操作用户", "领导"]
    assert [len(g.pages) for g in guides] == [6, 5, 4]


def test_print_page_and_pdf_hold_every_lesson_in_order(tmp_path):
    root = copy_sample(tmp_path / "p")
    site = build_site(Project.load(root), pdf=True)
    for guide in find_guides(read_mkdocs_yml(root / "mkdocs.yml")["nav"]):
        titles = lesson_titles(root, guide)
        html = (site / guide.folder / "print" / "index.html").read_text(encoding="utf-8")
        headings = [re.sub(r"<a [^>]*>.*?</a>|<[^>]+>", "", h).strip() for h in re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)]
        assert headings[1:] == titles          # the first h1 is the guide's own title
        index = (site / guide.folder / "index.html").read_text(encoding="utf-8")
        assert "打印整本指南" in index and 'href="print/"' in index
        pages = PdfReader(site / guide.folder / guide.pdf_name).pages
        texts = [page.extract_text() for page in pages]
        # A4 sheets, each headed with the guide's name and numbered "第 n 页，共 N 页".
        assert all((round(float(p.mediabox.width)), round(float(p.mediabox.height))) == (595, 842) for p in pages)
        header = f"{guide.title}培训指南"
        # The cover sheet: site, guide, version, date printed, hotlines; no header or number.
        cover = "".join(texts[0].split())  # pypdf puts spaces around Latin runs
        assert ["".join(line.split()) for line in texts[0].strip().split("\n")[:2]] == ["协同办公系统自助服务中心", header]
        assert "版本：2026年11月版（适用V8.1）" in cover and re.search(r"印制日期：\d{4}-\d\d-\d\d", cover)
        assert "400-810-2468" in cover and "139-1000-2468" in cover and "第 1 页" not in cover
        texts = texts[1:]
        assert all(text.strip().split("\n")[0].strip() == header for text in texts)
        assert [re.search(r"第\s*(\d+)\s*页，共\s*(\d+)\s*页", text).groups() for text in texts] == [
            (str(n), str(len(pages))) for n in range(2, len(pages) + 1)]
        assert not any("开始第一课" in text or "另存为 PDF" in text for text in texts)  # web-only text
        first_lines = [next(line.strip() for line in text.strip().split("\n")[1:] if not re.match(r"\s*第\s*\d+\s*页", line))
                       for text in texts]
        assert [line for line in first_lines if line in titles] == titles
        assert f'href="{guide.pdf_name}" download>下载 PDF' in index
    # A later build without --pdf prints them again (not lost, not stale) and says where.
    result = CliRunner().invoke(cli, ["build", "--project", str(root)])
    assert result.exit_code == 0, result.output
    for guide in find_guides(read_mkdocs_yml(root / "mkdocs.yml")["nav"]):
        pdf = site / guide.folder / guide.pdf_name
        assert pdf.is_file() and f"培训指南 PDF：{pdf}" in result.output


def test_guide_version_from_front_matter_or_a_fingerprint_of_the_lessons(sample_copy):
    from kb.site.printing import guide_version
    docs = sample_copy / "docs"
    guide = find_guides(read_mkdocs_yml(sample_copy / "mkdocs.yml")["nav"])[0]
    assert guide_version(guide, docs) == "2026 年 11 月版（适用 V8.1）"
    first = docs / guide.pages[0]
    first.write_text(re.sub(r"(?m)^version: .*\n", "", first.read_text(encoding="utf-8")), encoding="utf-8")
    fingerprint = guide_version(guide, docs)
    assert re.fullmatch(r"修订 [0-9a-f]{8}", fingerprint)
    lesson = docs / guide.pages[-1]
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    assert guide_version(guide, docs) != fingerprint
