"""What a gallery's dreams achieved: one `FilterResult` each, and the summaries."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kerasdream.defaults import SKIMAGE_REFERENCE
from kerasdream.runs.layout import CONSTANT, DEAD, FINISHED, OK, SATURATED_PREFIX
from kerasdream.runs.records import reference_key


@dataclass
class FilterResult:
    """What one filter's dream achieved, as recorded in `metrics.json`.

    `rank` reads the final 8-bit image; `robust_rank` the mean over fixed
    random views of it (shifted, scaled, rotated a little); `natural_ratio`
    is the activation over the filter's largest on crops of real photos
    (for a capped ReLU, of the pre-activation); `reference` names those
    photos (`photo_folder.Reference`: 'skimage', or a folder of the user's own
    and a hash of its photos). `off_path` is the path
    check (`kerasdream.evaluation.path`): the dream's activations at
    `path_layer`, below its filter, are less like any real photo's
    (`path_similarity`) than photos' are like one another's (`path_floor`);
    None where no layer lies below. See `kerasdream.evaluation.scoring`.
    """

    filter: int
    start_activation: float
    final_activation: float
    rank: int
    steps: int
    wall_seconds: float
    status: str = OK
    robust_rank: int | None = None
    natural_ratio: float | None = None
    robust_natural_ratio: float | None = None
    resumed_at: list[int] = dataclasses.field(default_factory=list)
    path_similarity: float | None = None
    path_floor: float | None = None
    path_layer: str | None = None
    off_path: bool | None = None
    reference: str = SKIMAGE_REFERENCE

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> FilterResult:
        """The result a commit record (or a metrics entry) holds (a record from
        before references had keys was scored against skimage's photos)."""
        fields = {k: v for k, v in record.items() if k in cls.__dataclass_fields__}
        fields["reference"] = reference_key(record)
        return cls(**fields)


def summarize(layer: str, results: Sequence[FilterResult], *, objective: str = "channel",
              cap: float | None = None, grayscale: bool = False,
              photos: str | None = None) -> str:
    """One sentence per layer: how many dreams excite their own filter most
    (for class dreams: how many the network itself classifies as their class).

    Args:
        layer: The layer's name.
        results: Its dreams' results.
        objective: The gallery's objective; `"class"` dreams are counted as
            classifications, with no photo ratio.
        cap: The layer's ReLU cap (`network.activations.relu_cap`), if it has one:
            only then can a dream tie with other channels at the cap.
        grayscale: The network takes one-channel images: skimage's colour
            photos say nothing of it, so without `photos` no ratio is given.
        photos: How to name the user's own reference photos ('your 24 photos
            of /data/digits'; `Reference.describe`), None for skimage's.

    Returns:
        The sentence.
    """
    count = len(results)
    rank1 = sum(r.rank == 1 for r in results)
    robust = sum(r.robust_rank == 1 for r in results)
    ratios = [r.robust_natural_ratio for r in results if r.robust_natural_ratio is not None]
    tie = "" if cap is None else (
        "; a tie at a ReLU6 cap counts" if cap == 6.0 else f"; a tie at its ReLU cap of {cap:g} "
                                                           f"counts")
    if objective == "class":
        text = (f"{layer}: the network classifies {rank1} of {count} class dreams as their "
                f"class ({robust} of {count} still when shifted, scaled or rotated a little)")
    else:
        text = (f"{layer}: {rank1} of {count} dreams excite their own filter more than any "
                f"other channel of the layer ({robust} of {count} still do when shifted, "
                f"scaled or rotated a little{tie})")
        if grayscale and photos is None:
            text += ("; not compared with photos (skimage's are in colour and this network "
                     "takes grayscale images: give --examples a folder of its own)")
        elif ratios:
            text += (f"; median {statistics.median(ratios):.2f}x the filter's strongest "
                     f"response to {photos or 'real photos'}")
    dead = sum(r.status == DEAD for r in results)
    saturated = sum(r.status.startswith(SATURATED_PREFIX) for r in results)
    failed = sum(r.status not in FINISHED for r in results) - saturated
    text += (f"; {saturated} saturated to 0 and 255 (try a smaller learning rate)"
             if saturated else "")
    text += (f"; {dead} dead (the filter never fired: no gradient reached its dream)"
             if dead else "")
    constant = sum(r.status == CONSTANT for r in results)
    text += (f"; {constant} constant (the filter ignores its input: the same output for "
             f"every image, so its dream shows nothing of it)" if constant else "")
    text += off_path_clause(results)
    return text + (f"; {failed} stopped early on non-finite values" if failed else "") + "."


def off_path_clause(results: Sequence[FilterResult]) -> str:
    """"; 2 off the natural path (...)" when the path check flagged any dream, else ""."""
    off = sum(r.off_path is True for r in results)
    return (f"; {off} off the natural path (below the layer, their activations are less "
            f"like any real photo's than photos' are like each other's: do not trust what "
            f"they show)"
            if off else "")


def all_failed(results: Mapping[str, Sequence[FilterResult]]) -> bool:
    """True when the run dreamed something and not one dream finished."""
    statuses = [r.status for rs in results.values() for r in rs]
    return bool(statuses) and not any(s in FINISHED for s in statuses)
