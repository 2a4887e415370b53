"""月度服务报告: the commitments measured against exports, with hand-computed expectations."""

import json
import re

import markdown
import pytest
from click.testing import CliRunner

from conftest import ROOT, copy_sample, write_csv_export
from kb.build import build_site
from kb.cli import cli
from kb.project import Project
from kb.reports.sla import SlaError, percentile, sla_report
from kb.reports.text import width
from kb.tickets.sample import write_sample

HEADER = ["工单号", "创建时间", "首次响应时间", "解决时间", "到场时间", "是否现场", "优先级", "模块", "问题描述", "处理结果"]
# Project timezone Asia/Shanghai (UTC+8). Rows are Excel rows 2..7.
ROWS = [
    # Response exactly 60 min: "< 1 h" breached by 0. Fix exactly 4 h: "≤ 4 h" met.
    ["T1", "2026-03-02 09:00", "2026-03-02 10:00", "2026-03-02 13:00", "", "否", "高", "邮件", "收不到邮件", "已处理"],
    # On-site arrival 2 h 01 min: "≤ 2 h" breached by 1 min (0.02 h).
    ["T2", "2026-03-02 10:00", "2026-03-02 10:30", "2026-03-02 13:00", "2026-03-02 12:01", "是", "中", "公文流转", "公文发不出去", "已处理"],
    # No offset: Shanghai time. The response, 16:00 UTC, is 00:00 Shanghai the next day: 30 min.
    ["T3", "2026-03-31 23:30", "2026-03-31T16:00:00+00:00", "2026-04-01T01:30:00+08:00", "2026-04-01 00:30", "是", "中", "", "打印错位", "已处理"],
    # Opened 17:30 UTC = 01:30 Shanghai on 1 April (an April ticket); still open.
    ["T4", "2026-03-31T17:30:00+00:00", "2026-04-01 01:45", "", "", "否", "低", "邮件", "邮件延迟", "处理中"],
    # Resolved the day before it was opened: reported, not counted.
    ["T5", "2026-04-02 09:00", "2026-04-02 09:10", "2026-04-01 17:00", "", "否", "中", "邮件", "退信", "已处理"],
    # Fix 5.5 h: breached by 1.5 h. On-site exactly 2 h: met.
    ["T6", "2026-04-03 09:00", "2026-04-03 09:20", "2026-04-03 14:30", "2026-04-03 11:00", "是", "高", "系统管理", "磁盘满", "已处理"],
]


def write_export(path, rows=ROWS, encoding="gbk"):
    return write_csv_export(path, HEADER, rows, encoding)


@pytest.fixture
def export(tmp_path):
    return write_export(tmp_path / "export.csv")


@pytest.fixture(scope="module")
def project():
    return Project.load(ROOT)


def breaches(report):
    return [(b.ticket_id, b.target, b.actual_hours, b.limit_hours, b.over_hours) for b in report.breaches]


def test_hand_computed_report(project, export):
    report = sla_report(project, [export])
    assert report.timezone == "Asia/Shanghai"
    assert [t.key for t in report.targets] == ["response", "fix", "onsite"]
    # T1 exactly at 1 h is a breach of "< 1 h" (by 0); T1 exactly at 4 h is not one of "≤ 4 h";
    # T6 exactly at 2 h on site is not one of "≤ 2 h"; T2 at 2 h 01 is.
    assert breaches(report) == [
        ("T1", "response", 1.0, 1.0, 0.0),
        ("T2", "onsite", 2.02, 2.0, 0.02),
        ("T6", "fix", 5.5, 4.0, 1.5),
    ]
    assert [(b.month, b.module, b.priority, b.row) for b in report.breaches] == [
        ("2026-03", "邮件", "高", 2), ("2026-03", "公文流转", "中", 3), ("2026-04", "系统管理", "高", 7)]

    overall = report.overall
    assert (overall.tickets, overall.open, overall.onsite) == (5, 1, 3)   # T5 not counted
    response, fix, onsite = (overall.targets[k] for k in ("response", "fix", "onsite"))
    # Response hours: T1 1.0, T2 0.5, T3 0.5, T4 0.25, T6 1/3 → sorted .25 .33 .5 .5 1.0
    assert (response.measured, response.met, response.unmeasured, response.rate) == (5, 4, 0, 0.8)
    assert (response.median_hours, response.p90_hours) == (0.5, 0.8)      # p90: .5 + .6 × (1.0 − .5)
    # Fix hours: T1 4, T2 3, T3 2, T6 5.5; T4 is open: in the response figures, not here.
    assert (fix.measured, fix.met, fix.unmeasured, fix.rate) == (4, 3, 1, 0.75)
    assert (fix.median_hours, fix.p90_hours) == (3.5, 5.05)                # p90: 4 + .7 × 1.5
    # On-site hours (on-site tickets only): T3 1.0, T6 2.0, T2 2.0167
    assert (onsite.measured, onsite.met, onsite.rate) == (3, 2, 0.6667)
    assert (onsite.median_hours, onsite.p90_hours) == (2.0, 2.01)          # p90: 2 + .8 × (1/60)

    assert [r.ticket_id for r in report.invalid] == ["T5"]
    invalid = report.invalid[0]
    assert (invalid.path, invalid.row) == (str(export), 6)
    assert "解决时间 2026-04-01 17:00 早于创建时间 2026-04-02 09:00" in invalid.reason

    march, april = report.by_month
    assert (march.name, march.tickets, april.name, april.tickets) == ("2026-03", 3, "2026-04", 2)
    assert [(march.targets[k].met, march.targets[k].measured) for k in ("response", "fix", "onsite")] == [(2, 3), (3, 3), (1, 2)]
    assert [(april.targets[k].met, april.targets[k].measured) for k in ("response", "fix", "onsite")] == [(2, 2), (0, 1), (1, 1)]
    assert april.targets["fix"].unmeasured == 1 and april.open == 1

    # Modules in the project's order, unfilled last; priorities in urgency order.
    assert [(g.name, g.tickets) for g in report.by_module] == [("公文流转", 1), ("邮件", 2), ("系统管理", 1), ("（未填）", 1)]
    assert [(g.name, g.tickets) for g in report.by_priority] == [("高", 2), ("中", 2), ("低", 1)]
    high = report.by_priority[0]
    assert (high.targets["response"].rate, high.targets["fix"].rate) == (0.5, 0.5)
    assert any("不计入解决统计" in n for n in report.notes)


def test_times_without_offset_are_in_the_project_timezone(project, export, tmp_path):
    shanghai = sla_report(project, [export])
    # T3's naive 23:30 is Shanghai; its "+00:00" response is 00:00 Shanghai: 30 minutes.
    t3 = next(g for g in shanghai.by_module if g.name == "（未填）")
    assert (t3.tickets, t3.targets["response"].median_hours, t3.targets["fix"].median_hours) == (1, 0.5, 2.0)
    # T4 opened at 17:30 UTC on 31 March is an April ticket in Shanghai.
    assert [g.tickets for g in shanghai.by_month] == [3, 2]

    # Read as UTC, the same naive times mean something else: T3 was answered before it was
    # opened (16:00 < 23:30), and T4 falls in March.
    utc = sla_report(project, [export], timezone="UTC")
    assert [r.ticket_id for r in utc.invalid] == ["T3", "T5"]
    assert "首次响应时间 2026-03-31 16:00 早于创建时间 2026-03-31 23:30" in utc.invalid[0].reason
    assert [(g.name, g.tickets) for g in utc.by_month] == [("2026-03", 3), ("2026-04", 1)]

    # The option of the kb plugin in mkdocs.yml is what Project.timezone reads.
    root = copy_sample(tmp_path / "utc")
    text = (root / "mkdocs.yml").read_text(encoding="utf-8")
    (root / "mkdocs.yml").write_text(text.replace("      data_dir: docs/_data\n", "      data_dir: docs/_data\n      timezone: UTC\n"), encoding="utf-8")
    utc_project = Project.load(root)
    assert utc_project.timezone == "UTC" and project.timezone == "Asia/Shanghai"
    assert sla_report(utc_project, [export]).to_dict()["invalid"] == utc.to_dict()["invalid"]

    with pytest.raises(SlaError, match="Mars/Olympus.*tzdata"):
        sla_report(project, [export], timezone="Mars/Olympus")


def test_duplicated_ticket_ids_count_once_and_the_later_export_wins(project, export, tmp_path):
    later = write_export(tmp_path / "later.csv", [
        ["T6", "2026-04-03 09:00", "2026-04-03 09:20", "2026-04-03 12:00", "2026-04-03 11:00", "是", "高", "系统管理", "磁盘满", "已处理"],
    ], encoding="utf-8")
    report = sla_report(project, [export, later])
    assert report.overall.tickets == 5
    assert [b.ticket_id for b in report.breaches] == ["T1", "T2"]  # T6 resolved in 3 h in the later export
    assert [(d.ticket_id, d.kept_path, d.kept_row, d.dropped_path, d.dropped_row) for d in report.duplicates] == [
        ("T6", str(later), 2, str(export), 7)]
    assert [b.ticket_id for b in sla_report(project, [later, export]).breaches] == ["T1", "T2", "T6"]


def test_limits_come_from_the_commitments_file(tmp_path, export):
    root = copy_sample(tmp_path / "sample")
    before = sla_report(Project.load(root), [export])
    path = root / "docs" / "_data" / "commitments.yml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(key: response\n.*\n\s+limit_hours:) 1\n", r"\1 0.5\n", text)   # < 0.5 h
    text = re.sub(r"(key: fix\n.*\n\s+limit_hours:) 4\n", r"\1 6\n", text)           # ≤ 6 h
    path.write_text(text, encoding="utf-8")
    after = sla_report(Project.load(root), [export])
    assert [(b.ticket_id, b.target) for b in before.breaches] == [("T1", "response"), ("T2", "onsite"), ("T6", "fix")]
    # 30 min responses (T2, T3) now breach "< 0.5 h" exactly on the limit; T6's 5.5 h fix is within 6 h.
    assert breaches(after) == [
        ("T1", "response", 1.0, 0.5, 0.5),
        ("T2", "response", 0.5, 0.5, 0.0),
        ("T2", "onsite", 2.02, 2.0, 0.02),
        ("T3", "response", 0.5, 0.5, 0.0),
    ]
    assert after.to_dict()["targets"][0]["limit_text"] == "< 0.5 小时"


def test_broken_commitments_file_is_an_error(tmp_path, export):
    root = copy_sample(tmp_path / "sample")
    (root / "docs" / "_data" / "commitments.yml").write_text("targets: [\n", encoding="utf-8")
    with pytest.raises(SlaError, match="commitments.yml"):
        sla_report(Project.load(root), [export])


def test_percentile_interpolates_linearly():
    assert percentile([1.0], 0.9) == 1.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    assert percentile([0.0, 10.0, 20.0, 30.0, 40.0], 0.9) == pytest.approx(36.0)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, project):
    path = tmp_path_factory.mktemp("sla") / "export.csv"
    stats = write_sample(path, project=project)
    return path, stats


def test_sample_export_matches_what_the_generator_made(project, generated):
    path, stats = generated
    report = sla_report(project, [path])
    counts = {k: sum(b.target == k for b in report.breaches) for k in ("response", "fix", "onsite")}
    assert report.overall.tickets == stats.tickets and len(report.rejected) == stats.bad_rows
    assert counts["response"] == stats.response_breaches
    assert counts["onsite"] == stats.onsite_breaches and report.overall.onsite == stats.onsite
    # The generator counts an open ticket as a fix breach; the report leaves it out of the fix figures.
    assert counts["fix"] + report.overall.open == stats.fix_breaches
    assert report.overall.targets["fix"].unmeasured == report.overall.open
    assert report.invalid == [] and report.duplicates == []
    assert len(report.by_month) == 10 and report.by_priority
    # The sample has responses exactly on 1 h (breaches, by 0) and fixes exactly on 4 h (met).
    assert any(b.target == "response" and b.actual_hours == 1.0 and b.over_hours == 0 for b in report.breaches)
    assert not any(b.target == "fix" and b.actual_hours == 4.0 for b in report.breaches)
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["overall"]["targets"]["response"]["breached"] == stats.response_breaches
    assert data["period"] == {"from": "2026-01", "to": "2026-10"}


def test_sample_export_with_a_longer_response_limit(tmp_path, generated):
    path, _ = generated
    root = copy_sample(tmp_path / "sample")
    before = sla_report(Project.load(root), [path])
    data = root / "docs" / "_data" / "commitments.yml"
    data.write_text(data.read_text(encoding="utf-8").replace("limit_hours: 1\n", "limit_hours: 2\n"), encoding="utf-8")
    after = sla_report(Project.load(root), [path])
    slow = [b for b in before.breaches if b.target == "response"]
    assert [b.ticket_id for b in after.breaches if b.target == "response"] == [
        b.ticket_id for b in slow if b.actual_hours >= 2]
    assert len(after.breaches) < len(before.breaches)
    assert [b for b in after.breaches if b.target != "response"] == [b for b in before.breaches if b.target != "response"]


def test_terminal_table(project, export):
    lines = sla_report(project, [export]).table_lines()
    text = "\n".join(lines)
    assert lines[0] == "月度服务报告"
    assert re.search(r"故障响应\s+< 1 小时\s+5\s+4\s+1\s+80\.0%\s+0\.50\s+0\.80\s+0", text)
    assert re.search(r"一般故障排除\s+≤ 4 小时\s+4\s+3\s+1\s+75\.0%\s+3\.50\s+5\.05\s+1", text)
    assert "超时明细（共 3 项）" in text and "T5" in text and "不计入统计" in text
    # A Chinese character takes two cells: the 承诺 column starts at the same cell on every row.
    header = next(line for line in lines if line.startswith("指标"))
    rows = lines[lines.index(header) + 2: lines.index(header) + 5]
    assert len({width(r[: re.search("[<≤] ", r).start()]) for r in rows}) == 1


def test_markdown_page_is_escaped_and_has_inline_charts(tmp_path, export):
    root = copy_sample(tmp_path / "sample")
    path = root / "docs" / "_data" / "commitments.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: 故障响应", "title: 故障响应 <b>&快速</b>"), encoding="utf-8")
    rows = [list(r) for r in ROWS]
    rows[0][7] = "邮件|<script>alert(1)</script>"
    page = sla_report(Project.load(root), [write_export(tmp_path / "x.csv", rows)]).markdown_page()
    assert page.startswith("---\ntitle: 月度服务报告\naudience: internal\n---\n")
    assert "<script>" not in page and "<b>" not in page
    assert "邮件&#124;&lt;script&gt;" in page and "故障响应 &lt;b&gt;&amp;快速&lt;/b&gt;" in page
    assert page.count("<svg ") == 4          # compliance per target, and tickets per month
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    html = markdown.markdown(page.split("---\n", 2)[2], extensions=["tables", "attr_list", "md_in_html"])
    assert html.count("<svg ") == 4 and html.count("</svg>") == 4 and "<table>" in html
    # Two months: two bars per compliance chart, and the target line (100 %).
    chart = page[page.index("<svg "): page.index("</svg>")]
    assert chart.count("<rect ") == 2 and 'stroke-dasharray="6 4"' in chart and "3月" in chart and "4月" in chart


def test_page_builds_into_the_internal_site_only(tmp_path, export):
    root = copy_sample(tmp_path / "sample")
    project = Project.load(root)
    (root / "docs" / "reports").mkdir()
    (root / "docs" / "reports" / "sla.md").write_text(sla_report(project, [export]).markdown_page(), encoding="utf-8")
    internal = build_site(Project.load(root), "internal")
    html = (internal / "reports" / "sla" / "index.html").read_text(encoding="utf-8")
    assert "月度服务报告" in html and html.count('class="kb-chart"') == 4
    public = build_site(Project.load(root), "public")
    assert not (public / "reports").exists()


def test_an_impossible_year_is_a_rejected_row_not_a_crash(project, tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][1] = "0001-01-01 00:00"       # T1: a placeholder the helpdesk wrote for "unknown"
    report = sla_report(project, [write_export(tmp_path / "year1.csv", rows)])
    assert [(r.row_number, r.reason.split("之间")[0]) for r in report.rejected] == [(2, "“创建时间”的年份不在 1970–2100 ")]
    assert report.overall.tickets == 4 and "T1" not in [b.ticket_id for b in report.breaches]
    assert "0001" not in report.markdown_page()


MAPPED_HEADER = ["服务单号", "报障时刻", "首响时刻", "完结时刻", "到达时刻", "是否现场", "优先级", "模块", "故障现象", "处理说明"]


def test_cli_reads_another_helpdesk_with_a_mapping_file(tmp_path):
    export = write_csv_export(tmp_path / "other.csv", MAPPED_HEADER, ROWS, "utf-8")
    mapping = tmp_path / "columns.yml"
    mapping.write_text("id: 服务单号\nopened_at: 报障时刻\nresponded_at: 首响时刻\nresolved_at: 完结时刻\n"
                       "onsite_at: 到达时刻\nresolution: 处理说明\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["report", "sla", str(export), "--project", str(ROOT), "--mapping", str(mapping), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["overall"]["tickets"] == 5 and [b["ticket_id"] for b in data["breaches"]] == ["T1", "T2", "T6"]
    assert data["files"][0]["encoding"] == "utf-8"
    without = runner.invoke(cli, ["report", "sla", str(export), "--project", str(ROOT)])
    assert without.exit_code == 1 and "缺少必填列" in without.output and "Traceback" not in without.output


def test_cli_export_without_tickets_exits_1_and_says_why(tmp_path):
    export = write_export(tmp_path / "header.csv", [])
    result = CliRunner().invoke(cli, ["report", "sla", str(export), "--project", str(ROOT)])
    assert result.exit_code == 1 and "文件只有表头，没有工单" in result.output
