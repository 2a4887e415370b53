"""Read a helpdesk export (CSV, .xlsx, JSON array or JSON Lines): as a stream of tickets
(`open_export`, for stores that must not hold a whole export in memory) or whole
(`read_tickets`, a TicketBatch).

Encodings of the text formats, decided per file:

1. A BOM decides (UTF-8, UTF-16 or UTF-32).
2. No BOM but a NUL byte in every other position of the ASCII text (the delimiters,
   digits and dates every export has): UTF-16, little- or big-endian by the position.
3. Otherwise a sample is judged: the first MB, or, when that is all ASCII, a MB from the
   line of the first non-ASCII byte (a GBK file whose first Chinese comes late). Valid
   UTF-8 is UTF-8. Text that is UTF-8 but for a few stray bytes (under 2 % of its
   non-ASCII characters) is UTF-8 too, so that the stray byte is reported below: handed
   to a detector, it would be decoded whole as GB18030 or a code page, which accept
   almost any byte, and every Chinese character would come out garbled. Anything else
   is asked of charset-normalizer, chosen because it is maintained (requests depends on
   it), installs everywhere (pure Python, optional compiled speed-ups) and judges each
   candidate codec by how plausible the decoded text is (how messy, how coherent with a
   language) rather than by byte statistics alone, as chardet does; cchardet is no
   longer maintained. One bias is added: this is a Chinese helpdesk's tool, so when it names
   another CJK legacy codec (a short GBK sample is often taken for Korean cp949) and
   the sample is valid GB18030, GB18030 is used; so it is when the detector found it as
   plausible as its first choice. GBK and GB2312 are read as GB18030, their superset
   (what Excel on Chinese Windows writes is GBK). The detector is given the sample's
   lines that hold non-ASCII bytes: it looks at a few slices only.
4. The WHOLE file is then decoded strictly with the codec chosen: the first byte that
   does not decode is a TicketFileError naming its line and byte offset, never a
   garbled text. `encoding=` skips steps 1–3, not step 4.

CSV is read as a stream: memory does not grow with the file but for the table of ticket
ids seen (for duplicates; some 25 MB for a million rows, see _SeenIds). A tab in the
first line more often than a comma makes it tab-separated. .xlsx (and .xlsm) is read
with openpyxl in read-only mode, streamed too (openpyxl holds the workbook's
shared-strings table): the first sheet, row 1 the header, row numbers as Excel shows
them, cells as typed (a date cell is a datetime, a number a number; `encoding` does not
apply and is reported as ""); cells right of the last header are ignored. An old
binary .xls is refused with advice. JSON and JSON Lines are loaded whole.

Rows that cannot be used — an unreadable or impossible time, a broken quote or wrong
number of fields, an empty description, a ticket id seen before in the file — are
RejectedRow entries with the row number a user sees in Excel (header = row 1), and the
other rows go on. A reason names the row, the column, what is wrong and what to do,
never a cell's value: cells hold personal data, and reasons reach reports and the
internal site. A file without a single ticket — only a header, or every row rejected —
is not a success: TicketFileError.

CSV quoting: a quoted cell may hold line breaks, delimiters and lines that look like
rows (an engineer pasting another ticket's row into a description). A record over
several lines is taken for a quote that was never closed and swallowed the rows below
it only when it is not a legal record of the header's width — other than that many
fields, a quote closed in mid-cell (`"abc"def`, how an unclosed quote meets the quote
of a later row), or the end of the file inside the quote — and a later line of it
looks like a row of its own (an id and a readable creation time); then only its first
line is rejected and the rest are read again. A legal record of the header's width is
one ticket, whatever its cells hold. A file that ends inside a quote (cut off) rejects
its last row.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import json
import os
import re
import warnings
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from kb.problems import Problem
from kb.tickets.columns import TicketFileError, load_mapping, normalise_mapping, resolve_columns
from kb.tickets.dates import FIRST_YEAR, LAST_YEAR, TimeOutOfRange, parse_datetime
from kb.tickets.model import RejectedRow, Ticket, TicketBatch

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".xlsx": "xlsx", ".xlsm": "xlsx"}
_DATE_FIELDS = ("opened_at", "responded_at", "resolved_at", "onsite_at")
_TEXT_FIELDS = ("priority", "module", "notes", "reporter", "phone", "email", "org")
_YES = {"是", "y", "yes", "true", "1", "现场", "到场", "已到场", "√", "✓"}
_NO = {"否", "n", "no", "false", "0", "远程", "电话", "未到场", "×", "不需要", "无"}
_CHUNK = 1 << 20   # bytes per read when checking a whole file's encoding
_SAMPLE = 1 << 20  # bytes the encoding is judged on
_DETECTOR_INPUT = 1 << 18  # of which at most this much (lines with non-ASCII bytes) goes to the detector
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_GB = {"gb2312", "gbk", "gb18030"}
_CJK_LEGACY = {"big5", "big5hkscs", "cp950", "cp949", "euc_kr", "johab", "cp932", "shift_jis", "shift_jis_2004",
               "shift_jisx0213", "euc_jp", "euc_jis_2004", "euc_jisx0213", "iso2022_jp", "iso2022_kr", *_GB}
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_QUOTE_HINT = "检查该行的英文双引号 \"，单元格内的引号要写成两个 \"\""


class TicketStream:
    """One export being read: how (`format`, `encoding`, `columns`: our field → header) and,
    iterated once, its rows in file order as Ticket or RejectedRow. The counts (`tickets`,
    `rejected`, `blank_rows`) are of the rows read so far.

    Problems with the file as a whole were raised by open_export already; only two come
    while iterating, as TicketFileError: the file had no ticket at all (raised after the
    last row, so a caller storing tickets as they come must undo them), and a file that
    cannot be read on (changed or unreadable half way). Close the stream (or use it as
    a context manager) when leaving before the end."""

    def __init__(self, path: Path, format: str, encoding: str, columns: dict[str, str]):
        self.path = path
        self.format = format          # "csv" | "xlsx" | "json" | "jsonl"
        self.encoding = encoding      # codec used; "" for .xlsx
        self.columns = columns
        self.blank_rows = 0
        self.tickets = 0
        self.rejected = 0
        self._rows: Iterator[Ticket | RejectedRow] = iter(())
        self._close: Callable[[], None] | None = None

    def __iter__(self) -> Iterator[Ticket | RejectedRow]:
        return self._rows

    def close(self) -> None:
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> TicketStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<TicketStream {self.path} {self.format} {self.encoding or '-'}: {self.tickets} tickets, {self.rejected} rejected so far>"


def open_export(path: str | os.PathLike, *, encoding: str | None = None,
                mapping: Mapping[str, str | Sequence[str]] | str | os.PathLike | None = None,
                format: str | None = None) -> TicketStream:
    """Open one export for reading row by row. `mapping`: our field → their header(s), or a
    YAML file of that; `format`: csv, xlsx, json or jsonl (default: by extension);
    `encoding` is ignored for .xlsx. Raises TicketFileError when the file as a whole
    cannot be used (missing, unreadable, encoding, header, mapping) — before any row."""
    path = Path(path)
    display = str(path)
    fmt = format or FORMATS.get(path.suffix.lower())
    if fmt == "xls" or (fmt is None and path.suffix.lower() == ".xls"):
        raise TicketFileError([Problem(display, 1, "不支持旧版 Excel 文件（.xls）",
                                       "在 Excel 中“另存为”Excel 工作簿（.xlsx）或 CSV UTF-8（逗号分隔）（.csv）后再读取")])
    if fmt not in ("csv", "json", "jsonl", "xlsx"):
        raise TicketFileError([Problem(display, 1, f"无法识别的文件类型 {path.suffix or '（无扩展名）'}",
                                       "导出为 .csv、.xlsx、.json 或 .jsonl 文件，或指定格式 csv / xlsx / json / jsonl")])
    if not path.is_file():
        raise TicketFileError([Problem(display, 1, "找不到工单导出文件", "检查文件路径")])
    user_mapping = load_mapping(mapping) if isinstance(mapping, (str, os.PathLike)) else normalise_mapping(mapping)
    try:
        if fmt == "xlsx":
            return _open_xlsx(path, display, user_mapping)
        encoding = check_encoding(path, encoding) if encoding else detect_encoding(path)
        if fmt == "csv":
            return _open_csv(path, display, encoding, user_mapping)
        return _open_json(path, display, encoding, user_mapping, fmt)
    except OSError as err:  # no permission, locked by Excel on a share, an I/O error
        raise _unreadable(display, err) from None


def read_tickets(path: str | os.PathLike, *, encoding: str | None = None,
                 mapping: Mapping[str, str | Sequence[str]] | str | os.PathLike | None = None,
                 format: str | None = None) -> TicketBatch:
    """Read one export whole (see open_export). Raises TicketFileError when the file as a
    whole cannot be used, or holds no ticket."""
    with open_export(path, encoding=encoding, mapping=mapping, format=format) as stream:
        batch = TicketBatch(stream.path, stream.format, stream.encoding, stream.columns)
        tickets, rejected = batch.tickets.append, batch.rejected.append
        for item in stream:
            if type(item) is Ticket:
                tickets(item)
            else:
                rejected(item)
        batch.blank_rows = stream.blank_rows
    return batch


def _unreadable(display: str, err: OSError) -> TicketFileError:
    return TicketFileError([Problem(display, 1, f"无法读取文件：{err.strerror or err}",
                                    "检查文件的读取权限，或关闭正在使用它的程序（如 Excel）后重试")])


def _counted(stream: TicketStream, display: str, results: Iterator[tuple[int, Ticket | str]],
             empty: str) -> Iterator[Ticket | RejectedRow]:
    """The rows of any format, `(row, Ticket or reason)`, as the stream gives them: counted,
    reasons as RejectedRow, and after the last one an error when no row was a ticket
    (`empty` says what the file had instead of rows)."""
    first = None
    try:
        for row, result in results:
            if type(result) is Ticket:
                stream.tickets += 1
                yield result
            else:
                rejected = RejectedRow(display, row, _one_line(result))
                first = first or rejected
                stream.rejected += 1
                yield rejected
    finally:
        results.close()
    if not stream.tickets:
        raise _no_tickets(stream, display, first, empty)


def _no_tickets(stream: TicketStream, display: str, first: RejectedRow | None, empty: str) -> TicketFileError:
    """The end of a file without one ticket: `empty` says what it had instead."""
    if first is None:
        return TicketFileError([Problem(display, 1, empty, "检查导出时选择的范围，重新导出包含工单的文件")])
    return TicketFileError([Problem(display, first.row_number, f"全部 {stream.rejected} 行都无法使用，第一个原因：{first.reason}",
                                    "按原因改正后重新导出；各行的原因相同时，多半是列或格式整体不对")])


# Encoding ---------------------------------------------------------------------------------

def detect_encoding(path: str | os.PathLike) -> str:
    """The file's encoding (see the module docstring), checked against the whole file:
    TicketFileError naming the line and byte of the first byte that does not decode."""
    path = Path(path)
    with path.open("rb") as f:
        sample = f.read(_SAMPLE)
        for bom, name in _BOMS:
            if sample.startswith(bom):
                return check_encoding(path, name, detected=True)
        wide = _utf16_without_bom(sample)
        if wide:
            return check_encoding(path, wide, detected=True)
        at_end = len(sample) < _SAMPLE
        if not at_end and sample.isascii():
            sample, at_end = _non_ascii_sample(f)
    return check_encoding(path, _judge(path, sample, at_end), detected=True)


def _utf16_without_bom(sample: bytes) -> str | None:
    """utf-16-le / utf-16-be when NUL bytes sit at every other position of the ASCII text."""
    head = sample[: 1 << 16]
    head = head[: len(head) // 2 * 2]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd * 8 >= pairs and even * 16 <= odd:
        return "utf-16-le"
    if even * 8 >= pairs and odd * 16 <= even:
        return "utf-16-be"
    return None


def _non_ascii_sample(f) -> tuple[bytes, bool]:
    """After an all-ASCII first MB: a MB from the line holding the first non-ASCII byte
    (b"" if there is none), and whether it reaches the end of the file."""
    while True:
        chunk = f.read(_SAMPLE)
        if not chunk:
            return b"", True
        found = _NON_ASCII.search(chunk)
        if found:
            start = chunk.rfind(b"\n", 0, found.start()) + 1  # all ASCII before: a character boundary
            sample = chunk[start:] + f.read(start)
            return sample, not f.read(1)


def _judge(path: Path, sample: bytes, at_end: bool) -> str:
    """The codec for an ASCII-compatible sample (see the module docstring)."""
    if not at_end:
        cut = sample.rfind(b"\n")
        if cut > 0:
            sample = sample[: cut + 1]  # a line break is a character boundary in these codecs
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=at_end)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    text = sample.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad  # non-ASCII characters that decoded
    if bad * 50 <= good:
        return "utf-8"
    from charset_normalizer import from_bytes
    # The lines with non-ASCII bytes: the detector looks at a few slices of what it is
    # given, and in a mostly-ASCII export those would hold no evidence at all.
    dense = b"".join(line for line in sample.splitlines(keepends=True) if not line.isascii())
    if len(dense) > _DETECTOR_INPUT:
        dense = dense[: dense.rfind(b"\n", 0, _DETECTOR_INPUT) + 1] or dense  # whole lines: a cut character misleads it
    matches = from_bytes(dense)
    best = matches.best()
    if best is None:
        raise TicketFileError([Problem(str(path), 1, "无法识别文件的编码（文件可能不是文本）",
                                       "确认这是工单导出文件；用 Excel 或记事本以 UTF-8 编码另存，或用 --encoding 指定编码")])
    name = codecs.lookup(best.encoding).name
    if name in ("ascii", "utf-8"):
        return "utf-8"
    if name in _GB:
        return "gb18030"
    if name.startswith("utf-"):
        return name
    # A Chinese helpdesk's tool: GB18030 wins over another CJK legacy codec, and over any
    # codec that reads the sample no more plausibly.
    if name in _CJK_LEGACY or any(codecs.lookup(m.encoding).name in _GB and m.chaos <= best.chaos for m in matches):
        try:
            codecs.getincrementaldecoder("gb18030")("strict").decode(sample, final=at_end)
            return "gb18030"
        except UnicodeDecodeError:
            pass
    return name


def check_encoding(path: Path, encoding: str, *, detected: bool = False) -> str:
    """`encoding` if the whole file decodes with it; else an error naming the line and byte
    offset of the first byte that does not. `detected`: the encoding was guessed, not given."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise TicketFileError([Problem(str(path), 1, f"未知的编码 {encoding!r}", "常用编码：utf-8、utf-8-sig、gbk、gb18030")]) from None
    found = _decode_error(Path(path), encoding)
    if found is not None:
        line, offset, bad = found
        where = f"第 {line} 行（文件第 {offset + 1} 个字节）有无法按 {encoding} 解码的字节 {bad}"
        if detected:
            problem = Problem(str(path), line, where,
                              f"文件的其余部分是 {encoding} 编码：改正或删除该处的字符后重试；"
                              "如果整个文件是另一种编码，用 --encoding 指定")
        else:
            problem = Problem(str(path), line, f"文件不是 {encoding} 编码：{where}",
                              "去掉编码参数让程序自动识别，或用 Excel/记事本以 UTF-8 或 GBK 编码另存")
        raise TicketFileError([problem])
    return encoding


def _decode_error(path: Path, encoding: str) -> tuple[int, int, str] | None:
    """(line, byte offset, the bad bytes as hex) of the first byte that does not decode,
    None if the whole file decodes. Read in chunks through an incremental decoder (a
    character split between chunks is not an error); the line is counted only once an
    error is found."""
    offset = start = 0
    with path.open("rb") as f:
        if codecs.lookup(encoding).name == "utf-8-sig" and f.read(3) == codecs.BOM_UTF8:
            encoding, offset = "utf-8", 3  # utf-8-sig would count error positions after the BOM
            start = 3
        else:
            f.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        while True:
            chunk = f.read(_CHUNK)
            state = decoder.getstate()
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                # err.start counts from the bytes the decoder kept from the last chunk.
                pending = len(state[0]) if isinstance(state[0], bytes) else 0
                at = offset - pending + err.start
                bad = err.object[err.start: max(err.end, err.start + 1)][:4]
                return _line_at(f, encoding, start, at), at, " ".join(f"0x{b:02x}" for b in bad)
            except UnicodeError:  # "UTF-16 stream does not start with BOM"
                return 1, 0, " ".join(f"0x{b:02x}" for b in chunk[:2])
            if not chunk:
                return None
            offset += len(chunk)


def _line_at(f, encoding: str, start: int, offset: int) -> int:
    """The line holding byte `offset` (all bytes before it decode), counted as the CSV
    reader counts lines: a line ends at \r\n, \n or \r."""
    f.seek(start)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line, after_cr, left = 1, False, offset - start
    while left > 0:
        chunk = f.read(min(_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        text = decoder.decode(chunk)
        line += text.count("\n") + text.count("\r") - text.count("\r\n") - (after_cr and text[:1] == "\n")
        if text:
            after_cr = text[-1] == "\r"
    return line


# Rows → tickets -------------------------------------------------------------------------

class _SeenIds:
    """The ticket ids of a file so far, each with the row it was first seen in. Up to
    DICT_LIMIT ids a dict (fastest; some 20 MB at most); past it an open-addressing table
    of their 64-bit hashes in two flat arrays, 12 bytes a slot, 24 to 48 an id where the
    dict takes about 140: a million-row export costs the reader some 25 MB, not 140. Two
    different ids with the same 64-bit hash (odds about 3 in 10^8 for a million ids)
    would be taken for a duplicate."""

    DICT_LIMIT = 1 << 17

    def __init__(self):
        self.ids: dict[str, int] | None = {}
        self.mask = self.count = 0
        self.hashes = array("q")
        self.rows = array("I")

    def first_row(self, ticket_id: str, row: int) -> int:
        """The row `ticket_id` was first seen in: `row` (remembered) when it is new."""
        ids = self.ids
        if ids is not None:
            first = ids.setdefault(ticket_id, row)
            if first == row and len(ids) > self.DICT_LIMIT:
                self._to_table(ids)
            return first
        h = hash(ticket_id) or 1
        hashes, mask = self.hashes, self.mask
        i = h & mask
        while True:
            found = hashes[i]
            if not found:
                hashes[i] = h
                self.rows[i] = row
                self.count += 1
                if self.count * 2 > mask:
                    self._grow(zip(self.hashes, self.rows))
                return row
            if found == h:
                return self.rows[i]
            i = (i + 1) & mask

    def _to_table(self, ids: dict[str, int]) -> None:
        self.ids = None
        self.count = len(ids)
        self.mask = (1 << 14) - 1
        self._grow(((hash(k) or 1, row) for k, row in ids.items()))

    def _grow(self, entries) -> None:
        """A new table, at most a third full, holding `entries` (hash, row)."""
        size = self.mask + 1
        while self.count * 3 > size:
            size *= 2
        self.mask = mask = size - 1
        hashes, rows = array("q", [0]) * size, array("I", [0]) * size  # 0: an empty slot
        for h, row in entries:
            if h:
                i = h & mask
                while hashes[i]:
                    i = (i + 1) & mask
                hashes[i], rows[i] = h, row
        self.hashes, self.rows = hashes, rows


class _RowReader:
    """Turns the values of one row into a Ticket, or a reason to reject it. Reasons name
    the column and what is wrong, never a value (cells hold personal data)."""

    def __init__(self, headers: Sequence[str], columns: dict[str, int]):
        self.headers = headers
        self.columns = columns
        self.seen = _SeenIds()
        # Ticket is built from positional arguments (the hot path): its defaults, and the
        # position of each field among them.
        fields = dataclasses.fields(Ticket)
        slot = {f.name: n for n, f in enumerate(fields)}
        self.defaults = [None if f.default is dataclasses.MISSING else f.default for f in fields]
        self.dates = [(slot[f], columns[f], headers[columns[f]]) for f in _DATE_FIELDS if f in columns]
        self.texts = [(slot[f], columns[f]) for f in _TEXT_FIELDS if f in columns]
        self.onsite = columns.get("onsite")
        self.onsite_slot, self.notes_slot, self.row_slot = slot["onsite"], slot["notes"], slot["row"]
        self.opened_slot, self.desc_slot, self.res_slot = slot["opened_at"], slot["description"], slot["resolution"]
        self.id, self.desc, self.res = columns["id"], columns["description"], columns["resolution"]

    def ticket(self, values: Sequence, row: int) -> Ticket | str:
        """`values`: the row's cells, one per header: text, already stripped; the time
        columns may also hold datetimes or numbers (.xlsx)."""
        ticket_id = values[self.id]
        if not ticket_id:
            return f"“{self.headers[self.id]}”为空（每行都要有工单号）"
        description = values[self.desc]
        if not description:
            return f"“{self.headers[self.desc]}”为空（补上问题描述，或删除该行）"
        args = self.defaults.copy()
        args[0] = ticket_id
        for slot, i, header in self.dates:
            value = values[i]
            if value == "" or value is None:
                continue  # the Ticket's default, None
            try:
                args[slot] = parse_datetime(value)
            except TimeOutOfRange:
                return (f"“{header}”的年份不在 {FIRST_YEAR}–{LAST_YEAR} 之间，不是真实的工单时间"
                        "（多半是占位值或单元格格式错误，改成实际时间，如 2026-03-05 14:20）")
            except (ValueError, OverflowError):
                return f"“{header}”不是可识别的时间（写成 2026-03-05 14:20 或 2026/3/5 14:20:00）"
        if args[self.opened_slot] is None:
            return f"“{self.headers[self.columns['opened_at']]}”为空（每行都要有创建时间）"
        if self.onsite is not None:
            flag = values[self.onsite].casefold()
            if flag in _YES:
                args[self.onsite_slot] = True
            elif flag in _NO:
                args[self.onsite_slot] = False
            elif flag:
                return f"“{self.headers[self.onsite]}”无法识别（写成 是/否）"
        for slot, i in self.texts:
            args[slot] = values[i]
        first = self.seen.first_row(ticket_id, row)
        if first != row:
            return f"工单号与第 {first} 行重复（同一文件中工单号必须唯一；保留第 {first} 行）"
        resolution = values[self.res]
        notes = args[self.notes_slot]
        if "\r" in description or "\r" in resolution or "\r" in notes:
            description, resolution, args[self.notes_slot] = _lf(description), _lf(resolution), _lf(notes)
        args[self.desc_slot], args[self.res_slot], args[self.row_slot] = description, resolution, row
        return Ticket(*args)


def _lf(text: str) -> str:
    """Line breaks inside cells as \\n (Excel writes \\r\\n or a bare \\n)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text(value) -> str:
    """A JSON or .xlsx value as cell text."""
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
    """Physical lines for csv.reader, remembering which lines the current record took
    (`taken`, emptied by the caller per record) and able to give some back: after a broken
    quote swallowed the rows below it, only its first line is rejected and the rest are
    parsed again. `ended`: the end of the file was reached while csv.reader asked for
    more (inside a quote, if it then returns a record)."""

    def __init__(self, f, first: str):
        self.readline = f.readline
        self.number = 1
        self.pending: deque[tuple[int, str]] = deque([(1, first)])
        self.taken: list[tuple[int, str]] = []
        self.ended = False

    def source(self) -> Iterator[str]:
        """The lines, given-back ones first. It ends at the end of the file: after giving
        lines back, read them with a new source (and csv.reader)."""
        readline, pending, keep = self.readline, self.pending, self.taken.append
        number = self.number
        while True:
            if pending:
                item = pending.popleft()
            else:
                line = readline()
                if not line:
                    self.ended = True
                    return
                number += 1
                self.number = number
                item = (number, line)
            keep(item)
            yield item[1]

    def give_back(self, items: list[tuple[int, str]]) -> None:
        self.pending.extendleft(reversed(items))


def _open_csv(path: Path, display: str, encoding: str, mapping) -> TicketStream:
    f = path.open(encoding=encoding, newline="")
    if hasattr(f, "_CHUNK_SIZE"):
        f._CHUNK_SIZE = 1 << 16  # decode 64 KB at a time, not 8 KB: a fifth less time reading lines
    try:
        first = f.readline()
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        lines = _Lines(f, first)
        reader = csv.reader(lines.source(), delimiter=delimiter)
        try:
            headers = [h.strip() for h in next(reader)]
        except (StopIteration, csv.Error):
            headers = []
        if not any(headers):
            raise TicketFileError([Problem(display, 1, "文件是空的，或第 1 行不是表头", "第 1 行应为列名，例如 工单号,创建时间,问题描述,处理结果")])
        columns = resolve_columns(headers, display, mapping)
    except BaseException:
        f.close()
        raise
    stream = TicketStream(path, "csv", encoding, {name: headers[i] for name, i in columns.items()})
    stream._rows = _counted(stream, display, _csv_rows(stream, display, lines, reader, delimiter, headers, columns, f.close),
                            "文件只有表头，没有工单")
    stream._close = f.close
    return stream


def _csv_rows(stream: TicketStream, display: str, lines: _Lines, reader, delimiter: str,
              headers: list[str], columns: dict[str, int], done: Callable[[], None]) -> Iterator[tuple[int, Ticket | str]]:
    rows = _RowReader(headers, columns)
    width, row = len(headers), 1
    id_column, opened_column = columns["id"], columns["opened_at"]
    strip = str.strip
    taken = lines.taken

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

    def well_quoted(taken: list[tuple[int, str]]) -> bool:
        """Whether a record's quotes are those of a legal CSV: csv.reader accepts a quote
        closed in the middle of a cell (`"abc"def`), as an unclosed quote meeting the
        quote of a later row makes it."""
        try:
            for _ in csv.reader([line for _, line in taken], delimiter=delimiter, strict=True):
                pass
        except csv.Error:
            return False
        return True

    try:
        while True:
            taken.clear()
            lines.ended = False
            error = None
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as err:  # e.g. a swallowed field over csv's size limit
                values, error = None, err
            row += 1
            if values is not None:
                values = list(map(strip, values))
                if len(values) > width and not "".join(values[width:]):
                    values = values[:width]  # trailing empty cells, as some exports add
            several = len(taken) > 1
            if error is not None and not several:
                result = f"该行无法解析（{error}），检查文件第 {taken[0][0]} 行是否有特殊字符"
            elif values is None or (several and (len(values) != width or lines.ended or not well_quoted(taken))
                                    and any(looks_like_row(line) for _, line in taken[1:])):
                lines.give_back(taken[1:])
                reader = csv.reader(lines.source(), delimiter=delimiter)
                result = f"引号不成对（文件第 {taken[0][0]} 行起的引号没有闭合），该行无法读取（{_QUOTE_HINT}）"
            elif lines.ended:
                result = (f"文件在第 {taken[0][0]} 行的引号内结束，可能被截断"
                          "（重新导出完整的文件，或补全该行并加上结尾的英文双引号 \"）")
            elif not "".join(values):
                stream.blank_rows += 1
                continue
            elif len(values) != width and not several and taken[0][1].count('"') % 2:
                result = f"引号不成对（文件第 {taken[0][0]} 行的引号没有闭合），该行无法读取（{_QUOTE_HINT}）"
            elif len(values) != width:
                result = f"有 {len(values)} 列，表头有 {width} 列（检查该行是否多了或少了英文逗号）"
            else:
                result = rows.ticket(values, row)
            yield row, result
    except (OSError, UnicodeDecodeError) as err:  # the file changed or failed under us
        raise _unreadable(display, err if isinstance(err, OSError) else OSError("文件在读取过程中被修改")) from None
    finally:
        done()


def _one_line(reason: str) -> str:
    """A reason is printed as `file:row: reason` and must stay one line."""
    return " ".join(reason.split()) if "\n" in reason or "\r" in reason else reason


# .xlsx ------------------------------------------------------------------------------------

def _xlsx_problem(display: str) -> TicketFileError:
    return TicketFileError([Problem(display, 1, "不是可以读取的 .xlsx 文件（无法按 Excel 工作簿打开，文件可能已损坏或不是 Excel 文件）",
                                    "在 Excel 中打开后另存为 .xlsx 或 CSV；如果文件其实是 CSV，把扩展名改为 .csv")])


def _xlsx_errors() -> tuple[type[BaseException], ...]:
    """What openpyxl raises on a damaged or foreign file (zip, XML and value errors)."""
    import zipfile
    import zlib

    from openpyxl.utils.exceptions import InvalidFileException
    return (zipfile.BadZipFile, zlib.error, InvalidFileException, KeyError, ValueError, TypeError,
            IndexError, AttributeError, EOFError, SyntaxError)  # SyntaxError: xml ParseError


def _open_xlsx(path: Path, display: str, mapping) -> TicketStream:
    import openpyxl
    errors = _xlsx_errors()
    try:
        with warnings.catch_warnings():  # "no default style", unsupported extensions: noise to a user
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except errors:
        raise _xlsx_problem(display) from None
    try:
        if not workbook.worksheets:
            raise _xlsx_problem(display)
        sheet = workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # the size a writer recorded may be wrong: read every row
        source = sheet.iter_rows(values_only=True)
        try:
            header_row = next(source, ())
        except errors:
            raise _xlsx_problem(display) from None
        headers = [_text(v) for v in header_row]
        while headers and not headers[-1]:
            headers.pop()
        if not any(headers):
            raise TicketFileError([Problem(display, 1, f"工作表“{sheet.title}”是空的，或第 1 行不是表头",
                                           "第一个工作表的第 1 行应为列名，例如 工单号、创建时间、问题描述、处理结果")])
        columns = resolve_columns(headers, display, mapping)
    except BaseException:
        workbook.close()
        raise
    stream = TicketStream(path, "xlsx", "", {name: headers[i] for name, i in columns.items()})
    stream._rows = _counted(stream, display, _xlsx_rows(stream, display, source, errors, headers, columns, workbook.close),
                            "文件只有表头，没有工单")
    stream._close = workbook.close
    return stream


def _xlsx_rows(stream: TicketStream, display: str, source: Iterator[tuple], errors, headers: list[str],
               columns: dict[str, int], done: Callable[[], None]) -> Iterator[tuple[int, Ticket | str]]:
    rows = _RowReader(headers, columns)
    width = len(headers)
    padding = ("",) * width
    dates = [columns[f] for f in _DATE_FIELDS if f in columns]
    row = 1
    try:
        while True:
            try:
                cells = next(source)
            except StopIteration:
                break
            except errors:
                raise TicketFileError([Problem(display, row + 1, f"工作表第 {row + 1} 行起无法读取（文件可能已损坏）",
                                               "在 Excel 中打开后另存为 .xlsx 或 CSV 再读取")]) from None
            row += 1
            cells = (tuple(cells) + padding)[:width]
            values = [_text(v) for v in cells]
            if not "".join(values):
                stream.blank_rows += 1
                continue
            for i in dates:
                if cells[i] is not None and type(cells[i]) is not str:
                    values[i] = cells[i]  # a datetime or a number: parse_datetime takes it as it is
            for i, value in enumerate(cells):
                if type(value) is float and value.is_integer() and i not in dates:
                    values[i] = str(int(value))  # 1001.0 as Excel stores 1001
            yield row, rows.ticket(values, row)
    except OSError as err:
        raise _unreadable(display, err) from None
    finally:
        done()


# JSON -------------------------------------------------------------------------------------

class _BadLine(str):
    """Why a JSON Lines line could not be read (a line holding a JSON string is a str too)."""


def _json_reason(err: Exception) -> str:
    """Why json could not load a valid-looking text: too deep, or a number too long."""
    if isinstance(err, RecursionError):
        return "嵌套层数过多"
    return "数字位数过多" if "digits" in str(err) else " ".join(str(err).split())


def _open_json(path: Path, display: str, encoding: str, mapping, fmt: str) -> TicketStream:
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
    if not items:
        raise TicketFileError([Problem(display, 1, "文件中没有工单", "检查导出时选择的范围，重新导出包含工单的文件")])
    headers: dict[str, None] = {}
    for _, item in items:
        if isinstance(item, dict):
            headers.update(dict.fromkeys(map(str, item)))
    header_list = list(headers)
    columns = resolve_columns(header_list, display, mapping, numbered=False)
    stream = TicketStream(path, fmt, encoding, {name: header_list[i] for name, i in columns.items()})
    stream._rows = _counted(stream, display, _json_rows(stream, items, header_list, columns),
                            "文件中没有工单（每个对象都是空的）")
    return stream


def _json_rows(stream: TicketStream, items: list[tuple[int, object]], header_list: list[str],
               columns: dict[str, int]) -> Iterator[tuple[int, Ticket | str]]:
    rows = _RowReader(header_list, columns)
    for number, item in items:
        if isinstance(item, _BadLine):
            result = str(item)
        elif not isinstance(item, dict):
            result = "不是一个对象（每条工单应写成 {\"字段\": 值, ...}）"
        elif not any(_text(v) for v in item.values()):
            stream.blank_rows += 1
            continue
        else:
            result = rows.ticket([_text(item.get(h)) for h in header_list], number)
        yield number, result
