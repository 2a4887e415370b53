"""Concurrent and interrupted runs, with real subprocesses: searches while the index is
rebuilt, two writers at once, and `kb index` / `kb build` killed half-way."""

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from generated import KB, new_project, wait_for

SEARCH = ["search", "公文 发送 失败", "--json", "--limit", "3"]


def kb(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*KB, *args], capture_output=True, text=True, timeout=600, **kw)


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([*KB, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = new_project(tmp_path_factory.mktemp("concurrent") / "p", 300)
    result = kb("index", "--project", str(root), "--quiet")
    assert result.returncode == 0, result.stderr
    return root


def search_ok(root: Path) -> list[str]:
    result = kb(*SEARCH, "--project", str(root))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    hits = json.loads(result.stdout)
    assert hits, "no result"
    return [h["id"] for h in hits]


def test_searches_while_the_index_is_rebuilt(project):
    expected = search_ok(project)
    rebuilds = 0
    searches = 0
    writer = start("index", "--rebuild", "--quiet", "--project", str(project))
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and (rebuilds < 4 or searches < 15):
        if writer.poll() is not None:
            assert writer.returncode == 0, writer.stderr.read()
            writer.stdout.close(), writer.stderr.close()
            rebuilds += 1
            writer = start("index", "--rebuild", "--quiet", "--project", str(project))
        assert search_ok(project) == expected   # the old index or the new one: same articles
        searches += 1
    writer.wait()
    writer.stdout.close(), writer.stderr.close()
    assert rebuilds >= 2 and searches >= 10, (rebuilds, searches)
    assert not list((project / "search_index").glob(".public.*")), "staging or old folders left behind"


def test_two_writers_at_once(project):
    writers = [start("index", "--rebuild", "--json", "--project", str(project)),
               start("index", "--json", "--project", str(project))]
    reports = []
    for w in writers:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
        reports.append(json.loads(out))
    assert {r["documents"] for r in reports} == {300}
    # The index they leave is complete and current: nothing to update, search works.
    again = json.loads(kb("index", "--json", "--project", str(project)).stdout)
    assert again["rebuilt"] is False and again["unchanged"] == 300 and not again["added"]
    assert search_ok(project)


# Interrupted runs ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """2,000 articles, indexed and built once."""
    root = new_project(tmp_path_factory.mktemp("interrupted") / "p", 2000)
    for args in (("index", "--quiet"), ("build",)):
        result = kb(*args, "--project", str(root))
        assert result.returncode == 0, result.stderr
    return root


def snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def kill_when(proc: subprocess.Popen, staging) -> Path:
    """SIGKILL `proc` once its staging folder has appeared and holds something."""
    found = wait_for(lambda: proc.poll() is None and next((p for p in staging() if any(p.iterdir())), None)
                     or (proc.poll() is not None and "exited"), timeout=300)
    assert found != "exited", f"finished before it could be killed: {proc.communicate()}"
    time.sleep(0.3)  # well inside the work
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    return found


def test_killed_index_rebuild_leaves_the_old_index(big):
    index = big / "search_index"
    before = snapshot(index / "public")
    expected = search_ok(big)
    for _ in range(2):  # two kills: leftovers would pile up
        left = set(index.glob(".public.building-*"))  # the last kill's, removed by this run
        proc = start("index", "--rebuild", "--quiet", "--project", str(big))
        staging = kill_when(proc, lambda: list(set(index.glob(".public.building-*")) - left))
        assert staging.exists()  # left behind by the killed run...
        assert snapshot(index / "public") == before  # ...while the real index is untouched
        assert search_ok(big) == expected  # and searched, not mistaken for a staging folder
    result = kb("index", "--rebuild", "--json", "--project", str(big))
    assert result.returncode == 0 and json.loads(result.stdout)["documents"] == 2000
    assert not list(index.glob(".public.*"))  # the next run cleaned up after the killed ones
    assert search_ok(big) == expected


def test_killed_build_leaves_the_old_site(big):
    site = big / "site"
    before = snapshot(site)
    page = (site / "kb" / "KB-00001" / "index.html").read_bytes()
    for _ in range(2):
        proc = start("build", "--project", str(big))
        kill_when(proc, lambda: list(big.glob(".site.building-*")))
        assert snapshot(site) == before
        assert (site / "kb" / "KB-00001" / "index.html").read_bytes() == page
    assert len(list(big.glob(".site.building-*"))) >= 1
    result = kb("build", "--project", str(big))
    assert result.returncode == 0, result.stderr
    assert not [p.name for p in big.iterdir() if p.name.startswith(".site")]  # stale staging removed
    assert (site / "kb" / "KB-02000" / "index.html").is_file() and (site / "assets" / "kb" / "search" / "meta.js").is_file()


def test_cleanup_spares_a_build_that_is_still_running(big):
    """Two builds at once: the second must not delete the first one's staging folder."""
    first = start("build", "--project", str(big))
    wait_for(lambda: list(big.glob(".site.building-*")), timeout=300)
    second = start("build", "--project", str(big))
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert (big / "site" / "kb" / "KB-00001" / "index.html").is_file()
