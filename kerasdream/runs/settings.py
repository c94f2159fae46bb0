"""What decides a gallery dream: its settings, its objective, the filters asked for.

No Keras at import: the command line builds settings before any network loads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kerasdream.defaults import (  # noqa: F401  (ACTIVATIONS: read by tests)
    ACTIVATIONS,
    DEFAULT_ACTIVATION,
    DEFAULT_PARAMETERIZATION,
    DEFAULT_PRECISION,
    DEFAULT_SELECTIVITY,
    DEFAULT_SIZE,
    DEFAULT_STEPS,
    DEFAULT_TRANSFORMS,
    OBJECTIVE_CLASSES,
)
from kerasdream.errors import DreamError

# Objective names and their classes in `kerasdream.objectives.terms`.
OBJECTIVES = OBJECTIVE_CLASSES


@dataclass(frozen=True)
class DreamSettings:
    """Everything that decides what a filter's dream looks like.

    Two runs with equal settings (ignoring `steps` when resuming) give the
    same image for the same filter, whatever the batch size.
    """

    size: int | list[int] = DEFAULT_SIZE
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
        from kerasdream.objectives.terms import gallery_objective

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
        return [f"{k}: {recorded.get(k)!r} -> {v!r}" for k, v in mine.items()
                if recorded.get(k) != v]


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
