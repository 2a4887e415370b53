"""Links from Markdown to articles: `[..](KB-0007)`, `[..](KB-0007#原因)` or a relative
path to an article file. Used by the checks (to validate) and the site (to rewrite)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kb.articles import text_lines

# [text](target "title") but not ![image](...)
# Brackets are kept out of text and target so a line of unclosed "[](x" is scanned once,
# not once per bracket.
_LINK = re.compile(r'(?<!!)\[(?P<text>[^\[\]\n]*)\]\(\s*(?P<target>[^()\[\]\s]+)(?P<title>\s+"[^"\n]*")?\s*\)')
_ID_TARGET = re.compile(r"^(?P<key>KB-\d{4,})/?(?P<fragment>#.*)?$")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:|^//|^#", re.I)


@dataclass(frozen=True)
class ArticleLink:
    line: int
    target: str            # as written
    key: str | None        # id or alias, for the KB-0007 form
    path: Path | None      # resolved file, for the relative-path form
    fragment: str


def find_article_links(body: str, first_line: int, source: Path) -> Iterator[ArticleLink]:
    """Every link in `body` that points at an article by id or at a local .md file."""
    for offset, line in enumerate(text_lines(body)):
        for m in _LINK.finditer(line):
            target = m.group("target")
            if (idm := _ID_TARGET.match(target)):
                yield ArticleLink(first_line + offset, target, idm.group("key"), None, idm.group("fragment") or "")
            elif not _EXTERNAL.match(target):
                path, _, fragment = target.partition("#")
                if path.endswith(".md"):
                    yield ArticleLink(first_line + offset, target, None, (source.parent / path).resolve(), "#" + fragment if fragment else "")


def rewrite_links(markdown: str, replace: Callable[[str], str | None]) -> str:
    """Replace link targets for which `replace(target)` returns a new target."""
    def sub(m: re.Match) -> str:
        new = replace(m.group("target"))
        if new is None:
            return m.group(0)
        return f"[{m.group('text')}]({new}{m.group('title') or ''})"
    return _LINK.sub(sub, markdown)


def split_id_target(target: str) -> tuple[str, str] | None:
    """`KB-0007#原因` → ("KB-0007", "#原因"); None for other targets."""
    m = _ID_TARGET.match(target)
    return (m.group("key"), m.group("fragment") or "") if m else None
