"""The atlas site: atlas.json / atlas.js, the viewer files, and the page in a
real headless Chromium (Playwright driving the system's browser; it never
downloads one)."""

import json
import os

import pytest
from PIL import Image

from kerasdream.cli.commands import main

from conftest import image_widths, static_server, tiny_cnn, watched_page

PHOTOS = ("astronaut", "coffee", "chelsea", "camera", "coins")


def write_photos(folder):
    """A few skimage.data photos, small, in nested folders, plus one broken file."""
    from skimage import data

    for i, name in enumerate(PHOTOS):
        sub = folder / ("cats" if name == "chelsea" else "other") / ("deep" if i % 2 else "")
        sub.mkdir(parents=True, exist_ok=True)
        picture = Image.fromarray(getattr(data, name)())
        picture.thumbnail((64, 64))
        picture.save(sub / f"{name}.{'png' if i % 2 else 'jpg'}")
    (folder / "other" / "broken.png").write_bytes(b"no png")
    return folder


def atlas(tmp, model, out, *extra):
    return main(["atlas", "--model", model, "--size", "16", "--steps", "2", "--out", str(out),
                 "--models-dir", str(tmp / "models"), "--quiet", *extra])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """An atlas of `tiny_cnn` (relu1: 8 filters, relu2: 6) with examples of 5
    photos, built in two runs: relu2 first, then relu1 added to the site."""
    tmp = tmp_path_factory.mktemp("site")
    model = str(tmp / "tiny.keras")
    tiny_cnn().save(model)
    photos = write_photos(tmp / "photos")
    out = tmp / "atlas"
    assert atlas(tmp, model, out, "--layer", "relu2", "--examples", str(photos)) == 0
    assert atlas(tmp, model, out, "--layer", "relu1", "--examples", str(photos)) == 0
    return out


@pytest.mark.slow
def test_manifest_lists_every_layer_filter_dream_and_example(site):
    manifest = json.loads((site / "atlas.json").read_text())
    script = (site / "atlas.js").read_text()
    assert json.loads(script[script.index("{"):script.rindex(";")]) == manifest
    for name in ("index.html", "dom.js", "viewer.js", "viewer.css"):
        assert (site / name).is_file()

    # Both runs' layers, in the network's order.
    assert [layer["name"] for layer in manifest["layers"]] == ["relu1", "relu2"]
    for layer, channels in zip(manifest["layers"], (8, 6)):
        assert layer["channels"] == channels
        assert layer["examples"]["images"] == 5 and layer["examples"]["skipped"] == 1
        assert [f["filter"] for f in layer["filters"]] == list(range(channels))
        for entry in layer["filters"]:
            assert entry["page"] == f"index.html#/{layer['folder']}/{entry['filter']}"
            assert entry["metrics"]["rank"] >= 1 and entry["metrics"]["steps"] == 2
            # The path check: relu1 reads below relu2; nothing lies below relu1.
            checked = layer["name"] == "relu2"
            assert entry["metrics"]["path_layer"] == ("relu1" if checked else None)
            assert isinstance(entry["metrics"]["off_path"], bool) == checked
            assert len(entry["examples"]) == 5  # top 9 of 5 readable photos
            activations = [e["activation"] for e in entry["examples"]]
            assert activations == sorted(activations, reverse=True)
            for path in [entry["dream"]] + [p for e in entry["examples"]
                                            for p in (e["image"], e["heat"])]:
                assert not os.path.isabs(path) and (site / path).is_file(), path


@pytest.mark.slow
def test_rerun_does_no_work(site, tmp_path, capsys):
    model = str(site.parent / "tiny.keras")
    manifest = (site / "atlas.json").read_text()
    stamp = os.stat(site / "relu1" / "examples.json").st_mtime_ns
    capsys.readouterr()
    assert atlas(site.parent, model, site, "--layer", "relu1",
                 "--examples", str(site.parent / "photos")) == 0
    out = capsys.readouterr().out
    assert "nothing to train" in out and "up to date" in out
    assert os.stat(site / "relu1" / "examples.json").st_mtime_ns == stamp
    assert (site / "atlas.json").read_text() == manifest


@pytest.mark.parametrize("command", ["atlas", "filters", "gallery"])
def test_an_empty_examples_folder_fails_before_any_dream(command, tiny_cnn_path, tmp_path,
                                                         capsys):
    (tmp_path / "empty").mkdir()
    extra = ["--layer", "relu1"] if command == "filters" else []
    code = main([command, "--model", tiny_cnn_path, "--out", str(tmp_path / "out"), *extra,
                 "--examples", str(tmp_path / "empty"), "--quiet"])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert "no images" in error and "Received: examples=" in error
    assert not (tmp_path / "out").exists()


def _wait_for_route(page, route: str) -> None:
    """The page's address ends with `route` (navigation is asynchronous: wait for it)."""
    page.wait_for_function("route => location.hash === route", arg=route)
    assert page.url.endswith(route)


@pytest.mark.slow
def test_the_page_in_headless_chromium(site, browser):
    from playwright.sync_api import expect

    page, problems = watched_page(browser)
    page.goto((site / "index.html").as_uri())

    assert page.locator("#layers a").all_inner_texts() == ["relu1", "relu2"]
    page.click("#layers a >> text=relu2")
    expect(page.locator(".tile")).to_have_count(6)
    page.click(".tile >> nth=3")
    page.wait_for_selector("#dream")
    _wait_for_route(page, "#/relu2/3")
    expect(page.locator("h1")).to_have_text("relu2 · filter 3")
    assert page.locator("#dream").get_attribute("src") == "relu2/filter_3.png"
    expect(page.locator(".example img.photo")).to_have_count(5)
    expect(page.locator(".example img.heat")).to_have_count(5)
    assert "natural ratio" in page.locator("table.metrics").inner_text()
    verdict = page.locator("#path-check").inner_text()
    assert "the natural path" in verdict and "relu1" in verdict

    page.click("#next")
    _wait_for_route(page, "#/relu2/4")
    page.keyboard.press("ArrowLeft")
    _wait_for_route(page, "#/relu2/3")
    page.fill("#search-number", "5")
    page.click("#search button")
    _wait_for_route(page, "#/relu2/5")
    page.fill("#search-number", "99")
    page.click("#search button")
    expect(page.locator("#search-message")).to_have_text("no filter 99 in relu2")

    # Every picture of every view resolves (lazy ones once scrolled to).
    for route in ("#/relu1", "#/relu2", "#/relu1/0", "#/relu2/5"):
        page.goto((site / "index.html").as_uri() + route)
        sizes = image_widths(page)
        assert sizes and all(width > 0 for _, width in sizes), (route, sizes)
    lazy = page.evaluate("[...document.images].map((i) => i.loading)")
    assert "lazy" in lazy

    # The same files from a static web server: no request fails or 404s.
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    with static_server(site) as address:
        page.goto(f"{address}/index.html#/relu1/7")
        page.wait_for_selector("#dream")
        expect(page.locator(".example img.photo")).to_have_count(5)
        assert page.evaluate("""async () => {
            await Promise.all([...document.images].map((i) => i.decode().catch(() => {})));
            return [...document.images].every((i) => i.naturalWidth > 0);
        }""")
    assert problems == []


def test_a_metrics_json_with_wrong_keys_is_shown_as_what_it_holds(tmp_path):
    from kerasdream.site.build import layer_entry

    folder = tmp_path / "relu1"
    folder.mkdir()
    filters = {"x": 1, "2": "bad", "-1": {}, "3": {"rank": 1}}
    (folder / "metrics.json").write_text(json.dumps(
        {"layer": 7, "channels": "six", "filters": filters}))
    entry = layer_entry(str(tmp_path), "relu1")
    assert entry["name"] == "relu1" and entry["channels"] is None
    assert [item["filter"] for item in entry["filters"]] == [3]
    assert entry["filters"][0]["metrics"]["rank"] == 1
