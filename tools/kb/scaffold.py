"""`kb init`: a new, empty KB project from the files in scaffold/, carrying the new
vendor's own name, hotlines and site address, and 〔待填写：…〕 (kb.commitments.UNFILLED)
wherever they were not given and for the promises only the vendor can make."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from kb.commitments import Hotline, unfilled

TEMPLATE = Path(__file__).parent / "scaffold"
# Stored without the leading dot so packaging tools do not skip it.
RENAMES = {"gitignore": ".gitignore"}
# Template files with ${...} fields (string.Template); the others are copied as they are.
TEMPLATED = {"mkdocs.yml", "docs/index.md", "docs/_data/commitments.yml"}
HOTLINE_FORMAT = "“号码”“名称=号码”或“名称=号码=受理时段”，例如 服务热线=400-123-4567=工作日 9:00–17:00"
PHONE_NUMBER = re.compile(r"\+?[0-9 ()（）-]+")


class InitRefused(Exception):
    pass


@dataclass(frozen=True)
class Vendor:
    """What the new project says about its vendor; anything empty is left 〔待填写〕.
    A hotline without a name is called 服务热线; one without `when` leaves that to fill in."""

    name: str = ""
    hotlines: tuple[Hotline, ...] = ()
    site_url: str = ""


def parse_hotline(text: str) -> Hotline:
    """`号码`, `名称=号码` or `名称=号码=受理时段` (the time may hold anything, even '=')."""
    parts = [part.strip() for part in text.split("=", 2)]
    if len(parts) == 1:
        parts.insert(0, "")
    name, number, when = [*parts, ""][:3]
    if not number:
        raise ValueError(f"缺少号码：写成{HOTLINE_FORMAT}")
    digits = sum(ch.isascii() and ch.isdigit() for ch in number)
    if not PHONE_NUMBER.fullmatch(number) or digits < 3:
        raise ValueError(f"“{number}”不是电话号码：号码只能包含数字、空格、-、+ 和括号；写成{HOTLINE_FORMAT}")
    return Hotline(name, number, when)


def parse_site_url(text: str) -> str:
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(ch.isspace() for ch in url):
        raise ValueError(f"“{url}”不是网址：写成 http:// 或 https:// 开头的完整网址，例如 https://kb.example.org/")
    return url.rstrip("/") + "/"


def check_target(target: Path) -> None:
    """Refuse a target that exists and is not an empty folder (before asking anything)."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InitRefused(f"{target}: 目录已存在且不为空（kb init 不会覆盖已有文件，请指定新目录）")


def init_project(target: Path, vendor: Vendor = Vendor()) -> list[Path]:
    """Copy the template into `target` (which must be missing or empty); returns the files made."""
    target = Path(target)
    check_target(target)
    fields = _template_fields(vendor)
    made = []
    for source in sorted(TEMPLATE.rglob("*")):
        rel = source.relative_to(TEMPLATE)
        dest = target / rel.parent / RENAMES.get(rel.name, rel.name)
        if source.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel.as_posix() in TEMPLATED:
            dest.write_text(Template(source.read_text(encoding="utf-8")).substitute(fields), encoding="utf-8")
        else:
            shutil.copyfile(source, dest)
        made.append(dest)
    for folder in ("kb_articles", "search_index", "docs/_data"):
        (target / folder).mkdir(parents=True, exist_ok=True)
    return made


def _template_fields(vendor: Vendor) -> dict[str, str]:
    name = vendor.name.strip()
    hotlines = vendor.hotlines or (Hotline("", "", ""),)
    lines = []
    for n, hotline in enumerate(hotlines, 1):
        called = hotline.name or ("服务热线" if n == 1 else f"服务热线 {n}")
        lines += [f"  - name: {_yaml(called)}",
                  f"    number: {_yaml(hotline.number or unfilled(f'{called}号码'))}",
                  f"    when: {_yaml(hotline.when or unfilled(f'{called}受理时段'))}"]
    return {
        "site_name": _yaml(f"{name or unfilled('组织名称')} 自助服务中心"),
        "site_url": _yaml(vendor.site_url or unfilled("站点网址")),
        # The home page heading needs no name to be right; mkdocs.yml holds the one to fill in.
        "home_title": f"{name} 自助服务中心" if name else "自助服务中心",
        "service_centre": _yaml(f"{name} 服务中心" if name else "服务中心"),
        "hotlines": "\n".join(lines),
    }


def _yaml(text: str) -> str:
    """A YAML scalar for any text: a JSON string is a valid YAML double-quoted one."""
    return json.dumps(text, ensure_ascii=False)
