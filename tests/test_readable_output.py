"""Built sites and indexes are readable by other users (a web server running as
www-data, a colleague's `kb search`), whatever the umask of the user who built them."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import copy_sample
from kb.build import build_site
from kb.project import Project
from kb.search.index import update_index

NOBODY = 65534
# Every folder listed and every file read, with the system's tools: the venv's python
# under /root is not reachable for another user.
READ_ALL = 'find "$@" -type f | wc -l && find "$@" -type f -exec cat {} + > /dev/null'


@pytest.fixture
def public_folder():
    """A folder other users can reach (pytest's own tmp folders are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="kb-readable-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another uid needs root")
def test_site_and_index_are_readable_by_another_user_under_umask_077(public_folder):
    root = copy_sample(public_folder / "p")
    for path in [root, *root.rglob("*")]:  # the sources as a user would have them, not the outputs
        path.chmod(0o755 if path.is_dir() else 0o644)
    old = os.umask(0o077)
    try:
        site = build_site(Project.load(root))
        update_index(Project.load(root), "public")
        # An incremental update writes new segments in place, with the umask's modes.
        article = next(root.joinpath("kb_articles").rglob("KB-0001-*.md"))
        article.write_text(article.read_text(encoding="utf-8") + "\n补充说明。\n", encoding="utf-8")
        assert update_index(Project.load(root), "public").updated == ["KB-0001"]
    finally:
        os.umask(old)
    index = root / "search_index" / "public"
    result = subprocess.run(["sh", "-c", READ_ALL, "sh", str(site), str(index)], user=NOBODY, group=NOBODY,
                            capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 100
    modes = {oct(p.stat().st_mode & 0o777) for p in [site, index, *site.rglob("*"), *index.rglob("*")]}
    assert modes == {"0o755", "0o644"}
