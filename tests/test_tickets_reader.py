"""Reading helpdesk exports: encodings, formats, column names, bad rows, speed smoke."""

import datetime as dt
import json
import tracemalloc
from zoneinfo import ZoneInfo

import pytest

from conftest import write_csv_export
from kb.tickets import RejectedRow, Ticket, TicketFileError, TicketStream, open_export, read_tickets
from kb.tickets import reader
from kb.tickets.dates import TimeOutOfRange, local_time, month_of, parse_datetime
from kb.tickets.sample import write_sample

HEADER = ["工单号", "创建时间", "首次响应时间", "解决时间", "是否现场", "优先级", "模块", "问题描述", "处理结果", "报告人", "联系电话", "单位"]
ROWS = [
    ["GD001", "2026-03-05 14:20", "2026-03-05 14:35", "2026-03-05 16:00", "否", "高", "公文流转",
     "发公文提示“HTTP 500 内部服务器错误”，急", "按 KB-0001 处理", "张伟", "13812345678", "市财政局"],
    ["GD002", "2026/3/5 14:20:00", "", "", "是", "中", "邮件",
     "外发邮件被退信,550 5.7.1", "", "李娜", "010-62345678", "市教育局"],
]


def write_csv(path, rows, encoding="utf-8", header=HEADER):
    return write_csv_export(path, header, rows, encoding)


@pytest.mark.parametrize("encoding, detected", [
    ("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("utf-16", "utf-16"),
])
def test_encodings_are_detected(tmp_path, encoding, detected):
    path = write_csv(tmp_path / "export.csv", ROWS, encoding)
    batch = read_tickets(path)
    assert batch.encoding == detected
    assert [t.id for t in batch.tickets] == ["GD001", "GD002"]
    first = batch.tickets[0]
    assert first.description == "发公文提示“HTTP 500 内部服务器错误”，急"
    assert first.opened_at == dt.datetime(2026, 3, 5, 14, 20)
    assert first.responded_at == dt.datetime(2026, 3, 5, 14, 35)
    assert (first.reporter, first.phone, first.org, first.priority, first.module) == ("张伟", "13812345678", "市财政局", "高", "公文流转")
    assert first.onsite is False and batch.tickets[1].onsite is True
    assert batch.tickets[1].resolution == "" and batch.tickets[1].resolved_at is None
    assert batch.columns["description"] == "问题描述" and batch.columns["opened_at"] == "创建时间"
    assert batch.rejected == []


def test_gbk_file_is_not_misread_when_the_first_chinese_comes_late(tmp_path):
    rows = [[f"T{i}", "2026-03-05 14:20", "", "", "", "", "", "page blank", "ok", "", "", ""] for i in range(3000)]
    rows.append(["T-last", "2026-03-05 14:20", "", "", "", "", "", "附件乱码", "已处理", "", "", ""])
    header = ["id", "created_at", "responded_at", "resolved_at", "onsite", "priority", "module", "description", "resolution", "reporter", "phone", "org"]
    batch = read_tickets(write_csv(tmp_path / "late.csv", rows, "gbk", header))
    assert batch.encoding == "gb18030"
    assert batch.tickets[-1].description == "附件乱码"


def test_encoding_override_and_wrong_encoding(tmp_path):
    path = write_csv(tmp_path / "export.csv", ROWS, "gbk")
    assert read_tickets(path, encoding="gbk").encoding == "gbk"
    with pytest.raises(TicketFileError) as err:
        read_tickets(path, encoding="utf-8")
    assert "export.csv:1:" in str(err.value) and "不是 utf-8 编码" in str(err.value)
    assert "第 1 行（文件第 1 个字节）有无法按 utf-8 解码的字节 0xb9" in str(err.value)  # 工 in GBK: B9 A4


def test_json_lines_and_json_array(tmp_path):
    records = [
        {"ticket_id": 1001, "created_at": "2026-03-05T14:20:00+08:00", "description": "登录提示账号已锁定", "resolution": "见 KB-0023", "onsite": False, "reporter": "王芳"},
        {"ticket_id": 1002, "created_at": 46086.5, "description": "日程提醒不弹出", "resolution": "", "priority": "低"},
    ]
    jsonl = tmp_path / "export.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[:1]) + "\n\n{broken\n"
                     + json.dumps(records[1], ensure_ascii=False) + "\n", encoding="utf-8")
    batch = read_tickets(jsonl)
    assert batch.format == "jsonl"
    assert [t.id for t in batch.tickets] == ["1001", "1002"]
    assert batch.tickets[0].opened_at == dt.datetime(2026, 3, 5, 14, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert batch.tickets[0].onsite is False and batch.tickets[0].reporter == "王芳"
    assert batch.tickets[1].opened_at == dt.datetime(2026, 3, 5, 12, 0)  # Excel serial
    assert batch.tickets[1].priority == "低" and batch.tickets[1].reporter == ""
    assert [(r.row_number, r.reason.startswith("不是有效的 JSON")) for r in batch.rejected] == [(3, True)]

    array = tmp_path / "export.json"
    array.write_text(json.dumps(records + ["not an object"], ensure_ascii=False), encoding="utf-8-sig")
    batch = read_tickets(array)
    assert batch.format == "json" and batch.encoding == "utf-8-sig"
    assert len(batch.tickets) == 2
    assert [r.row_number for r in batch.rejected] == [3]


def test_bad_rows_are_reported_with_excel_row_numbers(tmp_path):
    good = ROWS[0]
    lines = [",".join(HEADER)]
    lines.append(",".join(good))                                                          # row 2
    lines.append('GD003,2026-03-05 15:00,,,否,中,公文流转,"多行\r\n描述，仍是一行",已处理,,,')  # row 3 (two lines)
    lines.append("GD004,2026-13-45 25:00,,,否,中,公文流转,日期不对,x,,,")                      # row 4
    lines.append('GD005,2026-03-05 15:00,,,否,中,公文流转,"引号没有闭合,x,,,')                  # row 5: broken quote
    lines.append("GD006,2026-03-05 16:00,,,否,中,公文流转,紧跟在坏行后面,ok,,,")                 # row 6
    lines.append("GD007,2026-03-05 16:00,,,否,中,公文流转,,描述是空的,,,")                       # row 7
    lines.append(",,,,,,,,,,,")                                                             # row 8: blank
    lines.append("GD001,2026-03-06 16:00,,,否,中,公文流转,重复的工单号,x,,,")                   # row 9
    lines.append("GD008,2026-03-06 16:00,,,否,中")                                          # row 10: too few
    lines.append("GD009,2026-03-06 16:00,,,也许,中,公文流转,现场标记不对,x,,,")                  # row 11
    lines.append('GD010,2026-03-06 17:00,,,否,中,公文流转,"有 ""引号"" 的描述",ok,,,,')        # row 12 (+1 empty cell)
    path = tmp_path / "bad.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))

    batch = read_tickets(path)
    assert [t.id for t in batch.tickets] == ["GD001", "GD003", "GD006", "GD010"]
    assert [t.row for t in batch.tickets] == [2, 3, 6, 12]
    assert batch.tickets[1].description == "多行\n描述，仍是一行"
    assert batch.tickets[3].description == '有 "引号" 的描述'
    rejected = {r.row_number: r.reason for r in batch.rejected}
    assert sorted(rejected) == [4, 5, 7, 9, 10, 11]
    assert rejected[4].startswith("“创建时间”不是可识别的时间")
    assert "引号不成对" in rejected[5] and "文件第 6 行" in rejected[5]
    assert "“问题描述”为空" in rejected[7]
    assert "与第 2 行重复" in rejected[9]
    assert "有 6 列，表头有 12 列" in rejected[10]
    assert rejected[11].startswith("“是否现场”无法识别")
    # No reason quotes a cell: cells hold personal data, and reasons reach reports and the site.
    for value in ("2026-13-45", "也许", "GD001", "GD004", "GD007", "GD008", "GD009", "描述是空的", "现场标记不对"):
        assert not any(value in reason for reason in rejected.values()), value
    assert batch.blank_rows == 1
    assert all(r.path == str(path) for r in batch.rejected)
    assert str(batch.rejected[0]).startswith(f"{path}:4: ")


def test_missing_required_columns_is_one_clear_error(tmp_path):
    path = write_csv(tmp_path / "export.csv", [["1", "2026-03-05 14:20", "x"]], header=["编号", "创建时间", "备注"])
    with pytest.raises(TicketFileError) as err:
        read_tickets(path)
    message = str(err.value)
    assert len(err.value.problems) == 1
    assert message.startswith(f"{path}:1: 缺少必填列")
    for part in ("工单号（id）", "问题描述（description）", "处理结果（resolution）", "找到的列：编号、创建时间、备注", "列映射文件"):
        assert part in message
    assert "创建时间（opened_at）" not in message


def test_header_names_are_matched_loosely(tmp_path):
    header = ["Ticket ID", "Created_At", "ＤＥＳＣＲＩＰＴＩＯＮ", "Resolution ", "E-mail", "部门"]
    path = write_csv(tmp_path / "export.csv", [["A-1", "2026-03-05", "x", "y", "a@b.cn", "财政局"]], header=header)
    batch = read_tickets(path)
    assert batch.columns == {"id": "Ticket ID", "opened_at": "Created_At", "description": "ＤＥＳＣＲＩＰＴＩＯＮ",
                             "resolution": "Resolution", "email": "E-mail", "org": "部门"}
    assert batch.tickets[0].email == "a@b.cn" and batch.tickets[0].org == "财政局"


def test_mapping_file_for_another_helpdesk(tmp_path):
    header = ["服务单号", "受理日期", "故障现象", "处理说明", "联系人员"]
    path = write_csv(tmp_path / "other.csv", [["S-9", "2026年3月5日 14:20", "打不开", "重装控件", "赵敏"]], header=header)
    mapping = tmp_path / "columns.yml"
    mapping.write_text("# 我方字段: 对方表头\nid: 服务单号\nopened_at: 受理日期\ndescription: [问题, 故障现象]\n"
                       "resolution: 处理说明\nreporter: 联系人员\n", encoding="utf-8")
    batch = read_tickets(path, mapping=mapping)
    ticket = batch.tickets[0]
    assert (ticket.id, ticket.description, ticket.resolution, ticket.reporter) == ("S-9", "打不开", "重装控件", "赵敏")
    assert ticket.opened_at == dt.datetime(2026, 3, 5, 14, 20)
    assert batch.columns["description"] == "故障现象"
    assert read_tickets(path, mapping={"id": "服务单号", "opened_at": "受理日期", "description": "故障现象",
                                       "resolution": "处理说明"}).tickets[0].id == "S-9"


def test_mapping_file_errors_name_the_line(tmp_path):
    path = write_csv(tmp_path / "export.csv", ROWS)
    mapping = tmp_path / "columns.yml"
    mapping.write_text("id: 工单号\nsubject: 主题\ndescription: []\n", encoding="utf-8")
    with pytest.raises(TicketFileError) as err:
        read_tickets(path, mapping=mapping)
    assert [(p.line, p.message.split("（")[0]) for p in err.value.problems] == [
        (2, "未知字段 'subject'"), (3, "字段 description 的表头必须是非空文本或文本列表")]
    mapping.write_text("id: 服务单号\n", encoding="utf-8")
    with pytest.raises(TicketFileError) as err:
        read_tickets(path, mapping=mapping)
    assert "列映射指定的表头 服务单号 在文件中不存在" in str(err.value) and "找到的列：工单号" in str(err.value)


@pytest.mark.parametrize("text, expected", [
    ("2026-03-05 14:20", dt.datetime(2026, 3, 5, 14, 20)),
    ("2026/3/5 14:20:00", dt.datetime(2026, 3, 5, 14, 20)),
    ("2026/3/5 9:05", dt.datetime(2026, 3, 5, 9, 5)),
    ("2026.3.5", dt.datetime(2026, 3, 5)),
    ("2026年3月5日 下午2:20", dt.datetime(2026, 3, 5, 14, 20)),
    ("2026-03-05T14:20:00+08:00", dt.datetime(2026, 3, 5, 14, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))),
    ("2026-03-05T06:20:00Z", dt.datetime(2026, 3, 5, 6, 20, tzinfo=dt.timezone.utc)),
    ("46086.59722222", dt.datetime(2026, 3, 5, 14, 20)),
    ("", None),
])
def test_dates(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["2026-13-45 25:00", "昨天下午", "3/5/2026 14:20", "待定"])
def test_unreadable_dates(text):
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_100k_rows_smoke(tmp_path):
    """Generate, read and count 100,000 tickets (speed is measured by the benchmark, not here)."""
    stats = write_sample(tmp_path / "big.csv", seed=7, count=100_000)
    batch = read_tickets(tmp_path / "big.csv")
    assert len(batch.tickets) == 100_000 == stats.tickets
    assert batch.rejected_count == stats.bad_rows


# Exports as they really come ------------------------------------------------------------

SHORT = ["工单号", "创建时间", "问题描述", "处理结果"]


def problem_text(err) -> str:
    return "\n".join(str(p) for p in err.value.problems)


@pytest.mark.parametrize("text, expected", [
    ("1772000000000", dt.datetime(2026, 2, 25, 6, 13, 20, tzinfo=dt.timezone.utc)),   # epoch ms, not 1772-…
    ("1772000000", dt.datetime(2026, 2, 25, 6, 13, 20, tzinfo=dt.timezone.utc)),      # epoch s
    ("1775010112000", dt.datetime(2026, 4, 1, 2, 21, 52, tzinfo=dt.timezone.utc)),    # ISO 8601 takes it for 1775-01-01 20:00
    ("20260305", dt.datetime(2026, 3, 5)),                                               # YYYYMMDD stays a date
    (dt.datetime(2026, 3, 5, 14, 20), dt.datetime(2026, 3, 5, 14, 20)),                 # .xlsx cells
    (dt.date(2026, 3, 5), dt.datetime(2026, 3, 5)),
    (46086.5, dt.datetime(2026, 3, 5, 12, 0)),
])
def test_all_digit_times_are_serials_or_epochs_before_iso(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("value", ["0001-01-01 00:00", "1969-12-31 23:59", "2101-01-01", "17750101", "20000",
                                   dt.datetime(1, 1, 1), 20000.0])
def test_times_outside_1970_to_2100_are_out_of_range(value):
    with pytest.raises(TimeOutOfRange):
        parse_datetime(value)


def test_out_of_range_time_is_a_rejected_row_with_a_reason(tmp_path):
    path = write_csv(tmp_path / "e.csv", [["A1", "0001-01-01 00:00", "打不开", "重装"], ["A2", "1772000000000", "打不开", "重装"]],
                     header=SHORT)
    batch = read_tickets(path)
    assert [(t.id, t.opened_at.year) for t in batch.tickets] == [("A2", 2026)]
    [rejected] = batch.rejected
    assert rejected.row_number == 2 and "“创建时间”的年份不在 1970–2100 之间" in rejected.reason
    assert "0001" not in rejected.reason


def test_local_time_and_month_of_use_the_project_timezone():
    shanghai, utc = ZoneInfo("Asia/Shanghai"), ZoneInfo("UTC")
    late_z = parse_datetime("2026-03-31T17:30:00Z")      # 01:30 on 1 April in Shanghai
    epoch = parse_datetime(str(int(late_z.timestamp())))  # the same instant as epoch seconds
    epoch_ms = parse_datetime(str(int(late_z.timestamp() * 1000)))
    for value in (late_z, epoch, epoch_ms):
        assert month_of(value, shanghai) == "2026-04" and month_of(value, utc) == "2026-03"
        assert local_time(value, shanghai) == dt.datetime(2026, 4, 1, 1, 30, tzinfo=shanghai)
    naive = dt.datetime(2026, 3, 31, 23, 30)              # no offset: already Shanghai time
    assert local_time(naive, shanghai) == dt.datetime(2026, 3, 31, 23, 30, tzinfo=shanghai)
    assert month_of(naive, shanghai) == month_of(naive, utc) == "2026-03"


def test_quoted_cell_holding_a_row_like_line_is_one_ticket(tmp_path):
    pasted = "客户说和这张一样：\r\nGD900,2026-03-01 09:00,打印机卡纸,已处理\r\n请参考"
    path = write_csv(tmp_path / "pasted.csv", [["GD001", "2026-03-05 14:20", pasted, "按 KB-0001 处理"],
                                              ["GD002", "2026-03-05 15:00", "邮件退信", "已处理"]], header=SHORT)
    batch = read_tickets(path)
    assert batch.rejected == []
    assert [(t.id, t.row) for t in batch.tickets] == [("GD001", 2), ("GD002", 3)]   # no phantom GD900
    assert batch.tickets[0].description == pasted.replace("\r\n", "\n")


def test_unclosed_quote_that_swallows_rows_is_still_caught(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("工单号,创建时间,问题描述,处理结果\r\n"
                    'GD1,2026-03-05 14:20,"没有闭合,x\r\n'
                    "GD2,2026-03-05 15:00,打不开,重装\r\n"
                    'GD3,2026-03-05 16:00,"有 ""引号""",ok\r\n', encoding="utf-8")
    batch = read_tickets(path)
    assert [t.id for t in batch.tickets] == ["GD2", "GD3"]
    assert [(r.row_number, r.reason.startswith("引号不成对")) for r in batch.rejected] == [(2, True)]


@pytest.mark.parametrize("tail", ['GD2,2026-03-05 15:00,打不开,"重装控件后', 'GD2,2026-03-05 15:00,打不开,"重装\r\n控件'])
def test_file_cut_off_inside_a_quote_rejects_the_last_row(tmp_path, tail):
    path = tmp_path / "cut.csv"
    path.write_text("工单号,创建时间,问题描述,处理结果\r\nGD1,2026-03-05 14:20,邮件退信,已处理\r\n" + tail, encoding="utf-8")
    batch = read_tickets(path)
    assert [t.id for t in batch.tickets] == ["GD1"]
    [rejected] = batch.rejected
    assert rejected.row_number == 3
    assert rejected.reason.startswith("文件在第 3 行的引号内结束，可能被截断")


def test_stray_byte_in_a_utf8_file_is_an_error_not_mojibake(tmp_path):
    rows = [[f"T{i}", "2026-03-05 14:20", f"第 {i} 张：公文发送失败", "已处理"] for i in range(1, 40)]
    raw = bytearray(write_csv(tmp_path / "x.csv", rows, header=SHORT).read_bytes())
    at = raw.index("第 12 张".encode()) + 3     # after 第, in the 13th line (header + 11 rows before it)
    raw[at:at] = b"\xff"
    path = tmp_path / "stray.csv"
    path.write_bytes(bytes(raw))
    with pytest.raises(TicketFileError) as err:
        read_tickets(path)
    [problem] = err.value.problems
    assert problem.line == 13
    assert problem.message == f"第 13 行（文件第 {at + 1} 个字节）有无法按 utf-8 解码的字节 0xff"


def test_stray_byte_beyond_the_sample_is_found_by_the_whole_file_check(tmp_path):
    line = "T{},2026-03-05 14:20,公文发送失败，提示“HTTP 500”,已处理\r\n"
    head = "工单号,创建时间,问题描述,处理结果\r\n" + "".join(line.format(i) for i in range(30_000))
    raw = head.encode() + b"T-bad,2026-03-05 14:20,\xa0,x\r\n" + line.format("end").encode()
    assert len(head.encode()) > 1 << 20
    path = tmp_path / "late.csv"
    path.write_bytes(raw)
    with pytest.raises(TicketFileError) as err:
        read_tickets(path)
    [problem] = err.value.problems
    assert problem.line == 30_002
    assert f"文件第 {len(head.encode()) + 24} 个字节" in problem.message and "utf-8" in problem.message


def test_gb18030_error_names_the_right_line_across_chunks(tmp_path):
    row = "T{},2026-03-05 14:20,发公文提示内部服务器错误，附件无法打开,已按知识库处理\r\n"
    before = ("工单号,创建时间,问题描述,处理结果\r\n" + "".join(row.format(i) for i in range(40_000))).encode("gbk")
    assert len(before) > 3 << 20                          # the bad byte is several chunks in
    path = tmp_path / "gbk.csv"
    path.write_bytes(before + "T-bad,2026-03-05 14:20,乱".encode("gbk") + b"\xff\xff,x\r\n" + row.format("z").encode("gbk"))
    with pytest.raises(TicketFileError) as err:
        read_tickets(path)
    [problem] = err.value.problems
    offset = len(before) + len("T-bad,2026-03-05 14:20,乱".encode("gbk"))
    assert problem.line == 40_002
    assert problem.message.startswith(f"第 40002 行（文件第 {offset + 1} 个字节）有无法按 gb18030 解码的字节 0xff")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_detected(tmp_path, codec):
    batch = read_tickets(write_csv(tmp_path / "wide.csv", ROWS, codec))
    assert batch.encoding == codec
    assert batch.tickets[0].description == "发公文提示“HTTP 500 内部服务器错误”，急"


def test_short_gbk_file_is_not_taken_for_korean(tmp_path):
    # charset-normalizer alone names cp949 for so little text; a Chinese helpdesk's export is GBK.
    path = write_csv(tmp_path / "short.csv", [["T1", "2026-03-05", "附件乱码", "已处理"]],
                     "gbk", ["id", "created_at", "description", "resolution"])
    batch = read_tickets(path)
    assert batch.encoding == "gb18030" and batch.tickets[0].description == "附件乱码"


def write_xlsx(path, rows):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("第二页").append(["工单号", "创建时间"])   # only the first sheet is read
    workbook.save(path)
    return path


def test_xlsx_is_read_with_cells_as_typed(tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", [
        ["工单号", "创建时间", "首次响应时间", "是否现场", "问题描述", "处理结果", "联系电话"],
        [1001, dt.datetime(2026, 3, 5, 14, 20), dt.datetime(2026, 3, 5, 14, 35), True, "登录失败", "按 KB-0023 处理", 13812345678],
        ["GD-2", 46086.5, None, "否", "邮件退信", None, None],                         # a serial number, not a date cell
        [None, None, None, None, None, None, None],                                      # blank row
        ["GD-3", "2026/3/6 9:05", "", "", "打印错位", "已处理", ""],                      # times as text
        ["GD-4", "下周", None, None, "日期不对", "x", None],
    ])
    batch = read_tickets(path)
    assert (batch.format, batch.encoding) == ("xlsx", "")
    assert [(t.id, t.row) for t in batch.tickets] == [("1001", 2), ("GD-2", 3), ("GD-3", 5)]
    first, second, third = batch.tickets
    assert first.opened_at == dt.datetime(2026, 3, 5, 14, 20) and first.responded_at == dt.datetime(2026, 3, 5, 14, 35)
    assert first.onsite is True and first.phone == "13812345678" and first.resolution == "按 KB-0023 处理"
    assert second.opened_at == dt.datetime(2026, 3, 5, 12, 0) and second.onsite is False and second.resolution == ""
    assert third.opened_at == dt.datetime(2026, 3, 6, 9, 5)
    assert [(r.row_number, r.reason.split("（")[0]) for r in batch.rejected] == [(6, "“创建时间”不是可识别的时间")]
    assert batch.blank_rows == 1
    assert batch.columns["phone"] == "联系电话"


def test_xlsx_header_only_old_xls_and_broken_files_are_clear_errors(tmp_path):
    with pytest.raises(TicketFileError) as err:
        read_tickets(write_xlsx(tmp_path / "empty.xlsx", [SHORT]))
    assert "文件只有表头，没有工单" in problem_text(err)
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(TicketFileError) as err:
        read_tickets(tmp_path / "old.xls")
    assert "不支持旧版 Excel 文件（.xls）" in problem_text(err) and ".xlsx" in problem_text(err)
    (tmp_path / "fake.xlsx").write_text("工单号,创建时间\n", encoding="utf-8")
    with pytest.raises(TicketFileError) as err:
        read_tickets(tmp_path / "fake.xlsx")
    assert "不是可以读取的 .xlsx 文件" in problem_text(err)


@pytest.mark.parametrize("header, named", [
    (["工单号", "创建时间", "问题描述", "处理结果", "问题描述"], "“问题描述”（第 3 列）和“问题描述”（第 5 列）都对应字段 问题描述（description）"),
    (["工单号", "创建时间", "问题描述", "处理结果", "ticket_id"], "“工单号”（第 1 列）和“ticket_id”（第 5 列）都对应字段 工单号（id）"),
])
def test_two_columns_for_one_field_is_an_error_naming_both(tmp_path, header, named):
    path = write_csv(tmp_path / "dup.csv", [["A1", "2026-03-05", "x", "y", "z"]], header=header)
    with pytest.raises(TicketFileError) as err:
        read_tickets(path)
    assert [p.message for p in err.value.problems] == [f"{named}，无法确定用哪一列"]
    assert "缺少必填列" not in problem_text(err)


def test_repeated_columns_that_feed_nothing_are_fine_and_a_mapping_settles_a_choice(tmp_path):
    path = write_csv(tmp_path / "ok.csv", [["A1", "2026-03-05", "x", "y", "a", "b"]], header=[*SHORT, "附件", "附件"])
    assert [t.id for t in read_tickets(path).tickets] == ["A1"]
    # 电话 and 手机, 单位 and 部门: fields no report uses; the name listed first wins.
    path = write_csv(tmp_path / "phones.csv", [["A1", "2026-03-05", "x", "y", "010-1", "138", "财政局", "办公室"]],
                     header=[*SHORT, "电话", "手机", "部门", "单位"])
    ticket = read_tickets(path).tickets[0]
    assert (ticket.phone, ticket.org) == ("010-1", "办公室")   # 单位 comes before 部门 in FIELDS
    path = write_csv(tmp_path / "two.csv", [["A1", "2026-03-05", "x", "y", "INC-9"]], header=[*SHORT, "ticket_id"])
    with pytest.raises(TicketFileError) as err:
        read_tickets(path)
    assert "用列映射文件指定该字段用哪一列（例如 id: 工单号）" in problem_text(err)
    assert read_tickets(path, mapping={"id": "ticket_id"}).tickets[0].id == "INC-9"


def test_a_file_without_tickets_is_an_error(tmp_path):
    with pytest.raises(TicketFileError) as err:
        read_tickets(write_csv(tmp_path / "header.csv", [["", "", "", ""]], header=SHORT))
    assert [(p.line, p.message) for p in err.value.problems] == [(1, "文件只有表头，没有工单")]
    rows = [["A1", "昨天", "x", "y"], ["A2", "2026-03-05", "", "y"]]
    with pytest.raises(TicketFileError) as err:
        read_tickets(write_csv(tmp_path / "bad.csv", rows, header=SHORT))
    [problem] = err.value.problems
    assert problem.line == 2
    assert problem.message.startswith("全部 2 行都无法使用，第一个原因：“创建时间”不是可识别的时间")


def test_reasons_never_quote_a_cell(tmp_path):
    secret = "张三13812345678"
    rows = [[secret, "2026-03-05", "x", "y", "否"],
            [secret, "2026-03-06", "重复", "y", "否"],                 # duplicate id
            ["B1", f"{secret}", "x", "y", "否"],                      # unreadable time
            ["B2", "2026-03-05", "x", "y", secret],                   # unreadable on-site flag
            ["B3", "2026-03-05", "x", "y", "否", secret]]             # one field too many
    batch = read_tickets(write_csv(tmp_path / "p.csv", rows, header=[*SHORT, "是否现场"]))
    reasons = [r.reason for r in batch.rejected]
    assert len(reasons) == 4 and "工单号与第 2 行重复" in reasons[0]
    assert not any(secret in r or "1381234" in r for r in reasons)


def test_open_export_streams_in_file_order(tmp_path):
    rows = [["A1", "2026-03-05", "x", "y"], ["A2", "坏", "x", "y"], ["", "", "", ""], ["A3", "2026-03-06", "x", "y"]]
    with open_export(write_csv(tmp_path / "s.csv", rows, header=SHORT)) as stream:
        assert isinstance(stream, TicketStream)
        assert (stream.format, stream.encoding, stream.columns["id"]) == ("csv", "utf-8", "工单号")
        items = iter(stream)
        first = next(items)
        assert isinstance(first, Ticket) and first.id == "A1" and (stream.tickets, stream.rejected) == (1, 0)
        rest = list(items)
    assert [type(i).__name__ for i in rest] == ["RejectedRow", "Ticket"]
    assert (stream.tickets, stream.rejected, stream.blank_rows) == (2, 1, 1)


def test_open_export_raises_file_problems_before_rows_and_no_tickets_at_the_end(tmp_path):
    with pytest.raises(TicketFileError):
        open_export(write_csv(tmp_path / "cols.csv", [["1", "x"]], header=["编号", "备注"]))
    stream = open_export(write_csv(tmp_path / "bad.csv", [["A1", "坏", "x", "y"]], header=SHORT))
    items = iter(stream)
    assert isinstance(next(items), RejectedRow)
    with pytest.raises(TicketFileError, match="全部 1 行都无法使用"):
        next(items)


def test_streaming_memory_does_not_grow_with_the_file(tmp_path, monkeypatch):
    # Ids seen go into a dict up to DICT_LIMIT (131,072), then into a compact table: lowered
    # here, so that 30,000 rows are past it.
    monkeypatch.setattr(reader._SeenIds, "DICT_LIMIT", 1000)
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("工单号,创建时间,首次响应时间,问题描述,处理结果\r\n")
        for i in range(30_000):
            f.write(f"T{i},2026-03-05 14:20,2026/3/5 14:35:00,第 {i} 张：公文发送失败，提示内部服务器错误,按 KB-0001 处理\r\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with open_export(path) as stream:  # the encoding check decodes MB chunks: a fixed cost
            opening = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            count = sum(1 for _ in stream)
            reading = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 30_000 and size > 3_500_000
    assert opening < 10_000_000, opening
    assert reading < 2_000_000, reading   # the table of ids seen (12 bytes a slot) and buffers, not the rows
    assert stream.tickets == 30_000 and stream.rejected == 0


def test_duplicates_are_found_past_the_dict_of_ids(tmp_path, monkeypatch):
    monkeypatch.setattr(reader._SeenIds, "DICT_LIMIT", 2)
    ids = ["A1", "A2", "A3", "A4", "A2", "A5", "A1"] + [f"B{i}" for i in range(5000)] + ["A4"]
    batch = read_tickets(write_csv(tmp_path / "d.csv", [[i, "2026-03-05", "x", "y"] for i in ids], header=SHORT))
    assert len(batch.tickets) == 5005
    assert [(r.row_number, r.reason.split("（")[0]) for r in batch.rejected] == [
        (6, "工单号与第 3 行重复"), (8, "工单号与第 2 行重复"), (5009, "工单号与第 5 行重复")]


def test_kb_link_on_an_export_without_tickets_exits_1_and_says_why(tmp_path, sample_copy):
    from click.testing import CliRunner

    from kb.cli import cli
    rows = [["A1", "下周", "x", "y"], ["A2", "2026-03-05", "", "y"]]
    for name, content in (("header.csv", []), ("rejected.csv", rows)):
        result = CliRunner().invoke(cli, ["link", str(write_csv(tmp_path / name, content, header=SHORT)),
                                          "--project", str(sample_copy)])
        assert result.exit_code == 1, result.output
        assert ("文件只有表头，没有工单" if name == "header.csv" else "全部 2 行都无法使用") in result.output
