"""What decides a gallery dream: its settings, its objective, the filters asked for.

No Keras at import: the command line builds settings before any network loads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kerasdream.defaults import (
    DEFAULT_ACTIVATION,
    DEFAULT_PARAMETERIZATION,
    DEFAULT_PRECISION,
    DEFAULT_SELECTIVITY,
    DEFAULT_STEPS,
    DEFAULT_TRANSFORMS,
    OBJECTIVE_CLASSES,
)
from kerasdream.errors import DreamError

# Objective names and their classes in `kerasdream.objectives.terms`; "class"
# is the `classes` command's (a class's logit), not a filter objective.
OBJECTIVES = {**OBJECTIVE_CLASSES, "class": "ClassLogit"}


@dataclass(frozen=True)
class DreamSettings:
    """Everything that decides what a filter's dream looks like.

    Two runs with equal settings and the same `--batch` (ignoring `steps`
    when resuming) give the same image for the same filter. Another batch
    size starts every dream from the same image, but float32 sums over
    another batch shape round otherwise, and long runs can drift apart.
    """

    size: int | list[int] | None = None  # None: the network's own, else DEFAULT_SIZE
    steps: int = DEFAULT_STEPS
    learning_rate: float | None = None
    seed: int = 0
    parameterization: str = DEFAULT_PARAMETERIZATION
    transforms: str = DEFAULT_TRANSFORMS
    objective: str = "channel"
    activation: str = DEFAULT_ACTIVATION
    selectivity: float = DEFAULT_SELECTIVITY
    precision: str = DEFAULT_PRECISION
    spectrum: str | None = None  # MACO: a folder of photos whose spectrum to use
    # What the dreams were made with, by content (`network.identity`), filled
    # in by the plan: the network (weights, architecture, preprocessing) and
    # the spectrum folder's spectrum. None: not known (an older record).
    network: str | None = None
    spectrum_identity: str | None = None

    def __post_init__(self):
        # Rivals are subtracted from a channel's mean only: refused, not ignored.
        if self.objective != "channel" and self.selectivity != DEFAULT_SELECTIVITY:
            raise DreamError(f"selectivity applies to the 'channel' objective only; drop it "
                             f"with objective={self.objective!r}. Received: "
                             f"selectivity={self.selectivity!r}")

    @property
    def image_size(self) -> int | tuple[int, int]:
        """`size` as `DreamModel` takes it (JSON gives a [height, width] list back)."""
        return tuple(self.size) if isinstance(self.size, list) else self.size

    def parameterization_for(self, base):
        """The parameterization name, or a MACO layer with the `spectrum` folder's.

        Raises:
            DreamError: a spectrum folder with another parameterization than 'maco'.
        """
        if self.spectrum is None:
            return self.parameterization
        if self.parameterization != "maco":
            raise DreamError(f"A spectrum folder is for the 'maco' parameterization. "
                             f"Received: parameterization={self.parameterization!r}")
        from kerasdream.network.bases import image_shape_for
        from kerasdream.param.maco import Maco, folder_spectrum

        shape = image_shape_for(base, self.image_size)
        return Maco(shape, magnitude=folder_spectrum(self.spectrum, shape[:2], shape[2]))

    def objective_for(self, layer: str, filters: list[int], base):
        """The objective for `filters` of `layer` (`objectives.gallery_objective`):
        a ReLU layer is read before its gate with `activation="pre"`, so a
        dream is not pushed to the cap; a channel objective also pushes its
        rivals down, by the selectivity times the layer's depth share.

        Raises:
            DreamError: an unknown objective or activation.
        """
        from kerasdream.objectives.terms import ClassLogit, gallery_objective

        if self.objective == "class":  # read before the softmax: the logits
            return ClassLogit(filters, layer)
        return gallery_objective(layer, filters, base, objective=self.objective,
                                 activation=self.activation, selectivity=self.selectivity)

    def learning_rate_for(self, layer: str, base) -> float:
        """The learning rate a dream of `layer` trains at: the one given, else
        the layer's depth default (`network.layers.layer_defaults`)."""
        if self.learning_rate is not None:
            return self.learning_rate
        from kerasdream.network.layers import layer_defaults

        return layer_defaults(base, layer)[1]

    def differences(self, recorded: dict, ignore_steps: bool = False,
                    resuming: bool = False) -> list[str]:
        """'seed: 1 -> 0' for each setting `recorded` has otherwise than these;
        a resumed dream may go on at another learning rate."""
        mine = dataclasses.asdict(self)
        # Recorded before `precision` existed: those dreams were float32,
        # which is what `auto` is wherever they could have been made.
        recorded = {"precision": DEFAULT_PRECISION, **recorded}
        if ignore_steps:
            mine.pop("steps")
        if resuming:
            mine.pop("learning_rate")
        return [_difference(k, recorded.get(k), v) for k, v in mine.items()
                if recorded.get(k) != v]

    def identified(self, base, preprocess: str) -> DreamSettings:
        """These settings with the network's and the spectrum's identities filled in.

        Args:
            base: The loaded network (`load_base`).
            preprocess: Its preprocessing mode.

        Returns:
            A copy whose `network` (and, with a spectrum folder, `spectrum_identity`)
            name what decides the pictures by content.
        """
        from kerasdream.network.identity import array_identity, network_identity

        spectrum = None
        if self.spectrum is not None and self.parameterization == "maco":
            from kerasdream.network.bases import image_shape_for
            from kerasdream.param.maco import folder_spectrum

            shape = image_shape_for(base, self.image_size)
            spectrum = array_identity(folder_spectrum(self.spectrum, shape[:2], shape[2]))
        return dataclasses.replace(self, network=network_identity(base, preprocess),
                                   spectrum_identity=spectrum)


def _difference(key: str, was, now) -> str:
    """'seed: 1 -> 0'; the identities in words (their hashes mean nothing to a reader)."""
    if key in ("network", "spectrum_identity"):
        what = ("the network's weights, architecture or preprocessing" if key == "network"
                else "the spectrum folder's photos")
        if was is None:
            return f"{key}: not recorded (made before kerasdream named it by content)"
        return f"{key}: {what} differ ({str(was)[:12]} -> {str(now)[:12]})"
    return f"{key}: {was!r} -> {now!r}"


def parse_filters(text: str, channels: int | None = None) -> list[int]:
    """`"0-15"`, `"3,5,9"`, `"0-3,8"` or `"all"` -> sorted filter indices.

    Raises:
        DreamError: a malformed list, a negative index or one past `channels`.
    """
    if text.strip().startswith("-"):
        raise DreamError(f"Filters must be 0 or more. Received: filters={text!r}")
    if text.strip() == "all":
        if channels is None:
            raise DreamError("Filters 'all' needs a layer with a known channel count.")
        return list(range(channels))
    filters: list[int] = []
    for part in text.split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        try:
            if dash:
                first, last = int(low), int(high)
                if first > last:
                    raise ValueError
                filters.extend(range(first, last + 1))
            else:
                filters.append(int(part))
        except ValueError:
            raise DreamError(
                "Malformed filter list. Expected indices and ranges such as '0-15', "
                f"'3,5,9' or 'all'. Received: filters={text!r}"
            ) from None
    if any(k < 0 for k in filters):
        raise DreamError(f"Filters must be 0 or more. Received: filters={text!r}")
    if channels is not None and max(filters) >= channels:
        raise DreamError(
            f"Filter out of range: the layer has {channels} channels (0-{channels - 1}). "
            f"Received: filters={text!r}"
        )
    return sorted(dict.fromkeys(filters))
