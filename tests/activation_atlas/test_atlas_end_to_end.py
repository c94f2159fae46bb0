"""An activation atlas of `tiny_cnn` over a folder of generated PNGs, end to
end through the command line, into a filter atlas' site; its rerun; and both
pages (the activation atlas, a filter page with its circuits) in headless
Chromium."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from kerasdream.activation_atlas import activation_atlas
from kerasdream.cli.commands import main
from kerasdream.errors import DreamError
from kerasdream.runs.runlock import RunLock

from conftest import image_widths, tiny_cnn, watched_page

# t-SNE here (UMAP's first fit compiles for ~10 s); test_atlas_layout.py holds
# the UMAP layout itself to its seed and its clusters.
ARGS = ["--layer", "relu2", "--grid", "4", "--min-count", "2", "--per-image", "8",
        "--size", "16", "--steps", "4", "--batch", "4", "--method", "tsne"]


def write_photos(folder, count=8):
    """Stripes and blobs in a few colours, 24 px, one of them unreadable."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        image = np.zeros((24, 24, 3), "uint8") + rng.integers(0, 255, 3).astype("uint8")
        if i % 2:
            image[:, ::4] = rng.integers(0, 255, 3)
        else:
            image[6:18, 6:18] = rng.integers(0, 255, 3)
        Image.fromarray(image).save(folder / f"photo_{i}.png")
    (folder / "broken.png").write_bytes(b"no png")
    return folder


def run(model, photos, out, *extra):
    return main(["activation-atlas", "--model", model, "--examples", str(photos), "--out",
                 str(out), *ARGS, *extra])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("activation_atlas")
    model = str(tmp / "tiny.keras")
    tiny_cnn().save(model)
    photos = write_photos(tmp / "photos")
    out = tmp / "site"
    assert main(["atlas", "--model", model, "--size", "16", "--steps", "2", "--out", str(out),
                 "--models-dir", str(tmp / "models"), "--quiet"]) == 0
    assert run(model, photos, out) == 0
    return tmp, model, photos, out


@pytest.mark.slow
def test_files_manifest_and_the_site_link(built):
    tmp, model, photos, out = built
    folder = out / "activation_atlas" / "relu2"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["images"] == 8 and manifest["unreadable"] == ["broken.png"]
    assert manifest["points"] == 64 and manifest["layer_grid"] == [8, 8]  # 16 px / stride 2
    assert manifest["classifier"] is False and manifest["grid"] == [4, 4]
    cells = manifest["cells"]
    assert cells and all(cell["count"] >= 2 for cell in cells)
    assert sum(cell["count"] for cell in cells) <= 64
    assert len({(c["row"], c["column"]) for c in cells}) == len(cells)
    for cell in cells:
        assert cell["classes"] is None and len(cell["top_filters"]) == 5
        assert Image.open(out / cell["dream"]).size == (16, 16)
        assert 1 <= len(cell["photos"]) <= 8
        for photo in cell["photos"]:
            assert (out / photo["photo"]).is_file() and photo["source"].startswith("photo_")
            top, left, height, width = photo["box"]
            assert height == width == 0.125 and 0 <= top <= 0.875 and 0 <= left <= 0.875
    picture = np.asarray(Image.open(folder / "atlas.png"))
    assert picture.shape == (64, 64, 3)
    cell = cells[0]
    tile = picture[16 * cell["row"]:16 * cell["row"] + 16,
                   16 * cell["column"]:16 * cell["column"] + 16]
    np.testing.assert_array_equal(tile, np.asarray(Image.open(out / cell["dream"]))[..., :3])
    for name in ("activation_atlas.html", "dom.js", "activation_atlas.js", "activation_atlas_data.js"):
        assert (out / name).is_file()
    site = json.loads((out / "atlas.json").read_text())
    assert site["activation_atlas"] == "activation_atlas.html"
    relu2 = next(layer for layer in site["layers"] if layer["name"] == "relu2")
    inputs = relu2["filters"][0]["circuits"]["inputs"]
    assert len(inputs) == 6 and {link["layer"] for link in inputs} == {"relu1"}
    weights = [abs(link["weight"]) for link in inputs]
    assert weights == sorted(weights, reverse=True)


@pytest.mark.slow
def test_rerun_skips_every_finished_cell_and_new_settings_redo_them(built, capsys):
    tmp, model, photos, out = built
    folder = out / "activation_atlas" / "relu2"
    stamps = {p.name: os.stat(p).st_mtime_ns for p in (folder / "cells").iterdir()}
    capsys.readouterr()
    assert run(model, photos, out) == 0
    printed = capsys.readouterr().out
    assert "Reusing the 64 sampled vectors" in printed and "nothing to dream" in printed
    assert {p.name: os.stat(p).st_mtime_ns for p in (folder / "cells").iterdir()} == stamps

    # One cell lost (a killed run) is the only one dreamed again.
    manifest = json.loads((folder / "manifest.json").read_text())
    lost = out / manifest["cells"][0]["dream"]
    lost.unlink()
    assert run(model, photos, out) == 0
    count = len(manifest["cells"])
    assert f"{count - 1} of {count} cells already dreamed; 1 to dream." in capsys.readouterr().out
    assert lost.is_file()

    # Other dream settings redo every cell (a new record each).
    assert run(model, photos, out, "--steps", "5") == 0
    assert f"0 of {count} cells already dreamed" in capsys.readouterr().out
    record = json.loads((folder / "cells" / lost.name.replace(".png", ".json")).read_text())
    assert record["steps"] == 5 and record["cossim_pow"] == 2.0


@pytest.mark.slow
def test_a_second_run_on_the_folder_is_refused(built, capsys):
    tmp, model, photos, out = built
    with RunLock(str(out), command="first"):
        assert run(model, photos, out) == 2
    error = capsys.readouterr().err
    assert "Another kerasdream run is writing to this folder" in error and "(first)" in error


def test_bad_arguments_fail_before_any_work(tmp_path, tiny_cnn_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DreamError, match="Received: examples="):
        activation_atlas(tiny_cnn_path, "relu2", str(tmp_path / "empty"), str(tmp_path / "o"))
    with pytest.raises(DreamError, match="Received: method='pca'"):
        activation_atlas(tiny_cnn_path, "relu2", str(tmp_path), str(tmp_path / "o"), method="pca")
    with pytest.raises(DreamError, match="Received: grid=0"):
        activation_atlas(tiny_cnn_path, "relu2", str(tmp_path), str(tmp_path / "o"), grid=0)
    assert not (tmp_path / "o").exists()


def test_bad_grid_option_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["activation-atlas", "--layer", "relu2", "--examples", "x", "--out", "y",
              "--grid", "3x"])
    assert exit_info.value.code == 2
    assert "expected a grid such as 20 or 12x16" in capsys.readouterr().err


@pytest.mark.slow
def test_both_pages_in_headless_chromium(built, browser):
    from playwright.sync_api import expect

    tmp, model, photos, out = built
    manifest = json.loads((out / "activation_atlas" / "relu2" / "manifest.json").read_text())
    cell = manifest["cells"][0]
    page, problems = watched_page(browser)

    # The home page opens on pictures and links to the activation atlas.
    page.goto((out / "index.html").as_uri())
    expect(page.locator(".layer-strip")).to_have_count(2)
    expect(page.locator(".layer-strip img")).to_have_count(8 + 6)
    sizes = image_widths(page)
    assert all(width > 0 for _, width in sizes), sizes

    # A filter page: its circuits, each a link; a click navigates.
    page.goto((out / "index.html").as_uri() + "#/relu2/3")
    expect(page.locator("#inputs a.circuit")).to_have_count(6)
    assert page.locator("#outputs a.circuit").count() == 0  # relu2 is the last layer
    sizes = image_widths(page)
    assert sizes and all(width > 0 for _, width in sizes), sizes
    first = page.locator("#inputs a.circuit").first
    target = first.get_attribute("href")
    assert target.startswith("#/relu1/")
    first.click()
    page.wait_for_function("route => location.hash === route", arg=target)
    expect(page.locator("#outputs a.circuit")).to_have_count(6)  # relu1 feeds relu2
    page.locator("#outputs a.circuit").first.click()
    page.wait_for_function("() => location.hash.startsWith('#/relu2/')")

    # The activation atlas: pan, zoom, click a cell.
    page.goto((out / "index.html").as_uri())
    page.click("#activation-atlas")
    page.wait_for_selector("#plane img.cell")
    expect(page.locator("#plane img.cell")).to_have_count(len(manifest["cells"]))
    sizes = image_widths(page)
    assert all(width > 0 for _, width in sizes), sizes
    before = page.evaluate("getComputedStyle(document.getElementById('plane')).transform")
    page.click("#zoom-in")
    page.mouse.move(500, 300)
    page.mouse.down()
    page.mouse.move(540, 330, steps=4)
    page.mouse.up()
    assert page.evaluate("getComputedStyle(document.getElementById('plane')).transform") \
        != before
    page.click("#zoom-fit")
    route = f"#/relu2/{cell['row']}/{cell['column']}"
    page.click(f"#plane img.cell[data-row='{cell['row']}'][data-column='{cell['column']}']")
    page.wait_for_function("route => location.hash === route", arg=route)
    expect(page.locator("#cell-dream")).to_have_attribute("src", cell["dream"])
    expect(page.locator("#photos figure")).to_have_count(len(cell["photos"]))
    expect(page.locator("#filters tr")).to_have_count(1 + 5)
    assert "null" not in page.locator("#detail").inner_text()
    sizes = image_widths(page)
    assert all(width > 0 for _, width in sizes), sizes
    page.locator("#filters a").first.click()
    page.wait_for_function("() => location.pathname.endsWith('index.html')")
    expect(page.locator("h1")).to_contain_text("relu2 · filter")
    assert problems == []


def test_the_command_module_loads_no_keras_or_numpy():
    import subprocess
    import sys

    import kerasdream

    root = os.path.dirname(os.path.dirname(os.path.abspath(kerasdream.__file__)))
    code = ("import sys, kerasdream.cli.activation_atlas; "
            "print(sorted({'keras', 'numpy', 'tensorflow'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONPATH": root})
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_classifier_s_cells_name_the_class_they_support(tmp_path):
    import keras

    base = tiny_cnn()
    pooled = keras.layers.GlobalAveragePooling2D()(base.output)
    outputs = keras.layers.Dense(3, activation="softmax", name="classes")(pooled)
    model = keras.Model(base.input, outputs)
    path = str(tmp_path / "classifier.keras")
    model.save(path)
    photos = write_photos(tmp_path / "photos")
    manifest = activation_atlas(path, "relu2", str(photos), str(tmp_path / "out"), grid=3,
                                min_count=2, per_image=8, method="tsne", size=16, steps=2,
                                batch=8, class_names=["red", "green", "blue"], quiet=True)
    assert manifest["classifier"] is True and manifest["cells"]
    for cell in manifest["cells"]:
        names = [entry["name"] for entry in cell["classes"]]
        assert names and set(names) <= {"red", "green", "blue"}
        values = [entry["attribution"] for entry in cell["classes"]]
        assert values == sorted(values, reverse=True)
