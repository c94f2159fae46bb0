"""File names and status words, in one place."""

from kerasdream.network.bases import BaseSpec
from kerasdream.runs import layout


def test_names_of_a_dream_s_files():
    assert layout.layer_folder("block_1/relu") == "block_1__relu"
    assert layout.png_name(7) == "filter_7.png"
    assert layout.record_name(7) == "filter_7.json"
    assert layout.model_name(7, "h5") == "filter_7.h5"
    assert layout.RECORD_PATTERN.match("filter_12.json").group(1) == "12"
    assert layout.RECORD_PATTERN.match("filter_12.png") is None
    assert layout.transparency_names("out/relu/filter_3.png") == (
        "out/relu/filter_3_transparency.png", "out/relu/filter_3_overlay.png")


def test_network_folder_names():
    assert layout.network_name(BaseSpec("/models/my_net.keras")) == "my_net"
    assert layout.network_name(BaseSpec("mobilenet")) == "mobilenet-0.25"
    assert layout.network_name(BaseSpec("vgg16")) == "vgg16"


def test_status_words():
    assert layout.FINISHED == ("ok", "dead", "constant")
    assert layout.saturated_status(0.934) == ("saturated: 93% of its pixel values are 0 or 255 "
                                              "(the learning rate is too large)")
    assert layout.saturated_status(0.95).startswith(layout.SATURATED_PREFIX)
    assert layout.non_finite_status(150) == "non-finite by step 150"
    assert layout.stopped_status(150) == ("stopped at step 150 (another dream of its chunk "
                                          "went non-finite)")


def test_a_name_never_becomes_a_path():
    import pytest

    from kerasdream.errors import DreamError

    cases = {"..": "~2E.", ".": "~2E", "../../etc": "~2E.__..__etc", "a b": "a~20b",
             "x:y\\z": "x~3Ay~5Cz", "~": "~7E", ".hidden": "~2Ehidden", "é": "~C3~A9",
             "conv_pw_1_relu": "conv_pw_1_relu", "block/relu": "block__relu"}
    for name, expected in cases.items():
        assert layout.path_name(name) == expected, name
        assert "/" not in expected and expected not in (".", "..")
    long = layout.path_name("n" * 300)
    assert len(long) == 160 and long != layout.path_name("n" * 301)
    for bad in ("", "a\0b", None):
        with pytest.raises(DreamError, match=r"Received: layer_name="):
            layout.path_name(bad)
    assert layout.network_name(BaseSpec("/m/my net.keras")) == "my~20net"
