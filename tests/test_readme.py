"""The README's Python examples run as written, in a fresh folder."""

import os
import re

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.slow

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def python_blocks() -> list[str]:
    with open(README, encoding="utf-8") as file:
        return re.findall(r"```python\n(.*?)```", file.read(), flags=re.S)


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
    assert len(blocks) >= 3
    assert any("kd.DreamModel(" in block for block in blocks)


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
