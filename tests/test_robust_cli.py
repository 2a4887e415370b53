"""Every error of the `kb` command, run as a real process: exit status ≠ 0, a one-line
message naming the file (and line) and what to do, no traceback unless `kb --debug`."""

import shutil
import subprocess
from pathlib import Path

import pytest

from generated import KB, new_project
from test_checks import article


def kb(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*KB, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def error_lines(result) -> list[str]:
    """The message lines of a failed run (click's usage lines aside)."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    return [l for l in result.stderr.splitlines() if l.strip() and not l.startswith(("用法:", "查看帮助："))]


def one_error(result) -> str:
    lines = error_lines(result)
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    root = new_project(tmp_path_factory.mktemp("cli") / "p", 30)
    assert kb("index", "--quiet", "--project", str(root)).returncode == 0
    return root


COMMANDS = [["check"], ["list"], ["build"], ["index"], ["search", "公文"], ["link", "export.csv"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_missing_project_dir(tmp_path, command):
    missing = tmp_path / "nowhere"
    line = one_error(kb(*command, "--project", str(missing)))
    assert line == f"错误：{missing}: 项目目录不存在（用 --project 指向知识库项目目录）"


def test_folder_without_mkdocs_yml(tmp_path):
    line = one_error(kb("check", "--project", str(tmp_path)))
    assert f"{tmp_path / 'mkdocs.yml'}: 找不到 mkdocs.yml" in line and "kb init" in line


def broken_mkdocs_yml(tmp_path) -> Path:
    root = new_project(tmp_path / "p", 1)
    config = root / "mkdocs.yml"
    lines = config.read_text(encoding="utf-8").splitlines()
    n = next(i for i, l in enumerate(lines) if l.startswith("site_name:"))
    lines[n] = "site_name: [未闭合"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("command", COMMANDS[:5], ids=lambda c: c[0])
def test_mkdocs_yml_yaml_error(tmp_path, command):
    root = broken_mkdocs_yml(tmp_path)
    line = one_error(kb(*command, "--project", str(root)))
    where = f"错误：{root / 'mkdocs.yml'}:"
    assert line.startswith(where) and "YAML 语法错误" in line
    assert line[len(where):].split(":")[0].isdigit()


def test_mkdocs_yml_yaml_error_says_what_to_do(tmp_path):
    root = broken_mkdocs_yml(tmp_path)
    line = one_error(kb("check", "--project", str(root)))
    n = next(i for i, l in enumerate((root / "mkdocs.yml").read_text(encoding="utf-8").splitlines(), 1)
             if l.startswith("site_name:"))
    assert f"mkdocs.yml:{n}:" in line and line.endswith("）")


def test_unreadable_ticket_file(tmp_path, indexed):
    # An export that cannot be read even by root: reading /proc/self/mem at offset 0 fails
    # with EIO (a permission error is what a user would usually get; tests run as root).
    export = tmp_path / "export.csv"
    export.symlink_to("/proc/self/mem")
    result = kb("link", str(export), "--project", str(indexed))
    lines = error_lines(result)
    assert result.returncode == 1
    assert lines[0].startswith(f"{export}:1: 无法读取文件：") and "检查文件的读取权限" in lines[0]
    assert lines[-1] == "错误：工单导出文件无法使用，未写入任何数据。"
    assert not (indexed / "docs" / "_data" / "tickets.sqlite").exists()


def test_ticket_file_that_is_a_folder(tmp_path, indexed):
    folder = tmp_path / "export.csv"
    folder.mkdir()
    result = kb("link", str(folder), "--project", str(indexed))
    assert result.returncode == 2
    assert one_error(result) == f"错误：'TICKETS...' 的值无效：文件 '{folder}' 是目录，不是文件。"


def test_bad_audience_value(indexed):
    for command in (["build"], ["index"], ["list"], ["search", "公文"]):
        result = kb(*command, "--audience", "everyone", "--project", str(indexed))
        assert result.returncode == 2
        assert one_error(result) == "错误：'--audience' 的值无效：'everyone' 不是可选值（可选：'public', 'internal'）。"


def test_usage_errors_and_help_are_chinese(indexed):
    """click's own messages (a missing argument, an unknown option or command, the usage
    line and help headings) reach users in Chinese, with the help for a bare group."""
    cases = [(["search", "--project", str(indexed)], "错误：缺少参数 'QUERY...'。"),
             (["search", "--nope", "公文"], "错误：没有选项 '--nope'。"),
             (["nope"], "错误：没有子命令 'nope'。"),
             (["index", "extra", "--project", str(indexed)], "错误：多余的参数（extra）")]
    for args, expected in cases:
        result = kb(*args)
        assert result.returncode == 2 and one_error(result) == expected, (args, result.stderr)
        assert result.stderr.startswith("用法: kb ") and "查看帮助：kb" in result.stderr
    bare = kb("report")
    assert "命令:" in bare.stderr and "错误" not in bare.stderr and "Usage" not in bare.stderr
    help_text = kb("search", "-h").stdout
    assert "选项:" in help_text and "显示本帮助并退出。" in help_text and "Show this" not in help_text


def corrupt(index: Path, how: str) -> None:
    if how == "truncated segment":
        for seg in index.glob("*.seg"):
            seg.write_bytes(seg.read_bytes()[:2000])
    elif how == "garbage toc":
        for toc in index.glob("_MAIN_*.toc"):
            toc.write_bytes(b"\x00garbage" * 10)
    elif how == "missing segment":
        for seg in index.glob("*.seg"):
            seg.unlink()
    elif how == "binary vocabulary":
        (index / "vocabulary.txt").write_bytes(b"\xff\xfe\x00junk")


@pytest.mark.parametrize("how", ["truncated segment", "garbage toc", "missing segment", "binary vocabulary"])
def test_corrupted_index(tmp_path, indexed, how):
    root = tmp_path / "p"
    shutil.copytree(indexed, root)
    assert kb("index", "--rebuild", "--quiet", "--project", str(root)).returncode == 0  # its own paths
    corrupt(root / "search_index" / "public", how)
    line = one_error(kb("search", "公文", "--project", str(root)))
    assert line.startswith("错误：search_index/public: ") and f"kb index --project {root}" in line and "--rebuild" in line
    # `kb index` notices the damage and rebuilds (the vocabulary is rewritten on every
    # run); then searching works again.
    repaired = kb("index", "--project", str(root))
    assert repaired.returncode == 0 and ("全部重建" in repaired.stdout or how == "binary vocabulary"), repaired.stderr
    assert kb("search", "公文", "--project", str(root)).returncode == 0


def test_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path):
    root = new_project(tmp_path / "p", 3)
    shutil.rmtree(root / "search_index")
    (root / "search_index").write_text("not a folder", encoding="utf-8")  # e.g. a stray file
    line = one_error(kb("index", "--project", str(root)))
    assert line == f"错误：已存在同名文件或目录：{root / 'search_index'}（加 --debug 查看详细信息）"
    debug = kb("--debug", "index", "--project", str(root))
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "FileExistsError" in debug.stderr


def test_site_dir_that_cannot_be_written(tmp_path):
    root = new_project(tmp_path / "p", 3)
    line = one_error(kb("build", "--project", str(root), "--site-dir", "/proc/kb-site"))
    assert line.startswith("错误：") and "Errno" not in line and "/proc/" in line and line.endswith("（加 --debug 查看详细信息）")


def test_refused_build_and_check_say_what_to_do(tmp_path):
    root = new_project(tmp_path / "p", 0)
    (root / "kb_articles" / "a.md").write_text(article("KB-0001").replace("status: validated", "status: ok"), encoding="utf-8")
    for command, last in (("check", "共 1 个问题。"), ("build", "错误：检查未通过，未构建站点（原有站点保持不变）。请先修正以上问题。")):
        result = kb(command, "--project", str(root))
        assert result.returncode == 1 and "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert lines[0] == "kb_articles/a.md:7: status 的值 'ok' 不允许（可选值：draft | validated | archived）"
        assert lines[-1] == last
