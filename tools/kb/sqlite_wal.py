"""Switching a SQLite file to WAL, shared by the ticket store (`kb link`) and the event
store (`kb serve`): both are created by whichever process comes first, and two may come
at once (two `kb link`, or `kb serve` for both audiences started together at boot)."""

from __future__ import annotations

import sqlite3
import time

SWITCH_SECONDS = 30  # for another process switching the same new file


def use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to WAL. While another connection is switching a new file, SQLite
    answers "database is locked" at once instead of waiting on the busy timeout (1 open
    in 3 to 5 when two processes started together): tried again until that one is done."""
    deadline = time.monotonic() + SWITCH_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
