"""Planted personal data for the acceptance tests of the ticket store and the scrubber.

`PLANTED` lists personal values in the forms callers and engineers really type them;
`write_exports` writes two helpdesk exports (UTF-8 CSV with the sample's Chinese
headers plus 备注 and 邮箱) that carry every one of them, inside the clauses that
become symptom phrases, in tickets that cite real articles (so an unscrubbed value
would reach article pages), repeated by three or more tickets (the public site shows a
phrase only when at least three tickets reported it), in dangling links, in notes, in
reporter cells and in time cells that the reader must reject.

`LeakScanner` looks for every planted value in outputs: text (raw, HTML-unescaped,
URL-decoded, JSON-unescaped, tags stripped; NFKC and case-folded), numbers as any run of
their digits with separators in between, binary files (whoosh segments, SQLite) as
bytes and as the UTF-8 text they contain, SQLite databases cell by cell, gzip files
decompressed, whoosh indexes also through whoosh (stored fields and terms).

Nothing here calls the code under test: the tests drive `kb` as a command.
None of the planted numbers is one of the service centre's hotlines
(docs/_data/commitments.yml: 400-810-2468, 139-1000-2468), which are not personal.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import html
import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unicodedata
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KB = [sys.executable, "-m", "kb"]

# The sample export's headers (kb.tickets.sample.HEADERS) plus two optional columns the
# reader knows (kb.tickets.columns.FIELDS: notes, email).
HEADERS = ["工单号", "创建时间", "首次响应时间", "解决时间", "到场时间", "是否现场", "优先级",
           "模块", "问题描述", "处理结果", "报告人", "联系电话", "单位", "备注", "邮箱"]

# The ticket store and what `kb link` used to write, never copied from the checkout.
GENERATED_DATA = ("ticket_links.json", "tickets.sqlite", "tickets.sqlite-*", ".*.tmp")


def copy_project(dest: Path) -> Path:
    """A private copy of the sample project without any generated ticket data (as
    conftest.copy_sample, and also without the SQLite store `make site` may have made)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", dest / "docs", ignore=shutil.ignore_patterns(*GENERATED_DATA, "reports"))
    shutil.copytree(ROOT / "kb_articles", dest / "kb_articles")
    (dest / "search_index").mkdir()
    return dest


def run_kb(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*KB, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def write_csv(path: Path, header: list[str], rows: Iterable[list[str]]) -> Path:
    """A UTF-8 CSV export with CRLF line ends, as helpdesks write them."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


# The planted values ------------------------------------------------------------------------

def fold(text: str) -> str:
    """What the scanner compares: NFKC (full-width → ASCII), case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def digits_of(text: str) -> str:
    return "".join(c for c in fold(text) if c in "0123456789")


@dataclass(frozen=True)
class Planted:
    kind: str
    value: str                      # as written in the export
    needles: tuple[str, ...] = ()   # text forms searched for (folded), the value first
    digits: tuple[str, ...] = ()    # digit strings searched for in runs of digits
    # A match followed by one of these characters is another word: 张 is also the
    # measure word of tickets, so "1200 张工单" holds no 张工.
    not_before: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.value!r}"


# Numbers shorter than this are not searched as digit runs (too many false matches).
MIN_DIGITS = 7


def planted(kind: str, value: str, *extra: str, digits: Iterable[str] = (), number: bool = False,
            not_before: str = "") -> Planted:
    """`extra`: other forms that would still identify the person (a local part, the
    address without the city); `number`: also search the value's digits in any digit run."""
    needles = tuple(dict.fromkeys(fold(n) for n in (value, *extra)))
    found = list(digits)
    if number:
        d = digits_of(value)
        for prefix in ("0086", "86"):  # +86 / 0086 country code before a mobile number
            if d.startswith(prefix) and len(d) - len(prefix) == 11:
                d = d[len(prefix):]
        found.insert(0, d)
    assert all(len(d) >= MIN_DIGITS for d in found), (value, found)
    return Planted(kind, value, needles, tuple(dict.fromkeys(found)), not_before)


P = {  # key → planted value; keys are used by the export builders below
    # Mobiles, in every grouping and separator
    "m_plain": planted("手机号", "13817264953", number=True),
    "m_space": planted("手机号", "138 2619 4735", number=True),
    "m_dash": planted("手机号", "150-3918-2746", number=True),
    "m_dot": planted("手机号", "186.4729.3815", number=True),
    "m_443": planted("手机号", "1372 9184 653", number=True),
    "m_cc_space": planted("手机号", "+86 177 3829 1564", number=True),
    "m_cc_paren": planted("手机号", "(+86)136-9827-5413", number=True),
    "m_endash": planted("手机号", "159–4827–3916", number=True),
    "m_emdash": planted("手机号", "135—6284—1937", number=True),
    "m_fullwidth": planted("手机号", "１８８２７３６４８１５", number=True),
    "m_cc_dash": planted("手机号", "+86-131 5729 4806", number=True),
    "m_0086": planted("手机号", "0086 158 3729 1640", number=True),
    "m_url": planted("手机号", "15637281940", number=True),
    "m_time_cell": planted("手机号", "18211735960", number=True),
    "m_onsite_cell": planted("手机号", "13922817465", number=True),
    "m_export2": planted("手机号", "17839261504", number=True),
    "m_phone_column": planted("手机号", "13361728495", number=True),
    "m_alias_url": planted("手机号", "15936172840", number=True),
    # Landlines, with and without area code
    "l_beijing": planted("座机", "010-62917384", number=True, digits=["62917384"]),
    "l_bare": planted("座机", "82736491", number=True),
    "l_paren": planted("座机", "(0755)86932417", number=True, digits=["86932417"]),
    "l_ext": planted("座机", "021-6491 2738 转 806", "6491 2738", digits=["02164912738", "64912738"]),
    "l_time_cell": planted("座机", "021-5839 2746", number=True, digits=["58392746"]),
    "l_spaced": planted("座机", "0571 8827 3164", number=True, digits=["88273164"]),
    # E-mail addresses
    "e_ascii": planted("邮箱", "liqiang.oa@czj.gov.cn", "liqiang.oa"),
    "e_cjk_local": planted("邮箱", "张三@oa.gov.cn", "张三"),
    "e_cjk_domain": planted("邮箱", "liuyang@公司.中国", "liuyang"),
    "e_spelled": planted("邮箱", "zhaoliu at oa dot com", "zhaoliu"),
    "e_upper": planted("邮箱", "WangFang_88@163.COM", "wangfang_88"),
    "e_fullwidth": planted("邮箱", "ｃｈｅｎｊｉｎｇ＠ｑｑ．ｃｏｍ", "chenjing"),
    "e_bracket_at": planted("邮箱", "sunlei[at]oa.gov.cn", "sunlei"),
    "e_pinyin": planted("邮箱", "liujianguo@czj.gov.cn", "liujianguo"),
    "e_time_cell": planted("邮箱", "gaofeng@czj.gov.cn", "gaofeng"),
    "e_export2": planted("邮箱", "ouyangnn@qq.com", "ouyangnn"),
    # ID numbers (valid check digits)
    "id_18": planted("身份证号", "110108198506124739", number=True),
    "id_x": planted("身份证号", "32010219790318298X", number=True),
    "id_15": planted("身份证号", "440305850612731", number=True),
    "id_grouped": planted("身份证号", "510107 19880214 5612", number=True),
    "id_time_cell": planted("身份证号", "330106197609053826", number=True),
    "id_export2": planted("身份证号", "420106199507311477", number=True),
    # IP addresses
    "ip_v4": planted("IP", "172.28.191.47", number=True),
    "ip_padded": planted("IP", "010.087.163.219", "10.87.163.219", number=True, digits=["1087163219"]),
    "ip_port": planted("IP", "192.168.37.206:3389", "192.168.37.206", digits=["19216837206"]),
    "ip_url": planted("IP", "10.144.87.219", number=True),
    "ip_v6": planted("IPv6", "2001:db8:85a3::8a2e:370:7334", "8a2e:370:7334"),
    "ip_v6_link": planted("IPv6", "fe80::a1b2:c3d4:e5f6:1789", "a1b2:c3d4:e5f6"),
    # Instant messaging
    "qq_8": planted("QQ", "QQ 58291734", digits=["58291734"]),
    "qq_10": planted("QQ", "qq号：2847193650", digits=["2847193650"]),
    "wx_underscore": planted("微信", "zhangsan_88", "zhangsan"),
    "wx_dash": planted("微信", "lihua-2019", "lihua"),
    # Bank cards
    "card_19": planted("银行卡", "6222 0247 1938 5562 017", number=True),
    "card_16": planted("银行卡", "6217-0012-3456-7789", number=True),
    # Licence plates, staff and passport numbers
    "plate": planted("车牌", "京A73915", "a73915"),
    "plate_dot": planted("车牌", "沪C·5R827", "沪c5r827", "c5r827"),
    "staff": planted("工号", "A03917"),
    "staff_hr": planted("工号", "HR-20517", "hr20517"),
    "passport": planted("护照", "E73916482", digits=["73916482"]),
    "passport_g": planted("护照", "G28475913", digits=["28475913"]),
    # Street addresses
    "addr_beijing": planted("住址", "北京市海淀区中关村大街27号", "中关村大街27号", "海淀区中关村大街"),
    "addr_shenzhen": planted("住址", "深圳市南山区科技园路1号3栋502室", "科技园路1号", "3栋502室"),
    # Names: reporters (from the reporter column) wherever they recur, and other forms
    "n_reporter": planted("姓名", "张伟"),
    "n_reporter_phone": planted("姓名", "刘建国"),
    "n_reporter_compound": planted("姓名", "欧阳娜娜"),
    "n_reporter_title": planted("姓名", "陈静"),
    "n_reporter_latin": planted("姓名", "Li Ming", "liming"),
    "n_surname_gong": planted("姓名", "张工", not_before="单作"),
    "n_surname_xiansheng": planted("姓名", "张先生"),
    "n_xiao": planted("姓名", "小张"),
    "n_pinyin": planted("姓名", "Zhang Wei", "zhangwei"),
    "n_third_gong": planted("姓名", "李工"),
    "n_third_laoshi": planted("姓名", "王老师"),
    # Links with hosts, addresses and user names in them
    "url_ip": planted("网址", "http://10.144.87.219:8080/kb/KB-0999/?u=sunqi", "u=sunqi", "sunqi"),
    "url_host": planted("网址", "http://wangfang-pc.czj.local/kb/KB-0998/", "wangfang-pc"),
    "url_query": planted("网址", "https://support.example.com/kb/KB-0001/?user=liuxiaohong&tel=15637281940", "liuxiaohong"),
    "url_alias": planted("网址", "/kb/wuhao-15936172840/", "wuhao-15936172840", "wuhao"),
}
PLANTED: list[Planted] = list(P.values())

# Not personal: unique phrases that must reach every output a symptom can reach. If the
# scanner cannot find them there, it could not find a leak there either.
CANARY = "蓝鲸校验码"       # export A: three tickets citing KB-0001
CANARY_2 = "白鹭校验码"     # export B (linked in a later run): three tickets citing KB-0019

SERVICE_HOTLINES = ("4008102468", "13910002468")  # docs/_data/commitments.yml


def v(key: str) -> str:
    return P[key].value


# The exports -------------------------------------------------------------------------------

@dataclass
class Exports:
    a: Path
    b: Path
    a_tickets: int                 # good rows in export A
    b_tickets: int
    a_rejected: int                # rows of A the reader must reject (bad time cells)
    repeated: dict[str, int] = field(default_factory=dict)  # phrase → tickets reporting it


def _times(n: int) -> tuple[str, str, str]:
    """Opened, responded and resolved, spread over three months, within the commitments."""
    opened = dt.datetime(2026, 3 + n % 3, 1 + n % 27, 9 + n % 8, (n * 7) % 60)
    fmt = "%Y-%m-%d %H:%M"
    return (opened.strftime(fmt), (opened + dt.timedelta(minutes=15)).strftime(fmt),
            (opened + dt.timedelta(hours=2)).strftime(fmt))


MODULES = {  # article → its module (kb_articles/)
    "KB-0001": "公文流转", "KB-0003": "公文流转", "KB-0004": "公文流转", "KB-0005": "流程审批",
    "KB-0006": "流程审批", "KB-0007": "流程审批", "KB-0008": "邮件", "KB-0009": "邮件", "KB-0010": "邮件",
    "KB-0011": "邮件", "KB-0012": "通讯录", "KB-0014": "日程会议", "KB-0015": "日程会议", "KB-0016": "日程会议",
    "KB-0018": "文档附件", "KB-0019": "文档附件", "KB-0020": "移动端", "KB-0021": "移动端", "KB-0022": "移动端",
    "KB-0023": "登录与账号", "KB-0024": "登录与账号", "KB-0025": "登录与账号", "KB-0027": "打印与套红",
    "KB-0028": "打印与套红", "KB-0029": "系统管理", "KB-0030": "系统管理", "KB-0031": "系统管理", "KB-0032": "系统管理",
}
# Reporter cells of export A (rotated): names with a phone, a department, a title; a
# Latin name; a role word that is no name.
REPORTERS_A = ("张伟", f"刘建国（{v('m_plain')}）", "欧阳娜娜/信息中心", "陈静老师", "Li Ming", "张伟", "办公室")

# Symptom phrases repeated by several tickets that cite the article: (description,
# resolution, tickets). Each value sits in the clause that becomes the symptom.
REPEATED_A = [
    (f"公文发送失败，提示请回电 {v('m_dot')} 张工", f"按 KB-0001 处理，已电话联系张先生 {v('m_dash')} 确认恢复。", 4),
    ("张伟的电脑公文发送失败提示HTTP 500", "按 KB-0001 处理。", 3),
    (f"小张说附件上传失败发到{v('e_ascii')}", "参见 KB-0019。", 3),
    (f"工号 {v('staff')} 登录提示用户名或密码错误", "按 KB-0023 解锁账号。", 3),
    (f"IP {v('ip_v4')} 打开公文正文区域空白", "远程安装控件，详见 KB-0003。", 3),
    (f"王老师那边提交审批提示找不到下一步处理人{v('qq_8')}", "按 KB-0006 处理。", 3),
    (f"李工的手机{v('m_plain')}收不到待办推送", "参见 KB-0022。", 3),
    (f"Zhang Wei 的邮件被退信550 5.7.1 Relaying denied", "按 KB-0008 处理，Zhang Wei 确认恢复。", 3),
    (f"身份证{v('id_18')}实名认证后证书验证失败", "按 KB-0024 处理。", 3),
    (f"微信 {v('wx_underscore')} 企业微信打开待办提示应用不可见", "按 KB-0021 配置可见范围。", 3),
    (f"银行卡{v('card_19')}报销单提交提示502 Bad Gateway", "按 KB-0005 处理。", 3),
    (f"车牌{v('plate')}预订会议室提示该时段已被占用", "按 KB-0014 处理。", 3),
    (f"护照 {v('passport')} 上传附件失败提示FILE-4130", "按 KB-0019 处理。", 3),
    (f"{v('addr_beijing')}现场打印提示未安装打印控件", "按 KB-0028 安装打印控件。", 3),
    (f"{v('e_spelled')} 收不到日程提醒", "按 KB-0015 处理。", 3),
    (f"座机{v('l_beijing')}打不开视频会议链接", "按 KB-0016 处理。", 3),
    (f"{v('l_paren')}这台电脑附件下载后文件名乱码", "按 KB-0018 处理。", 3),
    (f"{v('ip_v6')} 访问提示数据库连接失败", "按 KB-0029 处理。", 3),
    ("刘建国这边套红后红头错位", "按 KB-0027 处理。", 3),
    ("li ming 手机App升级后闪退", "按 KB-0020 处理。", 3),
    (f"公文发送失败提示{CANARY}QZX-7731", "按 KB-0001 处理。", 3),
]
# One ticket each: (description, resolution, notes). Resolutions citing nothing make gaps.
SINGLES_A = [
    (f"我手机{v('m_space')}公文发送失败", "按 KB-0001 处理。", ""),
    (f"{v('m_443')}这个号码收不到待办提醒", "参见 KB-0022。", ""),
    (f"{v('m_cc_space')} 张先生登录提示验证码错误", "按 KB-0025 处理。", ""),
    (f"{v('m_cc_paren')} 的账号被锁定提示AUTH-1003", "按 KB-0023 处理。", ""),
    (f"{v('m_endash')} 打不开邮件附件", "已远程协助处理，恢复正常。", ""),
    (f"{v('m_emdash')} 机主反映会议室预订失败", "用户操作问题，已电话指导。", ""),
    (f"{v('m_fullwidth')}这台手机收不到推送", "参见 KB-0022。", ""),
    (f"{v('m_cc_dash')} 公文流转卡住了", "按 KB-0004 处理。", ""),
    (f"{v('m_0086')} 审批单附件丢失", "按 KB-0007 处理。", ""),
    (f"座机{v('l_bare')}这边打印套红错位", "按 KB-0027 处理。", ""),
    (f"{v('l_ext')} 分机登录失败", "重启客户端后正常。", ""),
    (f"{v('l_spaced')} 打不开系统", "单位出口网络故障，已通知网络运营商。", ""),
    (f"{v('e_cjk_local')} 收不到邮件", "按 KB-0011 处理。", ""),
    (f"发往{v('e_cjk_domain')}的邮件被退信", "按 KB-0008 处理。", ""),
    (f"{v('e_upper')} 发邮件提示附件超过大小限制", "按 KB-0009 处理。", ""),
    (f"{v('e_fullwidth')} 收信登录失败", "按 KB-0010 处理。", ""),
    (f"{v('e_bracket_at')} 邮件延迟送达很慢", "按 KB-0011 处理。", ""),
    (f"{v('e_pinyin')} 通讯录同步后人员缺失", "按 KB-0012 处理。", ""),
    (f"身份证号{v('id_x')}登录失败", "按 KB-0023 处理。", ""),
    (f"旧身份证{v('id_15')}认证失败", "转研发处理，已发补丁，用户确认恢复。", ""),
    (f"身份证 {v('id_grouped')} 证书登录失败", "按 KB-0024 处理。", ""),
    (f"IP {v('ip_padded')} 打不开首页", "清除浏览器缓存后恢复。", ""),
    (f"远程 {v('ip_port')} 连不上服务器提示超时", "已远程协助，问题解决。", ""),
    (f"{v('ip_v6_link')} 访问页面空白", "用户重启电脑后自行恢复。", ""),
    (f"{v('qq_10')} 的账号登录失败", "按 KB-0023 处理。", ""),
    (f"微信号：{v('wx_dash')} 手机收不到推送", "参见 KB-0022。", ""),
    (f"卡号{v('card_16')}报销审批提交失败", "按 KB-0005 处理。", ""),
    (f"{v('plate_dot')}车主预订会议室失败", "按 KB-0014 处理。", ""),
    (f"员工编号：{v('staff_hr')} 登录后提示许可证即将到期", "按 KB-0031 处理。", ""),
    (f"护照号{v('passport_g')}实名认证失败", "已电话指导。", ""),
    (f"{v('addr_shenzhen')}的电脑上传附件失败", "按 KB-0032 清理磁盘。", ""),
    ("欧阳娜娜反馈定时任务没有运行", "按 KB-0030 处理。", ""),
    ("陈静的账号登录提示验证码错误", "按 KB-0025 处理。", ""),
    ("Zhang Wei反馈手机收不到推送", "参见 KB-0022。", ""),
    # Dangling links with addresses, hosts and user names, in the resolution and in notes
    ("公文发送失败", f"按{v('url_ip')}处理，另见 KB-0001。", ""),
    ("附件下载失败", "已远程协助处理。", f"参考 {v('url_host')} 处理"),
    ("公文发送失败提示500", f"按 {v('url_query')} 处理。", ""),
    ("登录失败", "重启后正常。", f"见 {v('url_alias')} 文章，回访刘建国 {v('m_url')}"),
    (f"联系人张伟、电话{v('m_phone_column')}，公文发送失败", "按 KB-0001 处理。", f"回访{v('n_reporter')}已恢复"),
]
# Rows whose time or flag cells hold personal data: the reader must reject them, and
# say why without quoting the cell. (column, value)
BAD_CELLS_A = [
    ("创建时间", f"{v('m_time_cell')} 张伟"),
    ("首次响应时间", f"回电 {v('l_time_cell')}"),
    ("解决时间", f"{v('e_time_cell')} 已确认"),
    ("是否现场", f"是，欧阳娜娜 {v('m_onsite_cell')}"),
    ("到场时间", f"身份证{v('id_time_cell')}"),
]
# Export B, linked in a later run: the reporter column is empty, the text names export
# A's reporters (the names must be remembered across runs).
REPEATED_B = [
    ("张伟那边公文发送失败提示HTTP 500", "按 KB-0001 处理。", 3),
    (f"附件上传失败提示{CANARY_2}QZX-8842", "按 KB-0019 处理。", 3),
]
SINGLES_B = [
    ("刘建国的电脑套红后文号错位", "按 KB-0027 处理。", ""),
    ("Li Ming 移动端升级后闪退", "按 KB-0020 处理。", ""),
    ("欧阳娜娜说邮件延迟送达", "按 KB-0011 处理。", ""),
    ("陈静的附件上传失败", "按 KB-0019 处理。", ""),
    (f"张工说{v('m_export2')}这个号收不到待办", "参见 KB-0022。", ""),
    (f"身份证{v('id_export2')}认证失败", "已电话指导。", ""),
    (f"{v('e_export2')} 收信登录失败", "按 KB-0010 处理。", ""),
    ("zhang wei 公文发送失败", "按 KB-0001 处理。", ""),
]


def _module(resolution: str) -> str:
    m = re.search(r"KB-\d{4}", resolution)
    return MODULES.get(m.group(), "") if m else ""


def _row(ticket_id: str, n: int, description: str, resolution: str, notes: str, reporter: str,
         phone: str, email: str) -> list[str]:
    opened, responded, resolved = _times(n)
    org = "市财政局办公室" if n % 5 else f"市财政局办公室 {v('n_reporter')} {v('m_plain')}"
    return [ticket_id, opened, responded, resolved, "", "否", "中", _module(resolution), description,
            resolution, reporter, phone, org, notes, email]


def write_exports(folder: Path) -> Exports:
    """Export A (with reporters, bad rows) and export B (no reporters) in `folder`."""
    rows_a, n = [], 0
    phones = (v("m_phone_column"), v("l_beijing"), "", v("m_plain"))
    emails = (v("e_ascii"), "", v("e_pinyin"))
    repeated = {}
    items = [(d, r, "") for d, r, count in REPEATED_A for _ in range(count)] + SINGLES_A
    for description, resolution, notes in items:
        n += 1
        rows_a.append(_row(f"PA-{n:04d}", n, description, resolution, notes, REPORTERS_A[n % len(REPORTERS_A)],
                           phones[n % len(phones)], emails[n % len(emails)]))
    for description, _, count in REPEATED_A:
        repeated[description] = count
    good_a = len(rows_a)
    for column, value in BAD_CELLS_A:
        n += 1
        row = _row(f"PA-{n:04d}", n, "公文发送失败提示HTTP 500", "按 KB-0001 处理。", "", "张伟", v("m_plain"), "")
        row[HEADERS.index(column)] = value
        rows_a.append(row)
    rows_b, m = [], 0
    for description, resolution, notes in [(d, r, "") for d, r, count in REPEATED_B for _ in range(count)] + SINGLES_B:
        m += 1
        rows_b.append(_row(f"PB-{m:04d}", 100 + m, description, resolution, notes, "", "", ""))
    for description, _, count in REPEATED_B:
        repeated[description] = count
    a = write_csv(folder / "export_a.csv", HEADERS, rows_a)
    b = write_csv(folder / "export_b.csv", HEADERS, rows_b)
    return Exports(a, b, good_a, len(rows_b), len(BAD_CELLS_A), repeated)


# The scanner -------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_JSON_ESCAPES = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")
# A run of digits with up to three separator characters between any two of them: the
# same number however it is grouped (spaces, dots, hyphens, dashes, brackets, +, ·).
_DIGIT_RUN = re.compile(r"[0-9](?:[\s.\-‐‑‒–—―−/()（）+_·•]{0,3}[0-9])*")
SQLITE_MAGIC = b"SQLite format 3\x00"


def _json_unescape(text: str) -> str:
    def decode(m: re.Match) -> str:
        try:
            return json.loads(f'"{m.group()}"')
        except ValueError:
            return m.group()
    return _JSON_ESCAPES.sub(decode, text)


def text_views(text: str) -> list[str]:
    """The text as a reader (or a page's script) would see it, folded."""
    views = [text, html.unescape(text), urllib.parse.unquote(text), _json_unescape(text), _TAG.sub("", html.unescape(text))]
    return list(dict.fromkeys(fold(view) for view in views))


def _find(text: str, needle: str, not_before: str) -> int:
    at = text.find(needle)
    while at >= 0 and not_before and text[at + len(needle):at + len(needle) + 1] in tuple(not_before):
        at = text.find(needle, at + 1)
    return at


def _find_bytes(data: bytes, needle: bytes, not_before: str) -> int:
    after = tuple(c.encode("utf-8") for c in not_before)
    at = data.find(needle)
    while at >= 0 and after and data[at + len(needle):].startswith(after):
        at = data.find(needle, at + 1)
    return at


@dataclass
class Hit:
    source: str
    excerpt: str


class LeakScanner:
    """Collects where each planted value occurs (`hits`: Planted → [Hit])."""

    def __init__(self, values: Iterable[Planted]):
        self.values = list(values)
        self.hits: dict[Planted, list[Hit]] = {}
        self.scanned: list[str] = []

    def _record(self, value: Planted, source: str, excerpt: str) -> None:
        hits = self.hits.setdefault(value, [])
        if not any(h.source == source for h in hits):
            hits.append(Hit(source, excerpt.replace("\n", " ")))

    def scan_text(self, source: str, text: str) -> None:
        self.scanned.append(source)
        for view in text_views(text):
            runs = None
            for value in self.values:
                for needle in value.needles:
                    at = _find(view, needle, value.not_before)
                    if at >= 0:
                        self._record(value, source, view[max(0, at - 40):at + len(needle) + 40])
                        break
                else:
                    if not value.digits:
                        continue
                    if runs is None:
                        runs = [(m.start(), m.end(), digits_of(m.group())) for m in _DIGIT_RUN.finditer(view)]
                    for needle in value.digits:
                        match = next(((a, b) for a, b, d in runs if needle in d), None)
                        if match:
                            self._record(value, source, view[max(0, match[0] - 40):match[1] + 40])
                            break

    def scan_bytes(self, source: str, data: bytes) -> None:
        """A binary file: each needle's UTF-8 bytes (ASCII case ignored), then its text."""
        lowered = data.lower()
        for value in self.values:
            for needle in (*value.needles, *value.digits):
                at = _find_bytes(lowered, needle.encode("utf-8"), value.not_before)
                if at >= 0:
                    self._record(value, source + " (bytes)", data[max(0, at - 40):at + len(needle) + 40].decode("utf-8", "replace"))
                    break
        self.scan_text(source + " (UTF-8 text)", data.decode("utf-8", errors="ignore"))

    def scan_sqlite(self, source: str, path: Path) -> None:
        """Every cell of every table (and the schema), read from a copy so a write-ahead
        log is included and the original is not touched."""
        with tempfile.TemporaryDirectory() as tmp:
            for sibling in path.parent.glob(path.name + "*"):
                shutil.copy(sibling, Path(tmp) / sibling.name)
            db = sqlite3.connect(Path(tmp) / path.name)
            try:
                tables = [r[0] for r in db.execute("select name from sqlite_master where type in ('table', 'view')")]
                schema = "\n".join(r[0] or "" for r in db.execute("select sql from sqlite_master"))
                self.scan_text(f"{source} [schema]", schema)
                for table in tables:
                    texts, blobs = [], []
                    for row in db.execute(f'select * from "{table}"'):
                        for cell in row:
                            if isinstance(cell, bytes):
                                blobs.append(cell)
                            elif cell is not None:
                                texts.append(str(cell))
                    self.scan_text(f"{source} [table {table}]", "\n".join(texts))
                    if blobs:
                        self.scan_bytes(f"{source} [table {table}, blobs]", b"\n".join(blobs))
            finally:
                db.close()

    def scan_whoosh(self, source: str, folder: Path) -> None:
        """A whoosh index, read with whoosh: every stored field of every document (they
        are pickled and may be compressed, so not visible as bytes) and every indexed
        term of every field (one personal value may be split into several terms)."""
        try:
            from whoosh import index
        except ImportError:  # the search index is no longer whoosh: its files are scanned as bytes
            return
        if not index.exists_in(folder):
            return
        ix = index.open_dir(folder)
        try:
            with ix.reader() as reader:
                stored = [str(value) for doc in reader.all_stored_fields() for value in doc.values()]
                self.scan_text(f"{source} [whoosh stored fields]", "\n|\n".join(stored))
                for name in reader.indexed_field_names():
                    terms = [t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t) for t in reader.lexicon(name)]
                    self.scan_text(f"{source} [whoosh terms of {name}]", " | ".join(terms))
        finally:
            ix.close()

    def scan_file(self, path: Path, name: str) -> None:
        data = path.read_bytes()
        if data.startswith(SQLITE_MAGIC):
            self.scan_sqlite(name, path)
            self.scan_bytes(name, data)  # deleted rows linger in free pages
            return
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                pass
        try:
            self.scan_text(name, data.decode("utf-8"))
        except UnicodeDecodeError:
            self.scan_bytes(name, data)

    def scan_tree(self, root: Path, base: Path, exclude: Iterable[Path] = ()) -> None:
        excluded = {p.resolve() for p in exclude}
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.resolve() not in excluded:
                self.scan_file(path, str(path.relative_to(base)))
        for toc in sorted({p.parent for p in root.rglob("_*.toc")}):
            if toc.resolve() not in excluded:
                self.scan_whoosh(str(toc.relative_to(base)), toc)

    def report(self, limit: int = 6) -> str:
        lines = []
        for value, hits in self.hits.items():
            lines.append(f"{value.label} leaked to {len(hits)} place(s):")
            lines += [f"    {h.source}: …{h.excerpt}…" for h in hits[:limit]]
            if len(hits) > limit:
                lines.append(f"    … and {len(hits) - limit} more: " + ", ".join(h.source for h in hits[limit:]))
        return "\n".join(lines)
