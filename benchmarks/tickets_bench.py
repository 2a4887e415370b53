"""Ticket pipeline benchmark: read, scrub, link and extract symptoms for N tickets.

Generates the synthetic export (kb.tickets.sample, GBK CSV) with N good tickets in a
temporary folder, then times each step on it — best of --repeat runs for the read.

Usage: .venv/bin/python benchmarks/tickets_bench.py [--count 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

from kb.project import Project
from kb.tickets import Scrubber, extract_symptoms, group_symptoms, link_tickets, read_tickets
from kb.tickets.sample import write_sample

ROOT = Path(__file__).resolve().parents[1]


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    project = Project.load(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        stats, seconds = timed(lambda: write_sample(path, count=args.count, project=project))
        print(f"Python {platform.python_version()} on {platform.machine()}")
        print(f"sample: {stats.rows:,} rows, {stats.bytes / 1e6:.1f} MB GBK, generated in {seconds:.1f} s")
        runs = [timed(lambda: read_tickets(path)) for _ in range(args.repeat)]
        batch, best = min(runs, key=lambda r: r[1])
        print(f"read:     {best:6.2f} s  {stats.rows / best:9,.0f} rows/s  "
              f"({len(batch.tickets):,} tickets, {batch.rejected_count} rejected, encoding {batch.encoding})")
        scrubber, seconds = timed(lambda: Scrubber.for_tickets(batch.tickets))
        print(f"scrubber: {seconds:6.2f} s  ({len(scrubber.names)} names)")
        _, seconds = timed(lambda: [scrubber.scrub_ticket(t) for t in batch.tickets])
        print(f"scrub:    {seconds:6.2f} s  {len(batch.tickets) / seconds:9,.0f} tickets/s")
        result, seconds = timed(lambda: link_tickets(batch.tickets, project))
        print(f"link:     {seconds:6.2f} s  {len(batch.tickets) / seconds:9,.0f} tickets/s  "
              f"({len(result.links):,} links, {len(result.dangling)} dangling)")
        article_of = {link.ticket_id: link.article_id for link in result.links}
        occurrences, seconds = timed(lambda: [(article_of.get(t.id), t.id, s.text)
                                              for t in batch.tickets for s in extract_symptoms(t.description)])
        print(f"symptoms: {seconds:6.2f} s  {len(batch.tickets) / seconds:9,.0f} tickets/s  ({len(occurrences):,} symptoms)")
        groups, seconds = timed(lambda: group_symptoms(occurrences, scrubber=scrubber))
        print(f"group:    {seconds:6.2f} s  ({len(groups):,} groups)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
