"""Reading helpdesk exports: encodings, formats, column names, bad rows, speed smoke."""

import datetime as dt
import json

import pytest

from conftest import write_csv_export
from kb.tickets import TicketFileError, read_tickets
from kb.tickets.dates import parse_datetime
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
    assert "“创建时间”值 '2026-13-45 25:00' 不是可识别的时间" in rejected[4]
    assert "引号不成对" in rejected[5] and "文件第 6 行" in rejected[5]
    assert "“问题描述”为空" in rejected[7]
    assert "与第 2 行重复" in rejected[9]
    assert "有 6 列，表头有 12 列" in rejected[10]
    assert "“是否现场”值 '也许' 无法识别" in rejected[11]
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
