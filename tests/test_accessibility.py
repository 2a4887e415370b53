"""Accessibility of the public site, measured with axe-core in a real browser (Debian's
chromium via Playwright): each page below, served over http, at a desktop and a phone
viewport, must have no axe violation (WCAG 2 A/AA rules and axe's best practices).

axe-core comes from npm: `make test` installs it into tests/.npm/ (git-ignored). Without
it the tests are skipped, except under CI=true, where they fail."""

import os

import pytest

from conftest import ROOT

AXE = ROOT / "tests" / ".npm" / "node_modules" / "axe-core" / "axe.min.js"

# One line per page: the path on the public site.
PAGES = [
    "/",                                        # 首页
    "/kb/KB-0001/",                             # an article
    "/commitments/",                            # 服务承诺
    "/training/admin/01-system-init-org/",      # a training lesson
    "/search/?q=公文发送失败",                   # the search page with results
    "/search/?q=ORA-12514",                     # the search page with nothing found
]
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 375, "height": 740},
}


@pytest.fixture(scope="module")
def axe_script():
    """The path of axe.min.js; asked for first, so a missing axe skips before any build."""
    if not AXE.is_file():
        reason = f"axe-core is not installed ({AXE.relative_to(ROOT)}); `make test` installs it from npm"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return AXE


def describe(violations):
    """One block per violation: rule id, impact, help, and each node's selector and why."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}  {violation['helpUrl']}")
        for node in violation["nodes"]:
            # A target is a list of selectors, one per frame / shadow root crossed.
            target = " >>> ".join(t if isinstance(t, str) else " ".join(t) for t in node["target"])
            lines.append(f"    {target}")
            lines.extend(f"        {check['message']}" for kind in ("any", "all", "none") for check in node[kind])
    return "\n".join(lines)


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("path", PAGES)
def test_no_axe_violations(axe_script, new_page, served_site, path, viewport):
    page = new_page(VIEWPORTS[viewport])
    response = page.goto(served_site + path)
    assert response.status == 200, f"{path}: HTTP {response.status}"
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(axe_script))
    results = page.evaluate("axe.run(document)")
    violations = results["violations"]
    count = sum(len(v["nodes"]) for v in violations)
    assert not violations, (f"{path} ({viewport}, axe-core {results['testEngine']['version']}): "
                            f"{len(violations)} rules violated on {count} elements\n{describe(violations)}")
