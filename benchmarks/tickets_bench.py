"""Ticket linking benchmark: `kb link` end to end on N synthetic tickets, and its steps.

Generates the synthetic export (kb.tickets.sample, GBK CSV) with N good tickets (default
100,000, plus the sample's 7 bad rows) in a temporary folder, then measures

  1. end to end, each in a fresh process (wall time and peak RSS):
     - baseline: a process that only reads the export (`kb.tickets.read_tickets`), so the
       table shows what linking costs relative to reading the same file;
     - `kb link FILE --project P --json --quiet` on a fresh copy of this project
       (mkdocs.yml, docs/ without docs/_data/ticket_links.json, kb_articles/ — no
       search_index/, so the internal search index for the gap suggestions is built
       from scratch, as on a first run);
     - the same command again on the same project and file: the merge path, which must
       be idempotent (same report, same ticket_links.json bytes — checked);
  2. the steps in this process on the same tickets: read, scrubber (reporter names),
     scrub, link (references), symptoms (extraction), group (near-duplicates).

Every figure is the median of --repeat runs (a fresh project copy per end-to-end
repetition). The target of the ticket-linking issue is ≥ 2,000 tickets/s end to end,
gap suggestions included.

Each end-to-end process runs as a grandchild of this script: a small runner process
starts it, waits for it and reads resource.getrusage(RUSAGE_CHILDREN), so the peak RSS is
that of one run only (RUSAGE_CHILDREN keeps the largest child a process ever waited
for, so the runs cannot share one parent). Wall time is taken in the runner around the
child, so it includes interpreter start-up and imports.

Usage: .venv/bin/python benchmarks/tickets_bench.py [--count 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kb.project import Project
from kb.tickets import Scrubber, extract_symptoms, group_symptoms, link_tickets, read_tickets
from kb.tickets.sample import write_sample

ROOT = Path(__file__).resolve().parents[1]
TARGET = 2000  # tickets/s end to end (issue "Ticket linking", item 8)
RESULT_PREFIX = "RESULT "
READ_ONLY = "import sys; from kb.tickets import read_tickets; print(len(read_tickets(sys.argv[1]).tickets))"


# Measuring: parent → runner (reads RUSAGE_CHILDREN) → measured process
# --------------------------------------------------------------------------------------

def run_child(out: str, command: list[str]) -> None:
    """Runner: run `command` once, its stdout to `out`; print its wall time and peak RSS."""
    with open(out, "wb") as stdout:
        start = time.perf_counter()
        proc = subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(RESULT_PREFIX + json.dumps({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                                      "rss_mb": usage.ru_maxrss / 1024}), flush=True)  # KiB on Linux


def measure(command: list[str], out: Path) -> dict:
    """Run `command` in a fresh process tree; returns wall_s, cpu_s and rss_mb."""
    proc = subprocess.run([sys.executable, __file__, "_run", str(out), *command], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr or proc.stdout)
    return json.loads(proc.stdout.strip().splitlines()[-1].removeprefix(RESULT_PREFIX))


def kb_command() -> list[str]:
    script = Path(sys.executable).parent / "kb"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "kb"]


def copy_project(target: Path) -> Path:
    """mkdocs.yml, docs/ and kb_articles/ of this project, without the ticket links."""
    target.mkdir(parents=True)
    shutil.copy2(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", target / "docs",
                    ignore=lambda folder, names: ["ticket_links.json"] if Path(folder).name == "_data" else [])
    shutil.copytree(ROOT / "kb_articles", target / "kb_articles")
    return target


# The benchmark
# --------------------------------------------------------------------------------------

def timed(function):
    """(result, wall seconds, CPU seconds of this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - start, time.process_time() - cpu


def median_of(repeat: int, function):
    """(last result, median wall seconds, median CPU seconds) of `repeat` runs."""
    runs = [timed(function) for _ in range(repeat)]
    return runs[-1][0], statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)


def end_to_end(path: Path, tmp: Path, repeat: int) -> tuple[dict[str, dict], dict, bool]:
    """Median wall time, CPU time and peak RSS of the read baseline and of both `kb link` runs;
    the first run's report; whether every second run changed nothing."""
    runs: dict[str, list[dict]] = {"read": [], "first": [], "second": []}
    idempotent, report = True, {}
    for i in range(repeat):
        runs["read"].append(measure([sys.executable, "-c", READ_ONLY, str(path)], tmp / "read.out"))
        project = copy_project(tmp / f"project-{i}")
        command = [*kb_command(), "link", str(path), "--project", str(project), "--json", "--quiet"]
        links = project / "docs" / "_data" / "ticket_links.json"
        runs["first"].append(measure(command, tmp / "first.json"))
        data = links.read_bytes()
        runs["second"].append(measure(command, tmp / "second.json"))
        report = json.loads((tmp / "first.json").read_text(encoding="utf-8"))
        second = json.loads((tmp / "second.json").read_text(encoding="utf-8"))
        idempotent &= second == report and links.read_bytes() == data
        shutil.rmtree(project)
    medians = {name: {key: statistics.median(r[key] for r in rs) for key in ("wall_s", "cpu_s", "rss_mb")}
               for name, rs in runs.items()}
    return medians, report, idempotent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    project = Project.load(ROOT)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "export.csv"
        stats, seconds, _ = timed(lambda: write_sample(path, count=args.count, project=project))
        n = stats.tickets
        print(f"Python {platform.python_version()} on {platform.machine()}, {dt.date.today()}; "
              f"medians of {args.repeat} runs")
        print(f"sample: {stats.rows:,} rows ({n:,} tickets + {stats.bad_rows} bad rows), "
              f"{stats.bytes / 1e6:.1f} MB GBK, generated in {seconds:.1f} s")

        e2e, report, idempotent = end_to_end(path, tmp, args.repeat)

        batch, *read_s = median_of(args.repeat, lambda: read_tickets(path))
        tickets = batch.tickets
        scrubber, *scrubber_s = median_of(args.repeat, lambda: Scrubber.for_tickets(tickets))
        _, *scrub_s = median_of(args.repeat, lambda: [scrubber.scrub_ticket(t) for t in tickets])
        result, *link_s = median_of(args.repeat, lambda: link_tickets(tickets, project))
        article_of = {link.ticket_id: link.article_id for link in result.links}
        occurrences, *symptoms_s = median_of(args.repeat, lambda: [
            (article_of.get(t.id), t.id, s.text) for t in tickets for s in extract_symptoms(t.description)])
        groups, *group_s = median_of(args.repeat, lambda: group_symptoms(occurrences, scrubber=scrubber))

    rows = []  # step, wall s, CPU s, tickets/s, peak RSS MB, × read, note

    def e2e_row(label, name, note):
        m = e2e[name]
        rows.append((label, m["wall_s"], m["cpu_s"], n / m["wall_s"], f"{m['rss_mb']:,.0f}",
                     m["wall_s"] / e2e["read"]["wall_s"], note))

    e2e_row("read process (baseline)", "read", "read_tickets only, incl. start-up")
    e2e_row("kb link, first run", "first", "new project; builds the search index")
    e2e_row("kb link, second run", "second", "merge path: " + ("idempotent" if idempotent else "NOT IDEMPOTENT"))
    steps = [
        ("  read", read_s, f"{len(tickets):,} tickets, {batch.rejected_count} rejected, {batch.encoding}"),
        ("  scrubber", scrubber_s, f"{len(scrubber.names)} names"),
        ("  scrub", scrub_s, ""),
        ("  link (references)", link_s, f"{len(result.links):,} links, {len(result.dangling)} dangling"),
        ("  symptoms", symptoms_s, f"{len(occurrences):,} symptoms"),
        ("  group", group_s, f"{len(groups):,} groups"),
    ]
    for label, (wall, cpu), note in steps:
        rows.append((label, wall, cpu, n / wall, "", wall / read_s[0], note))

    headers = ("step", "wall s", "CPU s", "tickets/s", "peak RSS MB", "× read", "")
    cells = [headers] + [(label, f"{wall:.2f}", f"{cpu:.2f}", f"{rate:,.0f}", rss, f"{ratio:.1f}", note)
                         for label, wall, cpu, rate, rss, ratio, note in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers) - 1)]
    print()
    for index, row in enumerate(cells):
        left = row[0].ljust(widths[0])
        middle = "  ".join(cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:]))
        print(f"{left}  {middle}  {row[-1]}".rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))
        if index == 3:
            print("steps, in this process:")

    rate = n / e2e["first"]["wall_s"]
    suggested = sum(1 for g in report.get("gaps", []) if g.get("suggestion"))
    print()
    print("tickets/s and × read use wall time; × read: end-to-end rows against the read process,")
    print("steps against the in-process read. CPU s (user + system) is less affected by other load.")
    print(f"Report: {report.get('tickets', 0):,} tickets, {len(report.get('rows_rejected', []))} rows rejected, "
          f"link rate {report.get('link_rate', 0):.1%}, {len(report.get('dangling', []))} dangling, "
          f"{len(report.get('gaps', []))} gaps ({suggested} with a suggested article)")
    print(f"Target ≥ {TARGET:,} tickets/s end to end, at {n:,} tickets: first run {rate:,.0f}/s, "
          f"second run {n / e2e['second']['wall_s']:,.0f}/s → "
          f"{'met' if min(rate, n / e2e['second']['wall_s']) >= TARGET else 'NOT MET'}")
    return 0 if idempotent else 1


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "_run":
        run_child(sys.argv[2], sys.argv[3:])
        sys.exit(0)
    sys.exit(main())
