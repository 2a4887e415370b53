"""月度服务报告: the service commitments measured against helpdesk exports.

    report = sla_report(project, ["export-2026-q1.csv", "export-2026-q2.csv"])

What is measured, per target in docs/_data/commitments.yml (the limits are read from
there, never written here):

| target key | from | to | tickets measured |
| --- | --- | --- | --- |
| response | 创建时间 | 首次响应时间 | every ticket with a response time |
| fix | 创建时间 | 解决时间 | every resolved ticket (open tickets are left out) |
| onsite | 创建时间 | 到场时间 | tickets with an on-site visit (是否现场, or an arrival time) |

A time is within a target when it is `≤ limit_hours` for an `inclusive` target and
`< limit_hours` otherwise; so a time exactly on the limit is met when inclusive and a
breach when not. Times are compared exactly (to the second), never after rounding.

Times without an offset are read in the project's timezone (`timezone` option of the
kb plugin, Asia/Shanghai by default); times with one (`...+00:00`, `Z`, epoch numbers)
are converted to it. Months are those of the creation time in that timezone (both rules
are kb.tickets.dates.local_time and month_of, shared with kb link).

Reasons for leaving a row out name the row, the column and what is wrong, never a cell's
text (the reader's rejections); an impossible ticket shows its two times as read, in the
project's timezone — parsed times, which cannot carry personal data, and what the user
needs to check the export.

Rows the reader rejects, and tickets whose times are impossible (responded, resolved or
arrived before they were opened), are listed and not counted. A ticket id found in more
than one export is counted once: the export given later wins (a newer export carries
the ticket's latest state).

Medians and 90th percentiles interpolate linearly between the two nearest values (as
Excel's PERCENTILE.INC and NumPy's default do), in hours with two decimals.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kb.commitments import Target, limit_text
from kb.project import Project
from kb.reports import charts
from kb.reports.text import md_escape, md_table, text_table
from kb.tickets.dates import local_time, month_of
from kb.tickets.model import RejectedRow, Ticket
from kb.tickets.reader import read_tickets

# Target key → (ticket field with the end time, label of that time, short label).
MEASURES: dict[str, tuple[str, str, str]] = {
    "response": ("responded_at", "首次响应时间", "响应"),
    "fix": ("resolved_at", "解决时间", "解决"),
    "onsite": ("onsite_at", "到场时间", "到场"),
}
PRIORITY_ORDER = ("紧急", "特急", "高", "中", "普通", "低")
UNSET = "（未填）"
TIME_FORMAT = "%Y-%m-%d %H:%M"


class SlaError(Exception):
    """The report cannot be made (unknown timezone, unusable commitments file); the
    message says what to do."""


# Results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Breach:
    ticket_id: str
    target: str           # response | fix | onsite
    title: str            # the target's title, e.g. 故障响应
    actual_hours: float   # rounded to 2 decimals; the comparison used the exact time
    limit_hours: float
    inclusive: bool
    over_hours: float     # actual − limit (0.0 when exactly on a “<” limit)
    month: str
    module: str
    priority: str
    path: str
    row: int

    @property
    def limit_text(self) -> str:
        return limit_text(self.limit_hours, self.inclusive)


@dataclass(frozen=True)
class InvalidRow:
    """A ticket left out because its times cannot be right."""

    ticket_id: str
    path: str
    row: int
    reason: str


@dataclass(frozen=True)
class Duplicate:
    """A ticket id in more than one export: counted once, from `kept_path`."""

    ticket_id: str
    kept_path: str
    kept_row: int
    dropped_path: str
    dropped_row: int


@dataclass
class TargetStats:
    key: str
    title: str
    measured: int = 0     # tickets with a time for this target
    met: int = 0
    unmeasured: int = 0   # in scope but without the time: no response yet, still open, arrival not filled in
    median_hours: float | None = None
    p90_hours: float | None = None

    @property
    def breached(self) -> int:
        return self.measured - self.met

    @property
    def rate(self) -> float | None:
        """Share of measured tickets within the limit (0..1, 4 decimals); None if none measured."""
        return round(self.met / self.measured, 4) if self.measured else None

    def to_dict(self) -> dict:
        return {"measured": self.measured, "met": self.met, "breached": self.breached,
                "unmeasured": self.unmeasured, "rate": self.rate,
                "median_hours": self.median_hours, "p90_hours": self.p90_hours}


@dataclass
class GroupStats:
    """Tickets of one month, module or priority (or all of them)."""

    name: str
    tickets: int = 0
    open: int = 0         # no resolution time yet
    onsite: int = 0       # with an on-site visit
    targets: dict[str, TargetStats] = field(default_factory=dict)

    def to_dict(self, key: str | None = None) -> dict:
        head = {key: self.name} if key else {}
        return {**head, "tickets": self.tickets, "open": self.open, "onsite": self.onsite,
                "targets": {k: t.to_dict() for k, t in self.targets.items()}}


@dataclass
class SlaReport:
    timezone: str
    targets: list[Target]
    files: list[dict]
    overall: GroupStats
    by_month: list[GroupStats]
    by_module: list[GroupStats]
    by_priority: list[GroupStats]      # empty when the exports carry no priority
    breaches: list[Breach]
    invalid: list[InvalidRow]
    rejected: list[RejectedRow]
    duplicates: list[Duplicate]
    notes: list[str]

    @property
    def period(self) -> tuple[str, str] | None:
        return (self.by_month[0].name, self.by_month[-1].name) if self.by_month else None

    def target_stats(self, key: str) -> TargetStats | None:
        return self.overall.targets.get(key)

    # --json -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        period = self.period
        return {
            "timezone": self.timezone,
            "period": {"from": period[0], "to": period[1]} if period else None,
            "targets": [{"key": t.key, "title": t.title, "limit_hours": t.limit_hours,
                         "inclusive": t.inclusive, "limit_text": t.limit_text} for t in self.targets],
            "files": self.files,
            "overall": self.overall.to_dict(),
            "by_month": [g.to_dict("month") for g in self.by_month],
            "by_module": [g.to_dict("module") for g in self.by_module],
            "by_priority": [g.to_dict("priority") for g in self.by_priority],
            "breaches": [{"ticket_id": b.ticket_id, "target": b.target, "title": b.title,
                          "actual_hours": b.actual_hours, "limit_hours": b.limit_hours,
                          "inclusive": b.inclusive, "over_hours": b.over_hours, "month": b.month,
                          "module": b.module, "priority": b.priority, "path": b.path, "row": b.row}
                         for b in self.breaches],
            "invalid": [{"ticket_id": r.ticket_id, "path": r.path, "row": r.row, "reason": r.reason} for r in self.invalid],
            "rejected": [{"path": r.path, "row": r.row_number, "reason": r.reason} for r in self.rejected],
            "duplicates": [{"ticket_id": d.ticket_id, "kept": {"path": d.kept_path, "row": d.kept_row},
                            "dropped": {"path": d.dropped_path, "row": d.dropped_row}} for d in self.duplicates],
            "notes": self.notes,
        }

    # Terminal -----------------------------------------------------------------------------

    def summary_line(self) -> str:
        period = self.period
        span = f"{period[0]} 至 {period[1]}，" if period else ""
        return (f"{span}工单 {self.overall.tickets} 张（处理中 {self.overall.open} 张，现场 {self.overall.onsite} 张）；"
                f"超时 {len(self.breaches)} 项；时间异常未计入 {len(self.invalid)} 张，无法读取 {len(self.rejected)} 行，"
                f"重复工单号 {len(self.duplicates)} 个；时区 {self.timezone}")

    def table_lines(self, breach_limit: int | None = 20) -> list[str]:
        """The report as terminal lines (Chinese, columns aligned for CJK). `breach_limit`
        caps the breach list (None: all of them)."""
        lines = ["月度服务报告", self.summary_line(), ""]
        lines += text_table(["指标", "承诺", "统计", "达标", "超时", "达标率", "中位数(时)", "90%分位(时)", "未计入"],
                            [self._target_row(t, self.overall) for t in self.targets], right_from=2)
        for title, name, groups in self._group_tables():
            if groups:
                lines += ["", title]
                lines += text_table([name, "工单", *(f"{MEASURES[t.key][2]}达标率" for t in self.targets)],
                                    [[g.name, str(g.tickets), *(_rate_text(g.targets[t.key]) for t in self.targets)]
                                     for g in groups], right_from=1)
        if self.breaches:
            shown = self.breaches if breach_limit is None else self.breaches[:breach_limit]
            lines += ["", f"超时明细（共 {len(self.breaches)} 项）"]
            lines += text_table(["工单号", "月份", "模块", "指标", "实际(时)", "承诺", "超出(时)"],
                                [_breach_row(b) for b in shown], right_from=4)
            if len(shown) < len(self.breaches):
                lines.append(f"……另有 {len(self.breaches) - len(shown)} 项，完整列表见 --json 或月度服务报告页面")
        problems = [(r.path, r.row, f"工单 {r.ticket_id}：{r.reason}") for r in self.invalid]
        problems += [(r.path, r.row_number, r.reason) for r in self.rejected]
        if problems:
            lines += ["", "未计入的行"]
            lines += [f"{path}:{row}: {reason}" for path, row, reason in problems]
        if self.notes:
            lines += ["", "说明"] + [f"- {note}" for note in self.notes]
        return lines

    def _group_tables(self) -> list[tuple[str, str, list[GroupStats]]]:
        return [("按月", "月份", self.by_month), ("按模块", "模块", self.by_module), ("按优先级", "优先级", self.by_priority)]

    def _target_row(self, target: Target, group: GroupStats) -> list[str]:
        s = group.targets[target.key]
        return [s.title, target.limit_text, str(s.measured), str(s.met), str(s.breached), _rate_text(s),
                _hours_text(s.median_hours), _hours_text(s.p90_hours), str(s.unmeasured)]

    # Site page ----------------------------------------------------------------------------

    def markdown_page(self) -> str:
        """The internal page 月度服务报告: tables, and charts drawn now as inline SVG."""
        period = self.period
        out = ["---", "title: 月度服务报告", "audience: internal", "---", "", "# 月度服务报告", ""]
        out.append(md_escape(self.summary_line()) + "。")
        out += ["", "## 总体达成情况", ""]
        out += md_table(["指标", "承诺", "统计工单", "达标", "超时", "达标率", "中位数（小时）", "90% 分位（小时）", "未计入"],
                        [self._target_row(t, self.overall) for t in self.targets])
        if self.by_month:
            labels = _month_labels([g.name for g in self.by_month])
            out += ["", "## 按月", ""]
            for t in self.targets:
                values = [_percent(g.targets[t.key].rate) for g in self.by_month]
                svg = charts.bar_chart(
                    f"{t.title}（{t.limit_text}）每月达标率", labels, values,
                    ticks=[0, 25, 50, 75, 100], value_format=_percent_text, tick_format=lambda v: f"{v:g}%",
                    reference=100, reference_label="承诺：每张工单达标（100%）", missing_label="无")
                out += [charts.figure(svg, f"{t.title}：每月在承诺时限（{t.limit_text}）内的工单占比，虚线为承诺"), ""]
            svg = charts.bar_chart("每月工单数", labels, [g.tickets for g in self.by_month], colour="#6a8caf",
                                   value_format=lambda v: f"{v:g}")
            out += [charts.figure(svg, f"{period[0]} 至 {period[1]} 每月受理的工单数"), ""]
            out += self._group_table("月份", self.by_month)
        for title, name, groups in self._group_tables()[1:]:
            if groups:
                out += ["", f"## {title}", ""] + self._group_table(name, groups)
        out += ["", f"## 超时明细（{len(self.breaches)} 项）", ""]
        if self.breaches:
            out += md_table(["工单号", "月份", "模块", "指标", "实际（小时）", "承诺", "超出（小时）"],
                            [_breach_row(b) for b in self.breaches])
        else:
            out.append("没有超时的工单。")
        problems = [[r.path, str(r.row), r.ticket_id, r.reason] for r in self.invalid]
        problems += [[r.path, str(r.row_number), "", r.reason] for r in self.rejected]
        if problems:
            out += ["", "## 未计入的行", ""]
            out += md_table(["文件", "行", "工单号", "原因"], problems)
        if self.notes:
            out += ["", "## 说明", ""] + [f"- {md_escape(n)}" for n in self.notes]
        return "\n".join(out) + "\n"

    def _group_table(self, name: str, groups: list[GroupStats]) -> list[str]:
        headers = [name, "工单"]
        for t in self.targets:
            short = MEASURES[t.key][2]
            headers += [f"{short}达标率", f"{short}中位数", f"{short} 90%"]
        rows = []
        for g in groups:
            row = [g.name, str(g.tickets)]
            for t in self.targets:
                s = g.targets[t.key]
                row += [_rate_text(s), _hours_text(s.median_hours), _hours_text(s.p90_hours)]
            rows.append(row)
        return md_table(headers, rows)


# Computing --------------------------------------------------------------------------------

def project_zone(name: str) -> ZoneInfo:
    """ZoneInfo for an IANA name, or an SlaError saying how to fix it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise SlaError(
            f"找不到时区 {name!r}：kb 插件的 timezone 选项应为 IANA 时区名，例如 Asia/Shanghai"
            "（时区数据来自系统的 /usr/share/zoneinfo；系统没有时，用 apt-get install tzdata 或 pip install tzdata 安装）"
        ) from None


def sla_report(project: Project, ticket_paths: Iterable[str | os.PathLike], *, timezone: str | None = None,
               encoding: str | None = None, mapping: str | os.PathLike | dict | None = None) -> SlaReport:
    """Measure the project's service commitments over the given exports (read with
    kb.tickets.read_tickets, with `encoding` and the column `mapping` — a YAML file or a
    dict — for every one of them; TicketFileError when a file cannot be used at all or
    holds no ticket)."""
    commitments = project.commitments
    if commitments is None:
        details = "；".join(f"{p.path}:{p.line}: {p.message}" for p in project.commitments_problems)
        raise SlaError(f"服务承诺数据文件无法使用，无法计算服务报告：{details}")
    tz_name = timezone or project.timezone
    zone = project_zone(tz_name)
    targets = [t for t in commitments.targets if t.key in MEASURES]
    notes = [f"服务承诺中没有 {key}（{label}），未统计该项。"
             for key, (_, label, _) in MEASURES.items() if commitments.target(key) is None]

    # Read every export; a ticket id seen again in a later export replaces the earlier one.
    paths = list(dict.fromkeys(Path(p) for p in ticket_paths))
    latest: dict[str, tuple[Ticket, str]] = {}
    files, rejected, duplicates = [], [], []
    for path in paths:
        batch = read_tickets(path, encoding=encoding, mapping=mapping)
        shown = project.display(path)
        files.append({"path": shown, "encoding": batch.encoding, "tickets": len(batch.tickets),
                      "rejected": batch.rejected_count})
        rejected += [RejectedRow(project.display(Path(r.path)), r.row_number, r.reason) for r in batch.rejected]
        for ticket in batch.tickets:
            before = latest.get(ticket.id)
            if before is not None:
                duplicates.append(Duplicate(ticket.id, shown, ticket.row, before[1], before[0].row))
            latest[ticket.id] = (ticket, shown)

    overall = GroupStats("全部")
    months: dict[str, GroupStats] = {}
    modules: dict[str, GroupStats] = {}
    priorities: dict[str, GroupStats] = {}
    durations: dict[int, dict[str, list[float]]] = {}  # id(group) → target key → hours
    breaches: list[Breach] = []
    invalid: list[InvalidRow] = []
    has_priority = False

    def group(table: dict[str, GroupStats], name: str) -> GroupStats:
        if name not in table:
            table[name] = GroupStats(name)
        return table[name]

    for ticket, shown in sorted(latest.values(), key=lambda item: item[0].id):
        opened = local_time(ticket.opened_at, zone)
        ends = {key: getattr(ticket, field) for key, (field, _, _) in MEASURES.items()}
        times = {key: None if end is None else local_time(end, zone) for key, end in ends.items()}
        reasons = [f"{label} {times[key]:{TIME_FORMAT}} 早于创建时间 {opened:{TIME_FORMAT}}"
                   for key, (_, label, _) in MEASURES.items() if times[key] is not None and times[key] < opened]
        if reasons:
            invalid.append(InvalidRow(ticket.id, shown, ticket.row, "；".join(reasons) + "，不计入统计（核对导出中的这些时间）"))
            continue
        month = month_of(ticket.opened_at, zone)
        module = ticket.module or UNSET
        priority = ticket.priority or UNSET
        has_priority = has_priority or bool(ticket.priority)
        groups = [overall, group(months, month), group(modules, module), group(priorities, priority)]
        onsite = ticket.was_onsite
        for g in groups:
            g.tickets += 1
            g.open += times["fix"] is None
            g.onsite += onsite
        for target in targets:
            if target.key == "onsite" and not onsite:
                continue
            end = times[target.key]
            for g in groups:
                stats = g.targets.setdefault(target.key, TargetStats(target.key, target.title))
                if end is None:
                    stats.unmeasured += 1
            if end is None:
                continue
            taken = _utc(end) - _utc(opened)
            limit = dt.timedelta(hours=target.limit_hours)
            met = taken <= limit if target.inclusive else taken < limit
            hours = taken.total_seconds() / 3600
            for g in groups:
                stats = g.targets[target.key]
                stats.measured += 1
                stats.met += met
                durations.setdefault(id(g), {}).setdefault(target.key, []).append(hours)
            if not met:
                breaches.append(Breach(
                    ticket.id, target.key, target.title, round(hours, 2), target.limit_hours, target.inclusive,
                    round(max(hours - target.limit_hours, 0.0), 2), month, ticket.module, ticket.priority,
                    shown, ticket.row))

    every = [overall, *months.values(), *modules.values(), *priorities.values()]
    for g in every:
        for target in targets:
            stats = g.targets.setdefault(target.key, TargetStats(target.key, target.title))
            values = sorted(durations.get(id(g), {}).get(target.key, []))
            if values:
                stats.median_hours = round(percentile(values, 0.5), 2)
                stats.p90_hours = round(percentile(values, 0.9), 2)
        g.targets = {t.key: g.targets[t.key] for t in targets}

    order = {t.key: i for i, t in enumerate(targets)}
    breaches.sort(key=lambda b: (b.month, b.ticket_id, order[b.target]))
    module_order = {m.name: i for i, m in enumerate(project.modules)}
    by_module = sorted(modules.values(), key=lambda g: (g.name == UNSET, module_order.get(g.name, len(module_order)), g.name))
    priority_order = {p: i for i, p in enumerate(PRIORITY_ORDER)}
    by_priority = sorted(priorities.values(), key=lambda g: (g.name == UNSET, priority_order.get(g.name, len(priority_order)), g.name))

    notes += _notes(project, tz_name, targets, overall, invalid, duplicates)
    return SlaReport(
        timezone=tz_name, targets=targets, files=files, overall=overall,
        by_month=[months[m] for m in sorted(months)], by_module=by_module,
        by_priority=by_priority if has_priority else [], breaches=breaches, invalid=invalid,
        rejected=rejected, duplicates=duplicates, notes=notes,
    )


def _utc(value: dt.datetime) -> dt.datetime:
    # Aware datetimes sharing a tzinfo subtract as wall-clock times; in UTC a DST change
    # in the project's timezone cannot add or lose an hour.
    return value.astimezone(dt.timezone.utc)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (PERCENTILE.INC); values sorted, non-empty."""
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _notes(project: Project, tz_name: str, targets: list[Target], overall: GroupStats,
           invalid: list[InvalidRow], duplicates: list[Duplicate]) -> list[str]:
    limits = "、".join(f"{t.title} {t.limit_text}" for t in targets)
    notes = [
        f"时限取自 {project.display(project.commitments_path)}：{limits}。恰好等于时限时，“≤”算达标，“<”算超时。",
        f"没有时区的时间按 {tz_name} 解读，带时区的时间（如 +00:00）先换算到 {tz_name}；月份按创建时间划分。",
        f"尚未解决的工单（没有解决时间，共 {overall.open} 张）计入工单数和响应统计，不计入解决统计。",
        f"到场统计只含有现场服务的工单（是否现场为“是”，或未填该列但有到场时间），共 {overall.onsite} 张。",
        "“未计入”列是应统计但缺少对应时间的工单：未填首次响应时间、尚未解决、现场工单未填到场时间。",
        "中位数和 90% 分位按线性插值计算，单位为小时，保留两位小数。",
    ]
    if invalid:
        notes.append(f"时间不可能成立的工单（响应、解决或到场早于创建）共 {len(invalid)} 张，列在“未计入的行”中，不参与任何统计。")
    if duplicates:
        notes.append(f"{len(duplicates)} 个工单号出现在多个导出文件中，只计一次，以后给出的文件为准。")
    return notes


# Formatting -------------------------------------------------------------------------------

def _percent(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


def _rate_text(stats: TargetStats) -> str:
    return "—" if stats.rate is None else f"{stats.rate * 100:.1f}%"


def _hours_text(hours: float | None) -> str:
    return "—" if hours is None else f"{hours:.2f}"


def _breach_row(b: Breach) -> list[str]:
    return [b.ticket_id, b.month, b.module or UNSET, b.title, f"{b.actual_hours:.2f}", b.limit_text, f"{b.over_hours:.2f}"]


def _month_labels(months: list[str]) -> list[str]:
    """Chart labels: 1月…12月 within one year, 2026-01 otherwise."""
    if len({m[:4] for m in months}) == 1:
        return [f"{int(m[5:])}月" for m in months]
    return months


def _percent_text(value: float) -> str:
    return "100%" if value >= 100 else f"{value:.1f}%"
