"""PDF copies of the printable training guides, printed by Debian's chromium (the browser
the tests already use) from the built print pages: what users get is what they would get
from the browser's own print dialog, with the site's print stylesheet."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kb.site.printing import Guide

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer"]


class PdfFailed(Exception):
    pass


def find_chromium() -> str:
    for name in CHROMIUM:
        if path := shutil.which(name):
            return path
    raise PdfFailed("找不到 chromium，无法生成 PDF（Debian：apt-get install chromium；或去掉 --pdf，用浏览器打印页面）")


def print_guides(site_dir: Path, guides: list[Guide], directory_urls: bool) -> list[Path]:
    """Write `<role folder>/<role>-guide.pdf` next to each guide's print page."""
    browser = find_chromium()
    written = []
    for guide in guides:
        page = site_dir / guide.folder / ("print/index.html" if directory_urls else "print.html")
        out = site_dir / guide.folder / guide.pdf_name
        profile = site_dir / ".chromium-profile"
        try:
            subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}", page.as_uri()],
                           check=True, capture_output=True, timeout=120)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            raise PdfFailed(f"{page}: chromium 未能生成 PDF（{err}）") from None
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        if not out.is_file():
            raise PdfFailed(f"{page}: chromium 没有写出 {out.name}")
        written.append(out)
    return written
