"""Filter galleries: many filters' dreams, per-filter models, metrics, resuming.

`run_gallery` plans the run (`kerasdream.runs.plan`) and hands it to the one
driver (`kerasdream.runs.driver`) with an executor: in this process, or a
Dask cluster (`kerasdream.runs.executors`). For each layer, the filters
train in chunks of `batch` dreams, one `fit` per chunk; after every chunk
each dream's PNG, per-filter model and commit record
(`kerasdream.runs.records`, written last) are written atomically, then the
layer's `metrics.json`. An interrupted run loses at most the chunk that was
training. Running the same command again checks every record against its
files and settings: it skips the dreams that match, moves aside and redoes
those that do not, keeps a longer dream rather than downgrade it (unless
`overwrite`), and says how many of each. One run at a time writes to an
output folder (`kerasdream.runs.runlock`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kerasdream.defaults import DEFAULT_BATCH
from kerasdream.runs import driver
from kerasdream.runs.plan import make_plan
from kerasdream.runs.results import FilterResult
from kerasdream.runs.settings import DreamSettings, parse_filters

__all__ = ["DreamSettings", "FilterResult", "parse_filters", "run_gallery"]


def run_gallery(
    spec,
    layers: Sequence[str] | None,
    filters: str | None,
    settings: DreamSettings,
    *,
    out_dir: str,
    models_dir: str,
    model_format: str = "keras",
    batch: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    quiet: bool = False,
    strategy: Any = None,
    executor: driver.Executor | None = None,
    index: bool = False,
    log: Callable[[str], None] = print,
    names: Sequence[str] | None = None,
    reference: Any = None,
) -> dict[str, list[FilterResult]]:
    """Dreams for `filters` of each layer (default: a shallow, middle and deep
    layer, 16 filters each), one grid per layer and `gallery.png` for several.

    Args:
        spec: The network (`BaseSpec`).
        layers: Layer names; None: a shallow, a middle and a deep one.
        filters: A filter list ('0-15', '3,5', 'all'); None: the first 16.
        settings: The dreams' settings.
        out_dir: Where the PNGs, records, metrics and grids go.
        models_dir: Where the per-filter models go.
        model_format: 'keras' or 'h5'.
        batch: Dreams per chunk (one `fit` each).
        resume: Continue shorter dreams made with the same settings.
        overwrite: Retrain finished dreams instead of keeping or moving them aside.
        quiet: No progress bar.
        strategy: A `tf.distribute` strategy for the in-process executor.
        executor: `executors.InProcess()` (the default) or `executors.Dask(...)`.
        index: Rewrite the atlas' `index.html` as each layer finishes.
        log: Where the report lines go.
        names: Class names, for class dreams (`settings.objective == "class"`):
            grids, `metrics.json` and the site show them.
        reference: The photos the dreams are judged against
            (`kerasdream.evaluation.folder_reference`); None: skimage's. A rerun
            with other photos rescores finished dreams without retraining them.

    Returns:
        Each layer's results, in the order of `filters`.

    Raises:
        FolderInUse: another run holds `out_dir` (see `driver.run` for the rest).
    """
    from kerasdream.runs.executors import InProcess

    plan = make_plan(spec, layers, filters, settings, out_dir=out_dir, models_dir=models_dir,
                     model_format=model_format, batch=batch or DEFAULT_BATCH, resume=resume,
                     overwrite=overwrite, strategy=strategy,
                     names=None if names is None else list(names), reference=reference)
    return driver.run(plan, executor or InProcess(), quiet=quiet, index=index, log=log)
