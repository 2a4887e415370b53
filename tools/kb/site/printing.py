"""Printable training guides: each role's learning path (a nav section of training pages)
becomes one page, `training/<role>/print.md`, with every lesson in nav order, ready for
the browser's print dialog or `kb build --pdf`."""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

from kb.articles import parse_page

TRAINING_DIR = "training/"
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


@dataclass(frozen=True)
class Guide:
    title: str            # the nav section's name, e.g. 系统管理员
    pages: tuple[str, ...]  # docs-relative lesson paths in nav order

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.pages[0])

    @property
    def print_page(self) -> str:
        return f"{self.folder}/print.md"

    @property
    def pdf_name(self) -> str:
        return f"{posixpath.basename(self.folder)}-guide.pdf"


def find_guides(nav) -> list[Guide]:
    """Nav sections whose pages all live in one folder under training/: one per role."""
    guides = []

    def walk(items):
        for item in items or []:
            if not isinstance(item, dict):
                continue
            for title, value in item.items():
                if isinstance(value, list):
                    pages = [_target(v) for v in value]
                    if pages and all(p and p.startswith(TRAINING_DIR) for p in pages) \
                            and len({posixpath.dirname(p) for p in pages}) == 1 and posixpath.dirname(pages[0]) != "training":
                        guides.append(Guide(str(title), tuple(pages)))
                    else:
                        walk(value)
    walk(nav)
    return guides


def _target(item) -> str | None:
    value = next(iter(item.values())) if isinstance(item, dict) else item
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Cover:
    """What the first sheet of a printed guide says besides the guide's name."""

    organisation: str
    hotline_html: str
    printed_on: dt.date


def guide_version(guide: Guide, docs_dir: Path) -> str:
    """The `version` of the guide's first page (its learning-path page); without one, a
    fingerprint of the lessons, so that two printed copies can still be told apart."""
    fm, _ = parse_page(docs_dir / guide.pages[0])
    if fm and str(fm.data.get("version") or "").strip():
        return str(fm.data["version"]).strip()
    digest = hashlib.sha256()
    for page in guide.pages:
        digest.update((docs_dir / page).read_bytes() if (docs_dir / page).is_file() else b"")
    return f"修订 {digest.hexdigest()[:8]}"


def print_page(guide: Guide, docs_dir: Path, cover: Cover) -> str:
    """One Markdown page holding every lesson of the guide, each starting a new sheet,
    after a cover sheet and a table of contents."""
    version = guide_version(guide, docs_dir)
    parts = [f"---\ntitle: {guide.title}培训指南（打印版）\nsearch:\n  exclude: true\n---\n",
             # Each printed sheet but the cover says which guide it belongs to (CSS margin box;
             # Chromium 131+). The :first rule comes after: Chromium lets the later rule win.
             f'<style>@page {{ @top-center {{ content: "{guide.title}培训指南"; font-size: 9pt; color: #555; }} }}\n'
             '@page :first { @top-center { content: ""; } }</style>\n',
             '<div class="kb-cover" markdown>\n',
             f'<p class="kb-cover__org">{escape(cover.organisation)}</p>\n',
             f"# {guide.title}培训指南\n",
             f'<p class="kb-cover__meta">版本：{escape(version)}<br>印制日期：{cover.printed_on.isoformat()}</p>\n',
             f'<div class="kb-cover__hotline"><p>遇到问题请联系服务中心：</p>{cover.hotline_html}</div>\n',
             "</div>\n",
             "本页汇集整条学习路径，按顺序排好，可直接打印或在打印对话框中另存为 PDF。\n{ .kb-print-hint }\n",
             '<div class="kb-print-toc" markdown>\n',
             "## 目录\n"]
    lessons = []
    for page in guide.pages:
        fm, _ = parse_page(docs_dir / page)
        body = fm.body if fm else ""
        title = (fm.data.get("title") if fm else None) or (m.group(1) if (m := _H1.search(body)) else page)
        lessons.append((page, str(title), body))
        parts.append(f"1. {title}\n")
    parts.append("</div>\n")
    for page, title, body in lessons:
        if not _H1.search(body):
            body = f"# {title}\n\n{body}"
        parts.append(f'<div class="kb-print-lesson" data-source="{page}"></div>\n\n{body.strip()}\n')
    return "\n".join(parts)
