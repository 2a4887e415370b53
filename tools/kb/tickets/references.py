"""Article references in what engineers write when they close a ticket.

Forms found (in the resolution and the notes, after NFKC, so full-width ＫＢ－００４２
counts too):

| form | examples |
| --- | --- |
| `id` | KB-0042, kb0042, KB 42, KB-42, 文章编号 KB0042 |
| `number` | 知识库42号, 知识库第42号文章, 知识库文章第 42 号, 文章编号：42 |
| `url` | https://<any host>[/<prefix>]/kb/KB-0042/ and old alias links /kb/<alias>/ |
| `title` | an article title quoted in 《》, “”, 「」 or "" |

Numbers become ids as KB-%04d; ids and aliases resolve to the current article through
`Project.resolve()`, so an old id (KB-9001) or slug counts for the article that has it
as an alias.

Title matching compares normalised text (NFKC, case-folded, without spaces and
punctuation). A quote names an article when it equals its title, or its title without a
trailing bracketed part (“…（AUTH-1003）”); and, for titles of 8 or more normalised
characters, when the quote contains the whole title (《KB-0027 套红后红头、文号位置错位》
一文) or is the beginning of exactly one title (an engineer shortening it). A quote
merely contained in a title is not enough: engineers quote error messages such as
“用户名或密码错误”, which appear in titles without naming the article. Quotes that match
no title are ignored — most are error messages or notice names, not references.

A reference is dangling when it names no article (KB-0999, an unknown /kb/<alias>/) or
an archived one. Unknown `KB` numbers of six or more digits written without a separator
(KB4012212) are Windows update numbers and are ignored, not reported.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kb.articles import Article
from kb.project import Project
from kb.tickets.model import Ticket

REFERENCE_FIELDS = ("resolution", "notes")
# /kb/<segment>/ pages of the site that are not articles.
SITE_PAGES = frozenset({"symptoms", "module", "index.html", "search"})

_URL = re.compile(
    r"(?:https?://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~%-]+)*?|(?<![A-Za-z0-9._~%/-]))"
    r"/kb/(?P<seg>[A-Za-z0-9][A-Za-z0-9_-]*)(?![A-Za-z0-9_-])(?:/(?:[#?][^\s，。；、）)]*)?)?",
    re.I,
)
_ID = re.compile(
    # Not after a number: "500 KB 3 个附件" is a size.
    r"(?:文章编号[ \t]*[:：]?[ \t]*)?(?<![A-Za-z0-9])(?<!\d[ \t])KB(?P<sep>[ \t]*[-_—]?[ \t]*)(?P<num>\d{1,7})(?!\d)(?:[ \t]*号)?",
    re.I,
)
_NUMBER = re.compile(
    r"知识库\s*(?:文章\s*)?(?:第\s*)?(?P<num>\d{1,7})\s*号(?:\s*文章)?"
    r"|文章编号\s*[:：]?\s*(?P<num2>\d{1,7})(?!\d)"
)
_QUOTED = re.compile(r"《(?P<a>[^《》\n]{2,120})》|“(?P<b>[^“”\n]{2,120})”|「(?P<c>[^「」\n]{2,120})」|\"(?P<d>[^\"\n]{2,120})\"")
_NON_WORD = re.compile(r"[\W_]+")
_TRAILING_BRACKET = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")
_MIN_TOLERANT = 8


@dataclass(frozen=True)
class Found:
    """A reference as written, before it is resolved against a project."""

    text: str   # the matched text
    form: str   # id | id-compact (KB4012212: maybe a Windows update) | number | url | title
    key: str    # id, alias or quoted title it names
    start: int


@dataclass(frozen=True)
class Reference:
    ticket_id: str
    field: str        # resolution | notes
    text: str
    form: str
    article_id: str   # the article's current id (an alias resolves to it)


@dataclass(frozen=True)
class DanglingReference:
    ticket_id: str
    text: str
    reason: str
    article_id: str | None = None  # set when the article exists but is archived


def normalise_title(text: str) -> str:
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def _number_id(number: str) -> str:
    return f"KB-{int(number):04d}"


def find_references(text: str) -> list[Found]:
    """Every reference-like span in `text`, in order. Spans inside a link are not
    counted again as bare ids."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text)
    found: list[Found] = []
    rest = text
    for m in _URL.finditer(text):
        found.append(Found(m.group(), "url", m["seg"], m.start()))
        rest = rest[:m.start()] + " " * (m.end() - m.start()) + rest[m.end():]
    for m in _ID.finditer(rest):
        form = "id"
        if not m["sep"] and len(m["num"]) >= 6:
            form = "id-compact"  # maybe a Windows update number; decided on resolving
        found.append(Found(m.group().strip(), form, _number_id(m["num"]), m.start()))
    for m in _NUMBER.finditer(rest):
        found.append(Found(m.group(), "number", _number_id(m["num"] or m["num2"]), m.start()))
    for m in _QUOTED.finditer(rest):
        quote = next(g for g in m.groups() if g is not None)
        found.append(Found(m.group(), "title", quote, m.start()))
    found.sort(key=lambda f: f.start)
    return found


class ReferenceResolver:
    """Resolves found references against the articles of a project."""

    def __init__(self, table: Mapping[str, Article]):
        """`table`: every id and alias → its article, as `Project.resolve()` returns it."""
        self.by_key = dict(table)
        self.by_title: dict[str, Article] = {}
        for article in sorted({a.id: a for a in self.by_key.values()}.values(), key=lambda a: a.id):
            self.by_title.setdefault(normalise_title(article.title), article)
            short = normalise_title(_TRAILING_BRACKET.sub("", article.title))
            if len(short) >= _MIN_TOLERANT:
                self.by_title.setdefault(short, article)
        self._sorted_titles = sorted(self.by_title)
        self._longest = max(map(len, self._sorted_titles), default=0)

    @classmethod
    def for_project(cls, project: Project) -> ReferenceResolver:
        return cls(project.resolve())

    @classmethod
    def for_articles(cls, articles: Iterable[Article]) -> ReferenceResolver:
        table: dict[str, Article] = {}
        for article in sorted(articles, key=lambda a: a.id):
            for key in (article.id, *article.aliases):
                table.setdefault(key, article)
        return cls(table)

    def article_for_key(self, key: str) -> Article | None:
        article = self.by_key.get(key)
        if article is None and re.fullmatch(r"kb-\d{4,}", key, re.I):
            article = self.by_key.get(key.upper())  # /kb/kb-0042/: same id, other case
        return article

    def article_for_title(self, quote: str) -> Article | None:
        q = normalise_title(quote)
        if (article := self.by_title.get(q)) is not None:
            return article
        if len(q) < _MIN_TOLERANT:
            return None
        # The quote contains a whole title: try its substrings, longest first.
        for size in range(min(len(q), self._longest), _MIN_TOLERANT - 1, -1):
            for start in range(len(q) - size + 1):
                if (article := self.by_title.get(q[start:start + size])) is not None:
                    return article
        # The quote is the beginning of exactly one article's title.
        i = bisect.bisect_left(self._sorted_titles, q)
        matches = set()
        while i < len(self._sorted_titles) and self._sorted_titles[i].startswith(q):
            matches.add(self.by_title[self._sorted_titles[i]].id)
            i += 1
        return self.by_key[matches.pop()] if len(matches) == 1 else None

    def ticket_references(self, ticket: Ticket) -> tuple[list[Reference], list[DanglingReference]]:
        """The articles a ticket refers to (once each) and its dangling references."""
        links: dict[str, Reference] = {}
        dangling: dict[str, DanglingReference] = {}
        for field in REFERENCE_FIELDS:
            for found in find_references(getattr(ticket, field)):
                if found.form == "title":
                    article = self.article_for_title(found.key)
                    if article is None:
                        continue  # an error message or a notice name, not a reference
                else:
                    article = self.article_for_key(found.key)
                if article is None:
                    if found.form == "id-compact":
                        continue  # KB4012212: a Windows update, not ours
                    if found.form == "url" and found.key.lower() in SITE_PAGES:
                        continue
                    # A link's reference (kept as /kb/<segment>/) shows what it names.
                    reason = ("链接指向的文章在知识库中不存在" if found.form == "url"
                              else f"编号指向的文章 {found.key} 在知识库中不存在")
                    dangling.setdefault(found.text, DanglingReference(ticket.id, found.text, reason))
                elif article.status == "archived":
                    dangling.setdefault(found.text, DanglingReference(
                        ticket.id, found.text, f"文章 {article.id} 已归档，不再作为处理依据", article.id))
                else:
                    form = "id" if found.form == "id-compact" else found.form
                    links.setdefault(article.id, Reference(ticket.id, field, found.text, form, article.id))
        return list(links.values()), list(dangling.values())


@dataclass
class LinkResult:
    links: list[Reference]
    dangling: list[DanglingReference]
    unlinked: list[str]  # ids of tickets that name no article at all


def link_tickets(tickets: Iterable[Ticket], project: Project) -> LinkResult:
    """Resolve the references of every ticket against the project's articles and aliases."""
    resolver = ReferenceResolver.for_project(project)
    result = LinkResult([], [], [])
    for ticket in tickets:
        links, dangling = resolver.ticket_references(ticket)
        result.links += links
        result.dangling += dangling
        if not links and not dangling:
            result.unlinked.append(ticket.id)
    return result
