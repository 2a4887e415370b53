"""Generated KB projects for the robustness tests: many articles, huge articles, articles
with inline base64 images. Deterministic (seeded), written as real files by `kb init`'s
template, so every test drives the real parser, MkDocs and whoosh."""

from __future__ import annotations

import base64
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import vendor_project

KB = [sys.executable, "-m", "kb"]

WORDS = ("公文 发送 失败 审批 流程 附件 上传 下载 邮件 退信 登录 密码 账号 锁定 证书 浏览器 缓存 清除 重启 服务器 "
         "数据库 连接 超时 打印 套红 模板 会议室 预约 日程 提醒 通讯录 同步 手机 客户端 闪退 版本 升级 补丁 "
         "管理员 权限 配置 端口 防火墙 网络 代理 页面 空白 提示 错误 内部 文件 损坏 预览 签章 归档 检查 设置").split()
CODES = ("HTTP 500", "ORA-12541", "0x80070005", "550 5.7.1", "DOC-5001", "AUTH-1003", "502")


def sentence(rng: random.Random, words: int = 12) -> str:
    text = "".join(rng.choice(WORDS) for _ in range(words))
    if rng.random() < 0.2:
        text += f"，提示 {rng.choice(CODES)}"
    return text + "。"


def paragraph(rng: random.Random, sentences: int = 5) -> str:
    return "".join(sentence(rng) for _ in range(sentences))


def article_text(article_id: str, rng: random.Random, *, module: str = "常见问题", title: str | None = None,
                 body_extra: str = "", paragraphs: int = 2, **fields) -> str:
    """A valid article in the project's format; `fields` override front matter lines."""
    meta = {
        "id": article_id,
        "title": title or f"{sentence(rng, 4)[:-1]}（{article_id}）",
        "module": module,
        "symptoms": f"[{sentence(rng, 5)[:-1]}, {sentence(rng, 4)[:-1]}]",
        "audience": "public",
        "status": "validated",
        "applies_to": "[V8.0, V8.1]",
        "updated": "2026-01-05",
        "review_by": "2026-07-05",
        "owner": "测试组",
        **fields,
    }
    front = "\n".join(f"{key}: {value}" for key, value in meta.items())
    body = "\n\n".join(paragraph(rng) for _ in range(paragraphs))
    return (f"---\n{front}\n---\n\n## 现象\n\n{body}\n\n## 适用范围/环境\n\nV8.0 与 V8.1。\n\n"
            f"## 原因\n\n{paragraph(rng)}\n\n## 解决办法\n\n{paragraph(rng)}\n{body_extra}\n")


def new_project(root: Path, count: int = 0, *, seed: int = 1, per_folder: int = 500) -> Path:
    """`kb init` plus `count` generated articles KB-0001..., in folders of `per_folder`."""
    vendor_project(root)
    rng = random.Random(seed)
    articles = root / "kb_articles"
    for n in range(1, count + 1):
        folder = articles / f"batch{(n - 1) // per_folder:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"KB-{n:05d}.md").write_text(article_text(f"KB-{n:05d}", rng), encoding="utf-8")
    return root


def huge_article(article_id: str, size: int, seed: int = 2) -> str:
    """An article of about `size` bytes of ordinary content: paragraphs, lists, tables,
    code blocks and links to itself, repeated."""
    rng = random.Random(seed)
    chunks, total = [], 0
    n = 0
    while total < size:
        n += 1
        chunk = (f"### 步骤 {n}\n\n{paragraph(rng, 8)}\n\n- {sentence(rng)}\n- {sentence(rng)}\n\n"
                 f"| 项目 | 值 |\n| --- | --- |\n| 端口 | {rng.randint(1, 65535)} |\n| 提示 | {rng.choice(CODES)} |\n\n"
                 f"```\nselect * from t where id = {n};\n```\n\n见 [本文]({article_id}#原因)。\n")
        chunks.append(chunk)
        total += len(chunk.encode())
    return article_text(article_id, rng, title="超大文章：公文发送失败的全部排查步骤", body_extra="\n".join(chunks))


def image_article(article_id: str, images: int, image_bytes: int, seed: int = 3) -> str:
    """An article whose body holds `images` inline base64 PNG-ish data: URIs, each of
    `image_bytes` random bytes (as pasted from a screenshot tool)."""
    rng = random.Random(seed)
    pictures = []
    for i in range(images):
        data = base64.b64encode(b"\x89PNG\r\n\x1a\n" + rng.randbytes(image_bytes)).decode()
        pictures.append(f"截图 {i + 1}：\n\n![截图{i + 1}](data:image/png;base64,{data})\n")
    return article_text(article_id, rng, title="带截图的文章：附件预览空白", body_extra="\n".join(pictures))


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float   # peak resident memory of the child, from getrusage(RUSAGE_CHILDREN)


def measure(args: list[str], cwd: Path | None = None, timeout: float = 1800) -> Run:
    """Run `python -m kb ARGS` in a fresh grandchild process and report its peak memory.

    RUSAGE_CHILDREN is the maximum over every waited-for child of the process asking, so
    a small measuring process runs the command: its own figure then belongs to this
    command alone, not to an earlier, bigger child of the test process."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "s = time.perf_counter() - t\n"
        "sys.stdout.buffer.write(p.stdout); sys.stderr.buffer.write(p.stderr)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stderr.write(f'\\n@@PEAK {peak} {s}\\n')\n"
        "sys.exit(p.returncode)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe, *KB, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
    stderr, _, tail = proc.stderr.rpartition("\n@@PEAK ")
    peak_kb, seconds = tail.split()
    return Run(proc.returncode, proc.stdout, stderr, round(float(seconds), 2), round(int(peak_kb) / 1024, 1))


def wait_for(predicate, timeout: float = 120, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(interval)
    raise TimeoutError("condition not met in time")
