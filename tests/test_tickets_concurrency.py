"""`kb link` run several times at once on one project keeps every ticket.

Each export holds distinct tickets (the sample generator's rows, ids prefixed per file);
2 or 4 `kb link` processes start together, all before any is waited for. Afterwards every
process has exited 0 and the ticket store, docs/_data/tickets.sqlite (table `tickets`, one
row per ticket, primary key `id`), holds every ticket exactly once; a last `kb link --json`
reports them all, with the same counts as linking the same exports one after another.
The old JSON store lost about 600 of 1,200 tickets in 4 of 5 trials with two processes,
so the two-process case runs three times.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from planted import KB, copy_project, run_kb, write_csv

STORE = Path("docs/_data/tickets.sqlite")


def sample_tickets(project: Path, seed: int, count: int, prefix: str) -> list[list[str]]:
    """`count` good rows of the synthetic sample export (kb.tickets.sample), ids made
    unique across files with `prefix`. The generator's bad rows (ids GD…9nn, a short
    row, a broken line, a duplicate id) are left out: every row written is one ticket."""
    from kb.project import Project
    from kb.tickets.sample import HEADERS, generate

    rows, _ = generate(Project.load(project), seed, count)
    good: dict[str, list[str]] = {}
    for row in rows:
        if isinstance(row, list) and len(row) == len(HEADERS) and int(row[0][-3:]) < 900:
            good.setdefault(row[0], row)
    assert len(good) == count
    return [[f"{prefix}-{ticket_id}", *rest] for ticket_id, *rest in good.values()]


def stored_ids(root: Path) -> list[str]:
    path = root / STORE
    assert path.is_file(), f"{STORE} was not written"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        count = db.execute("select count(*) from tickets").fetchone()[0]
        ids = [r[0] for r in db.execute("select id from tickets")]
    finally:
        db.close()
    assert count == len(ids)
    return ids


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A project whose internal search index is built (kb link's first run would build
    it), and the exports: A and B of 600 tickets, Q1…Q4 of 300."""
    from kb.tickets.sample import HEADERS

    tmp = tmp_path_factory.mktemp("concurrency")
    base = copy_project(tmp / "base")
    result = run_kb("index", "--audience", "internal", "--quiet", "--project", base)
    assert result.returncode == 0, result.stderr
    exports, ids = {}, {}
    for name, seed, count in [("A", 11, 600), ("B", 12, 600), ("Q1", 21, 300), ("Q2", 22, 300),
                              ("Q3", 23, 300), ("Q4", 24, 300)]:
        rows = sample_tickets(base, seed, count, name)
        exports[name] = write_csv(tmp / "exports" / f"{name}.csv", HEADERS, rows)
        ids[name] = {row[0] for row in rows}
    return tmp, base, exports, ids


def fresh_copy(workspace, name: str) -> Path:
    tmp, base, _, _ = workspace
    dest = tmp / name
    shutil.copytree(base, dest)
    return dest


def link_at_once(root: Path, files: list[Path]) -> None:
    """Start one `kb link FILE --quiet --json` per file, all before waiting for any."""
    processes = [subprocess.Popen([*KB, "link", str(f), "--project", str(root), "--quiet", "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    results = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        results.append((process.returncode, out, err))
    failed = [f"kb link {f.name}: exit {code}\n{err[-3000:]}" for f, (code, _, err) in zip(files, results) if code != 0]
    assert not failed, "\n\n".join(failed)
    for f, (_, out, _) in zip(files, results):
        report = json.loads(out)  # each run printed a whole report
        assert report["tickets"] >= 1, f.name


def final_report(root: Path, export: Path) -> dict:
    result = run_kb("link", export, "--project", root, "--quiet", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_every_ticket_stored(root: Path, expected: set[str]) -> None:
    ids = stored_ids(root)
    missing = expected - set(ids)
    extra = set(ids) - expected
    assert not missing and not extra and len(ids) == len(expected), (
        f"store holds {len(ids)} rows ({len(set(ids))} distinct ids) for {len(expected)} tickets: "
        f"{len(missing)} missing (e.g. {sorted(missing)[:5]}), {len(extra)} unexpected (e.g. {sorted(extra)[:5]})")


@pytest.mark.parametrize("trial", range(3))
def test_two_links_at_once_keep_every_ticket(workspace, trial):
    _, _, exports, ids = workspace
    root = fresh_copy(workspace, f"two-{trial}")
    link_at_once(root, [exports["A"], exports["B"]])
    expected = ids["A"] | ids["B"]
    assert_every_ticket_stored(root, expected)
    assert final_report(root, exports["A"])["tickets"] == len(expected) == 1200


def test_four_links_at_once_keep_every_ticket_and_agree_with_one_after_another(workspace):
    _, _, exports, ids = workspace
    files = [exports[f"Q{n}"] for n in range(1, 5)]
    root = fresh_copy(workspace, "four")
    link_at_once(root, files)
    expected = set().union(*(ids[f"Q{n}"] for n in range(1, 5)))
    assert_every_ticket_stored(root, expected)
    together = final_report(root, files[0])

    serial = fresh_copy(workspace, "four-serial")
    for f in files:
        final_report(serial, f)
    assert_every_ticket_stored(serial, expected)
    alone = final_report(serial, files[0])
    assert together["tickets"] == alone["tickets"] == len(expected) == 1200
    for key in ("linked", "link_rate", "by_month", "by_module"):
        assert together[key] == alone[key], key
    assert sorted(map(json.dumps, together["dangling"])) == sorted(map(json.dumps, alone["dangling"]))
    assert {a: v["tickets"] for a, v in together["articles"].items()} == {a: v["tickets"] for a, v in alone["articles"].items()}


def test_the_same_export_twice_at_once_counts_each_ticket_once(workspace):
    _, _, exports, ids = workspace
    root = fresh_copy(workspace, "same")
    link_at_once(root, [exports["A"], exports["A"]])
    assert_every_ticket_stored(root, ids["A"])
    assert final_report(root, exports["A"])["tickets"] == len(ids["A"]) == 600
