"""Gallery settings: what differs from a record, the objective, the filter list."""

import dataclasses
import os
import re

import numpy as np
import pytest

from kerasdream.errors import DreamError
from kerasdream.runs.settings import DreamSettings, parse_filters

from conftest import tiny_cnn


def test_differences_name_each_setting_that_changed():
    recorded = {**DreamSettings(seed=1, steps=50, learning_rate=0.1).__dict__}
    mine = DreamSettings(steps=20)
    assert mine.differences(recorded) == ["steps: 50 -> 20", "learning_rate: 0.1 -> None",
                                          "seed: 1 -> 0"]
    assert mine.differences(recorded, ignore_steps=True, resuming=True) == ["seed: 1 -> 0"]


def test_a_record_from_before_precision_counts_as_float32_auto():
    recorded = dict(DreamSettings().__dict__)
    del recorded["precision"]
    assert DreamSettings().differences(recorded) == []


def test_json_sizes_come_back_as_tuples():
    assert DreamSettings(size=[16, 24]).image_size == (16, 24)
    assert DreamSettings(size=16).image_size == 16


def test_the_objective_reads_before_relus_and_only_past_stride_16_is_selective():
    base = tiny_cnn()
    assert repr(DreamSettings().objective_for("relu2", [0, 1], base)) == \
        "Channel('relu2:pre', [0, 1])"  # stride 2: no rivals
    assert repr(DreamSettings(activation="post").objective_for("relu2", [4], base)) == \
        "Channel('relu2', 4)"
    assert repr(DreamSettings(objective="neuron").objective_for("conv1", [2], base)) == \
        "Neuron('conv1', 2, None, None)"  # not a ReLU: read as it is; the centre unit


@pytest.mark.parametrize("settings, expected", [
    (DreamSettings(objective="classes"), "Received: objective='classes'"),
    (DreamSettings(activation="gate"), "Received: activation='gate'"),
])
def test_unknown_objective_or_activation_names_the_value(settings, expected):
    with pytest.raises(DreamError, match=expected):
        settings.objective_for("relu2", [0], tiny_cnn())


def test_a_spectrum_is_only_for_maco():
    with pytest.raises(DreamError, match="Received: parameterization='fourier'"):
        DreamSettings(spectrum="photos").parameterization_for(tiny_cnn())


@pytest.mark.parametrize("text, message", [
    ("-1", "Filters must be 0 or more"), ("3-1", "Malformed filter list"),
    ("a", "Malformed filter list"), ("0-6", "the layer has 6 channels (0-5)"),
])
def test_bad_filter_lists_name_the_value(text, message):
    with pytest.raises(DreamError, match=re.escape(message)) as error:
        parse_filters(text, channels=6)
    assert f"Received: filters={text!r}" in str(error.value)


def test_all_needs_a_channel_count():
    with pytest.raises(DreamError, match="known channel count"):
        parse_filters("all")


def test_identified_settings_name_the_network_and_the_spectrum_by_content(tmp_path):
    from PIL import Image

    from kerasdream.network.identity import network_identity

    base = tiny_cnn()
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(
            tmp_path / name / "photo.png")
    settings = DreamSettings(size=8, parameterization="maco", spectrum=str(tmp_path / "a"))
    first = settings.identified(base, "none")
    assert first.network == network_identity(base, "none")
    assert first.identified(base, "none") == first
    assert first.spectrum_identity is not None
    # The same photos in another folder: the same spectrum; another photo: another one.
    again = dataclasses.replace(settings, spectrum=str(tmp_path / "b")).identified(base, "none")
    assert again.spectrum_identity != first.spectrum_identity
    (tmp_path / "b" / "photo.png").write_bytes((tmp_path / "a" / "photo.png").read_bytes())
    same = dataclasses.replace(settings, spectrum=str(tmp_path / "b")).identified(base, "none")
    assert same.spectrum_identity == first.spectrum_identity
    assert DreamSettings(size=8).identified(base, "none").spectrum_identity is None


def test_selectivity_with_the_neuron_objective_is_refused_not_ignored(tmp_path, capsys):
    from kerasdream.cli import main

    assert main(["filters", "--layer", "conv_pw_13_relu", "--objective", "neuron",
                 "--selectivity", "1", "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "selectivity=1.0" in error and "'neuron'" in error
    assert not os.path.exists(tmp_path / "o")
    DreamSettings(objective="neuron")  # the default selectivity is no request
