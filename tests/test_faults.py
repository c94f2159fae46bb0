"""The fault table: faults real runs meet, through the command line and the API.

Each CLI row sets a fault up in a copy of a finished gallery folder, runs
`kerasdream` (in-process, or as a subprocess where the fault is refused
before TensorFlow is imported), and asserts the exit status, the line it
printed and the files it left. The first round's bad-input cases are the
table in test_errors.py; kill -9 / Ctrl-C / SIGTERM and a second run on the
folder are in test_reliability.py.
"""

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import kerasdream as kd
from kerasdream.cli import main
from kerasdream.io import load_image
from kerasdream.saving import load_dream, save_dream

from conftest import tiny_cnn

LAYER = "relu2"
INPUT = "<the model's input layer>"


def command(root, *extra, filters="0-1", steps="2", size="8"):
    return ["filters", "--model", str(root / "tiny.keras"), "--layer", LAYER,
            "--filters", filters, "--size", size, "--steps", steps, "--batch", "2",
            "--out", str(root / "out"), "--models-dir", str(root / "models"), "--quiet", *extra]


def arguments(root, options):
    """`command` from a table row's options: extra arguments and keyword values."""
    return command(root, *options.get("extra", ()),
                   **{k: v for k, v in options.items() if k != "extra"})


def files(root, k, suffix=""):
    """The PNG, model and record of filter k (with a suffix: moved aside)."""
    return (root / "out" / LAYER / f"filter_{k}.png{suffix}",
            root / "models" / "tiny" / LAYER / f"filter_{k}.keras{suffix}",
            root / "out" / LAYER / f"filter_{k}.json{suffix}")


def record(root, k):
    return json.loads(files(root, k)[2].read_text())


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Finished folders of filters 0-1 (8 px, 2 steps): seed 0, seed 1, and 1 + 1 resumed."""
    folders = {}
    for name, runs in (("seed0", [{}]), ("seed1", [{"extra": ("--seed", "1")}]),
                       ("resumed", [{"steps": "1"}, {"extra": ("--resume",)}])):
        root = tmp_path_factory.mktemp(name)
        tiny_cnn().save(str(root / "tiny.keras"))
        for options in runs:
            assert main(arguments(root, options)) == 0
        folders[name] = root
    return folders


def copy_of(made, tmp_path, name="seed0"):
    root = tmp_path / "run"
    shutil.copytree(made[name], root)
    # The records still hold for the copy: they hash the files' content, not their paths.
    return root


def replace_with(root, other, k):
    """filter k's PNG and model from `other` (same names), as another run left them."""
    for mine, theirs in zip(files(root, k)[:2], files(other, k)[:2]):
        shutil.copyfile(theirs, mine)


# (id, set-up, extra arguments, exit status, text in the output, check of the files)
CASES = [
    ("Ctrl-C between a seed-1 run's files and its record, then the seed-0 command",
     lambda root, made: (replace_with(root, made["seed1"], 0), files(root, 0)[2].unlink()),
     {}, 0, "moved aside filter_0.png.stale, filter_0.keras.stale: left by an interrupted "
            "or another run (no commit record)",
     lambda root, made: files(root, 0)[0].read_bytes() == files(made["seed0"], 0)[0].read_bytes()),
    ("a PNG that does not match its record",
     lambda root, made: shutil.copyfile(files(made["seed1"], 0)[0], files(root, 0)[0]),
     {}, 0, "relu2: skipped 1 finished dream, repaired 1, redid 0.",
     lambda root, made: files(root, 0, ".corrupt")[0].exists()
     and files(root, 0)[0].read_bytes() == files(made["seed0"], 0)[0].read_bytes()),
    ("a truncated model file",
     lambda root, made: files(root, 1)[1].write_bytes(files(root, 1)[1].read_bytes()[:300]),
     {}, 0, "filter_1.keras does not match the record",
     lambda root, made: load_dream(str(files(root, 1)[1])).render().shape == (1, 8, 8, 3)),
    ("a garbage PNG left in place",
     lambda root, made: files(root, 1)[0].write_bytes(b"garbage"),
     {}, 0, "repaired 1",
     lambda root, made: load_image(str(files(root, 1)[0])).shape == (8, 8, 3)),
    ("a record with steps 'twenty'",
     lambda root, made: files(root, 0)[2].write_text(
         json.dumps({**record(root, 0), "steps": "twenty"})),
     {}, 0, "its 'steps' is 'twenty', not a int",
     lambda root, made: record(root, 0)["steps"] == 2),
    ("a metrics.json of the wrong shape",
     lambda root, made: (root / "out" / LAYER / "metrics.json").write_text("[]"),
     {}, 0, "moved aside metrics.json.corrupt",
     lambda root, made: sorted(json.loads(
         (root / "out" / LAYER / "metrics.json").read_text())["filters"]) == ["0", "1"]),
    ("--resume with another seed", None, {"extra": ("--resume", "--seed", "1"), "steps": "3"},
     2, "its saved dream was made with other settings (seed: 0 -> 1)",
     lambda root, made: files(root, 0)[0].read_bytes() == files(made["seed0"], 0)[0].read_bytes()),
    ("--resume with another size", None, {"extra": ("--resume",), "size": "16", "steps": "3"},
     2, "size: [8, 8] -> [16, 16]", lambda root, made: record(root, 0)["steps"] == 2),
    ("--resume with another parameterization", None,
     {"extra": ("--resume", "--parameterization", "pixels"), "steps": "3"},
     2, "parameterization: 'fourier' -> 'pixels'", lambda root, made: record(root, 1)["steps"] == 2),
    ("--resume --steps 1 on a 2-step folder", None, {"extra": ("--resume",), "steps": "1"},
     0, "kept 2 longer dreams rather than retrain at fewer steps: filter 0 (2 steps), 1 (2 steps)",
     lambda root, made: record(root, 0)["steps"] == record(root, 1)["steps"] == 2),
    ("the plain command at fewer steps after a longer --resume", None, {"steps": "1"},
     0, "(--overwrite retrains them)", lambda root, made: record(root, 0)["steps"] == 2),
    ("--overwrite at fewer steps", None, {"extra": ("--overwrite",), "steps": "1"},
     0, "redid 2", lambda root, made: record(root, 0)["steps"] == record(root, 1)["steps"] == 1),
    ("the plain command on a 1 + 1 resumed folder", "resumed", {},
     0, "trained 2 steps resumed at [1], not a fresh 2-step dream",
     lambda root, made: record(root, 0)["resumed_at"] == []
     and files(root, 0, ".stale")[2].exists()
     and files(root, 0)[0].read_bytes() == files(made["seed0"], 0)[0].read_bytes()),
    ("a run of other filters keeps the first run's entries", None, {"filters": "2-3"},
     0, "relu2: ", lambda root, made: sorted(json.loads(
         (root / "out" / LAYER / "metrics.json").read_text())["filters"]) == ["0", "1", "2", "3"]),
    ("--size 100000", None, {"size": "100000"}, 2, "GiB of memory, more than the",
     lambda root, made: True),
    ("--layer input_layer", None, {"extra": ("--layer", INPUT)}, 2,
     "is the network's input, not a layer that computes features", lambda root, made: True),
    ("--filters ''", None, {"filters": ""}, 2, "Malformed filter list", lambda root, made: True),
    ("--lr 1e9: every dream saturates", None, {"extra": ("--lr", "1e9", "--overwrite"),
                                               "steps": "1"},
     1, "Every dream failed (2 of 2; see the lines above): try a smaller learning rate. "
        "Received: lr=1e+09",
     lambda root, made: record(root, 0)["status"].startswith("saturated: 100% of its pixel")),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_cli_fault(case, made, tmp_path, capsys):
    _, set_up, options, status, text, check = case
    root = copy_of(made, tmp_path, set_up if isinstance(set_up, str) else "seed0")
    if callable(set_up):
        set_up(root, made)
    argv = arguments(root, options)
    if INPUT in argv:  # Keras numbers default input names within a process: input_layer_8
        argv[argv.index(INPUT)] = keras.models.load_model(str(root / "tiny.keras")).layers[0].name
    assert main(argv) == status
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert "Traceback" not in said
    assert text in said, said
    if status:
        assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert check(root, made), said
    names = [n for _, _, found in os.walk(root) for n in found]
    assert not [n for n in names if n.startswith(".tmp-") or n == ".kerasdream.lock"]


@pytest.mark.slow
def test_files_get_the_umask_mode_not_mkstemps_0600(made, tmp_path, capsys):
    root = copy_of(made, tmp_path)
    previous = os.umask(0o027)
    try:
        assert main(command(root, "--overwrite", steps="1")) == 0
    finally:
        os.umask(previous)
    for path in (*files(root, 0), root / "out" / LAYER / "metrics.json"):
        assert oct(path.stat().st_mode & 0o777) == oct(0o640), path


# ------------------------------------------------------------ the file system


def _mount(*args):
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode:
        pytest.skip(f"needs root to mount a small file system ({result.stderr.strip()})")


@pytest.fixture
def small_disk(tmp_path):
    """A 24 KiB tmpfs: room for two dreams' files, not six."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs root to mount a small file system")
    point = tmp_path / "disk"
    point.mkdir()
    _mount("-t", "tmpfs", "-o", "size=24k", "tmpfs", str(point))
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["out", "models"])
def test_disk_full_is_one_line_keeps_finished_files_and_a_rerun_completes(
        where, small_disk, made, tmp_path, capsys):
    root = tmp_path / "run"
    root.mkdir()
    shutil.copy(made["seed0"] / "tiny.keras", root)
    os.symlink(small_disk, root / where)
    argv = command(root, filters="0-5")
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "No space left on device" in err, err
    assert "free there). Finished files are intact" in err and str(root / where) in err
    finished = [k for k in range(6) if files(root, k)[2].exists()]
    assert len(finished) < 6
    for k in finished:  # what was committed is whole
        assert load_dream(str(files(root, k)[1])).render().shape == (1, 8, 8, 3)
        assert load_image(str(files(root, k)[0])).shape == (8, 8, 3)
    _mount("-o", "remount,size=2m", str(small_disk))
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert f"skipped {len(finished)} finished dream" in said
    assert sorted(record(root, k)["filter"] for k in range(6)) == list(range(6))


@pytest.mark.slow
def test_a_read_only_layer_folder_is_refused_before_training(made, tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.skip("needs root for a read-only bind mount (as a user, chmod does it)")
    root = copy_of(made, tmp_path)
    folder = root / "out" / LAYER
    _mount("--bind", str(folder), str(folder))
    try:
        _mount("-o", "remount,ro,bind", str(folder))
        code = main(command(root, filters="2"))
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.endswith(f"Cannot write to this folder (Read-only file system). "
                        f"Received: {str(folder)!r}")
    assert not files(root, 2)[1].exists()  # refused before training, nothing half-done


# --------------------------------------------- refused before TensorFlow starts

PARSE_CASES = [
    ("--seed -1", ["--seed", "-1"], "seed must be an integer from 0 to 4294967295"),
    ("--seed 2**63", ["--seed", str(2**63)], "seed must be an integer from 0 to 4294967295"),
    ("--cpu-devices 100000", ["--cpu-devices", "100000"], "positive integer up to 256"),
    ("--steps 10**20", ["--steps", str(10**20)], "positive integer up to 10000000"),
    ("--lr 1e300", ["--lr", "1e300"], "at most float32's 3.403e+38"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_argument_faults_answer_in_a_subprocess_without_tensorflow(case, tmp_path):
    _, extra, text = case
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kerasdream",
         *command(tmp_path, *extra)], capture_output=True, text=True, timeout=60)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert result.returncode == 2 and len(lines) == 1 and text in lines[0], result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert not imported & {"tensorflow", "keras", "numpy"}
    assert not (tmp_path / "out").exists()


def test_help_imports_no_keras_or_tensorflow():
    result = subprocess.run([sys.executable, "-c", (
        "import sys\nfrom kerasdream.cli.parser import build_parser\nbuild_parser().format_help()\n"
        "print(sorted({'keras', 'tensorflow', 'numpy'} & set(sys.modules)))")],
        capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_the_cli_drops_only_tensorflows_per_layer_retracing_warning():
    """From a gallery's fifth layer on, TensorFlow warned of "retracing" that
    is one new model a layer; the CLI drops that warning and nothing else."""
    import logging

    from kerasdream import cli

    logger = logging.getLogger("tensorflow")
    filters, seen = list(logger.filters), []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        cli._quiet_retracing_warnings()
        cli._quiet_retracing_warnings()  # once only
        assert sum(isinstance(f, cli._NoRetracingWarning) for f in logger.filters) == 1
        logger.warning("5 out of the last 9 calls to <function _compiled.<locals>.call at "
                       "0x7f> triggered tf.function retracing. Tracing is expensive")
        logger.warning("Something else went wrong")
        assert seen == ["Something else went wrong"]
    finally:
        logger.removeHandler(handler)
        logger.filters[:] = filters


def test_the_light_defaults_agree_with_the_modules():
    from kerasdream import defaults
    from kerasdream.runs import settings as gallery
    from kerasdream import param as parameterization

    assert list(defaults.PARAMETERIZATION_NAMES) == sorted(parameterization.PARAMETERIZATIONS)
    # --objective's choices, and "class" for `kerasdream classes`
    assert sorted([*defaults.OBJECTIVE_NAMES, "class"]) == sorted(gallery.OBJECTIVES)


# ------------------------------------------------------------------- the API

API_CASES = [
    ("size='64' is not (6, 4)", lambda p: kd.DreamModel(
        kd.Channel(LAYER, 0), p, size="64"), "Received: size='64'"),
    ("num_dreams=0", lambda p: kd.DreamModel(kd.Channel(LAYER, 0), p, size=8,
                                                    num_dreams=0), "Received: num_dreams=0"),
    ("seed=-1", lambda p: kd.DreamModel(kd.Channel(LAYER, 0), p, size=8, seed=-1),
     "from 0 to 4294967295 (2**32 - 1). Received: seed=-1"),
    ("learning_rate=1e300", lambda p: kd.train(kd.DreamModel(
        kd.Channel(LAYER, 0), p, size=8), 1, learning_rate=1e300), "at most float32's"),
    ("steps=10**20", lambda p: kd.train(kd.DreamModel(
        kd.Channel(LAYER, 0), p, size=8), 10**20), "up to 10000000"),
    ("a huge size", lambda p: kd.DreamModel(kd.Channel(LAYER, 0), p, size=100000),
     "GiB of memory"),
]


@pytest.mark.parametrize("case", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_fault(case, tiny_cnn_path):
    _, call, text = case
    with pytest.raises(kd.DreamError) as error:
        call(tiny_cnn_path)
    assert text in str(error.value)


def test_a_numpy_learning_rate_is_a_learning_rate(tiny_cnn_path):
    model = kd.DreamModel(kd.Channel(LAYER, 0), tiny_cnn_path, size=8)
    kd.train(model, 1, learning_rate=np.float32(0.05))
    assert model.render().shape == (1, 8, 8, 3)


def test_a_truncated_dream_file_is_named_damaged_not_missing(tiny_cnn_path, tmp_path):
    path = tmp_path / "filter_0.keras"
    save_dream(kd.DreamModel(kd.Channel(LAYER, 0), tiny_cnn_path, size=8).generator, str(path))
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(kd.DreamError, match="damaged or not a saved dream"):
        load_dream(str(path))


def test_an_unregistered_custom_layer_is_named(tmp_path):
    class Scale(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((8, 8, 3))
    path = str(tmp_path / "custom.keras")
    keras.Model(inputs, Scale(name="scale")(keras.layers.Conv2D(2, 1)(inputs))).save(path)
    with pytest.raises(kd.DreamError, match="custom class 'Scale' that Keras does not know: "
                                            "register it with @keras.saving"):
        kd.load_base(path)


def test_photos_in_16_bit_grey_keep_their_brightness_and_bombs_are_refused(tmp_path,
                                                                          monkeypatch):
    grey = (np.arange(64, dtype="uint32").reshape(8, 8) * 1024).astype("uint16")
    path = str(tmp_path / "grey16.png")
    Image.fromarray(grey).save(path)
    assert Image.open(path).mode.startswith("I")
    photo = load_image(path, channels=1)
    np.testing.assert_allclose(photo[..., 0], np.round(grey / 257.0), atol=0)
    assert 120 < photo.mean() < 135  # not clipped to white

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20)  # PIL's own limit, lowered
    with pytest.raises(kd.DreamError, match="too large to open safely"):
        load_image(path)


@pytest.mark.slow
def test_a_filter_with_zero_weights_is_constant_and_counted(tmp_path):
    """Filter 1 has zero weights: the same output for every photo, so no
    picture drives it and its dream (which never moves) shows nothing."""
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="conv")
    kernel = np.zeros((1, 1, 3, 2), "float32")
    kernel[0, 0, :, 0] = 1.0
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([kernel])
    model.save(str(tmp_path / "m.keras"))
    from kerasdream.runs.gallery import DreamSettings, run_gallery

    lines = []
    results = run_gallery(
        kd.BaseSpec(str(tmp_path / "m.keras")), ["conv"], "0-1",
        DreamSettings(size=8, steps=2, transforms="none"),
        out_dir=str(tmp_path / "out"), models_dir=str(tmp_path / "models"), quiet=True,
        log=lines.append)
    assert [r.status for r in results["conv"]] == ["ok", "constant"]
    assert lines[-1].endswith("; 1 constant (the filter ignores its input: the same output "
                              "for every image, so its dream shows nothing of it).")


def test_the_interrupt_line_says_what_was_saved():
    from kerasdream.cli import _interrupted_line
    from kerasdream.runs.signals import Interrupted

    stop = Interrupted(15)
    stop.saved = 0
    assert _interrupted_line(stop) == ("Interrupted by SIGTERM before this run finished a "
                                       "dream; nothing of it was saved. Run the same command "
                                       "again to start it.")
    stop.saved = 1
    assert "the 1 dream finished in this run is saved" in _interrupted_line(stop)
