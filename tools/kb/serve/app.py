"""The WSGI application of `kb serve`: the built site's files, and a small API.

| request | answer |
| --- | --- |
| `GET /…` | a file of the built site (`site/` or `site-internal/`); a folder's `index.html`; the site's own 404.html with status 404 |
| `GET /api/health` | `{"ok": true, "audience": …, "search": true, "feedback": true}` |
| `GET /api/search?q=…&limit=N&module=M` | the body of `kb search --json` (a list of hits); `X-KB-Search-Id`, `X-KB-Confident` (1/0), `X-KB-Corrected` (URL-encoded, when pinyin typos were read), `X-KB-Retrieval`; the search is logged |
| `POST /api/feedback` | JSON `{"article": "KB-0001", "helpful": true, "comment": "…", "search_id": "…"}` (comment, search_id optional) → 202 |
| `POST /api/click` | JSON `{"search_id": "…", "article": "KB-0001"}`: the article opened from a search's results → 202 |

The search body is exactly `kb search --json`'s, so a script can use either door; what is
about the result as a whole travels in headers. Errors are `{"error": "<中文说明>"}` with
400 (bad input), 404, 405, 413 (a POST body over 4 KB), 415 (not JSON), 429 (too many
POSTs from one client: a token bucket per client address, kept in memory only) or 503.

The site folder is looked up by path on every request: `kb build` swaps a new folder into
place with one rename, so a rebuilt site is served at once, no restart, and a request
that began on the old folder finishes from its open file. Where the system cannot
exchange two folders in one rename, the swap takes two (kb.staging) and the site is
missing for a moment: a request then waits for the new one (up to SWAP_WAIT), and one
whose file vanished because the folder was swapped under it is looked up again in the
new folder. The search index is swapped the same way (`kb index --rebuild`): a search
that finds it missing or unreadable during a swap is run again once.

whoosh searchers are not safe to share between threads, and kb.search.query keeps one
opened index per process: searches take SEARCH_LOCK in turn (20–25 ms each, 80 % of it
the model embedding the query). Static files never wait for it.
"""

from __future__ import annotations

import gzip
import json
import mimetypes
import os
import re
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

from kb.project import Project
from kb.serve.events import (COMMENT_LIMIT, ClickEvent, EventWriter, QueueFull, SearchEvent, Stamp, VoteEvent,
                             is_search_id, new_search_id, plain_comment)
from kb.staging import wait_in_place

BODY_LIMIT = 4096          # bytes of a POST body
QUERY_LIMIT = 200          # characters of a search query: the model's time grows with length
SEARCH_LIMIT = 100         # most hits asked for, as `kb search --limit`
POST_BURST = 30            # POSTs a client may send at once …
POST_RATE = 0.5            # … and per second after that
GZIP_MIN_BYTES = 1024
GZIP_MAX_BYTES = 4 << 20   # larger files are sent as they are
GZIP_CACHE_BYTES = 64 << 20
SWAP_WAIT = 2.0            # seconds a request waits for a site or index a swap has moved aside
SEARCH_LOCK = threading.Lock()
# The site's feedback script (tools/kb/site/assets/kb-serve.js) does nothing unless this
# line comes first, which only kb serve adds: from file:// or another web server the pages
# ask nothing and request nothing (a probe of /api/health would show a 404 there).
SERVE_SCRIPT, SERVE_SWITCH = "assets/kb/kb-serve.js", b"window.kbServe = true;\n"

# Material names its bundles after their content (main.57a0d79d.min.css): a new build that
# changes one gives it a new name, so these may be kept for a year. Everything else is
# revalidated (ETag → 304) on each use, so a rebuilt page shows at once.
_HASHED = re.compile(r"\.[0-9a-f]{8,}\.min\.(?:js|css)\Z")
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/xml",
                 "application/manifest+json")
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".html": "text/html",
          ".json": "application/json", ".svg": "image/svg+xml", ".xml": "application/xml", ".txt": "text/plain",
          ".webmanifest": "application/manifest+json", ".woff2": "font/woff2", ".woff": "font/woff",
          ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".webp": "image/webp", ".ico": "image/x-icon", ".pdf": "application/pdf", ".gz": "application/gzip",
          ".map": "application/json"}
_ARTICLE_ID = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,80}\Z")  # an id or alias; nothing that leaves kb/

_SECURITY_HEADERS = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")]
_STATUS = {200: "200 OK", 202: "202 Accepted", 301: "301 Moved Permanently", 304: "304 Not Modified",
           400: "400 Bad Request", 404: "404 Not Found", 405: "405 Method Not Allowed",
           413: "413 Content Too Large", 415: "415 Unsupported Media Type", 429: "429 Too Many Requests",
           500: "500 Internal Server Error", 503: "503 Service Unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] = ()):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, list(headers)


class RateLimiter:
    """A token bucket per client address, in memory only (never written anywhere)."""

    def __init__(self, burst: float = POST_BURST, rate: float = POST_RATE, max_clients: int = 10_000):
        self.burst, self.rate, self.max_clients = burst, rate, max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # address → (tokens, when)
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, when = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            allowed = tokens >= 1
            self._buckets[client] = (tokens - 1 if allowed else tokens, now)
            if len(self._buckets) > self.max_clients:
                self._forget(now)
            return allowed

    def retry_after(self) -> int:
        return max(1, round(1 / self.rate))

    def _forget(self, now: float) -> None:
        """Drop the clients whose bucket has refilled (they are as if new); if that is not
        enough, the oldest half."""
        full = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}
        if len(self._buckets) > self.max_clients:
            keep = sorted(self._buckets.items(), key=lambda kv: kv[1][1])[len(self._buckets) // 2:]
            self._buckets = dict(keep)


class _GzipCache:
    """Compressed copies of text files, keyed by file identity (a rebuilt file is a new
    key), least recently used dropped past GZIP_CACHE_BYTES."""

    def __init__(self, limit: int = GZIP_CACHE_BYTES):
        self.limit, self.size = limit, 0
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, read: Callable[[], bytes]) -> bytes:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
                return body
        body = gzip.compress(read(), 6, mtime=0)
        with self._lock:
            if key not in self._items:
                self._items[key] = body
                self.size += len(body)
                while self.size > self.limit:
                    self.size -= len(self._items.popitem(last=False)[1])
        return body


@dataclass
class _Articles:
    key: tuple
    ids: dict[str, str]  # id or alias → id


class KBApp:
    """The WSGI application for one audience's built site."""

    def __init__(self, project: Project, audience: str, events: EventWriter, *, limiter: RateLimiter | None = None):
        self.project, self.audience, self.events = project, audience, events
        self.site_dir = project.site_dir(audience)
        self.zone = ZoneInfo(project.timezone)
        self.limiter = limiter or RateLimiter()
        self.gzip = _GzipCache()
        self._articles: _Articles | None = None
        self._articles_lock = threading.Lock()

    # -- dispatch ------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        try:
            if path == "/api" or path.startswith("/api/"):
                return self._api(path, environ, start_response)
            return self._static(environ, start_response)
        except ApiError as err:
            return self._json(start_response, err.status, {"error": err.message}, err.headers)

    def _api(self, path: str, environ, start_response):
        method = environ["REQUEST_METHOD"]
        routes = {"/api/health": ("GET", self.health), "/api/search": ("GET", self.search),
                  "/api/feedback": ("POST", self.feedback), "/api/click": ("POST", self.click)}
        if path not in routes:
            raise ApiError(404, f"没有这个接口：{path}（可用：{'、'.join(routes)}）")
        allowed, handler = routes[path]
        if method != allowed and not (allowed == "GET" and method == "HEAD"):
            raise ApiError(405, f"{path} 只接受 {allowed} 请求", [("Allow", allowed)])
        if method == "POST":
            if not self.limiter.allow(environ.get("REMOTE_ADDR") or ""):
                raise ApiError(429, "提交过于频繁，请稍后再试", [("Retry-After", str(self.limiter.retry_after()))])
            body = self._json_body(environ)
            status, data, headers = handler(body)
        else:
            status, data, headers = handler(environ)
        return self._json(start_response, status, data, headers, head=method == "HEAD")

    @staticmethod
    def _json(start_response, status: int, data, headers=(), head: bool = False):
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        start_response(_STATUS[status], [("Content-Type", "application/json; charset=utf-8"),
                                         ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
                                         *_SECURITY_HEADERS, *headers])
        return [] if head else [body]

    @staticmethod
    def _json_body(environ) -> dict:
        kind = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if kind != "application/json":
            # Also keeps other sites' plain HTML forms out: they cannot send this type.
            raise ApiError(415, "请求体必须是 JSON（Content-Type: application/json）")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ApiError(400, "Content-Length 无效") from None
        if length > BODY_LIMIT:
            raise ApiError(413, f"请求体过大（{length} 字节，最多 {BODY_LIMIT} 字节）")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "请求体不是有效的 UTF-8 JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "请求体必须是 JSON 对象，例如 {\"article\": \"KB-0001\", \"helpful\": true}")
        return data

    # -- API -----------------------------------------------------------------------------

    def health(self, environ):
        return 200, {"ok": True, "audience": self.audience, "search": True, "feedback": True,
                     "site": (self.site_dir / "index.html").is_file(), "events_waiting": self.events.waiting,
                     "events_refused": self.events.refused}, []

    def warm(self) -> None:
        """Open the index and load the model before the first caller needs them (0.3-1 s,
        which would otherwise make the first search on the site fall back to static
        results). Best effort: a missing or broken index is reported by the first search."""
        from kb.search.query import search as run_search

        try:
            with SEARCH_LOCK:
                run_search(self.project, "登录", audience=self.audience, limit=1)
        except Exception:  # noqa: BLE001 - see the docstring
            pass

    def search(self, environ):
        from kb.search.index import IndexMissing, index_dir
        from kb.search.query import search as run_search

        params = _query_params(environ)
        query = params.get("q", "").strip()
        if not query:
            raise ApiError(400, "缺少查询词：/api/search?q=<查询词>")
        if len(query) > QUERY_LIMIT:
            raise ApiError(400, f"查询词过长（{len(query)} 个字符，最多 {QUERY_LIMIT} 个）")
        limit = params.get("limit", "5")
        if not (limit.isdigit() and 1 <= int(limit) <= SEARCH_LIMIT):
            raise ApiError(400, f"limit 必须是 1 到 {SEARCH_LIMIT} 的整数，收到 {limit!r}")
        module = params.get("module") or None
        with SEARCH_LOCK:
            try:
                result = run_search(self.project, query, audience=self.audience, limit=int(limit), module=module)
            except (IndexMissing, OSError) as err:
                # Met in the instant `kb index --rebuild` swaps the folder (or `kb build`
                # commits into it): once the index is back in place, the search is run again.
                wait_in_place(index_dir(self.project, self.audience), SWAP_WAIT)
                try:
                    result = run_search(self.project, query, audience=self.audience, limit=int(limit), module=module)
                except IndexMissing as again:
                    raise ApiError(503, f"{again}；或运行 kb build") from None
                except OSError:
                    raise ApiError(503, f"搜索索引暂时无法读取（{err}）；请稍后再试，或运行 kb build") from None
        search_id = new_search_id()
        try:
            self.events.put(SearchEvent(search_id, Stamp.now(self.zone), self.audience, query, len(result.hits),
                                        tuple(h.id for h in result.hits), result.confident))
        except QueueFull:
            pass  # the caller still gets the answer; /api/health counts what was not logged
        headers = [("X-KB-Search-Id", search_id), ("X-KB-Confident", "1" if result.confident else "0"),
                   ("X-KB-Retrieval", result.retrieval)]
        if result.corrected:
            headers.append(("X-KB-Corrected", quote(result.corrected, safe="")))
        if result.out_of_scope:  # which listed question it resembles stays with the engineers
            headers.append(("X-KB-Out-Of-Scope", "1"))
        return 200, [hit.to_dict() for hit in result.hits], headers

    def feedback(self, body: dict):
        article = self._article(body.get("article"))
        helpful = body.get("helpful")
        if not isinstance(helpful, bool):
            raise ApiError(400, "helpful 必须是 true 或 false")
        comment = body.get("comment", "")
        if comment is None:
            comment = ""
        if not isinstance(comment, str):
            raise ApiError(400, "comment 必须是文字")
        comment = plain_comment(comment)
        if len(comment) > COMMENT_LIMIT:
            raise ApiError(400, f"意见过长（{len(comment)} 个字符，最多 {COMMENT_LIMIT} 个）")
        search_id = self._search_id(body.get("search_id"), required=False)
        unknown = set(body) - {"article", "helpful", "comment", "search_id"}
        if unknown:
            raise ApiError(400, f"不认识的字段：{'、'.join(sorted(unknown))}（可用：article、helpful、comment、search_id）")
        self._put(VoteEvent(article, helpful, comment, search_id, Stamp.now(self.zone), self.audience))
        return 202, {"ok": True}, []

    def click(self, body: dict):
        search_id = self._search_id(body.get("search_id"), required=True)
        article = self._article(body.get("article"))
        unknown = set(body) - {"article", "search_id"}
        if unknown:
            raise ApiError(400, f"不认识的字段：{'、'.join(sorted(unknown))}（可用：search_id、article）")
        self._put(ClickEvent(search_id, article, Stamp.now(self.zone), self.audience))
        return 202, {"ok": True}, []

    def _put(self, event) -> None:
        try:
            self.events.put(event)
        except QueueFull:
            raise ApiError(503, "反馈暂时无法记录（写入积压），请稍后再试", [("Retry-After", "5")]) from None

    @staticmethod
    def _search_id(value, required: bool) -> str | None:
        if value is None and not required:
            return None
        if not is_search_id(value):
            raise ApiError(400, "search_id 无效：应为 /api/search 响应头 X-KB-Search-Id 的值")
        return value

    def _article(self, value) -> str:
        """The id of the article `value` names (an id or an alias) in the site being served."""
        if not isinstance(value, str) or not value:
            raise ApiError(400, "缺少 article（文章编号，例如 KB-0001）")
        article = self._article_ids().get(value) if _ARTICLE_ID.match(value) else None
        page = self.site_dir / "kb" / str(article) / "index.html"
        # Looked for again after a swap under way (the site moved aside for a moment).
        if article is None or not (page.is_file() or wait_in_place(self.site_dir, SWAP_WAIT) and page.is_file()):
            raise ApiError(400, f"没有编号为 {value[:40]!r} 的文章")
        return article

    def _article_ids(self) -> dict[str, str]:
        """Ids and aliases of the audience's articles, read again after each `kb build`
        (the site folder is a new one then)."""
        folder = wait_in_place(self.site_dir, SWAP_WAIT)
        if folder is None:
            raise ApiError(503, "站点尚未构建：运行 kb build") from None
        key = (folder.st_dev, folder.st_ino, folder.st_mtime_ns)
        with self._articles_lock:
            if self._articles is None or self._articles.key != key:
                project = Project.load(self.project.root)
                ids = {}
                for a in project.articles_for(self.audience):
                    for name in (a.id, *a.aliases):
                        ids.setdefault(name, a.id)
                self._articles = _Articles(key, ids)
            return self._articles.ids

    # -- static files --------------------------------------------------------------------

    def _static(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method not in ("GET", "HEAD"):
            raise ApiError(405, "站点文件只接受 GET 请求", [("Allow", "GET, HEAD")])
        head = method == "HEAD"
        try:
            # PEP 3333: PATH_INFO is the decoded path as latin-1; the site's paths are UTF-8.
            path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return self._not_found(start_response, head)
        parts = path.split("/")
        # No "..", no hidden files, nothing a Windows or C library reads specially.
        if any(p in ("..", ".") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
            return self._not_found(start_response, head)
        rel = [p for p in parts if p]
        folder = wait_in_place(self.site_dir, SWAP_WAIT)
        while True:
            try:
                found = self._open(rel, path.endswith("/"))
                break
            except (FileNotFoundError, NotADirectoryError):
                # Not there, or the folder was swapped between looking and opening: then again
                # in the folder now in place, which has the same files or the new ones.
                now = wait_in_place(self.site_dir, SWAP_WAIT)
                if folder is None or now is None or (now.st_dev, now.st_ino) == (folder.st_dev, folder.st_ino):
                    return self._not_found(start_response, head)
                folder = now
            except (IsADirectoryError, PermissionError):
                return self._not_found(start_response, head)
        if found is None:  # a symlink out of the site
            return self._not_found(start_response, head)
        if found == "/":
            query = environ.get("QUERY_STRING")
            location = quote(path + "/") + (f"?{query}" if query else "")
            start_response(_STATUS[301], [("Location", location), ("Content-Length", "0"), *_SECURITY_HEADERS])
            return []
        f, full = found
        if "/".join(rel) == SERVE_SCRIPT:
            return self._serve_script(f, environ, start_response, head)
        return self._file(f, full, environ, start_response, head)

    def _open(self, rel: list[str], slash: bool):
        """The site's file at `rel` (already checked to hold no ".." nor hidden names), opened:
        (file, its path); "/" for a folder asked for without its final slash (`slash`);
        None for a symlink leading out of the site. Raises FileNotFoundError and the like."""
        root = str(self.site_dir)
        full = os.path.join(root, *rel)
        if stat.S_ISDIR(os.stat(full).st_mode):
            if not slash:
                return "/"
            full = os.path.join(full, "index.html")
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, os.path.realpath(full)]) != real_root:
            return None
        return open(full, "rb"), full

    @staticmethod
    def _serve_script(f, environ, start_response, head: bool):
        with f:
            info = os.fstat(f.fileno())
            body = SERVE_SWITCH + f.read()
        etag = f'"{info.st_ino:x}-{info.st_mtime_ns:x}-{info.st_size:x}-on"'
        headers = [("Content-Type", "text/javascript; charset=utf-8"), ("ETag", etag), ("Cache-Control", "no-cache"),
                   *_SECURITY_HEADERS]
        if etag in (environ.get("HTTP_IF_NONE_MATCH") or ""):
            start_response(_STATUS[304], headers)
            return []
        start_response(_STATUS[200], [*headers, ("Content-Length", str(len(body)))])
        return [] if head else [body]

    def _file(self, f, full: str, environ, start_response, head: bool, status: int = 200):
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            f.close()
            return self._not_found(start_response, head)
        etag = f'"{info.st_ino:x}-{info.st_mtime_ns:x}-{info.st_size:x}"'
        kind = _content_type(full)
        headers = [("Content-Type", kind), *_SECURITY_HEADERS]
        if status == 200:
            headers += [("ETag", etag), ("Cache-Control", "public, max-age=31536000, immutable" if _HASHED.search(full)
                                         else "no-cache")]
            if etag in (environ.get("HTTP_IF_NONE_MATCH") or ""):
                f.close()
                start_response(_STATUS[304], headers)
                return []
        else:
            headers.append(("Cache-Control", "no-cache"))
        compressible = kind.startswith(_COMPRESSIBLE) and GZIP_MIN_BYTES <= info.st_size <= GZIP_MAX_BYTES
        if compressible:
            headers.append(("Vary", "Accept-Encoding"))
            if "gzip" in (environ.get("HTTP_ACCEPT_ENCODING") or ""):
                with f:
                    body = self.gzip.get((full, etag), f.read)
                headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
                start_response(_STATUS[status], headers)
                return [] if head else [body]
        headers.append(("Content-Length", str(info.st_size)))
        start_response(_STATUS[status], headers)
        if head:
            f.close()
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        return wrapper(f, 65536) if wrapper else iter(lambda: f.read(65536), b"")

    def _not_found(self, start_response, head: bool):
        page = os.path.join(str(self.site_dir), "404.html")
        try:
            f = open(page, "rb")
        except OSError:
            body = "页面不存在".encode("utf-8")
            start_response(_STATUS[404], [("Content-Type", "text/plain; charset=utf-8"),
                                          ("Content-Length", str(len(body))), *_SECURITY_HEADERS])
            return [] if head else [body]
        return self._file(f, page, {}, start_response, head, status=404)


def _content_type(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    kind = _TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/json", "image/svg+xml", "application/xml",
                                            "application/manifest+json"):
        kind += "; charset=utf-8"
    return kind


def _query_params(environ) -> dict[str, str]:
    try:
        parsed = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ApiError(400, "查询参数不是有效的 UTF-8") from None
    return {k: v[0] for k, v in parsed.items()}
