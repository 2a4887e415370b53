"""Text output shared by the reports: Markdown tables for the site pages (every cell
HTML-escaped) and terminal tables aligned for Chinese (a CJK character takes two cells)."""

from __future__ import annotations

import html
import unicodedata


def md_escape(value: object) -> str:
    """Text for a Markdown page: HTML-escaped, and `|` kept out of table syntax."""
    return html.escape(str(value), quote=False).replace("|", "&#124;")


def md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, one line per row, every cell escaped."""
    lines = ["| " + " | ".join(map(md_escape, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return lines


def width(text: str) -> int:
    """Terminal cells taken by `text`."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def text_table(headers: list[str], rows: list[list[str]], right_from: int = 99) -> list[str]:
    """Columns padded by display width (a Chinese character takes two cells); columns from
    `right_from` on (numbers) are right-aligned."""
    widths = [max(width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def fmt(row: list[str]) -> str:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - width(cell))
            cells.append(pad + cell if i >= right_from else cell + pad)
        return "  ".join(cells).rstrip()
    return [fmt(headers), "  ".join("-" * w for w in widths), *map(fmt, rows)]
