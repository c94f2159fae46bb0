"""The quality yardstick: how good are the pictures a recipe gives? (issue 14)

    python benchmarks/quality.py                    # every recipe (under 15 minutes)
    python benchmarks/quality.py --recipes lucid    # some recipes
    python benchmarks/quality.py --quick            # ~1-minute smoke run, temp folder

For each recipe, 16 dreams (filters 0-15) at eight layers of the shipped
MobileNet (alpha 0.25, 128 px), shallow to deep, scored on their final uint8
images with `kerasdream.evaluation.scoring.score_dreams`: rank 1 and robust rank 1
(8 fixed random views: shifts up to 6 px, scales 0.9-1.1, rotations up to 8
degrees), the natural-photo ratio (pre-activation for ReLU6 layers, see
`kerasdream.evaluation.scoring`), flat dreams, clipped pixels, high-frequency noise,
column selectivity, the path check (`kerasdream.evaluation.path`: dreams off
the natural path below their layer) and seconds of training. Then the inversion error of two
photos at three layers, and caricatures (picture only).

Writes `quality.md` (the table), `quality.json` (every record) and one grid
PNG per (recipe, layer) plus `quality_inversions.png` to `--out`
(default `benchmarks/results`; a temporary folder with `--quick`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasdream as kd  # noqa: E402
from kerasdream import io  # noqa: E402
from kerasdream import evaluation
from kerasdream import transforms as T  # noqa: E402
from kerasdream.network.bases import as_spec, load_base  # noqa: E402
from kerasdream.optimizers import RowNormalizedSGD  # noqa: E402

RESULTS = _setup.RESULTS
SIZE = 128
FILTERS = list(range(16))
LAYERS = ["conv_pw_1_relu", "conv_pw_2_relu", "conv_pw_3_relu", "conv_pw_4_relu",
          "conv_pw_5_relu", "conv_pw_7_relu", "conv_pw_10_relu", "conv_pw_13_relu"]
INVERSION_LAYERS = ["conv_pw_3_relu", "conv_pw_6_relu", "conv_pw_8_relu"]
CARICATURE_LAYER = "conv_pw_6_relu"
PHOTOS = ["astronaut", "coffee"]


# ------------------------------------------------------------------ recipes


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one set of dreams is made: every choice that changes the pictures.

    `transforms(layer)` and `optimizer()` are factories (fresh layers, fresh
    state a run); `optimizer=None` means the package's default; `pre_activation`
    maximizes the layer's pre-activation (Lucid's `_pre_relu`) instead of
    its output; `rivals` subtracts that multiple of `Rivals` (the soft
    maximum of the other channels' means, read like the channel).
    """

    name: str
    summary: str
    steps: int
    parameterization: str = "fourier"
    transforms: Callable[[str], Any] = lambda layer: "default"
    optimizer: Callable[[], keras.optimizers.Optimizer] | None = None
    pre_activation: bool = False
    rivals: float = 0.0
    cli: bool = False


def _seeded(position: int) -> dict:
    """No seed where the package derives independent ones from the run's seed,
    else a distinct seed per position (older transforms all defaulted to 0)."""
    return {} if hasattr(T, "derived_seed") else {"seed": 101 + position}


def _pad(pixels: int) -> list:
    """Lucid's constant-grey pad, where the package has a `Pad` transform."""
    return [T.Pad(pixels, value=127.5)] if hasattr(T, "Pad") else []


def lucid_transforms(layer: str) -> list:
    """Lucid's `standard_transforms`: pad 12, jitter 8, scale 0.9-1.1, rotate
    up to 10 degrees, jitter 4."""
    layers = _pad(12)
    layers += [T.Jitter(8, **_seeded(1)), T.Scale(0.1, **_seeded(2)),
               T.Rotate(10.0, **_seeded(3)), T.Jitter(4, **_seeded(4))]
    return layers


def light_transforms(layer: str) -> list:
    """The views the yardstick scores, in training: jitter 4, scale 0.9-1.1,
    rotate up to 8 degrees, jitter 2 (no pad)."""
    return [T.Jitter(4, **_seeded(0)), T.Scale(0.1, **_seeded(1)),
            T.Rotate(8.0, **_seeded(2)), T.Jitter(2, **_seeded(3))]


def paper_jitter(layer: str) -> list:
    """The pre-images paper's jitter, max(round(stride / 4), 1) pixels for the
    layer's stride (the package's default transform before issue 14)."""
    base = load_base(None)
    cells = evaluation.features(base, layer, np.zeros((1, SIZE, SIZE, 3)), "tf").shape[1]
    return [T.Jitter(T.paper_jitter(SIZE // cells), **_seeded(0))]


_NOT_DREAM_OPTIONS = {"command", "layer", "filters", "out", "models_dir", "format", "quiet",
                      "resume", "strategy", "cpu_devices", "model", "alpha", "weights",
                      "preprocess", "batch", "seed"}


def cli_defaults() -> dict[str, Any]:
    """The `kerasdream filters` defaults that shape a dream, read from the CLI's own parser."""
    args = kd_cli().build_parser().parse_args(["filters", "--layer", "x", "--out", "x"])
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in sorted(vars(args).items()) if key not in _NOT_DREAM_OPTIONS}


def kd_cli():
    from kerasdream.cli import commands as cli

    return cli


def recipes() -> dict[str, Recipe]:
    defaults = cli_defaults()
    described = ", ".join(f"{k} {v}" for k, v in defaults.items())
    adam = lambda: keras.optimizers.Adam(0.1)  # noqa: E731
    table = [
        Recipe("cli-defaults", f"`kerasdream filters` as shipped, read from its parser "
                               f"({described})", steps=defaults["steps"], cli=True),
        Recipe("previous-defaults", "the defaults before issue 14: Fourier, the paper's jitter "
                                    "(stride / 4), RowNormalizedSGD 0.01 with momentum 0.9, "
                                    "200 steps, channel read after the ReLU6 (with today's "
                                    "Lucid-style redirect of a dead start)",
               steps=200, transforms=paper_jitter,
               optimizer=lambda: RowNormalizedSGD(0.01, momentum=0.9)),
        Recipe("lucid", "Lucid's recipe: Fourier + decorrelated colour, pad 12 (grey), "
                        "jitter 8, scale 0.9-1.1, rotate 10, jitter 4, Adam 0.05, 512 steps, "
                        "channel read before the ReLU (Lucid's `_pre_relu`)",
               steps=512, transforms=lucid_transforms,
               optimizer=lambda: keras.optimizers.Adam(0.05), pre_activation=True),
        Recipe("pre-light", "candidate: Fourier, jitter 4 / scale 0.9-1.1 / rotate 8 / "
                            "jitter 2, Adam 0.1, 200 steps, channel before the ReLU",
               steps=200, transforms=light_transforms, optimizer=adam, pre_activation=True),
        Recipe("pre-rivals-1", "candidate: as pre-light, minus 1 x Rivals (soft maximum of the "
                               "other channels' pre-ReLU means, temperature 3)",
               steps=200, transforms=light_transforms, optimizer=adam, pre_activation=True,
               rivals=1.0),
        Recipe("maco", "MACO (issue 20): the shipped skimage magnitude spectrum, phase only, "
                       "random crop 60-100 % + noise 10 grey levels (`--transforms maco`), the "
                       "CLI's objective (pre-ReLU channel minus 2 x Rivals), Adam 0.05, 200 steps",
               steps=200, parameterization="maco", transforms=lambda layer: "maco",
               pre_activation=True, rivals=2.0),
        Recipe("maco-light", "as maco, with the CLI's light transforms instead of crops + noise",
               steps=200, parameterization="maco", transforms=lambda layer: "light",
               pre_activation=True, rivals=2.0),
    ]
    return {recipe.name: recipe for recipe in table}


# ------------------------------------------------------------------ training


def objective_for(recipe: Recipe, base: keras.Model, layer: str, filters: list[int]):
    target = evaluation.pre_activation_key(base, layer) if recipe.pre_activation else layer
    objective = kd.Channel(target, filters)
    if recipe.rivals:
        objective = objective - recipe.rivals * kd.Rivals(target, filters, temperature=3.0)
    return objective


def train_recipe(recipe: Recipe, layer: str, filters: list[int], steps: int | None = None,
                 ) -> np.ndarray:
    """The final uint8 dreams (N, H, W, C) of `filters` at `layer` with `recipe`.

    The one place that knows the training API: the CLI for `cli-defaults`,
    `kd.DreamModel` where it exists, else `kd.build_dream_model` + `kd.train`.
    """
    steps = steps or recipe.steps
    if recipe.cli:
        return _train_with_cli(layer, filters, steps)
    base = load_base(None)
    objective = objective_for(recipe, base, layer, filters)
    transforms = recipe.transforms(layer)
    optimizer = recipe.optimizer() if recipe.optimizer else None
    if hasattr(kd, "DreamModel"):
        model = kd.DreamModel(objective, None, size=SIZE, parameterization=recipe.parameterization,
                              transforms=transforms, seed=0)
        model.compile(**({"optimizer": optimizer} if optimizer else {}))
        model.fit(steps=steps, verbose=0)
        return model.render()
    model = kd.build_dream_model(objective, None, size=SIZE,
                                 parameterization=recipe.parameterization,
                                 transforms=transforms, seed=0)
    kd.train(model, steps, optimizer=optimizer)
    return kd.render(model)


def warmup_decay(steps: int, learning_rate: float | None = None, warmup: float = 0.1,
                 final: float = 0.1) -> keras.optimizers.schedules.LearningRateSchedule:
    """The `--schedule` candidate: linear from `final` x the peak (the command's
    learning rate) to the peak over the first `warmup` of the `steps`, then a
    cosine down to `final` x the peak at the last step."""
    from kerasdream.defaults import DEFAULT_LEARNING_RATE

    peak = float(DEFAULT_LEARNING_RATE if learning_rate is None else learning_rate)
    warmup_steps = int(round(warmup * steps))
    return keras.optimizers.schedules.CosineDecay(
        peak * final, max(1, steps - warmup_steps), alpha=final,
        warmup_target=peak if warmup_steps else None, warmup_steps=warmup_steps)


CLI_EXTRA: list[str] = []  # `--cli-extra`: options appended to the cli-defaults recipe
SCHEDULE = False  # `--schedule`: the cli-defaults recipe's rate warms up, then decays


def _train_with_cli(layer: str, filters: list[int], steps: int) -> np.ndarray:
    """`kerasdream filters` with its defaults (and `--steps` only in --quick
    runs), plus any `--cli-extra` options."""
    with tempfile.TemporaryDirectory(prefix="kerasdream-quality-") as folder:
        argv = ["filters", "--layer", layer, "--filters", ",".join(map(str, filters)),
                "--out", os.path.join(folder, "out"),
                "--models-dir", os.path.join(folder, "models"), "--quiet"]
        if steps != cli_defaults()["steps"]:
            argv += ["--steps", str(steps)]
        argv += CLI_EXTRA
        if SCHEDULE:  # the command's own optimizer, its rate on `warmup_decay` over the run
            from kerasdream.optimizers import default_optimizer
            from kerasdream.runs import chunk

            given = [int(argv[i + 1]) for i, arg in enumerate(argv) if arg == "--steps"]
            run_steps = given[-1] if given else steps  # the last one counts, as in argparse
            chunk.default_optimizer = lambda rate=None: default_optimizer(
                warmup_decay(run_steps, rate))
        try:
            status = kd_cli().main(argv)
        finally:
            if SCHEDULE:
                chunk.default_optimizer = default_optimizer
        if status:
            raise RuntimeError(f"kerasdream {' '.join(argv)} exited with {status}")
        pngs = [os.path.join(folder, "out", layer, f"filter_{k}.png") for k in filters]
        return np.stack([io.load_image(p) for p in pngs]).astype("uint8")


def invert_photo(kind: str, photo: np.ndarray, layer: str, steps: int | None = None,
                 ) -> np.ndarray:
    """The package's own `invert` / `caricature` at its defaults: uint8 (H, W, C)."""
    from kerasdream.preimages import preimage

    kwargs = {"steps": steps} if steps else {}
    image, _ = preimage(kind, photo, layer, **kwargs)
    return np.asarray(image, "uint8")


# ------------------------------------------------------------------ measuring


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def layer_summary(records: list[dict]) -> dict[str, Any]:
    """The table's row for one (recipe, layer) from its per-dream records."""
    return {
        "rank1": sum(r["rank"] == 1 for r in records),
        "robust_rank1": sum(r["robust_rank"] == 1 for r in records),
        "pre_robust_rank1": sum(r.get("pre_robust_rank") == 1 for r in records),
        "natural_ratio": _median(r["natural_ratio"] for r in records),
        "robust_natural_ratio": _median(r["robust_natural_ratio"] for r in records),
        "flat": sum(r["flat"] for r in records),
        "flat_constant": sum(r["flat"] and r["constant_channel"] for r in records),
        "clipped_fraction": float(np.mean([r["clipped_fraction"] for r in records])),
        "high_frequency": float(np.mean([r["high_frequency"] for r in records])),
        "column_selective": sum(r["column_selective"] for r in records),
        "off_path": sum(r.get("off_path") is True for r in records),
        "path_checked": sum(r.get("off_path") is not None for r in records),
        "path_similarity": _median(r.get("path_similarity") for r in records),
        "dreams": len(records),
    }


def run_dreams(chosen: list[Recipe], layers: list[str], filters: list[int],
               steps: int | None, out: str, log=print) -> list[dict]:
    base = load_base(None)
    preprocess = as_spec(None).preprocess_mode
    rows = []
    for recipe in chosen:
        for layer in layers:
            began = time.perf_counter()
            try:
                images = train_recipe(recipe, layer, filters, steps)
            except Exception as error:  # one broken recipe must not hide the others
                log(f"{recipe.name} at {layer} failed: {type(error).__name__}: {error}")
                rows.append({"recipe": recipe.name, "layer": layer,
                             "error": f"{type(error).__name__}: {error}"})
                continue
            seconds = time.perf_counter() - began
            records = evaluation.score_dreams(base, layer, images, filters, preprocess)
            row = {"recipe": recipe.name, "layer": layer, "seconds": seconds,
                   "summary": layer_summary(records), "records": records}
            rows.append(row)
            log(format_row(row))
            picture = io.grid(images, labels=[str(k) for k in filters],
                              title=f"{recipe.name}, {layer}")
            io.save_png(os.path.join(out, f"quality_{recipe.name}_{layer}.png"), picture)
    return rows


def _load_photo(name: str) -> np.ndarray:
    """A skimage photo, centre-cropped square and resized to SIZE x SIZE."""
    import skimage.data
    from PIL import Image

    photo = getattr(skimage.data, name)()
    side = min(photo.shape[:2])
    top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
    square = photo[top:top + side, left:left + side]
    resized = Image.fromarray(square).resize((SIZE, SIZE), Image.BILINEAR)
    return np.asarray(resized, "float32")


def run_inversions(layers: list[str], steps: int | None, out: str, log=print) -> list[dict]:
    base = load_base(None)
    preprocess = as_spec(None).preprocess_mode
    rows, pictures = [], []
    for name in PHOTOS:
        photo = _load_photo(name)
        tiles, labels = [photo.astype("uint8")], [name]
        for layer in layers:
            began = time.perf_counter()
            image = invert_photo("invert", photo, layer, steps)
            seconds = time.perf_counter() - began
            error = float(evaluation.relative_error(base, layer, image[None], photo,
                                                    preprocess)[0])
            rows.append({"photo": name, "layer": layer, "relative_error": error,
                         "seconds": seconds})
            log(f"inversion of {name} at {layer}: relative error {error:.3f} ({seconds:.0f} s)")
            tiles.append(image)
            labels.append(f"invert {layer.replace('conv_', '').replace('_relu', '')}")
        tiles.append(invert_photo("caricature", photo, CARICATURE_LAYER, steps))
        labels.append(f"caricature {CARICATURE_LAYER.replace('conv_', '').replace('_relu', '')}")
        pictures.append(io.grid(np.stack(tiles), labels=labels, columns=len(tiles),
                                title=f"{name}: inversions and caricature"))
    io.save_png(os.path.join(out, "quality_inversions.png"), io.stack(pictures))
    return rows


# ------------------------------------------------------------------ reporting


HEADER = ("| recipe | layer | rank 1 | robust rank 1 | robust rank 1 (pre) | natural ratio | "
          "robust natural ratio | flat (constant channel) | clipped | high-freq. | "
          "column-selective | off the natural path | seconds |")
COLUMNS = 13


def _ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_row(row: dict) -> str:
    if "error" in row:
        return (f"| {row['recipe']} | {row['layer']} | failed: {row['error'][:80]} |"
                + " |" * (COLUMNS - 3))
    s, n = row["summary"], row["summary"]["dreams"]
    return (f"| {row['recipe']} | {row['layer']} | {s['rank1']}/{n} | {s['robust_rank1']}/{n} | "
            f"{s['pre_robust_rank1']}/{n} | {_ratio(s['natural_ratio'])} | "
            f"{_ratio(s['robust_natural_ratio'])} | {s['flat']} ({s['flat_constant']}) | "
            f"{s['clipped_fraction']:.3f} | {s['high_frequency']:.1f} | "
            f"{s['column_selective']}/{n} | {_off_path(s)} | {row['seconds']:.1f} |")


def _off_path(summary: dict) -> str:
    """"2/16 (0.71)": dreams off the natural path and the median path similarity;
    "-" for rows measured before the path check, or where no layer lies below."""
    if not summary.get("path_checked"):
        return "-"
    return (f"{summary['off_path']}/{summary['path_checked']} "
            f"({_ratio(summary['path_similarity'])})")


def report(chosen: list[Recipe], rows: list[dict], inversions: list[dict],
           natural_hf: float, total: float, command: str,
           inversions_date: str | None = None) -> str:
    lines = [
        "# Picture quality (the yardstick of issue 14)",
        "",
        f"Command: `{command}` ({time.strftime('%Y-%m-%d')}, {platform.node() or 'this machine'}, "
        f"{os.cpu_count()} cores shared with other work; Keras {keras.__version__}, backend "
        f"{keras.backend.backend()}). Total {total:.0f} s.",
        "",
        f"Shipped MobileNet alpha 0.25, {SIZE} px, filters {FILTERS[0]}-{FILTERS[-1]} a layer; "
        "scored on the final uint8 images by `kerasdream.evaluation.scoring.score_dreams`.",
        "",
        "- **rank 1**: the dream's own filter is the layer's most active channel (channel means; a "
        "tie at ReLU6's cap of 6 counts). **robust**: on the mean over 8 fixed random views "
        "(shift up to 6 px, scale 0.9-1.1, rotation up to 8 degrees, reflected border). "
        "**(pre)**: the same on the pre-activation (the ReLU6's input).",
        "- **natural ratio**: median over the dreams of the target's mean activation / its largest "
        "mean over 72 crops of 12 skimage photos. On these ReLU6 layers both are read BEFORE the "
        "cap (a capped value cannot exceed 6, so post-ReLU ratios are bounded by 6 / photo max).",
        "- **flat**: pixel std < 2; in brackets those whose filter is constant (zero weights: no "
        "picture changes it, so its dream keeps its start). **clipped**: fraction of values at 0 "
        f"or 255. **high-freq.**: mean |dx| + |dy| (natural photos: {natural_hf:.1f}). "
        "**column-selective**: dream k drives filter k at least as hard as every other dream does.",
        "- **off the natural path** (`kerasdream.evaluation.path`): dreams whose channel means at "
        "one of up to 3 layers below the target, in units of the natural crops' spread, "
        "correlate less with the nearest crop's than every crop does with another photo's; "
        "in brackets the median path similarity (that correlation at each dream's worst "
        "layer). \"-\": measured before the check existed.",
        "- **seconds**: wall time to train one layer's 16 dreams (the CLI row includes writing "
        "its PNGs and per-filter models).",
        "",
        "Recipes:",
        "",
        *[f"- `{r.name}`: {r.summary}" for r in chosen],
        "",
        HEADER,
        "|" + "---|" * COLUMNS,
        *[format_row(row) for row in rows],
        "",
    ]
    if inversions:
        lines += [
            (f"Inversion (kept from {inversions_date}) " if inversions_date else "Inversion ") +
            "(`kerasdream.preimages.preimage('invert', ...)` at its defaults), relative "
            "feature error `||Phi(x) - Phi0|| / ||Phi0||` of the final uint8 image; photos "
            f"centre-cropped and resized to {SIZE} px. Caricatures at {CARICATURE_LAYER}: "
            "`quality_inversions.png`.",
            "",
            "| photo | " + " | ".join(INVERSION_LAYERS) + " |",
            "|---|" + "---|" * len(INVERSION_LAYERS),
        ]
        for photo in PHOTOS:
            errors = {r["layer"]: r["relative_error"] for r in inversions if r["photo"] == photo}
            lines.append(f"| {photo} | " + " | ".join(
                f"{errors[layer]:.3f}" if layer in errors else "-" for layer in INVERSION_LAYERS)
                + " |")
        lines.append("")
    return "\n".join(lines)


def previous_date(out: str) -> str | None:
    """The date of `out/quality.md`'s run, from its command line, if any."""
    import re

    path = os.path.join(out, "quality.md")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as file:
        found = re.search(r"\((\d{4}-\d{2}-\d{2})", file.read())
    return found.group(1) if found else None


def kept_rows(out: str, rerun: set[str]) -> list[dict]:
    """The rows of `out/quality.json` whose recipe is not rerun, the recipe
    marked with the date they were measured."""
    previous = io.read_json(os.path.join(out, "quality.json")) or {}
    date = previous.get("date") or previous_date(out)
    rows = []
    for row in previous.get("dreams", []):
        name = row["recipe"].split(" (")[0]
        if name not in rerun:
            mark = f" ({date})" if date and " (" not in row["recipe"] else ""
            rows.append({**row, "recipe": row["recipe"] + mark})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 4 filters, 2 layers, 3 steps, into a temp folder")
    parser.add_argument("--recipes", default=None,
                        help="comma-separated recipe names (default: all)")
    parser.add_argument("--no-inversions", action="store_true", help="skip the inversions")
    parser.add_argument("--layers", default=None,
                        help=f"comma-separated layers (default: {','.join(LAYERS)})")
    parser.add_argument("--out", default=None,
                        help="default: benchmarks/results (a temporary folder with --quick)")
    parser.add_argument("--keep-others", action="store_true",
                        help="keep the rows of recipes not rerun from --out's quality.json "
                             "(marked with their date), and its inversions with "
                             "--no-inversions")
    parser.add_argument("--cli-extra", default="",
                        help="options appended to the cli-defaults recipe's command, e.g. "
                             "'--steps 100 --lr 0.1' (candidates for new defaults)")
    parser.add_argument("--schedule", action="store_true",
                        help="the cli-defaults recipe's learning rate warms up, then decays "
                             "(`warmup_decay` here, over its steps)")
    args = parser.parse_args(argv)
    CLI_EXTRA[:] = args.cli_extra.split()
    global SCHEDULE
    SCHEDULE = args.schedule
    table = recipes()
    names = args.recipes.split(",") if args.recipes else list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        parser.error(f"unknown recipe {unknown[0]!r}; expected some of {', '.join(table)}")
    out = args.out or (tempfile.mkdtemp(prefix="kerasdream-quality-quick-") if args.quick
                       else RESULTS)
    if args.quick and os.path.abspath(out) == os.path.abspath(RESULTS):
        parser.error("--quick never writes to benchmarks/results; pick another --out")
    os.makedirs(out, exist_ok=True)

    chosen = [table[n] for n in names]
    layers = [LAYERS[0], LAYERS[-1]] if args.quick else LAYERS
    if args.layers:
        layers = args.layers.split(",")
    filters = FILTERS[:4] if args.quick else FILTERS
    steps = 3 if args.quick else None
    began = time.perf_counter()
    natural_hf = evaluation.natural_high_frequency(SIZE)
    print(f"Natural photos' high-frequency measure at {SIZE} px: {natural_hf:.1f}")
    print(HEADER)
    print("|" + "---|" * COLUMNS)
    rows = run_dreams(chosen, layers, filters, steps, out)
    inversions = [] if args.no_inversions else run_inversions(
        INVERSION_LAYERS[:1] if args.quick else INVERSION_LAYERS, steps, out)
    inversions_date = None
    if args.keep_others and args.no_inversions:  # the inversions not rerun: kept too
        previous = io.read_json(os.path.join(out, "quality.json")) or {}
        inversions = previous.get("inversions", [])
        inversions_date = previous.get("inversions_date") or previous_date(out)
    if args.keep_others:
        kept = kept_rows(out, {r.name for r in chosen})
        rows += kept
        chosen += [table[n] for n in dict.fromkeys(r["recipe"].split(" (")[0] for r in kept)
                   if n in table]
    total = time.perf_counter() - began
    command = "python benchmarks/quality.py" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    text = report(chosen, rows, inversions, natural_hf, total, command, inversions_date)
    with io.atomic_path(os.path.join(out, "quality.md")) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
    io.write_json(os.path.join(out, "quality.json"), {
        "command": command, "date": time.strftime("%Y-%m-%d"), "seconds_total": total,
        "size": SIZE, "filters": filters,
        "natural_high_frequency": natural_hf,
        "cli_defaults": cli_defaults(),
        "recipes": {r.name: r.summary for r in chosen},
        "dreams": rows, "inversions": inversions,
        "inversions_date": inversions_date or time.strftime("%Y-%m-%d"),
    })
    print(f"\nTotal {total:.0f} s. Wrote {os.path.join(out, 'quality.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
