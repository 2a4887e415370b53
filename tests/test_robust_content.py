"""Bad content, all at once: one `kb check` run names every broken file with its line, and
`kb build` refuses while the previous site stays byte-identical and keeps being served."""

import functools
import http.server
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest

from generated import KB
from test_checks import article
from conftest import vendor_project

BOM = b"\xef\xbb\xbf"


def malformed_project(root: Path) -> dict[str, tuple[int, str]]:
    """A project whose every article is broken in its own way; returns, per file, the line
    and a fragment of the message `kb check` must report for it (None: no problem)."""
    vendor_project(root)
    arts = root / "kb_articles"

    def write(name: str, text: str | bytes) -> None:
        path = arts / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))

    write("ok.md", article("KB-0001"))
    write("bad_yaml.md", article("KB-0002").replace("title: 测试文章 KB-0002", 'title: "未闭合'))
    write("missing_fields.md", article("KB-0003").replace("owner: 测试组\n", "").replace("symptoms: [页面打不开]\n", ""))
    write("bad_id.md", article("KB-0004").replace("id: KB-0004", "id: KB-4"))
    write("dup/dup_id.md", article("KB-0001"))
    write("bad_date.md", article("KB-0005").replace("review_by: 2026-07-05", "review_by: 2026-02-30"))
    write("section_order.md", article("KB-0006").replace("## 现象\n\n打不开。\n\n", "")
          .replace("## 解决办法", "## 现象\n\n打不开。\n\n## 解决办法"))
    write("gbk.md", article("KB-0007").encode("gbk"))
    write("bom_ok.md", BOM + article("KB-0008").encode("utf-8"))
    write("bom_bad_status.md", BOM + article("KB-0011").replace("status: validated", "status: published").encode("utf-8"))
    write("empty.md", b"")
    write("binary.md", bytes(range(256)) * 8)
    write("nul.md", article("KB-0012").replace("owner: 测试组", "owner: 测\x00试组"))
    write("list.md", "---\n- id: KB-0013\n- title: 列表\n---\n\n## 现象\n")
    write("unclosed.md", "---\nid: KB-0014\ntitle: 没有结束标记\n\n## 现象\n")
    write("link.md", article("KB-0009", solution="见 [另一篇](KB-0999)。"))
    write("alias.md", article("KB-0010").replace("owner: 测试组", "owner: 测试组\naliases: ['../../etc', ok-alias]"))
    return {
        "bad_yaml.md": (3, "YAML 语法错误"),
        "missing_fields.md": (1, "缺少必填字段 owner"),
        "bad_id.md": (2, "编号 'KB-4' 格式不对"),
        "dup/dup_id.md": (2, "编号 KB-0001 已被 kb_articles/ok.md 使用"),
        "ok.md": (2, "编号 KB-0001 已被 kb_articles/dup/dup_id.md 使用"),
        "bad_date.md": (10, "review_by 的日期 '2026-02-30' 无效"),
        "section_order.md": (22, "小节 “## 现象” 顺序不对"),
        "gbk.md": (3, "文件不是 UTF-8 编码"),
        "bom_ok.md": None,
        "bom_bad_status.md": (7, "status 的值 'published' 不允许"),
        "empty.md": (1, "缺少前置元数据"),
        "binary.md": (2, "文件不是 UTF-8 编码"),
        "nul.md": (11, "控制字符 U+0000"),
        "list.md": (2, "前置元数据必须是“键: 值”的映射"),
        "unclosed.md": (1, "前置元数据没有结束标记"),
        "link.md": (28, "链接 KB-0999 指向不存在的文章"),
        "alias.md": (12, "别名 '../../etc' 不能用作网址"),
    }


def kb(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*KB, *args], capture_output=True, text=True, timeout=300, **kw)


def test_one_check_run_lists_every_broken_article(tmp_path):
    root = tmp_path / "p"
    expected = malformed_project(root)
    result = kb("check", "--project", str(root))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for name, where in expected.items():
        mine = [line for line in lines if line.startswith(f"kb_articles/{name}:")]
        if where is None:
            assert mine == [], name
            continue
        line, fragment = where
        assert any(l.startswith(f"kb_articles/{name}:{line}: ") and fragment in l for l in mine), (name, mine)
        assert all("（" in l and l.endswith("）") for l in mine), mine  # every problem has a hint
    # Every problem line names a file and a line; the summary counts them.
    problems = lines[:-1]
    assert all(l.split(":")[1].isdigit() for l in problems)
    assert lines[-1] == f"共 {len(problems)} 个问题。"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """Serve a folder over HTTP in a thread, as `python -m http.server` would."""
    servers = []

    def start(directory: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return response.read()


def snapshot(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_refused_build_leaves_the_served_site_untouched(tmp_path, serve):
    root = tmp_path / "p"
    vendor_project(root)
    (root / "kb_articles" / "ok.md").write_text(article("KB-0001"), encoding="utf-8")
    built = kb("build", "--project", str(root))
    assert built.returncode == 0, built.stderr
    site = root / "site"
    before = snapshot(site)
    base = serve(site)
    page = fetch(base + "kb/KB-0001/")
    assert page == before["kb/KB-0001/index.html"]

    expected = malformed_project(tmp_path / "broken")
    for path in (tmp_path / "broken" / "kb_articles").rglob("*.md"):
        if path.name != "ok.md":
            dest = root / "kb_articles" / path.relative_to(tmp_path / "broken" / "kb_articles")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(path.read_bytes())

    refused = subprocess.Popen([*KB, "build", "--project", str(root)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    during = 0
    while refused.poll() is None:  # the site is served the whole time the build runs
        assert fetch(base + "kb/KB-0001/") == page
        during += 1
    out, err = refused.communicate()
    assert refused.returncode == 1 and during > 0
    assert "Traceback" not in err
    assert err.rstrip().splitlines()[-1] == "错误：检查未通过，未构建站点（原有站点保持不变）。请先修正以上问题。"
    for name, where in expected.items():
        if where is not None and name != "ok.md":
            assert f"kb_articles/{name}:{where[0]}: " in err, name
    assert snapshot(site) == before
    assert fetch(base + "kb/KB-0001/") == page and fetch(base) == before["index.html"]
    assert not [p for p in root.iterdir() if p.name.startswith(".site")]  # no staging folder left
