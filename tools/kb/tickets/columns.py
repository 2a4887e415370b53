"""Which column of an export feeds which ticket field.

Headers are recognised from the names Chinese and English helpdesks commonly use; for
any other helpdesk a small YAML mapping file names its headers:

    # 我方字段: 对方表头（可写一个或几个）
    id: 服务单号
    opened_at: 受理时间
    description: [故障现象, 问题说明]

Matching ignores case, spaces, `_` and `-`, and full-width/half-width differences, so
`Ticket ID`, `ticket_id` and `ＩＤ` are the same header.

Two columns that would feed the same field are an error naming both (header and column
number), never a silent choice: two 问题描述 columns, or 工单号 beside ticket_id. That
holds for every field something reads (the times, 是否现场, 优先级 and 模块 for the service
report, 问题描述, 处理结果 and 备注 for linking, 报告人 for scrubbing names), not for the
PASSIVE ones — 联系电话, 邮箱, 单位 are kept on the ticket but used by nothing, and an
export with both 电话 and 手机, or 单位 and 部门, is common: the name first in FIELDS
wins (of two same-named columns, the left one).
A mapping that names a field settles which column it is (its headers are tried in
order, the first one present wins) unless the header it names is itself there twice.
Columns that feed no field may repeat freely (two 附件 columns are fine).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from kb.problems import Problem, yaml_reason

# Our field → (Chinese label used in messages, accepted headers in order of preference).
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "id": ("工单号", ("工单号", "工单编号", "工单id", "单号", "ticket_id", "ticket", "ticket_no", "id")),
    "opened_at": ("创建时间", ("创建时间", "报修时间", "提交时间", "受理时间", "opened_at", "created_at", "created", "create_time")),
    "responded_at": ("首次响应时间", ("首次响应时间", "响应时间", "首次响应", "responded_at", "first_response_at", "first_response")),
    "resolved_at": ("解决时间", ("解决时间", "关闭时间", "完成时间", "resolved_at", "closed_at", "resolved", "closed")),
    "onsite_at": ("到场时间", ("到场时间", "到达现场时间", "onsite_at", "arrived_at")),
    "onsite": ("是否现场", ("是否现场", "现场服务", "是否到场", "onsite", "on_site")),
    "priority": ("优先级", ("优先级", "紧急程度", "级别", "priority", "severity")),
    "module": ("模块", ("模块", "系统模块", "所属模块", "module", "category")),
    "description": ("问题描述", ("问题描述", "现象", "故障描述", "故障现象", "问题", "description", "summary", "subject")),
    "resolution": ("处理结果", ("处理结果", "解决方案", "处理过程", "处理方法", "resolution", "solution")),
    "notes": ("备注", ("备注", "notes", "note", "remark", "remarks", "comment", "comments")),
    "reporter": ("报告人", ("报告人", "报修人", "联系人", "提交人", "reporter", "requester", "contact")),
    "phone": ("联系电话", ("联系电话", "电话", "手机", "phone", "mobile", "tel")),
    "email": ("邮箱", ("邮箱", "电子邮箱", "email", "e-mail", "mail")),
    "org": ("单位", ("单位", "部门", "所属单位", "org", "organization", "department", "company")),
}
REQUIRED = ("id", "opened_at", "description", "resolution")
PASSIVE = ("phone", "email", "org")  # read, used by nothing: of two candidate columns the preferred one
MAPPING_HINT = "在导出中加上该列，或用列映射文件（YAML，每行“我方字段: 对方表头”）指定对应的列名"

_IGNORED = re.compile(r"[\s_\-]+")


class TicketFileError(Exception):
    """An export or mapping file cannot be used at all; each problem says where and what to do."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def header_key(header: str) -> str:
    """Comparable form of a header: NFKC, case-folded, without spaces, `_` and `-`."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", str(header)).casefold())


def label(field: str) -> str:
    return f"{FIELDS[field][0]}（{field}）"


def load_mapping(path: str | os.PathLike) -> dict[str, tuple[str, ...]]:
    """Read a YAML mapping file: our field → their header (or a list of headers)."""
    path = Path(path)
    display = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TicketFileError([Problem(display, 1, "找不到列映射文件", "检查文件路径")]) from None
    except UnicodeDecodeError:
        raise TicketFileError([Problem(display, 1, "列映射文件不是 UTF-8 编码", "用编辑器以 UTF-8 编码另存该文件")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise TicketFileError([Problem(display, mark.line + 1 if mark else 1,
                                       f"YAML 语法错误：{yaml_reason(err)}",
                                       "每行写成“字段: 表头”，冒号后留一个空格")]) from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise TicketFileError([Problem(display, 1, "列映射文件必须是“字段: 表头”的映射", "每行写成“字段: 表头”，例如 id: 服务单号")])
    mapping, problems = {}, []
    for key_node, value_node in node.value:
        line, field = key_node.start_mark.line + 1, str(key_node.value)
        if field not in FIELDS:
            problems.append(Problem(display, line, f"未知字段 {field!r}", "可用字段：" + "、".join(FIELDS)))
            continue
        if isinstance(value_node, yaml.ScalarNode) and str(value_node.value).strip():
            mapping[field] = (str(value_node.value).strip(),)
        elif isinstance(value_node, yaml.SequenceNode) and value_node.value and all(
                isinstance(v, yaml.ScalarNode) and str(v.value).strip() for v in value_node.value):
            mapping[field] = tuple(str(v.value).strip() for v in value_node.value)
        else:
            problems.append(Problem(display, line, f"字段 {field} 的表头必须是非空文本或文本列表",
                                    f"写成 {field}: 表头 或 {field}: [表头1, 表头2]"))
    if problems:
        raise TicketFileError(problems)
    return mapping


def normalise_mapping(mapping: Mapping[str, str | Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """A mapping given in code: the same shape as the file, validated the same way."""
    result = {}
    for field, headers in (mapping or {}).items():
        if field not in FIELDS:
            raise ValueError(f"未知字段 {field!r}；可用字段：" + "、".join(FIELDS))
        result[field] = (headers,) if isinstance(headers, str) else tuple(headers)
    return result


def resolve_columns(headers: Sequence[str], display: str,
                    mapping: Mapping[str, tuple[str, ...]] | None = None, *, numbered: bool = True) -> dict[str, int]:
    """Our field → index of the column that feeds it. A user mapping wins over the built-in
    names; a missing required column, a mapped header that is not there, or two columns
    for one field is an error that lists the columns the file does have. `numbered`:
    name columns by number too (CSV, .xlsx; not JSON keys)."""
    positions: dict[str, list[int]] = {}
    for i, header in enumerate(headers):
        positions.setdefault(header_key(header), []).append(i)
    found = "、".join(str(h) for h in headers if str(h).strip()) or "（无）"
    problems, columns, ambiguous = [], {}, set()

    def twice(field: str, hits: list[int], mapped: bool) -> Problem:
        shown = [f"“{str(headers[i]).strip()}”" + (f"（第 {i + 1} 列）" if numbered else "") for i in hits]
        named = "、".join(shown[:-1]) + "和" + shown[-1]
        same = len({header_key(headers[i]) for i in hits}) == 1
        hint = ("删除或改名其中一列，只留下一列" if same or mapped else
                f"删除或改名其中一列，或用列映射文件指定该字段用哪一列（例如 {field}: {str(headers[hits[0]]).strip()}）")
        return Problem(display, 1, f"{named}都对应字段 {label(field)}，无法确定用哪一列", hint)

    for field, (_, names) in FIELDS.items():
        wanted = (mapping or {}).get(field)
        if wanted:  # the user's order of preference: the first header present wins
            hits = next((positions[k] for k in map(header_key, wanted) if k in positions), None)
            if hits is None:
                problems.append(Problem(display, 1, f"列映射指定的表头 {'、'.join(wanted)} 在文件中不存在（字段 {field}）；找到的列：{found}",
                                        "改正映射文件中的表头，写成与导出文件第 1 行完全一致的列名"))
                continue
        else:
            hits = [i for k in dict.fromkeys(map(header_key, names)) for i in positions.get(k, ())]
            if not hits:
                continue
        if len(hits) > 1 and field not in PASSIVE:
            problems.append(twice(field, sorted(hits), bool(wanted)))
            ambiguous.add(field)
        else:
            columns[field] = hits[0]
    missing = [f for f in REQUIRED if f not in columns and f not in (mapping or {}) and f not in ambiguous]
    if missing:
        problems.append(Problem(display, 1, f"缺少必填列：{'、'.join(label(f) for f in missing)}；找到的列：{found}", MAPPING_HINT))
    if problems:
        raise TicketFileError(problems)
    return columns
