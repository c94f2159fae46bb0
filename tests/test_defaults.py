"""kerasdream.defaults: the command line's choices, without Keras, agreeing with
the registries and validators they mirror."""

import ast
import json
import subprocess
import sys

import numpy as np
import pytest

from kerasdream import defaults
from kerasdream.errors import DreamError

HEAVY = ("keras", "tensorflow", "numpy", "jax", "torch")


def test_defaults_imports_nothing_and_loads_no_keras():
    with open(defaults.__file__) as file:
        tree = ast.parse(file.read())
    assert not [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    code = ("import json, sys; import kerasdream.defaults; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert json.loads(done.stdout) == []


def test_parameterization_names_are_the_registrys_keys():
    from kerasdream import param as fourier

    assert defaults.PARAMETERIZATION_NAMES == tuple(sorted(fourier.PARAMETERIZATIONS))
    for name in defaults.PARAMETERIZATION_NAMES:
        assert isinstance(fourier.get(name, (8, 8, 3)), fourier.PARAMETERIZATIONS[name])
    for chosen in (defaults.DEFAULT_PARAMETERIZATION,
                   defaults.PREIMAGE_DEFAULTS["parameterization"],
                   defaults.ACCENTUATE_DEFAULTS["parameterization"]):
        assert chosen in defaults.PARAMETERIZATION_NAMES


def test_every_transform_choice_is_a_preset_the_dream_model_builds():
    from kerasdream.model import _transform_layers

    for chosen in (defaults.DEFAULT_TRANSFORMS, defaults.PREIMAGE_DEFAULTS["transforms"],
                   defaults.ACCENTUATE_DEFAULTS["transforms"]):
        assert chosen in defaults.TRANSFORM_CHOICES
    for name in defaults.TRANSFORM_CHOICES:
        layers = _transform_layers(name, stride=8, seed=0, image_shape=(32, 32, 3),
                                   fixed_size=False)
        assert (layers == []) == (name == "none"), name
    with pytest.raises(DreamError, match=r"'light', 'lucid'.*Received: transforms='heavy'"):
        _transform_layers("heavy", stride=8, seed=0, image_shape=(32, 32, 3), fixed_size=False)


def test_preprocess_modes_cover_every_application_and_the_layer_accepts_each():
    from kerasdream.network.bases import APPLICATIONS, Preprocess

    assert defaults.DEFAULT_MODEL in APPLICATIONS
    assert {app.preprocess for app in APPLICATIONS.values()} <= set(defaults.PREPROCESS_MODES)
    white = np.full((1, 1, 1, 3), 255.0, "float32")
    by_hand = {"tf": 1.0, "unit": 1.0, "none": 255.0}
    for mode in defaults.PREPROCESS_MODES:
        out = np.asarray(Preprocess(mode)(white))
        assert np.all(np.isfinite(out)), mode
        if mode in by_hand:
            np.testing.assert_allclose(out, by_hand[mode], rtol=1e-6)
    with pytest.raises(DreamError, match=r"Received: mode='bgr'"):
        Preprocess("bgr")


def test_strategies_and_precisions_are_what_their_validators_accept():
    from kerasdream.network import distribute, precision

    assert distribute.get_strategy(defaults.STRATEGIES[0]) is not None
    with pytest.raises(DreamError, match=r"\['default', 'mirrored'\]. Received: strategy='x'"):
        distribute.get_strategy("x")
    assert defaults.DEFAULT_PRECISION in defaults.PRECISIONS
    for name in defaults.PRECISIONS:
        assert precision.check_precision(name) == name
    with pytest.raises(DreamError, match=r"Received: precision='int8'"):
        precision.check_precision("int8")


def test_objectives_and_activations_are_the_gallerys():
    from kerasdream.runs.settings import OBJECTIVES, DreamSettings

    from conftest import tiny_cnn

    # --objective's choices, and "class" for `kerasdream classes`
    assert sorted(OBJECTIVES) == sorted([*defaults.OBJECTIVE_NAMES, "class"])
    assert defaults.DEFAULT_ACTIVATION in defaults.ACTIVATIONS
    base = tiny_cnn()
    # relu2 is a ReLU: "pre" reads its input, "post" its output. Its stride (2)
    # is under 8, so the objective is the plain one.
    keys = {"pre": "relu2:pre", "post": "relu2"}
    assert set(keys) == set(defaults.ACTIVATIONS)
    for objective in defaults.OBJECTIVE_NAMES:
        for activation, key in keys.items():
            settings = DreamSettings(objective=objective, activation=activation)
            [(weight, term)] = settings.objective_for("relu2", [1], base).terms
            assert (weight, term.key, type(term).__name__) == (1.0, key, OBJECTIVES[objective])


def test_depth_defaults_by_stride():
    """Rows hold from their stride on: under 8 px the plain channel at the
    package's rate; 8 up to 16 px half the selectivity and Adam at 0.1; from
    16 px all of it at the package's rate."""
    rate = defaults.DEFAULT_LEARNING_RATE
    assert defaults.depth_defaults(1) == defaults.depth_defaults(4) == (0.0, rate)
    assert defaults.depth_defaults(8) == (0.5, 0.1)
    assert defaults.depth_defaults(16) == defaults.depth_defaults(32) == (1.0, rate)


def test_weights_name_the_kinds_and_limits_are_the_libraries_limits():
    from kerasdream.preimages import KINDS

    assert set(defaults.DEFAULT_WEIGHTS) == set(KINDS)
    assert defaults.FLOAT32_MAX == float(np.finfo("float32").max)
    np.random.RandomState(defaults.MAX_SEED)  # numpy's legacy seeds end here
    with pytest.raises(ValueError):
        np.random.RandomState(defaults.MAX_SEED + 1)
    assert defaults.DEFAULT_SIZE > 0 and defaults.DEFAULT_STEPS <= defaults.MAX_STEPS
