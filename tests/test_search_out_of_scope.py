"""kb.search.out_of_scope: the list of questions the knowledge base does not answer, and
kb.search.fusion.is_in_scope, which weighs a query's nearest listed question against its
nearest article."""

from click.testing import CliRunner

from kb.cli import cli
from kb.project import Project
from kb.search.fusion import CLAUSES_MATCHED, OUT_OF_SCOPE_MARGIN, is_in_scope
from kb.search.out_of_scope import load_out_of_scope


def test_the_list_is_read_in_order_with_whitespace_tidied(tmp_path):
    path = tmp_path / "out_of_scope.yml"
    path.write_text("# 注释\nquestions:\n  - 食堂几点开饭\n  - \"工资条  上的个税 \"\n", encoding="utf-8")
    assert load_out_of_scope(path, "x.yml") == (("食堂几点开饭", "工资条 上的个税"), [])
    assert load_out_of_scope(tmp_path / "missing.yml", "x.yml") == ((), [])


def test_bad_entries_are_reported_by_line_and_the_rest_kept(tmp_path):
    path = tmp_path / "out_of_scope.yml"
    path.write_text("questions:\n  - 食堂几点开饭\n  - [不是, 一句]\n  - \"  \"\n  - 食堂几点开饭\n  - 快递在哪领\n", encoding="utf-8")
    questions, problems = load_out_of_scope(path, "docs/_data/out_of_scope.yml")
    assert questions == ("食堂几点开饭", "快递在哪领")
    assert [(p.line, p.message) for p in problems] == [
        (3, "第 2 项不是一句问题"), (4, "第 3 项不是一句问题"), (5, "问题“食堂几点开饭”与第 2 行重复")]
    path.write_text("- 食堂几点开饭\n", encoding="utf-8")
    assert load_out_of_scope(path, "x.yml")[1][0].message == "缺少 questions 列表"
    path.write_text("questions:\n  # 都删了\n", encoding="utf-8")
    assert load_out_of_scope(path, "x.yml") == ((), [])
    path.write_text("questions: [食堂\n", encoding="utf-8")
    assert "YAML 语法错误" in load_out_of_scope(path, "x.yml")[1][0].message


def test_kb_check_reports_a_broken_list(sample_copy):
    listed = Project.load(sample_copy).out_of_scope_path
    listed.write_text(listed.read_text(encoding="utf-8") + "  - 123\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--project", str(sample_copy)])
    line = len(listed.read_text(encoding="utf-8").splitlines())
    assert result.exit_code == 1 and f"docs/_data/out_of_scope.yml:{line}: 第" in result.output


def test_a_query_nearer_a_listed_question_than_any_article_is_out_of_scope():
    best_article = 0.88
    assert is_in_scope(best_article, 0.0, best_article + OUT_OF_SCOPE_MARGIN)
    assert not is_in_scope(best_article, 0.0, best_article + OUT_OF_SCOPE_MARGIN + 0.001)
    # An article holding most of the caller's words keeps the question in scope.
    assert is_in_scope(best_article, CLAUSES_MATCHED, 0.99)
