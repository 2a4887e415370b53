"""kb.sqlite_wal: two processes creating the same store at once (two `kb link`, or `kb
serve` for both audiences started together) must both open it."""

import multiprocessing
from pathlib import Path

import pytest

from kb.serve.events import EventStore, EventStoreError
from kb.tickets.store import StoreError, TicketStore

STORES = {"tickets": (TicketStore, StoreError), "events": (EventStore, EventStoreError)}


def _open_new_store(kind: str, path: str, barrier, failures) -> None:
    store, error = STORES[kind]
    barrier.wait()  # both processes open the same new file at the same moment
    try:
        store(Path(path)).close()
    except error as err:
        failures.put(str(err))


@pytest.mark.parametrize("kind", STORES)
def test_two_processes_creating_the_store_at_once(tmp_path, kind):
    """Neither may fail while the other switches the new file to WAL (SQLite said
    "database is locked" at once: 1 open in 5 for the ticket store, 1 in 3 for the events)."""
    context = multiprocessing.get_context("spawn")
    failures = context.Queue()
    for round_ in range(20):
        path = tmp_path / f"{round_}.sqlite"
        barrier = context.Barrier(2)
        processes = [context.Process(target=_open_new_store, args=(kind, str(path), barrier, failures))
                     for _ in range(2)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
            assert process.exitcode == 0
        if kind == "tickets":
            with TicketStore(path) as store:
                assert store.version  # created once, whole
        else:
            EventStore(path, create=False).close()  # created once, whole: its schema version is checked
    assert failures.empty(), failures.get()
