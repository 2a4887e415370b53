"""Planted personal data never leaves the tool, by any door.

Two exports (tests/planted.py) carry phones, landlines, e-mail addresses, ID numbers,
IPs, QQ and WeChat ids, bank cards, plates, staff and passport numbers, addresses, names
and links with hosts in them, in every form people type them, inside symptom clauses of
tickets that cite real articles, three or more times (the public site's threshold), in
dangling links, notes and rejected time cells. The second export has no reporter column
values and names the first one's reporters: names must be remembered across runs.

Then every command that reads or shows ticket data runs on one copy of the sample
project, and every byte it wrote or printed is searched for every planted value: command
output, site/, site-internal/, search_index/, docs/ (reports, the SQLite ticket store as
bytes and cell by cell), everything under the project. Only the exports themselves,
which live outside the project, may hold the values.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from planted import (CANARY, CANARY_2, PLANTED, SERVICE_HOTLINES, Exports, LeakScanner, copy_project, digits_of,
                     planted, run_kb, write_exports)

# Where a planted value may legitimately appear in the outputs: nowhere. (The exports
# are written outside the project and never scanned.)
LEGITIMATE: dict[str, str] = {}

SEARCHES = [  # (query words, audience): symptoms callers reported are indexed and shown
    (["公文发送失败"], "public"), (["收不到待办推送"], "public"), (["附件上传失败"], "public"),
    (["登录", "提示用户名或密码错误"], "public"), (["打印控件"], "public"), (["会议室", "已被占用"], "public"),
    (["请回电"], "internal"), (["那边", "公文发送失败"], "internal"), (["证书验证失败"], "internal"),
]


@dataclass
class Pipeline:
    root: Path
    exports: Exports
    baseline: LeakScanner                                    # the pristine copy, before any command
    runs: list[tuple[str, subprocess.CompletedProcess]] = field(default_factory=list)

    def run(self, name: str, *args) -> subprocess.CompletedProcess:
        result = run_kb(*args, "--project", self.root)
        self.runs.append((name, result))
        return result

    def output(self, name: str) -> subprocess.CompletedProcess:
        return dict(self.runs)[name]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Pipeline:
    tmp = tmp_path_factory.mktemp("planted")
    exports = write_exports(tmp / "exports")
    root = copy_project(tmp / "project")
    assert not exports.a.resolve().is_relative_to(root.resolve())
    baseline = LeakScanner(PLANTED)
    baseline.scan_tree(root, root)
    p = Pipeline(root, exports, baseline)
    a, b = exports.a, exports.b
    p.run("link A", "link", a)                        # human output: rejected rows on stderr
    p.run("link B --json", "link", b, "--json")       # later run, no reporters: names remembered
    p.run("index --json", "index", "--json")
    p.run("index --audience internal --json", "index", "--audience", "internal", "--json")
    p.run("build", "build")
    p.run("build --audience internal", "build", "--audience", "internal")
    p.run("report sla --page", "report", "sla", a, b, "--page")
    p.run("report sla --json", "report", "sla", a, b, "--json")
    p.run("build --audience internal (with the SLA page)", "build", "--audience", "internal")
    p.run("review --json", "review", "--json")
    p.run("review", "review")
    for words, audience in SEARCHES:
        p.run(f"search {' '.join(words)} --audience {audience} --json", "search", *words, "--audience", audience, "--json")
    p.run("search 公文发送失败 请回电", "search", "公文发送失败", "请回电")
    p.run("search 请回电那边 --audience internal", "search", "请回电那边", "--audience", "internal")
    p.run("link A --json (again)", "link", a, "--json")    # rejected rows as JSON
    p.run("link B --json (again)", "link", b, "--json")    # after A again: names still remembered
    return p


def scan_outputs(p: Pipeline, values) -> LeakScanner:
    scanner = LeakScanner(values)
    for name, result in p.runs:
        scanner.scan_text(f"$ kb {name} (stdout)", result.stdout)
        scanner.scan_text(f"$ kb {name} (stderr)", result.stderr)
    scanner.scan_tree(p.root, p.root)  # site/, site-internal/, search_index/, docs/ (reports, _data) …
    return scanner


def test_planted_values_are_what_the_exports_hold_and_the_project_does_not(pipeline):
    """The scanner's own check: it finds every planted value in the exports (so its forms
    match what was written), none in the pristine project (no false alarms), and no
    planted number is one of the service centre's own hotlines."""
    scanner = LeakScanner(PLANTED)
    scanner.scan_file(pipeline.exports.a, "export_a.csv")
    scanner.scan_file(pipeline.exports.b, "export_b.csv")
    assert [v.label for v in PLANTED if v not in scanner.hits] == []
    assert pipeline.baseline.hits == {}, pipeline.baseline.report()
    assert not [v.label for v in PLANTED for d in v.digits for h in SERVICE_HOTLINES if d in h or h in d]
    assert not LEGITIMATE


def test_every_command_succeeds(pipeline):
    failed = [f"$ kb {name}: exit {r.returncode}\n{r.stderr[-2000:]}" for name, r in pipeline.runs if r.returncode != 0]
    assert not failed, "\n\n".join(failed)


def test_every_ticket_is_stored_and_the_bad_time_cells_are_rejected(pipeline):
    exports = pipeline.exports
    report = json.loads(pipeline.output("link B --json (again)").stdout)
    assert report["tickets"] == exports.a_tickets + exports.b_tickets
    rejected = json.loads(pipeline.output("link A --json (again)").stdout)["rows_rejected"]
    assert len(rejected) == exports.a_rejected and all(r["reason"] for r in rejected)
    first = pipeline.output("link A")
    assert first.stderr.count("已跳过") == exports.a_rejected, first.stderr
    sla = json.loads(pipeline.output("report sla --json").stdout)
    assert len(sla["rejected"]) == exports.a_rejected


def test_canaries_reach_every_output_a_symptom_can_reach(pipeline):
    """A unique, harmless phrase reported by three tickets in each export must be found
    wherever symptoms go: otherwise the leak scan of that output proves nothing."""
    root = pipeline.root
    canaries = [planted("canary", CANARY), planted("canary", CANARY_2)]
    store = root / "docs" / "_data" / "tickets.sqlite"
    pages = ("kb/KB-0001/index.html", "kb/KB-0019/index.html")

    def scan_pages(site):
        return lambda s: [s.scan_file(root / site / page, f"{site}/{page}") for page in pages if (root / site / page).is_file()]
    places = {
        "kb link --json": lambda s: s.scan_text("kb link --json", pipeline.output("link B --json (again)").stdout),
        "site/ (the articles' 用户反馈的现象)": scan_pages("site"),
        "site-internal/": scan_pages("site-internal"),
        "search_index/public": lambda s: s.scan_tree(root / "search_index" / "public", root),
        "search_index/internal": lambda s: s.scan_tree(root / "search_index" / "internal", root),
        "docs/_data/tickets.sqlite (cells)": lambda s: s.scan_sqlite("tickets.sqlite", store) if store.is_file() else None,
    }
    missing = []
    for place, scan in places.items():
        scanner = LeakScanner(canaries)
        scan(scanner)
        missing += [f"{c.value} not found in {place}" for c in canaries if c not in scanner.hits]
    if not (root / "site-internal" / "reports" / "sla" / "index.html").is_file():
        missing.append("the SLA page (reports/sla/) is not in the internal site")
    if (root / "site" / "reports").exists():
        missing.append("the public site has reports/")
    assert not missing, "\n".join(missing) + ("" if store.is_file() else "\n(docs/_data/tickets.sqlite does not exist)")


def test_no_planted_value_leaves_the_tool(pipeline):
    """Not in command output, the sites, the search indexes, the reports or the ticket
    store — raw, normalised (digits of numbers however grouped, Latin in any case,
    HTML/URL/JSON escapes undone) or as bytes in binary files."""
    store = pipeline.root / "docs" / "_data" / "tickets.sqlite"
    scanner = scan_outputs(pipeline, PLANTED)
    leaked = {value: hits for value, hits in scanner.hits.items() if value.value not in LEGITIMATE}
    scanner.hits = leaked
    summary = f"{len(leaked)} of {len(PLANTED)} planted values leaked (scanned {len(scanner.scanned)} outputs" + \
        ("" if store.is_file() else "; docs/_data/tickets.sqlite does not exist") + "):\n"
    assert not leaked, summary + scanner.report()


def test_numbers_are_matched_however_they_are_grouped():
    """The scanner finds a number with other separators than it was planted with."""
    value = planted("手机号", "13817264953", number=True)
    for text in ("回电 138-1726-4953", "138 1726 4953", "1381726 4953", "１３８１７２６４９５３", "138.1726.4953",
                 "&#49;3817264953", "138%201726%204953", "\\u0031\\u0033817264953"):
        scanner = LeakScanner([value])
        scanner.scan_text("t", text)
        assert value in scanner.hits, text
    scanner = LeakScanner([value])
    scanner.scan_text("t", "共 1200 张工单，13817 个，264953 次")  # other numbers, not one run
    assert scanner.hits == {}
    assert digits_of("１３８") == "138"
