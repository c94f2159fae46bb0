"""The README: short, current, its commands real, its examples running as written."""

import functools
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
TEST_COMMAND = "python -m pytest -q tests"


def readme() -> str:
    with open(README, encoding="utf-8") as file:
        return file.read()


@functools.cache
def cli_help(*command: str) -> str:
    """`python -m kerasdream ... --help` of this checkout (no Keras import: quick)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-m", "kerasdream", *command, "--help"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def shell_blocks() -> list[str]:
    """The README's fenced blocks of commands (plain or bash), not Python."""
    blocks = re.findall(r"```(\w*)\n(.*?)```", readme(), flags=re.S)
    return [text for language, text in blocks if language in ("", "bash")]


def subcommands() -> set[str]:
    """The commands `kerasdream --help` lists (four spaces in, under COMMAND)."""
    return set(re.findall(r"^    ([a-z][a-z-]*)\b", cli_help(), flags=re.M))


def test_the_readme_is_short_and_current():
    text = readme()
    assert len(text.splitlines()) <= 220
    assert not re.search(r"\bissues? #?\d+", text, flags=re.I)
    assert "previous default" not in text.lower()
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "a dated measurement"
    for word in ("before / after", "before/after"):
        assert word not in text.lower()


def test_every_command_in_the_readme_exists_with_its_options():
    commands = subcommands()
    assert {"layers", "filters", "gallery", "atlas", "invert", "caricature", "accentuate",
            "evolve"} <= commands
    fenced = shell_blocks()
    code = fenced + re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", readme(), flags=re.S))
    uses = [use for text in code for use in re.findall(r"\bkerasdream ([a-z][a-z-]*)([^|\n]*)", text)]
    assert {name for name, _ in uses} >= commands, "every command is in the README"
    for name, rest in uses:
        assert name in commands, f"kerasdream {name}: no such command"
        options = cli_help(name)
        for option in re.findall(r"(--[a-z][a-z-]*)", rest):
            assert re.search(rf"{option}\b", options), f"kerasdream {name} has no {option}"


def test_the_readme_test_command_is_what_ci_runs():
    lines = [line.split("#")[0].strip() for block in shell_blocks() for line in block.splitlines()]
    assert TEST_COMMAND in lines
    assert "kerasdream gallery --out gallery" in lines
    assert "pip install -e ." in lines
    assert "pip install -e '.[docs]' && mkdocs serve" in lines
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as file:
        ci = [line.strip() for line in file if "pytest" in line and not line.lstrip().startswith("#")]
    assert ci == [TEST_COMMAND]


def test_every_link_and_picture_in_the_readme_resolves():
    links = re.findall(r"\]\(([^)\s]+)\)", readme())
    pictures = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", readme())
    assert "docs/gallery.png" in pictures
    for link in links:
        if not re.match(r"[a-z]+://", link):
            path = os.path.join(ROOT, link.split("#")[0])
            assert os.path.exists(path), f"README links to a missing {link}"
    for picture in pictures:
        with open(os.path.join(ROOT, picture), "rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n", picture


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", readme(), flags=re.S)


def users_model(path: str) -> None:
    """The "my_model.keras" the examples read: Keras' default layer names."""
    keras.backend.clear_session()  # names from conv2d, as in a fresh process
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(x)
    model = keras.Model(inputs, x)
    assert [layer.name for layer in model.layers[2:]] == ["conv2d", "conv2d_1"]
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32")
                       for w in model.get_weights()])
    model.save(path)


def test_the_readme_has_its_examples():
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert any("kd.DreamModel(" in block for block in blocks)


@pytest.mark.slow
def test_every_python_example_in_the_readme_runs(tmp_path, monkeypatch):
    """As written, except that `kd.visualize`'s default budget is a tenth.

    The first example dreams 16 filters of the shipped network at 128 px: at
    the full 200 steps it alone takes most of a minute.
    """
    from kerasdream import shortcuts

    monkeypatch.setattr(shortcuts, "DEFAULT_STEPS", shortcuts.DEFAULT_STEPS // 10)
    monkeypatch.chdir(tmp_path)
    users_model(str(tmp_path / "my_model.keras"))
    namespace: dict = {}
    for index, block in enumerate(python_blocks()):
        exec(compile(block, f"README.md python block {index}", "exec"), namespace)
    assert namespace["images"].dtype == np.uint8
    assert os.path.isfile(tmp_path / "dream.keras")
