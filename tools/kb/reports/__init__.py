"""Reports for the service centre, computed from the project's own files.

- `sla`: 月度服务报告 — the service commitments (docs/_data/commitments.yml) measured
  against helpdesk exports: compliance per month, module and priority, response, fix and
  on-site times, and every breach.
- `review`: 文章审核清单 — articles past their review date, forgotten drafts, articles
  no ticket cites any more, and archived articles still in use.
- `charts`: small hand-written SVG bar charts, drawn when the report is made, so the
  pages need no script and no other host.
- `text`: Markdown tables (escaped) and terminal tables aligned for Chinese.

Each report has `to_dict()` (for `--json`), `table_lines()` (a terminal table, in
Chinese) and `markdown_page()` (an internal page of the site).
"""
