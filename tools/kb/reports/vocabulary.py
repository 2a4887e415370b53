"""来电用语建议: the everyday words callers used for what the articles name otherwise,
learned (kb.search.vocabulary) from the symptoms linked tickets reported (`kb link`) and
from the searches on the site that led to an article (`kb serve`), for a curator to take
into the synonym groups (`kb synonyms add`) or turn down (`kb synonyms reject`).

    result = vocabulary_suggestions(project)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kb.project import Project
from kb.search.vocabulary import Evidence, Suggestion, suggest_synonyms
from kb.serve.events import EventStore
from kb.tickets.linking import article_symptoms


@dataclass
class VocabularyReport:
    suggestions: list[Suggestion]
    evidence: int          # caller texts read
    sources: dict[str, int]

    def to_dict(self) -> dict:
        return {"evidence": self.evidence, "sources": self.sources,
                "suggestions": [s.to_dict() for s in self.suggestions]}

    def table_lines(self) -> list[str]:
        read = "、".join(f"{name} {count} 条" for name, count in self.sources.items()) or "没有"
        if not self.suggestions:
            return [f"读取来电者的说法：{read}；暂无可建议的同义词（需要同一说法出现在至少两篇文章的工单或搜索里）。"]
        lines = [f"读取来电者的说法：{read}；建议 {len(self.suggestions)} 组同义词（口语说法 → 文章用词）："]
        for s in self.suggestions:
            lines.append(f"  {s.word} → {s.term}    {s.articles} 篇文章、{s.count} 次（{'、'.join(s.sources)}），"
                         f"其中 {s.share:.0%} 的文章标题含“{s.term}”；例：{'；'.join(s.examples[:2])}")
        lines.append("采纳：kb synonyms add 口语说法 文章用词；不采纳：kb synonyms reject 口语说法 文章用词")
        return lines


def vocabulary_suggestions(project: Project) -> VocabularyReport:
    """The suggestions from every source there is, over the internal audience's articles
    (tickets cite internal articles too)."""
    evidence = [Evidence(symptom.phrase, article_id, symptom.count, "工单")
                for article_id, symptoms in article_symptoms(project, "internal").items() for symptom in symptoms]
    if EventStore.exists(project.events_path):
        with EventStore(project.events_path, project.display(project.events_path), create=False) as store:
            evidence += [Evidence(query, article_id, count, "搜索")
                         for query, article_id, count in store.opened_from_searches()]
    sources = dict(Counter(item.source for item in evidence))
    suggestions = suggest_synonyms(evidence, project.articles_for("internal"), project.synonyms,
                                   project.synonyms.rejected)
    return VocabularyReport(suggestions, len(evidence), sources)
