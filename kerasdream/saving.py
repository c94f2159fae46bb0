"""Saving and loading dreams: a `DreamGenerator` as `.keras` or `.h5`.

Every class a saved dream can hold registers itself with
`keras.saving.register_keras_serializable(package="kerasdream")` where it is
defined, so loading needs no list of classes, only their modules imported
(`register_all`). A saved generator records its base network, objective and
transforms by reference (not the network's weights), so `load_dream` +
`kerasdream.rebuild` give back a trainable model.
"""

from __future__ import annotations

import importlib
import os

from kerasdream.defaults import MODEL_FORMATS
from kerasdream.errors import DreamError
from kerasdream.io import atomic_path

PACKAGE = "kerasdream"  # the package every class registers under

# The modules whose classes a saved dream holds: the generator, its
# parameterizations, the objectives (terms, photo terms, directions, priors)
# and transforms of its spec, the network's preprocessing, the optimizers.
REGISTERING_MODULES = (
    "kerasdream.generator",
    "kerasdream.param",
    "kerasdream.objectives",
    "kerasdream.transforms",
    "kerasdream.optimizers",
    "kerasdream.network.bases",
    "kerasdream.network.features",
)


def register_all() -> dict:
    """Import every module that registers a class a saved dream can hold.

    Returns:
        kerasdream's registered classes by class name, read from Keras'
        registry, for the legacy `.h5` loader, which looks classes up by
        their bare names only.
    """
    import keras

    for name in REGISTERING_MODULES:
        importlib.import_module(name)
    prefix = f"{PACKAGE}>"
    return {name[len(prefix):]: value for name, value in keras.saving.get_custom_objects().items()
            if name.startswith(prefix)}


def save_dream(generator, path: str, *, row: int | None = None,
               training_state: tuple | None = None) -> None:
    """Save a dream's generator (not the base's weights) as `.keras` or `.h5`, atomically.

    Args:
        generator: a `DreamGenerator` (a `DreamModel`'s is `model.generator`).
        path: a file ending in `.keras` or `.h5`.
        row: save only this row (one dream) of a batched generator, through
            its reused one-row copy (`DreamGenerator.row`); default: all rows.
        training_state: with `row`, the optimizer's `(slots, steps)` to save
            with the dream (`DreamModel.training_state()`), so it resumes.

    Returns:
        None; the file is complete at `path` or not there (written whole,
        then renamed into place).

    Raises:
        DreamError: for another file extension, or something not a generator.

    Example:
        ```python
        model = kd.DreamModel(kd.Channel("conv_pw_7_relu:pre", range(4)))
        kd.train(model, 200)
        kd.save_dream(model.generator, "dreams.keras")
        kd.save_dream(model.generator, "filter_2.keras", row=2)  # one dream of four
        ```
    """
    from kerasdream.generator import DreamGenerator

    extension = os.path.splitext(path)[1].lstrip(".")
    if extension not in MODEL_FORMATS:
        raise DreamError(f"Unknown model format. Expected a path ending in "
                         f"{['.' + f for f in MODEL_FORMATS]}. Received: path={path!r}")
    if not isinstance(generator, DreamGenerator):
        raise DreamError(f"save_dream saves a DreamGenerator (a dream model's is "
                         f"model.generator). Received: {type(generator).__name__}")
    if row is not None:
        generator = generator.row(row, training_state)
    elif training_state is not None:
        generator = generator.select(range(generator.num_dreams), training_state)
    with atomic_path(path) as temporary:
        generator.save(temporary)


def load_dream(path: str, *, network: str | None = None):
    """A saved `DreamGenerator`; `.keras` and `.h5`, loaded with `safe_mode=True`.

    Args:
        path: the saved file.
        network: the identity (`network.identity.network_identity`) of the
            network the dream is for; a file made with another says so.

    Returns:
        The `DreamGenerator`.

    Raises:
        DreamError: for a missing, damaged or foreign file, or one made with
            another network than `network` (one saved before networks
            were recorded by content is taken as it is).

    Example:
        ```python
        generator = kd.load_dream("models/conv_pw_7_relu/filter_3.keras")
        images = kd.render(generator)  # no network needed to look
        model = kd.rebuild(generator)  # the network, to train it further
        ```
    """
    import keras

    registered = register_all()
    from kerasdream.generator import DreamGenerator

    if not os.path.isfile(path):
        raise DreamError(f"Dream model file not found. Received: path={path!r}")
    try:
        model = keras.models.load_model(path, custom_objects=registered, compile=False,
                                        safe_mode=True)
    except Exception as error:
        # Keras says "File not found" for a .keras file that is not a whole zip archive.
        raise DreamError(f"Could not load a dream model from this file: it is damaged or "
                         f"not a saved dream ({type(error).__name__}). Delete it, or rerun "
                         f"the command that made it. Received: path={path!r}") from None
    if not isinstance(model, DreamGenerator):
        raise DreamError(f"The file holds a {type(model).__name__}, not a kerasdream "
                         f"DreamGenerator. Received: path={path!r}")
    recorded = (model.spec or {}).get("network")
    # A dream saved before networks were recorded by content cannot be checked.
    if network is not None and recorded is not None and recorded != network:
        base = (model.spec or {}).get("base") or {}
        made = f"model={base.get('model')!r}" if base else "an in-memory network"
        raise DreamError(f"The dream file was made with another network ({made}, "
                         f"{'network ' + recorded[:12] if recorded else 'not recorded'}) than "
                         f"the one asked for (network {network[:12]}): delete it or train "
                         f"it anew. Received: path={path!r}")
    return model
