"""Read a helpdesk export (CSV, JSON array or JSON Lines) into a TicketBatch.

Encodings: a BOM decides (UTF-8 or UTF-16); otherwise the file is checked as strict
UTF-8 and, failing that, read as GB18030 (a superset of GBK, which is what Excel on
Chinese Windows writes). `encoding=` overrides the guess; either way the whole file is
checked first, so a wrong encoding is reported with its line instead of garbling text.

CSV is read as a stream (memory does not grow with the file); JSON and JSON Lines are
loaded whole. Rows that cannot be used — an unreadable time, a broken quote or wrong
number of fields, an empty description, a ticket id seen before in the file — become
RejectedRow entries with the row number a user sees in Excel (header = row 1), and the
other rows go on.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from kb.problems import Problem
from kb.tickets.columns import TicketFileError, load_mapping, normalise_mapping, resolve_columns
from kb.tickets.dates import parse_datetime
from kb.tickets.model import RejectedRow, Ticket, TicketBatch

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_DATE_FIELDS = ("opened_at", "responded_at", "resolved_at", "onsite_at")
_TEXT_FIELDS = ("priority", "module", "notes", "reporter", "phone", "email", "org")
_YES = {"是", "y", "yes", "true", "1", "现场", "到场", "已到场", "√", "✓"}
_NO = {"否", "n", "no", "false", "0", "远程", "电话", "未到场", "×", "不需要", "无"}
_CHUNK = 1 << 20


def read_tickets(path: str | os.PathLike, *, encoding: str | None = None,
                 mapping: Mapping[str, str | Sequence[str]] | str | os.PathLike | None = None,
                 format: str | None = None) -> TicketBatch:
    """Read one export file. `mapping`: our field → their header(s), or a YAML file of that.
    Raises TicketFileError when the file as a whole cannot be used."""
    path = Path(path)
    display = str(path)
    fmt = format or FORMATS.get(path.suffix.lower())
    if fmt not in ("csv", "json", "jsonl"):
        raise TicketFileError([Problem(display, 1, f"无法识别的文件类型 {path.suffix or '（无扩展名）'}",
                                       "导出为 .csv、.json 或 .jsonl 文件，或指定格式 csv / json / jsonl")])
    if not path.is_file():
        raise TicketFileError([Problem(display, 1, "找不到工单导出文件", "检查文件路径")])
    user_mapping = load_mapping(mapping) if isinstance(mapping, (str, os.PathLike)) else normalise_mapping(mapping)
    try:
        encoding = check_encoding(path, encoding) if encoding else detect_encoding(path)
        if fmt == "csv":
            return _read_csv(path, display, encoding, user_mapping)
        return _read_json(path, display, encoding, user_mapping, fmt)
    except OSError as err:  # no permission, locked by Excel on a share, an I/O error
        raise TicketFileError([Problem(display, 1, f"无法读取文件：{err.strerror or err}",
                                       "检查文件的读取权限，或关闭正在使用它的程序（如 Excel）后重试")]) from None


# Encoding ---------------------------------------------------------------------------------

def detect_encoding(path: str | os.PathLike) -> str:
    """The file's encoding: utf-8-sig or utf-16 when there is a BOM, else utf-8 if the whole
    file is valid UTF-8, else gb18030; TicketFileError if it is not valid GB18030 either."""
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return check_encoding(path, "utf-8-sig")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return check_encoding(path, "utf-16")
    if _first_error(path, "utf-8") is None:
        return "utf-8"
    return check_encoding(path, "gb18030")


def check_encoding(path: Path, encoding: str) -> str:
    """`encoding` if the whole file decodes with it; else an error naming the line."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise TicketFileError([Problem(str(path), 1, f"未知的编码 {encoding!r}", "常用编码：utf-8、utf-8-sig、gbk、gb18030")]) from None
    line = _first_error(path, encoding)
    if line is not None:
        raise TicketFileError([Problem(str(path), line, f"文件不是 {encoding} 编码（第 {line} 行有无法解码的字节）",
                                       "去掉编码参数让程序自动识别，或用 Excel/记事本以 UTF-8 或 GBK 编码另存")])
    return encoding


def _first_error(path: Path, encoding: str) -> int | None:
    """Line of the first undecodable byte, None if the file decodes cleanly. Chunked with
    an incremental decoder, so a character split across chunks is not an error."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = 1
    with path.open("rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                # err.start is relative to the decoder's buffered input; the newlines
                # before the bad byte are close enough to name its line.
                return lines + chunk[: max(err.start, 0)].count(b"\n")
            if not chunk:
                return None
            lines += chunk.count(b"\n")


# Rows → tickets -------------------------------------------------------------------------

class _RowReader:
    """Turns the values of one row into a Ticket, or a reason to reject it."""

    def __init__(self, headers: Sequence[str], columns: dict[str, int]):
        self.headers = headers
        self.columns = columns
        self.seen: dict[str, int] = {}
        self.dates = [(f, columns[f], headers[columns[f]]) for f in _DATE_FIELDS if f in columns]
        self.texts = [(f, columns[f]) for f in _TEXT_FIELDS if f in columns]
        self.onsite = columns.get("onsite")
        self.id, self.desc, self.res = columns["id"], columns["description"], columns["resolution"]

    def ticket(self, values: Sequence[str], row: int) -> Ticket | str:
        """`values`: the row's cells, already stripped, one per header."""
        ticket_id = values[self.id]
        if not ticket_id:
            return f"“{self.headers[self.id]}”为空（每行都要有工单号）"
        description = values[self.desc]
        if not description:
            return f"工单 {ticket_id} 的“{self.headers[self.desc]}”为空（补上问题描述，或删除该行）"
        fields: dict = {}
        for field, i, header in self.dates:
            try:
                fields[field] = parse_datetime(values[i])
            except (ValueError, OverflowError):
                return (f"工单 {ticket_id} 的“{header}”值 {values[i]!r} 不是可识别的时间"
                        "（写成 2026-03-05 14:20 或 2026/3/5 14:20:00）")
        if fields["opened_at"] is None:
            return f"工单 {ticket_id} 的“{self.headers[self.columns['opened_at']]}”为空（每行都要有创建时间）"
        if self.onsite is not None:
            flag = values[self.onsite].casefold()
            if flag in _YES:
                fields["onsite"] = True
            elif flag in _NO:
                fields["onsite"] = False
            elif flag:
                return (f"工单 {ticket_id} 的“{self.headers[self.onsite]}”值 {flag!r} 无法识别"
                        "（写成 是/否）")
        for field, i in self.texts:
            fields[field] = values[i]
        first = self.seen.setdefault(ticket_id, row)
        if first != row:
            return f"工单号 {ticket_id} 与第 {first} 行重复（同一文件中工单号必须唯一；保留第 {first} 行）"
        resolution = values[self.res]
        if "\r" in description or "\r" in resolution or "\r" in fields.get("notes", ""):
            description, resolution = _lf(description), _lf(resolution)
            if "notes" in fields:
                fields["notes"] = _lf(fields["notes"])
        return Ticket(ticket_id, description=description, resolution=resolution, row=row, **fields)


def _lf(text: str) -> str:
    """Line breaks inside cells as \\n (Excel writes \\r\\n or a bare \\n)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text(value) -> str:
    """A JSON value as cell text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


# CSV --------------------------------------------------------------------------------------

class _Lines:
    """Physical lines for csv.reader, remembering which lines the current record took and
    able to give some back: after a broken quote swallowed the rows below it, only its
    first line is rejected and the rest are parsed again."""

    def __init__(self, f):
        self.readline = f.readline
        self.number = 0
        self.pending: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pending:
            item = self.pending.popleft()
            self.taken.append(item)
            return item[1]
        line = self.readline()
        if not line:
            raise StopIteration
        self.number += 1
        self.taken.append((self.number, line))
        return line

    def give_back(self, items: list[tuple[int, str]]) -> None:
        self.pending.extendleft(reversed(items))


def _read_csv(path: Path, display: str, encoding: str, mapping) -> TicketBatch:
    with path.open(encoding=encoding, newline="") as f:
        lines = _Lines(f)
        first = f.readline()
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        lines.number = 1
        lines.pending.append((1, first))
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            headers = [h.strip() for h in next(reader)]
        except (StopIteration, csv.Error):
            headers = []
        if not any(headers):
            raise TicketFileError([Problem(display, 1, "文件是空的，或第 1 行不是表头", "第 1 行应为列名，例如 工单号,创建时间,问题描述,处理结果")])
        columns = resolve_columns(headers, display, mapping)
        batch = TicketBatch(path, "csv", encoding, {f: headers[i] for f, i in columns.items()})
        rows = _RowReader(headers, columns)
        width, row = len(headers), 1
        id_column, opened_column = columns["id"], columns["opened_at"]

        def looks_like_row(line: str) -> bool:
            """Whether a line inside a multi-line cell is really a row of its own: then the
            cell is a quote that was never closed and swallowed the rows below it."""
            cells = next(csv.reader([line], delimiter=delimiter), [])
            if len(cells) < width or "".join(cells[width:]).strip() or not cells[id_column].strip():
                return False
            try:
                return parse_datetime(cells[opened_column]) is not None
            except (ValueError, OverflowError):
                return False

        while True:
            lines.taken = []
            error = None
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as err:  # e.g. a swallowed field over csv's size limit, a NUL byte
                values, error = None, err
            row += 1
            taken = lines.taken
            if values is not None:
                values = [v.strip() for v in values]
                if len(values) > width and not "".join(values[width:]):
                    values = values[:width]  # trailing empty cells, as some exports add
            if error is not None and len(taken) == 1:
                result = f"该行无法解析（{error}），检查文件第 {taken[0][0]} 行是否有特殊字符"
            elif values is None or (len(taken) > 1 and any(looks_like_row(line) for _, line in taken[1:])):
                lines.give_back(taken[1:])
                result = (f"引号不成对（文件第 {taken[0][0]} 行起的引号没有闭合），该行无法读取"
                          "（检查该行的英文双引号 \"，单元格内的引号要写成两个 \"\"）")
            elif not "".join(values):
                batch.blank_rows += 1
                continue
            elif len(values) != width and len(taken) == 1 and taken[0][1].count('"') % 2:
                result = (f"引号不成对（文件第 {taken[0][0]} 行的引号没有闭合），该行无法读取"
                          "（检查该行的英文双引号 \"，单元格内的引号要写成两个 \"\"）")
            elif len(values) != width:
                result = f"有 {len(values)} 列，表头有 {width} 列（检查该行是否多了或少了英文逗号）"
            else:
                result = rows.ticket(values, row)
            if isinstance(result, Ticket):
                batch.tickets.append(result)
            else:
                batch.rejected.append(RejectedRow(display, row, _one_line(result)))
    return batch


def _one_line(reason: str) -> str:
    """A reason is printed as `file:row: reason`: a cell value quoted in it (a ticket id
    from a broken quote) must not break that line."""
    return " ".join(reason.split()) if "\n" in reason or "\r" in reason else reason


# JSON -------------------------------------------------------------------------------------

class _BadLine(str):
    """Why a JSON Lines line could not be read (a line holding a JSON string is a str too)."""


def _json_reason(err: Exception) -> str:
    """Why json could not load a valid-looking text: too deep, or a number too long."""
    if isinstance(err, RecursionError):
        return "嵌套层数过多"
    return "数字位数过多" if "digits" in str(err) else " ".join(str(err).split())


def _read_json(path: Path, display: str, encoding: str, mapping, fmt: str) -> TicketBatch:
    items: list[tuple[int, object]] = []
    with path.open(encoding=encoding) as f:
        if fmt == "json":
            try:
                data = json.load(f)
            except json.JSONDecodeError as err:
                raise TicketFileError([Problem(display, err.lineno, f"JSON 语法错误：{err.msg}",
                                               "文件应为一个由对象组成的数组：[{...}, {...}]")]) from None
            except (RecursionError, ValueError) as err:  # nesting too deep, a number over the digit limit
                raise TicketFileError([Problem(display, 1, f"JSON 无法读取（{_json_reason(err)}）",
                                               "文件应为一个由对象组成的数组：[{...}, {...}]")]) from None
            if not isinstance(data, list):
                raise TicketFileError([Problem(display, 1, "JSON 文件的顶层必须是数组",
                                               "写成 [{\"工单号\": ...}, ...]；每行一个对象的文件请用 .jsonl 扩展名")])
            items = list(enumerate(data, 1))
        else:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    items.append((number, json.loads(line)))
                except json.JSONDecodeError as err:
                    items.append((number, _BadLine(f"不是有效的 JSON（{err.msg}，第 {err.colno} 个字符）")))
                except (RecursionError, ValueError) as err:
                    items.append((number, _BadLine(f"不是可用的 JSON（{_json_reason(err)}）")))
    headers: dict[str, None] = {}
    for _, item in items:
        if isinstance(item, dict):
            headers.update(dict.fromkeys(map(str, item)))
    header_list = list(headers)
    columns = resolve_columns(header_list, display, mapping)
    batch = TicketBatch(path, fmt, encoding, {f: header_list[i] for f, i in columns.items()})
    rows = _RowReader(header_list, columns)
    for number, item in items:
        if isinstance(item, _BadLine):
            batch.rejected.append(RejectedRow(display, number, item))
            continue
        if not isinstance(item, dict):
            batch.rejected.append(RejectedRow(display, number, "不是一个对象（每条工单应写成 {\"字段\": 值, ...}）"))
            continue
        if not any(_text(v) for v in item.values()):
            batch.blank_rows += 1
            continue
        values = [_text(item.get(h)) for h in header_list]
        result = rows.ticket(values, number)
        if isinstance(result, Ticket):
            batch.tickets.append(result)
        else:
            batch.rejected.append(RejectedRow(display, number, _one_line(result)))
    return batch



