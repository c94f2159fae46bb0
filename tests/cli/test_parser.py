"""The parser alone: no Keras, every default shown by `--help` is the one that runs,
and argument types answer in the API's words."""

import argparse
import re
import subprocess
import sys

import pytest

from kerasdream.cli.parser import build_parser
from kerasdream.defaults import DEFAULT_SIZE, DEFAULT_STEPS

PARSER = build_parser()
SUBPARSERS = PARSER._subparsers._group_actions[0].choices
COMMANDS = sorted(SUBPARSERS)


def required_argv(command):
    """`[command, --required x, ...]`: the least that parses."""
    sub = SUBPARSERS[command]
    return [command] + [text for action in sub._actions if action.required
                        for text in (action.option_strings[0], "x")]


def shown_help(sub, action):
    """The help of one option as `--help` prints it (whitespace folded)."""
    return " ".join(sub._get_formatter()._expand_help(action).split())


def test_importing_the_parser_loads_no_keras_tensorflow_or_numpy():
    result = subprocess.run([sys.executable, "-c", (
        "import sys, kerasdream.cli.parser as p\n"
        "p.build_parser().format_help()\n"
        "assert 'keras' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)\n"
        "assert 'tensorflow' not in sys.modules\n"
        "print('clean')")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "clean", result.stderr


def test_every_command_is_there():
    assert COMMANDS == ["accentuate", "activation-atlas", "atlas", "caricature", "classes",
                        "evolve", "filters", "gallery", "invert", "layers"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_every_default_and_it_is_the_one_that_runs(command):
    sub = SUBPARSERS[command]
    argv = required_argv(command)
    parsed = PARSER.parse_args(argv)
    page = " ".join(sub.format_help().split())
    checked = 0
    for action in sub._actions:
        if action.required or isinstance(action, (argparse._HelpAction,
                                                  argparse._StoreTrueAction)):
            continue
        option = action.option_strings[0]
        text = shown_help(sub, action)
        assert "".join(text.split()) in "".join(page.split()), (command, option)  # as wrapped
        found = re.search(r"default: ([^\s;),]+)", text)
        assert found, f"`kerasdream {command} --help` shows no default for {option}: {text!r}"
        shown, value = found.group(1), getattr(parsed, action.dest)
        if value is None:  # a default that is worked out later: words, never a number
            assert shown[0].isalpha(), (command, option, shown)
        else:  # typing the shown default gives what not typing it gives
            again = PARSER.parse_args(argv + [option, shown])
            assert getattr(again, action.dest) == value, (command, option, shown, value)
        checked += 1
    assert checked == OPTIONS_WITH_A_DEFAULT[command]


# By hand: network 4 (--model --alpha --weights --preprocess); dreams 8 (--size --steps
# --lr --seed --parameterization --spectrum --transforms --precision); a gallery's
# own 10 (--models-dir --format --batch --activation --selectivity --objective
# --strategy --cluster --examples --cpu-devices), and each command's own.
OPTIONS_WITH_A_DEFAULT = {
    "layers": 4, "filters": 4 + 1 + 8 + 10, "gallery": 4 + 2 + 8 + 1 + 10,
    "atlas": 4 + 1 + 8 + 1 + 10, "invert": 4 + 1 + 8, "caricature": 4 + 1 + 8,
    "accentuate": 4 + 5 + 8, "evolve": 1 + 8,
    # network 4; --labels --grid --min-count --per-image --method --size --steps
    # --batch --cossim-pow --seed --lr --precision
    "activation-atlas": 4 + 12,
    # --classes --labels --layer; --out --models-dir --format --batch --strategy
    # --cluster --cpu-devices (no filter objective, no examples)
    "classes": 4 + 3 + 8 + 7,
}


def test_atlas_help_says_64_px_and_100_steps_and_runs_them():
    """The newcomer's case: the atlas's help showed 128 and 200. The size is
    the model's own where it has one (worked out by the handler)."""
    atlas = PARSER.parse_args(["atlas"])
    assert atlas.size is None and atlas.steps == 100
    page = " ".join(SUBPARSERS["atlas"].format_help().split())
    assert "(default: the model's input size, else 64)" in page
    assert "training steps (default: 100)" in page
    assert "else 128" not in page and "(default: 200)" not in page
    filters = PARSER.parse_args(required_argv("filters"))
    assert filters.size is None and filters.steps == DEFAULT_STEPS
    assert f"(default: the model's input size, else {DEFAULT_SIZE})" in " ".join(
        SUBPARSERS["filters"].format_help().split())


def test_presets_of_photo_commands():
    invert = PARSER.parse_args(required_argv("invert"))
    assert (invert.steps, invert.transforms, invert.size) == (300, "none", None)
    accentuate = PARSER.parse_args(required_argv("accentuate"))
    assert (accentuate.steps, accentuate.strength, accentuate.weight) == (100, 1.0, None)
    assert PARSER.parse_args(required_argv("evolve")).size is None


@pytest.mark.parametrize("text, expected", [
    ("128", (128, 128)), ("96x128", (96, 128)), ("96X128", (96, 128)), ("1", (1, 1)),
])
def test_size_forms(text, expected):
    assert PARSER.parse_args(["filters", "--layer", "x", "--out", "x", "--size", text]).size \
        == expected


def test_a_bad_value_is_one_line_with_status_2(capsys):
    with pytest.raises(SystemExit) as stop:
        PARSER.parse_args(["filters", "--layer", "x", "--out", "x", "--batch", "0"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "kerasdream filters: error: argument --batch: batch must be a positive integer. "
        "Received: batch=0"]


def test_multiworker_is_refused_by_the_strategy_type():
    with pytest.raises(SystemExit):
        PARSER.parse_args(["filters", "--layer", "x", "--out", "x", "--strategy", "multiworker"])
