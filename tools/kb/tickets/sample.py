"""A realistic synthetic helpdesk export, for demos, tests and benchmarks.

    python -m kb.tickets.sample OUT.csv [--count N] [--seed S] [--project DIR]

Writes what the service centre's helpdesk exports from Excel on Chinese Windows: a GBK
CSV with CRLF line ends and Chinese headers. The content comes from the project's
articles: callers describe an article's symptoms in their own words (colloquial, with
the usual typos, times, full-width digits and their phone numbers, e-mail addresses,
ID numbers and names), and engineers' resolutions cite the article in every form that
kb.tickets.references recognises — or cite nothing (about a quarter), or cite an
unknown id, the archived KB-0037 or an alias link that does not exist.

Times follow the service commitments: most responses within 1 hour, most fixes within
4 hours, on-site visits mostly within 2 hours of the call, with some breaches and a few
cases exactly on the limits. The file also holds a handful of bad rows (an unreadable
date, empty descriptions, a line with a broken quote, a duplicated ticket id, a row with
missing fields) that the reader must report, not drop.

Everything is drawn from random.Random(seed), so a seed and a project always give the
same bytes. `count` is the number of good tickets; the bad rows come on top.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from kb.articles import Article
from kb.project import Project, ProjectError

HEADERS = ["工单号", "创建时间", "首次响应时间", "解决时间", "到场时间", "是否现场", "优先级",
           "模块", "问题描述", "处理结果", "报告人", "联系电话", "单位"]
DEFAULT_PATH = Path("tools/sample_data/helpdesk_export_2026.csv")
START, END = dt.date(2026, 1, 1), dt.date(2026, 10, 31)
_REPO_ROOT = Path(__file__).resolve().parents[3]

SURNAMES = ("张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
            "薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉玲建国志海燕晓婷雪琳宇浩然欣怡子涵俊峰丹凤文斌亮"
ORGS = ("市财政局办公室", "市教育局人事科", "区卫健委综合科", "市政府办公室秘书科", "市人社局信息中心", "县委办公室",
        "市公安局后勤处", "市住建局规划科", "区发改委", "市审计局综合处", "市档案馆", "市统计局综合科",
        "市自然资源局", "区政务服务中心", "市交通运输局办公室", "市水务局", "市司法局", "区财政局")
EMAIL_DOMAINS = ("czj.gov.cn", "jyj.gov.cn", "163.com", "qq.com", "oa.example.gov.cn", "126.com")
ID_REGIONS = ("440305", "110105", "320102", "330106", "510107", "420106")
ROLE_REPORTERS = ("办公室", "信息中心", "值班室")

# Colloquial rewrites: (written form, what callers say instead); applied with a chance.
COLLOQUIAL = (
    ("点击", "点"), ("页面", "网页"), ("无法", "没法"), ("没有", "没"), ("一直", "老是"),
    ("提示", "弹出"), ("显示为", "显示成"), ("收不到", "收不着"), ("自动关闭", "自己关了"),
    ("手机 App 上", "手机上"), ("电脑上", "电脑"), ("重新", "再"),
)
TYPOS = (
    ("登录", "登陆"), ("账号", "帐号"), ("已经", "以经"), ("附件", "付件"), ("提示", "题示"),
    ("显示", "现实"), ("上传", "上穿"), ("验证码", "验证吗"), ("重新", "从新"), ("安装", "按装"),
    ("控件", "空件"), ("密码", "密吗"), ("审批", "审枇"), ("在", "再"), ("的", "得"),
)
PREFIXES = ("", "", "", "你好，", "您好，", "老师好，", "急！", "麻烦问下，", "我是{org}的，", "我是{name}，")
WHEN = ("", "", "", "今天早上{h}点，", "{hh}:{mm}左右", "刚才", "从昨天下午开始，", "{mon}月{day}号，", "这两天")
SUFFIXES = ("", "", "", "，麻烦尽快处理", "，急用", "，谢谢！", "，在线等", "，影响全科室办公", "。")

# Tickets with no article: questions the knowledge base does not answer (yet).
NO_ARTICLE_TOPICS = (
    ("打印机卡纸了，打印一半就停", "现场更换搓纸轮后正常", "打印与套红"),
    ("新来的同事要开通系统账号", "已在系统管理中开通账号并告知初始密码", "登录与账号"),
    ("电脑开机蓝屏，进不了系统", "硬件故障，已协调单位IT更换内存条", ""),
    ("想问一下怎么设置代理审批，出差期间让别人帮忙批", "电话讲解代理设置操作，用户已会用", "流程审批"),
    ("能不能把公文模板改一下，加个抄送栏", "已记录需求，转产品组评估", "公文流转"),
    ("会议室大屏投不上去", "非本系统问题，建议联系会议室设备厂家", "日程会议"),
    ("领导要看上个月收文统计，导出报表全是0", "报表统计口径为按办结日期，已说明", "公文流转"),
    ("网络很慢，所有网页都打不开", "单位出口网络故障，已通知网络运营商", ""),
)
NO_REFERENCE = (
    "已远程协助处理，恢复正常。", "重启客户端后正常。", "用户操作问题，已电话指导。", "清除浏览器缓存后恢复。",
    "已远程协助，问题解决。", "转研发处理，已发补丁，用户确认恢复。", "用户重启电脑后自行恢复。",
)
# Draft article's topic: engineers cannot cite it publicly yet.
DRAFT_RESOLUTIONS = ("建议先在电脑上打开附件，已反馈产品组。", "钉钉端预览问题已登记，等待新版本。")

REFERENCE_FORMS = (  # (form, weight)
    ("id", 22), ("id_lower", 6), ("id_space", 6), ("id_short", 6), ("number", 6), ("number_long", 6),
    ("article_no", 6), ("url", 12), ("url_other_host", 4), ("alias_url", 5), ("old_id", 3),
    ("title_book", 8), ("title_quote", 5), ("title_tolerant", 5),
)
TEMPLATES = (
    "已远程处理：{action}。参见{ref}。", "按{ref}处理：{action}，已恢复正常。", "{action}，问题解决。操作说明已发用户：{ref}",
    "电话指导用户按{ref}操作后正常。", "{action}。详见{ref}。", "参考{ref}，{action}，用户确认可以了。",
)
ONSITE_TEMPLATES = ("工程师到场处理：{action}。详见{ref}。", "现场处理，按{ref}：{action}，已恢复。")


@dataclass
class SampleStats:
    path: Path
    rows: int = 0               # data rows written (good + bad)
    tickets: int = 0            # good tickets
    bad_rows: int = 0
    referencing: int = 0        # tickets whose resolution names at least one article
    not_referencing: int = 0
    dangling: int = 0           # tickets naming an unknown or archived article
    onsite: int = 0
    response_breaches: int = 0  # response not < 1 h
    fix_breaches: int = 0       # fix over 4 h (or still open)
    onsite_breaches: int = 0    # arrival over 2 h
    with_pii: int = 0           # descriptions carrying a phone, e-mail, ID number or name
    forms: Counter = field(default_factory=Counter)
    bytes: int = 0
    expected_links: dict[str, str] = field(default_factory=dict)    # ticket id → article id it cites
    expected_dangling: dict[str, str] = field(default_factory=dict)  # ticket id → dangling text


@dataclass
class _Person:
    name: str
    org: str
    phone: str
    email: str


class _Generator:
    def __init__(self, project: Project, seed: int):
        self.rng = random.Random(seed)
        self.project = project
        articles = project.articles
        self.validated = [a for a in articles if a.status == "validated"]
        self.drafts = [a for a in articles if a.status == "draft"]
        self.archived = [a for a in articles if a.status == "archived"]
        if not self.validated:
            raise ValueError("项目中没有已验证的文章，无法生成示例工单（先写至少一篇 status: validated 的文章）")
        # A few articles get most calls, as in any helpdesk (Zipf-like weights).
        order = self.validated[:]
        self.rng.shuffle(order)
        self.weights = {a.id: 1 / (rank + 1) ** 0.8 for rank, a in enumerate(order)}
        self.people = [self._person() for _ in range(320)]
        self.site_url = project.site_url or "https://support.example.com/"
        self.steps: dict[str, list[str]] = {}

    # People ----------------------------------------------------------------------------

    def _name(self) -> str:
        rng = self.rng
        surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.03 else rng.choice(SURNAMES)
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        return surname + given

    def _mobile(self, style: int | None = None) -> str:
        rng = self.rng
        digits = rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        number = "1" + digits
        style = rng.randrange(10) if style is None else style
        if style == 7:
            return f"{number[:3]}-{number[3:7]}-{number[7:]}"
        if style == 8:
            return f"{number[:3]} {number[3:7]} {number[7:]}"
        if style == 9:
            return f"+86 {number}"
        return number

    def _landline(self) -> str:
        rng = self.rng
        area = rng.choice(("010", "020", "021", "0755", "0571", "027"))
        local = rng.choice("2345678") + "".join(rng.choice("0123456789") for _ in range(7))
        return rng.choice((f"{area}-{local}", f"{area} {local[:4]} {local[4:]}", f"({area}){local}"))

    def _email(self) -> str:
        rng = self.rng
        user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8)))
        if rng.random() < 0.5:
            user += str(rng.randint(1, 999))
        return f"{user}@{rng.choice(EMAIL_DOMAINS)}"

    def _idcard(self) -> str:
        rng = self.rng
        birth = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(365 * 35))
        body = f"{rng.choice(ID_REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
        return body + check

    def _person(self) -> _Person:
        phone = self._landline() if self.rng.random() < 0.15 else self._mobile(0)
        return _Person(self._name(), self.rng.choice(ORGS), phone, self._email())

    # Text ------------------------------------------------------------------------------

    def describe(self, symptoms: list[str], person: _Person, opened: dt.datetime) -> tuple[str, bool]:
        """A caller's description of `symptoms`, and whether it carries personal data."""
        rng = self.rng
        parts = []
        for symptom in symptoms:
            text = symptom.rstrip("。")
            if rng.random() < 0.4:
                text = text.replace("“", "").replace("”", "")
            for written, said in COLLOQUIAL:
                if written in text and rng.random() < 0.35:
                    text = text.replace(written, said, 1)
            if rng.random() < 0.3:
                typo = [t for t in TYPOS if t[0] in text]
                if typo:
                    written, wrong = rng.choice(typo)
                    text = text.replace(written, wrong, 1)
            if rng.random() < 0.1:  # typed with a full-width input method
                text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
            parts.append(text)
        joiner = rng.choice(("，", "，", "。", "！", ", ", " "))
        body = joiner.join(parts)
        if rng.random() < 0.04:
            body = body.replace("，", ",", 1)  # an ASCII comma: the CSV cell gets quoted
        if rng.random() < 0.03:
            body = body.replace("，", "\n", 1)  # a line break inside the cell
        when = rng.choice(WHEN).format(h=opened.hour, hh=f"{opened.hour:02d}", mm=f"{opened.minute:02d}",
                                       mon=opened.month, day=opened.day)
        prefix = rng.choice(PREFIXES).format(org=person.org, name=person.name)
        text = prefix + when + body + rng.choice(SUFFIXES)
        pii = person.name in prefix
        roll = rng.random()
        if roll < 0.36:
            text = text.rstrip("。！!，")  # the contact detail follows with its own comma
        if roll < 0.12:
            text += f"，我手机{self._mobile()}"
        elif roll < 0.18:
            text += f"，有问题打我电话{self._landline()}"
        elif roll < 0.24:
            text += f"，截图发我邮箱{self._email()}"
        elif roll < 0.27:
            text += f"，我电脑IP是192.168.{rng.randint(0, 30)}.{rng.randint(2, 254)}"
        elif roll < 0.29:
            text += f"，实名认证身份证号{self._idcard()}"
        elif roll < 0.33:
            text += f"，联系人{person.name}"
        elif roll < 0.36:
            colleague = rng.choice(self.people).name
            text += f"，{colleague}那边也一样"
        return text, pii or roll < 0.36

    def action(self, article: Article) -> str:
        if article.id not in self.steps:
            self.steps[article.id] = _solution_steps(article)
        steps = self.steps[article.id]
        if not steps:
            return "已远程协助处理"
        return self.rng.choice(steps)

    def reference(self, article: Article, form: str) -> tuple[str, str]:
        """The reference text in `form`, and the form actually used (an article without
        an old slug or id falls back to the plain link or id)."""
        number = int(article.id.split("-")[1])
        url = self.site_url + article.url_path
        slugs = [a for a in article.aliases if not a.upper().startswith("KB-")]
        old_ids = [a for a in article.aliases if a.upper().startswith("KB-")]
        if form == "alias_url":
            if not slugs:
                return url, "url"
            return (f"{self.site_url}kb/{slugs[0]}/" if self.rng.random() < 0.5 else f"/kb/{slugs[0]}/"), form
        if form == "old_id":
            return (old_ids[0], form) if old_ids else (article.id, "id")
        if form == "title_quote" and ("“" in article.title or '"' in article.title):
            return f"《{article.title}》", "title_book"  # a title with quotes is not quoted in “”
        return {
            "id": article.id,
            "id_lower": f"kb{number:04d}",
            "id_space": f"KB {number}",
            "id_short": f"KB-{number}",
            "number": f"知识库{number}号",
            "number_long": f"知识库第{number}号文章",
            "article_no": f"文章编号 KB{number:04d}",
            "url": url,
            "url_other_host": f"http://kb.oa.local/help/kb/{article.id}/",
            "title_book": f"《{article.title}》",
            "title_quote": f"“{article.title}”",
            "title_tolerant": f"《{_tolerant_title(article.title)}》一文",
        }[form], form

    def resolution(self, article: Article | None, person: _Person, onsite: bool) -> tuple[str, str | None]:
        """Resolution text and the reference form used (None: no reference)."""
        rng = self.rng
        if article is None or rng.random() < 0.12:
            text = rng.choice(NO_REFERENCE)
            form = None
        else:
            forms, weights = zip(*REFERENCE_FORMS)
            form = rng.choices(forms, weights)[0]
            template = rng.choice(ONSITE_TEMPLATES if onsite else TEMPLATES)
            ref, form = self.reference(article, form)
            text = template.format(action=self.action(article), ref=ref)
        if rng.random() < 0.08:
            text += f"已电话联系{person.name}确认恢复。"
        return text, form

    # Times -----------------------------------------------------------------------------

    def opened_time(self) -> dt.datetime:
        rng = self.rng
        days = (END - START).days + 1
        while True:
            day = START + dt.timedelta(days=rng.randrange(days))
            if day.weekday() < 5 or rng.random() < 0.2:
                break
        if rng.random() < 0.9:
            minute = rng.randrange(8 * 60 + 30, 18 * 60)
        else:
            minute = rng.randrange(24 * 60)
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute, seconds=rng.randrange(60))

    def times(self, opened: dt.datetime, stats: SampleStats) -> tuple[dt.datetime, dt.datetime | None, dt.datetime | None, bool]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            response = rng.randint(61, 240)
        elif roll < 0.06:
            response = 60  # exactly on the limit: "< 1 h" is breached
        else:
            response = rng.choice((rng.randint(2, 20), rng.randint(5, 59)))
        responded = opened + dt.timedelta(minutes=response, seconds=rng.randrange(60) if response < 59 else 0)
        if response >= 60:
            stats.response_breaches += 1
        onsite = rng.random() < 0.1
        arrived = None
        if onsite:
            stats.onsite += 1
            roll = rng.random()
            earliest = max(response + 10, 30)  # engineers set off after answering
            if earliest > 115:
                travel = earliest + rng.randint(10, 60)
            else:
                travel = rng.randint(max(earliest, 125), 300) if roll < 0.2 else 120 if roll < 0.25 else rng.randint(earliest, 115)
            arrived = opened + dt.timedelta(minutes=travel)
            if travel > 120:
                stats.onsite_breaches += 1
        roll = rng.random()
        if roll < 0.01:
            stats.fix_breaches += 1
            return responded, None, arrived, onsite  # still open
        start = arrived or responded
        if roll < 0.08:
            fixed = opened + dt.timedelta(minutes=rng.randint(245, 72 * 60))
        elif roll < 0.09:
            fixed = opened + dt.timedelta(hours=4)  # exactly on the limit: "≤ 4 h" is met
        else:
            fixed = start + dt.timedelta(minutes=rng.randint(5, 150))
            limit = opened + dt.timedelta(hours=4)
            if fixed > limit and start + dt.timedelta(minutes=5) < limit:
                fixed = start + (limit - start) * rng.uniform(0.3, 0.95)  # ordinary case: within 4 h
            fixed = fixed.replace(microsecond=0)
        if fixed - opened > dt.timedelta(hours=4):
            stats.fix_breaches += 1
        return responded, fixed, arrived, onsite


def _solution_steps(article: Article) -> list[str]:
    """Numbered steps of the article's 解决办法 section, as short plain sentences."""
    steps, inside = [], False
    for line in article.body.splitlines():
        if line.startswith("## "):
            inside = line[3:].strip() in ("解决办法", "解决方法")
            continue
        m = re.match(r"\s*\d+\.\s+(.+)", line) if inside else None
        if m:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
            text = text.replace("`", "").replace("**", "")
            text = re.sub(r"^(?:管理员|用户|普通用户)\s*[:：]\s*", "", text)
            text = re.split(r"[；。]", text)[0].rstrip("：:，,")
            if 4 <= len(text) <= 60:
                steps.append(text)
    return steps


def _tolerant_title(title: str) -> str:
    """How an engineer shortens a title: without its trailing bracket, or only the part
    before the quoted message or the first comma."""
    stripped = re.sub(r"\s*[（(][^（）()]*[）)]\s*$", "", title)
    if stripped != title and len(stripped) >= 8:  # shorter ones are not matched (see references)
        return stripped
    head = re.split(r"[“，,]", title)[0]
    return head if len(head) >= 8 else title


def _fmt(value: dt.datetime | None, style: int) -> str:
    if value is None:
        return ""
    if style == 1:  # Excel on Chinese Windows
        return f"{value.year}/{value.month}/{value.day} {value:%H:%M:%S}"
    if style == 2:
        return f"{value:%Y-%m-%d %H:%M:%S}"
    return f"{value:%Y-%m-%d %H:%M}"


def generate(project: Project, seed: int = 2026, count: int = 1200) -> tuple[list[list[str] | str], SampleStats]:
    """The data rows (a list of cells, or a raw line for the broken one) and their stats."""
    gen = _Generator(project, seed)
    rng = gen.rng
    stats = SampleStats(Path())
    tickets = []
    for _ in range(count):
        opened = gen.opened_time()
        tickets.append(opened)
    tickets.sort()
    ids, per_day = [], Counter()
    for opened in tickets:
        per_day[opened.date()] += 1
        ids.append(f"GD{opened:%Y%m%d}{per_day[opened.date()]:03d}")

    articles, weights = gen.validated, [gen.weights[a.id] for a in gen.validated]
    # Which tickets get dangling references (chosen up front so the counts are exact).
    special = rng.sample(range(count), min(count, 12))
    dangling_kind = dict(zip(special, ["unknown"] * 5 + ["archived"] * 4 + ["alias"] * 3))

    rows: list[list[str] | str] = []
    for index, (ticket_id, opened) in enumerate(zip(ids, tickets)):
        person = rng.choice(gen.people) if rng.random() < 0.97 else _Person(
            rng.choice(ROLE_REPORTERS), rng.choice(ORGS), gen._landline(), "")
        roll = rng.random()
        article: Article | None = None
        if index in dangling_kind or roll < 0.88 or not (gen.drafts or NO_ARTICLE_TOPICS):
            kind = "article"
            article = rng.choices(articles, weights)[0]
            symptoms = list(article.symptoms)
            chosen = rng.sample(symptoms, 2 if len(symptoms) > 1 and rng.random() < 0.3 else 1)
            module = article.module
        elif roll < 0.9 and gen.drafts:
            kind = "draft"
            draft = rng.choice(gen.drafts)
            chosen, module = [rng.choice(draft.symptoms)], draft.module
        else:
            kind = "topic"
            topic = rng.choice(NO_ARTICLE_TOPICS)
            chosen, module = [topic[0]], topic[2]
        responded, fixed, arrived, onsite = gen.times(opened, stats)
        description, pii = gen.describe(chosen, person, opened)
        stats.with_pii += pii
        form = None
        if fixed is None:
            resolution = rng.choice(("处理中，等待用户反馈。", ""))
        elif index in dangling_kind:
            what = dangling_kind[index]
            if what == "unknown":
                ref = rng.choice(("KB-0999", "KB-0999", "知识库999号", "KB-0123"))
            elif what == "archived":
                ref = gen.archived[0].id if gen.archived else "KB-0998"
            else:
                ref = rng.choice(("/kb/old-ie-print/", f"{gen.site_url}kb/oa-login-guide/"))
            resolution = f"按{ref}处理，{gen.action(article)}。"
            stats.expected_dangling[ticket_id] = ref
            if rng.random() < 0.5:
                resolution += f"另见{article.id}。"
                stats.expected_links[ticket_id] = article.id
            form = f"dangling_{what}"
        elif kind == "topic":
            resolution = topic[1] + "。"
        elif kind == "draft":
            resolution = rng.choice(DRAFT_RESOLUTIONS)
        else:
            resolution, form = gen.resolution(article, person, onsite)
            if form:
                stats.expected_links[ticket_id] = article.id
        if form and form.startswith("dangling_"):
            stats.dangling += 1
        elif form:
            stats.referencing += 1
        else:
            stats.not_referencing += 1
        if form:
            stats.forms[form] += 1
        style = 0 if rng.random() < 0.85 else rng.choice((1, 2))
        rows.append([
            ticket_id, _fmt(opened, style), _fmt(responded, style), _fmt(fixed, style), _fmt(arrived, style),
            "是" if onsite else "否", rng.choices(("紧急", "高", "中", "低"), (5, 20, 55, 20))[0],
            module if rng.random() < 0.95 else "", description, resolution,
            person.name, person.phone, person.org,
        ])
    stats.tickets = len(rows)

    # Bad rows, at fixed-by-seed places: each must be reported by the reader, not dropped.
    def bad_base(day_offset: int) -> list[str]:
        base = list(rng.choice(rows[:-1]))
        base[0] = f"GD{dt.date(2026, 5, 1) + dt.timedelta(days=day_offset):%Y%m%d}9{rng.randrange(100):02d}"
        return base
    bad: list[list[str] | str] = []
    row = bad_base(0); row[1] = "2026-13-45 25:00"; bad.append(row)                # no such date
    row = bad_base(1); row[1] = "昨天下午"; bad.append(row)                          # not a date
    row = bad_base(2); row[8] = ""; bad.append(row)                                  # empty description
    row = bad_base(3); row[8] = "   "; bad.append(row)                               # blank description
    row = bad_base(4); bad.append(row[:9])                                           # fields missing
    duplicate = list(rows[rng.randrange(len(rows) // 2)]); bad.append(duplicate)     # id seen before
    row = bad_base(5)
    row[8] = "附件上传到一半就断了，提示“上传失败（FILE-4130）”"
    bad.append(",".join(row[:8]) + ',"' + row[8] + "," + ",".join(row[9:]) + "\r\n")  # quote never closed
    for item in bad:
        # The duplicate goes after its original; the others anywhere.
        low = rows.index(duplicate) + 1 if item is duplicate else 0
        rows.insert(rng.randrange(max(low, 10), len(rows) + 1), item)
    stats.bad_rows = len(bad)
    stats.rows = len(rows)
    return rows, stats


def write_sample(path: str | Path, seed: int = 2026, count: int = 1200, project: Project | None = None,
                 encoding: str = "gbk") -> SampleStats:
    """Write the sample export to `path` (folders created); returns what went into it.
    Characters the encoding lacks become "?", as Excel does when saving as CSV."""
    project = project or Project.load(_REPO_ROOT if (_REPO_ROOT / "mkdocs.yml").is_file() else ".")
    rows, stats = generate(project, seed, count)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        if isinstance(row, str):
            buffer.write(row)
        else:
            writer.writerow(row)
    data = buffer.getvalue().encode(encoding, errors="replace")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stats.path, stats.bytes = path, len(data)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kb.tickets.sample", description="生成示例工单导出文件（GBK 编码 CSV）")
    default_out = _REPO_ROOT / DEFAULT_PATH if (_REPO_ROOT / "mkdocs.yml").is_file() else DEFAULT_PATH
    parser.add_argument("out", nargs="?", default=str(default_out), help=f"输出文件（默认 {DEFAULT_PATH}）")
    parser.add_argument("--count", type=int, default=1200, help="有效工单数（另加几行错误行），默认 1200")
    parser.add_argument("--seed", type=int, default=2026, help="随机种子，默认 2026")
    parser.add_argument("--project", default=None, help="知识库项目目录（默认本仓库的示例项目）")
    args = parser.parse_args(argv)
    if args.count < 20:
        parser.error("--count 至少为 20")
    try:
        project = Project.load(args.project) if args.project else None
        stats = write_sample(args.out, args.seed, args.count, project)
    except (ProjectError, ValueError) as err:
        print(err, file=sys.stderr)
        return 1
    print(f"已写入 {stats.path}：{stats.tickets} 条工单 + {stats.bad_rows} 行错误行，{stats.bytes:,} 字节（GBK）")
    print(f"引用文章 {stats.referencing} 条，未引用 {stats.not_referencing} 条，失效引用 {stats.dangling} 条；"
          f"现场 {stats.onsite} 次；超时：响应 {stats.response_breaches}，解决 {stats.fix_breaches}，到场 {stats.onsite_breaches}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
