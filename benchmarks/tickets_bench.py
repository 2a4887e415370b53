"""Ticket store benchmark: `kb link` end to end on N synthetic tickets, against reading alone.

Generates the synthetic export (kb.tickets.sample, GBK CSV) with N good tickets (default
1,000,000, plus the sample's 7 bad rows) in a temporary folder, then measures, each in a
fresh process (wall time, CPU time and peak RSS):

  - baseline: a process that only streams the export through the reader
    (`kb.tickets.open_export`), so the table shows what linking costs against reading;
  - `kb link FILE --project P --json --quiet` on a fresh copy of this project (mkdocs.yml,
    docs/ without a ticket store, kb_articles/; no search_index/, so the internal index
    behind the gap suggestions is built from scratch, as on a first run);
  - the same command again on the unchanged export: it must be skipped, and change
    nothing (same report, same store version — checked).

Targets (issue "Ticket data you can trust"): at 1,000,000 tickets, ≥ 4,000 tickets/s end
to end, peak memory ≤ 600 MB, and the re-run in ≤ 25 % of the first run's time.

Each end-to-end process runs as a grandchild of this script: a small runner process
starts it, waits for it and reads resource.getrusage(RUSAGE_CHILDREN), so the peak RSS is
that of one run only. Wall time is taken in the runner around the child, so it includes
interpreter start-up and imports. Figures are medians of --repeat runs.

Usage: .venv/bin/python benchmarks/tickets_bench.py [--count 1000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kb.project import Project
from kb.tickets.sample import write_sample

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATE = 4000        # tickets/s end to end
TARGET_RSS_MB = 600
TARGET_RERUN = 0.25       # re-run of an unchanged export, against the first run
RESULT_PREFIX = "RESULT "
READ_ONLY = ("import sys; from kb.tickets import open_export; s = open_export(sys.argv[1]); "
             "print(sum(1 for _ in s), s.tickets)")


def tree_rss_mb(pid: int) -> float:
    """Memory of a process and all its descendants (kb link's extraction workers), as the
    sum of their proportional set sizes: pages a forked worker shares with its parent
    count once, not once per process as in a sum of RSS."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            total += int(rollup.split("\nPss:")[1].split()[0]) if "\nPss:" in rollup else 0
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue  # it ended meanwhile
    return total / 1024


def run_child(out: str, command: list[str]) -> None:
    """Runner: run `command` once, its stdout to `out`; print its wall time, its CPU time,
    the peak RSS of its largest process and the peak PSS summed over its process tree
    (sampled every 0.1 s)."""
    with open(out, "wb") as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        tree = 0.0
        while proc.poll() is None:
            tree = max(tree, tree_rss_mb(proc.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            stderr.seek(0)
            sys.exit(f"{' '.join(command)} failed ({proc.returncode}):\n{stderr.read().decode(errors='replace')}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(RESULT_PREFIX + json.dumps({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                                      "rss_mb": usage.ru_maxrss / 1024, "tree_mb": tree}), flush=True)  # KiB on Linux


def measure(command: list[str], out: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "_run", str(out), *command], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr or proc.stdout)
    return json.loads(proc.stdout.strip().splitlines()[-1].removeprefix(RESULT_PREFIX))


def kb_command() -> list[str]:
    script = Path(sys.executable).parent / "kb"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "kb"]


def copy_project(target: Path) -> Path:
    """mkdocs.yml, docs/ and kb_articles/ of this project, without the ticket store."""
    target.mkdir(parents=True)
    shutil.copy2(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", target / "docs",
                    ignore=shutil.ignore_patterns("ticket_links.json", "tickets.sqlite*"))
    shutil.copytree(ROOT / "kb_articles", target / "kb_articles")
    return target


def store_version(project: Path) -> str:
    db = sqlite3.connect(project / "docs" / "_data" / "tickets.sqlite")
    try:
        return db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
    finally:
        db.close()


def end_to_end(path: Path, tmp: Path, repeat: int) -> tuple[dict[str, dict], dict, bool]:
    """Median wall, CPU and peak RSS of the read baseline and both `kb link` runs; the first
    run's report; whether every re-run was skipped and changed nothing."""
    runs: dict[str, list[dict]] = {"read": [], "first": [], "again": []}
    unchanged, report = True, {}
    for i in range(repeat):
        runs["read"].append(measure([sys.executable, "-c", READ_ONLY, str(path)], tmp / "read.out"))
        project = copy_project(tmp / f"project-{i}")
        command = [*kb_command(), "link", str(path), "--project", str(project), "--json", "--quiet"]
        runs["first"].append(measure(command, tmp / "first.json"))
        version = store_version(project)
        runs["again"].append(measure(command, tmp / "again.json"))
        report = json.loads((tmp / "first.json").read_text(encoding="utf-8"))
        again = json.loads((tmp / "again.json").read_text(encoding="utf-8"))
        unchanged &= ({**again, "files": None} == {**report, "files": None} and again["files"][0]["skipped"]
                      and store_version(project) == version)
        shutil.rmtree(project)
    medians = {name: {key: statistics.median(r[key] for r in rs) for key in ("wall_s", "cpu_s", "rss_mb", "tree_mb")}
               for name, rs in runs.items()}
    return medians, report, unchanged


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    project = Project.load(ROOT)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "export.csv"
        started = time.perf_counter()
        stats = write_sample(path, count=args.count, project=project)
        n = stats.tickets
        print(f"Python {platform.python_version()} on {platform.machine()}, {dt.date.today()}; "
              f"medians of {args.repeat} run(s)")
        print(f"sample: {stats.rows:,} rows ({n:,} tickets + {stats.bad_rows} bad rows), "
              f"{stats.bytes / 1e6:.1f} MB GBK, generated in {time.perf_counter() - started:.0f} s")
        e2e, report, unchanged = end_to_end(path, tmp, args.repeat)

    read, first, again = e2e["read"], e2e["first"], e2e["again"]
    rows = [
        ("read process (baseline)", read, "streams the export, incl. start-up"),
        ("kb link, first run", first, "new project: store created, search index built"),
        ("kb link, unchanged export", again, "skipped and unchanged" if unchanged else "NOT SKIPPED OR CHANGED"),
    ]
    headers = ("step", "wall s", "CPU s", "tickets/s", "RSS MB, largest", "PSS MB, all", "× read", "")
    cells = [headers] + [(label, f"{m['wall_s']:.1f}", f"{m['cpu_s']:.1f}", f"{n / m['wall_s']:,.0f}",
                          f"{m['rss_mb']:,.0f}", f"{m['tree_mb']:,.0f}", f"{m['wall_s'] / read['wall_s']:.2f}", note)
                         for label, m, note in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers) - 1)]
    print()
    for index, row in enumerate(cells):
        print(f"{row[0].ljust(widths[0])}  " + "  ".join(c.rjust(w) for c, w in zip(row[1:-1], widths[1:]))
              + f"  {row[-1]}".rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))

    rate, rss, rerun = n / first["wall_s"], max(first["rss_mb"], first["tree_mb"]), again["wall_s"] / first["wall_s"]
    suggested = sum(1 for g in report.get("gaps", []) if g.get("suggestion"))
    print()
    print(f"Report: {report.get('tickets', 0):,} tickets, {len(report.get('rows_rejected', []))} rows rejected, "
          f"link rate {report.get('link_rate', 0):.1%}, {len(report.get('dangling', []))} dangling, "
          f"{len(report.get('gaps', []))} gaps ({suggested} with a suggested article)")
    checks = [(f"≥ {TARGET_RATE:,} tickets/s end to end", f"{rate:,.0f}/s", rate >= TARGET_RATE),
              (f"peak memory ≤ {TARGET_RSS_MB} MB (all processes)", f"{rss:,.0f} MB", rss <= TARGET_RSS_MB),
              (f"re-run ≤ {TARGET_RERUN:.0%} of the first", f"{rerun:.1%}", rerun <= TARGET_RERUN)]
    print(f"Targets at {n:,} tickets:")
    for what, value, met in checks:
        print(f"  {what}: {value} → {'met' if met else 'NOT MET'}")
    return 0 if unchanged else 1


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "_run":
        run_child(sys.argv[2], sys.argv[3:])
        sys.exit(0)
    sys.exit(main())
