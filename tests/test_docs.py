"""The documentation site: its pages and links are consistent, it builds with
`mkdocs build --strict`, and its pages load in headless Chromium."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from conftest import image_widths, static_server, watched_page

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
INSTALL_DOCS = "pip install -e '.[docs]'"
# The pages the browser opens: the home page, DreamModel's API page, a guide with a picture.
PAGES = ("", "api/model/", "guides/watch-it-learn/")


def missing(reason: str, variable: str) -> None:
    """Fail where .ci/run requires the tool (it sets `variable`), else skip."""
    (pytest.fail if os.environ.get(variable) else pytest.skip)(reason)


def markdown_pages() -> list[str]:
    pages = []
    for folder, _, names in os.walk(DOCS):
        pages += [os.path.join(folder, name) for name in names if name.endswith(".md")]
    return sorted(pages)


def nav_entries() -> list[str]:
    with open(os.path.join(ROOT, "mkdocs.yml"), encoding="utf-8") as file:
        return re.findall(r"^\s+- (?:[^:\n]+: )?(\S+\.(?:md|ipynb))\s*$", file.read(), flags=re.M)


def test_every_nav_entry_exists_and_every_page_is_in_the_nav():
    entries = nav_entries()
    for entry in entries:
        if entry.startswith("notebooks/"):  # pages from the repository's notebooks/ (docs/hooks.py)
            assert os.path.isfile(os.path.join(ROOT, entry)), entry
        elif entry != "changelog.md":  # CHANGELOG.md, added by docs/hooks.py
            assert os.path.isfile(os.path.join(DOCS, entry)), entry
    in_docs = {os.path.relpath(page, DOCS) for page in markdown_pages()}
    assert in_docs <= set(entries), f"pages missing from the nav: {sorted(in_docs - set(entries))}"
    notebooks = sorted(f"notebooks/{name}" for name in os.listdir(os.path.join(ROOT, "notebooks"))
                       if name.endswith(".ipynb"))
    assert notebooks == sorted(e for e in entries if e.startswith("notebooks/"))


def test_the_api_pages_cover_every_public_name():
    """Every name of `kerasdream.__all__` is documented on an API page, by
    its own `:::` block or as a member of one."""
    import kerasdream

    text = ""
    for page in markdown_pages():
        if os.sep + "api" + os.sep in page:
            with open(page, encoding="utf-8") as file:
                text += file.read()
    documented = set(re.findall(r"^::: [\w.]*?(\w+)\s*$", text, flags=re.M))
    documented |= set(re.findall(r"^\s+- (\w+)\s*$", text, flags=re.M))
    assert set(kerasdream.__all__) <= documented, \
        sorted(set(kerasdream.__all__) - documented)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built by `mkdocs build --strict` (a warning fails it: a broken
    link or anchor, a missing reference, a docstring griffe cannot read)."""
    if importlib.util.find_spec("mkdocs") is None:
        missing(f"MkDocs is not installed. Install the docs extra: {INSTALL_DOCS}",
                "KERASDREAM_REQUIRE_DOCS")
    out = tmp_path_factory.mktemp("docs") / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
         "--config-file", os.path.join(ROOT, "mkdocs.yml"), "--site-dir", str(out)],
        cwd=out.parent, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.mark.slow
def test_the_site_builds_strictly_with_every_page(site):
    for page in PAGES:
        assert (site / page / "index.html").is_file(), page
    for name in os.listdir(os.path.join(ROOT, "notebooks")):
        if name.endswith(".ipynb"):
            assert (site / "notebooks" / name[:-len(".ipynb")] / "index.html").is_file(), name
    api = (site / "api" / "model" / "index.html").read_text(encoding="utf-8")
    for anchor in ("kerasdream.model.DreamModel", "kerasdream.model.DreamModel.fit",
                   "kerasdream.model.DreamModel.render", "kerasdream.saving.save_dream"):
        assert f'id="{anchor}"' in api, anchor


@pytest.mark.slow
def test_the_site_in_headless_chromium(site, browser):
    page, problems = watched_page(browser, 1400, 900, http_errors=True)
    with static_server(site) as address:
        base = address + "/"
        shown = {}
        for path in PAGES:
            page.goto(base + path, wait_until="networkidle")
            shown[path] = image_widths(page)
            if path == "":
                assert page.title().startswith("kerasdream")
                screenshot = os.environ.get("KERASDREAM_DOCS_SCREENSHOT")
                if screenshot:
                    page.screenshot(path=screenshot)
            if path == "api/model/":
                assert page.locator('[id="kerasdream.model.DreamModel"]').count() == 1
                assert page.locator('[id="kerasdream.model.DreamModel.fit"]').count() == 1
        # The site's search answers from its index.
        page.goto(base, wait_until="networkidle")
        page.keyboard.press("/")
        page.keyboard.type("DreamCallback")
        page.wait_for_selector(".md-search-result__item", timeout=15000)

    assert problems == []
    assert shown[""] and shown["guides/watch-it-learn/"], shown
    broken = {path: [src for src, width in images if width == 0] for path, images in shown.items()}
    assert broken == {path: [] for path in PAGES}
