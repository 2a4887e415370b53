"""Huge inputs: a 5 MB article, an article of inline base64 screenshots, 10,000 articles.
`kb check`, `kb index` and `kb build` complete, each in its own process, whose peak
memory (getrusage RUSAGE_CHILDREN ru_maxrss, see generated.measure) is printed (pytest -s)
and bounded."""

import json
import re
import subprocess

import pytest

from generated import KB, huge_article, image_article, measure, new_project

MB = 1024 * 1024


def run_all(root, limits: dict[str, float], search: str | None = None) -> dict[str, tuple[float, float]]:
    """check, index, build (and a search): each must succeed within its memory limit (MB)."""
    figures = {}
    commands = {"check": ["check"], "index": ["index", "--quiet"], "build": ["build"]}
    if search:
        commands["search"] = ["search", search, "--json"]
    for name, args in commands.items():
        run = measure([*args, "--project", str(root)])
        assert run.returncode == 0, (name, run.stderr[-2000:])
        assert "Traceback" not in run.stderr
        figures[name] = (run.seconds, run.peak_mb)
        print(f"\n{root.name}: kb {name}: {run.seconds} s, peak {run.peak_mb} MB", end="")
        assert run.peak_mb < limits[name], (name, run.peak_mb)
        if name == "search":
            figures["hits"] = [h["id"] for h in json.loads(run.stdout)]
    return figures


def test_article_of_inline_base64_images(tmp_path, record_property):
    root = new_project(tmp_path / "images", 20)
    text = image_article("KB-90002", images=6, image_bytes=600_000)   # 4.8 MB of data: URIs
    assert len(text.encode()) > 4 * MB
    (root / "kb_articles" / "images.md").write_text(text, encoding="utf-8")
    figures = run_all(root, {"check": 200, "index": 500, "build": 700, "search": 200}, search="附件预览空白")
    record_property("peak_mb", figures)
    assert "KB-90002" in figures["hits"]
    # The images are on the page, but not in the search index or the site search.
    page = (root / "site" / "kb" / "KB-90002" / "index.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 6
    vocabulary = (root / "search_index" / "public" / "vocabulary.txt").read_text(encoding="utf-8")
    assert "base64" not in vocabulary and max(len(line.split("\t")[0]) for line in vocabulary.split("\n")) < 50
    size = (root / "search_index" / "public").stat().st_size + sum(
        p.stat().st_size for p in (root / "search_index" / "public").iterdir())
    assert size < 2 * MB, size   # no base64 blob stored in the whoosh index


def test_search_in_an_article_full_of_matches(tmp_path):
    root = new_project(tmp_path / "dense", 0)
    text = huge_article("KB-90003", 0).replace("## 解决办法", "## 解决办法\n\n" + "公文发送失败。" * 40_000, 1)
    (root / "kb_articles" / "dense.md").write_text(text, encoding="utf-8")
    assert subprocess.run([*KB, "index", "--quiet", "--project", str(root)], timeout=300).returncode == 0
    result = subprocess.run([*KB, "search", "公文发送失败", "--project", str(root)], capture_output=True, timeout=8)
    assert result.returncode == 0


@pytest.mark.slow
def test_five_megabyte_article(tmp_path, record_property):
    root = new_project(tmp_path / "huge", 20)
    text = huge_article("KB-90001", 5 * MB)
    (root / "kb_articles" / "huge.md").write_text(text, encoding="utf-8")
    figures = run_all(root, {"check": 300, "index": 600, "build": 900})
    record_property("peak_mb", figures)
    page = (root / "site" / "kb" / "KB-90001" / "index.html").read_text(encoding="utf-8")
    assert page.count('<table>') >= 3000 and "步骤 3000" in page
    # A word of its own that occurs once: found, and the search stays quick.
    run = measure(["search", "超大文章", "--json", "--project", str(root)])
    print(f"\nhuge: kb search (one match): {run.seconds} s, peak {run.peak_mb} MB", end="")
    assert run.returncode == 0 and json.loads(run.stdout)[0]["id"] == "KB-90001"


@pytest.mark.slow
def test_ten_thousand_articles(tmp_path, record_property):
    root = new_project(tmp_path / "many", 10_000)
    figures = run_all(root, {"check": 400, "index": 1200, "build": 2000, "search": 400}, search="公文 发送 失败")
    record_property("peak_mb", figures)
    assert len(figures["hits"]) == 5
    site = root / "site"
    assert sum(1 for _ in (site / "kb").glob("KB-*/index.html")) == 10_000
    module = (site / "kb" / "module" / "general" / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r'href="\.\./\.\./KB-\d{5}/"', module)) == 10_000
    # Articles are not in the nav: a page stays small however many articles there are.
    assert (site / "kb" / "KB-05000" / "index.html").stat().st_size < 200_000
    assert sum(1 for _ in (site / "assets" / "kb" / "search" / "d").glob("*.js")) == 10_000  # one search record each


def test_check_a_line_of_unclosed_links(tmp_path):
    root = new_project(tmp_path / "links", 0)
    text = huge_article("KB-90004", 0).replace("## 解决办法", "## 解决办法\n\n" + "[](x" * 12_000 + "\n\n" + "[" * 60_000, 1)
    (root / "kb_articles" / "links.md").write_text(text, encoding="utf-8")
    result = subprocess.run([*KB, "check", "--project", str(root)], capture_output=True, timeout=10)
    assert result.returncode == 0, result.stderr
