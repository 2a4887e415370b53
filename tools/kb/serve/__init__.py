"""`kb serve`: the built site and its feedback API on a production web server.

The server is waitress (pure-Python WSGI, a pool of threads): it installs from PyPI with
no C compiler, has no dependencies, and is the one long maintained in production use on
both Linux and Windows. A thread pool suits the work: a search is synchronous, CPU-bound
code (whoosh, the model's C engine) that an ASGI server (uvicorn, starlette) would have
to run in threads anyway, and static files are small. Threads meet two shared things,
both guarded in kb.serve.app: the process's opened search index (SEARCH_LOCK) and the
event store (only its writer thread touches SQLite).

    server = Server(project, "public", "127.0.0.1", 8000)
    server.run()          # until stop() (or SIGTERM/SIGINT in `kb serve`)

Stopping is graceful: no new connection is accepted, requests under way finish (up to
DRAIN_SECONDS), then every queued event is written before run() returns.
"""

from __future__ import annotations

import os
import threading
import time

from kb.project import Project
from kb.serve.app import BODY_LIMIT, KBApp
from kb.serve.events import EventWriter

# Searches take turns on one lock: enough threads that, with a queue of searches waiting
# for it, others are still free to serve files.
THREADS = 32
CONNECTION_LIMIT = 1000   # open connections (waitress's default, 100, turns a crowd away)
DRAIN_SECONDS = 10


class ServeError(Exception):
    """The site cannot be served as asked; the message says what to do."""


def make_scrubber(project: Project):
    """The ticket scrubber, keeping the service centre's own numbers and scrubbing the
    reporters' names `kb link` remembers (as digests) in the ticket store."""
    from kb.tickets.linking import _keep_numbers, open_store
    from kb.tickets.privacy import Scrubber

    store = open_store(project)
    if store is None:
        return Scrubber(keep_numbers=_keep_numbers(project))
    with store:
        return Scrubber(keep_numbers=_keep_numbers(project), remembered=store.name_digests(), key=store.name_key)


class Server:
    def __init__(self, project: Project, audience: str = "public", host: str = "127.0.0.1", port: int = 8000, *,
                 trusted_proxy: str | None = None, threads: int = THREADS):
        from waitress.server import create_server

        # One thread per query for the model's engine: on 2 cores OpenMP's second thread made
        # a query slower (21 ms against 17), and a server runs several queries at once.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        site = project.site_dir(audience)
        if not (site / "index.html").is_file():
            build = "kb build" + ("" if audience == "public" else " --audience internal")
            raise ServeError(f"{project.display(site)}: 站点尚未构建；先运行 {build} --project {project.root}")
        self.events = EventWriter(project.events_path, make_scrubber(project).scrub, project.display(project.events_path))
        self.app = KBApp(project, audience, self.events)
        proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": {"x-forwarded-for"},
                 "clear_untrusted_proxy_headers": True} if trusted_proxy else {}
        try:
            self.server = create_server(
                self.app, host=host, port=port, threads=threads, ident="kb", connection_limit=CONNECTION_LIMIT,
                asyncore_use_poll=True,  # select() stops at 1024 descriptors
                max_request_body_size=BODY_LIMIT * 4, channel_timeout=60, **proxy)
        except OSError as err:
            self.events.close()
            raise ServeError(f"无法在 {host}:{port} 上监听（{err.strerror or err}）；换一个 --port，或停止占用该端口的程序") from None
        self._stop = threading.Event()
        threading.Thread(target=self.app.warm, name="kb-warm", daemon=True).start()

    @property
    def url(self) -> str:
        host = self.server.effective_host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.server.effective_port}/"

    def stop(self) -> None:
        """Ask run() to finish (from another thread or a signal handler)."""
        if self._stop.is_set():  # a second Ctrl-C while draining: the loop is already ending
            return
        self._stop.set()
        self.server.pull_trigger()

    def run(self) -> None:
        server, poll = self.server, self.server.asyncore
        try:
            while not self._stop.is_set():
                poll.loop(timeout=1.0, map=server._map, use_poll=True, count=1)
            # Stop accepting; let requests under way finish, their answers sent.
            poll.dispatcher.close(server)
            dispatcher = server.task_dispatcher
            deadline = time.monotonic() + DRAIN_SECONDS
            while time.monotonic() < deadline and (
                    dispatcher.queue or dispatcher.active_count > 0
                    or any(c.requests or c.total_outbufs_len for c in list(server.active_channels.values()))):
                poll.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
            dispatcher.shutdown()
            for channel in list(server._map.values()):
                channel.close()
        finally:
            self.events.close()  # every queued event written
