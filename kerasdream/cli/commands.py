"""The commands' handlers: one function per `kerasdream` command.

Each takes the parsed arguments and imports Keras (through the modules it
uses) only when it runs: importing this module loads no Keras. `main` (in
`kerasdream.cli`) parses the command line and calls `COMMANDS[command]`.
"""

from __future__ import annotations

import dataclasses
import os

from kerasdream.cli.parser import build_parser  # noqa: F401  (kept importable from here)
from kerasdream.errors import DreamError, RunFailed


def _spec(args):
    from kerasdream.network.bases import BaseSpec

    weights = None if str(args.weights).lower() == "none" else args.weights
    return BaseSpec(args.model, args.alpha, weights, args.preprocess)


def _settings(args, objective: str | None = None):
    from kerasdream.runs.settings import DreamSettings

    settings = DreamSettings(size=None if args.size is None else list(args.size),
                             steps=args.steps, learning_rate=args.lr, seed=args.seed,
                             parameterization=args.parameterization,
                             transforms=args.transforms,
                             objective=objective or args.objective,
                             spectrum=os.path.abspath(args.spectrum) if args.spectrum else None,
                             precision=args.precision)
    if objective is None:
        settings = dataclasses.replace(settings, activation=args.activation,
                                       selectivity=args.selectivity)
    return settings


def note_input_range(spec) -> None:
    """Say once what a model of the user's own is fed (`network.bases.tell_input_range`)."""
    from kerasdream.network.bases import tell_input_range

    tell_input_range(spec)


def _cmd_layers(args) -> None:
    from kerasdream.network.bases import list_layers, load_base

    spec = _spec(args)
    base = load_base(spec)
    print(f"{spec.describe()}: {len(base.layers)} layers "
          f"(* = dreamable: (batch, height, width, channels) output)")
    print(layers_row("", "layer", "type", "output shape", "channels"))
    for info in list_layers(base):
        shape = "(" + ", ".join("None" if d is None else str(d) for d in info.output_shape) + ")"
        mark = "*" if info.dreamable else " "
        channels = "" if info.channels is None else str(info.channels)
        print(layers_row(mark, info.path, info.class_name, shape, channels))


def layers_row(mark: str, path: str, class_name: str, shape: str, channels: str) -> str:
    """One line of `kerasdream layers`: the header's and each layer's columns align."""
    return f"{mark:1} {path:<32} {class_name:<22} {shape:<26} {channels:>8}"


def _strategy(args):
    from kerasdream.network import distribute

    if args.cpu_devices:
        distribute.split_cpu(args.cpu_devices)
    return distribute.get_strategy(args.strategy)


def _check_results(results, args) -> None:
    """A run in which not one dream finished is a failure (exit 1), named."""
    from kerasdream.runs.results import all_failed

    if all_failed(results):
        count = sum(len(r) for r in results.values())
        lr = "the default" if args.lr is None else f"{args.lr:g}"
        raise RunFailed(f"Every dream failed ({count} of {count}; see the lines above): "
                        f"try a smaller learning rate. Received: lr={lr}")


def _profiled(command):
    """Run `command(args)`; with `--profile`, print where its seconds went."""
    def run(args) -> None:
        from kerasdream import profiling

        profiling.reset()
        profiling.mark_start_up()
        import time

        began = time.perf_counter()
        command(args)
        if getattr(args, "profile", False):
            start_up = profiling.seconds().get("start-up", 0.0)
            print(profiling.report(total=start_up + time.perf_counter() - began))

    return run


def _run_gallery(args, spec, layers, filters, strategy=None, index: bool = False,
                 settings=None, names=None, reference=None):
    """The gallery in this process, or with --cluster each chunk a Dask task."""
    from kerasdream.runs.executors import Dask
    from kerasdream.runs.gallery import run_gallery

    if args.cluster and args.cpu_devices:
        raise DreamError(f"--cpu-devices splits this process' CPU and cannot reach a "
                         f"cluster's workers; drop it with --cluster. Received: "
                         f"cpu_devices={args.cpu_devices}, cluster={args.cluster!r}")
    executor = Dask(args.cluster, strategy=args.strategy) if args.cluster else None
    return run_gallery(
        spec, layers, filters, settings or _settings(args),
        out_dir=args.out, models_dir=args.models_dir, model_format=args.format,
        batch=args.batch, resume=args.resume, overwrite=args.overwrite, quiet=args.quiet,
        strategy=strategy, executor=executor, index=index, names=names,
        reference=reference,
    )


def _cmd_gallery(args) -> None:
    spec = _spec(args)
    reference = _reference(args)
    strategy = None if args.cluster else _strategy(args)  # before TensorFlow starts
    note_input_range(spec)
    with _held(args.out, strategy, bool(args.examples)):
        results = _run_gallery(args, spec, args.layer, args.filters, strategy,
                               reference=reference)
        _check_results(results, args)
        if args.examples:
            _examples_and_site(args, spec, results, strategy)
    print(f"Wrote {os.path.abspath(args.out)}")


def _held(out: str, strategy, needed: bool = True):
    """The run lock of `out`, held (and lent to the gallery's driver and the
    examples pass) from the first dream to the site, so a second run on the
    folder is refused the whole time; a no-op where nothing more is written
    after the gallery, or on a worker of a multi-host strategy."""
    import contextlib

    from kerasdream.network import distribute
    from kerasdream.runs.runlock import RunLock

    if not needed or not distribute.is_chief(strategy):
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    lock = stack.enter_context(RunLock(out))
    stack.enter_context(lock.lent())
    return stack


def _reference(args):
    """With --examples, the folder's photos as the natural reference, else None
    (skimage's); an empty or missing folder fails before any dream trains."""
    if not args.examples:
        return None
    from kerasdream.photo_folder import folder_reference

    return folder_reference(args.examples, exclude=[args.out])


def _examples_and_site(args, spec, results, strategy) -> str | None:
    """Dataset examples for the dreamed filters (with --examples, where the
    command has it), then the site."""
    from kerasdream.network import distribute
    from kerasdream.site.build import write_site

    if not distribute.is_chief(strategy):
        return None
    if getattr(args, "examples", None):
        from kerasdream.examples import layer_examples

        layer_examples(spec, {layer: [r.filter for r in rs] for layer, rs in results.items()},
                       args.examples, args.out, size=args.size, quiet=args.quiet)
    return write_site(args.out, spec, list(results))


def _cmd_atlas(args) -> None:
    from kerasdream.network.bases import load_base
    from kerasdream.network.layers import atlas_layers

    spec = _spec(args)
    reference = _reference(args)
    if args.cluster:
        from kerasdream.runs.cluster import driver_off_gpus

        driver_off_gpus()  # before the network is loaded: the GPUs are the workers'
    strategy = None if args.cluster else _strategy(args)
    base = load_base(spec)
    note_input_range(spec)
    layers = args.layer or atlas_layers(base)
    settings = _settings(args)
    if settings.size is None:  # the network's own size, else the atlas' smaller default
        from kerasdream.cli.parser import ATLAS_SIZE
        from kerasdream.network.bases import image_shape_for

        settings = dataclasses.replace(
            settings, size=list(image_shape_for(base, None, default=ATLAS_SIZE)[:2]))
    with _held(args.out, strategy):
        results = _run_gallery(args, spec, layers, "all", strategy, index=bool(args.cluster),
                               settings=settings, reference=reference)
        _check_results(results, args)
        index = _examples_and_site(args, spec, results, strategy)
    if index:
        print(f"Wrote {index}")


def _cmd_preimage(args) -> None:
    from kerasdream.preimages import run_preimage

    _no_spectrum(args)
    note_input_range(_spec(args))

    run_preimage(args.command, _spec(args), args.layer, args.image, args.out,
                 size=args.size, steps=args.steps, learning_rate=args.lr, seed=args.seed,
                 parameterization=args.parameterization, transforms=args.transforms,
                 weight=args.weight, quiet=args.quiet, precision=args.precision)


def _no_spectrum(args) -> None:
    if args.spectrum:
        raise DreamError(f"{args.command} starts from the photo; --spectrum is for the dreams "
                         f"of filters, gallery and atlas. Received: spectrum={args.spectrum!r}")


def _cmd_accentuate(args) -> None:
    from kerasdream.accentuation import run_accentuate

    _no_spectrum(args)
    note_input_range(_spec(args))
    run_accentuate(_spec(args), args.image, args.layer, args.filters, out_dir=args.out,
                   size=args.size, steps=args.steps, learning_rate=args.lr, seed=args.seed,
                   parameterization=args.parameterization, transforms=args.transforms,
                   strength=args.strength, distance=args.distance, weight=args.weight,
                   quiet=args.quiet, precision=args.precision)


def _cmd_evolve(args) -> None:
    from kerasdream.evolve import evolve
    from kerasdream.runs.settings import DreamSettings

    settings = DreamSettings(size=None if args.size is None else list(args.size),
                             steps=args.steps, learning_rate=args.lr, seed=args.seed,
                             parameterization=args.parameterization, transforms=args.transforms,
                             spectrum=os.path.abspath(args.spectrum) if args.spectrum else None,
                             precision=args.precision)
    series = evolve(args.model, args.layer, args.filters, args.out, settings,
                    log=None if args.quiet else print)
    print(f"Wrote {len(series.labels)} filters x {len(series)} checkpoints to "
          f"{os.path.abspath(args.out)}")


def _cmd_classes(args) -> None:
    from kerasdream.network.bases import load_base, resolve_layer
    from kerasdream.network.classes import class_count, class_layer, class_names, parse_classes

    spec = _spec(args)
    strategy = None if args.cluster else _strategy(args)  # before TensorFlow starts
    base = load_base(spec)
    note_input_range(spec)
    layer = resolve_layer(base, args.layer) if args.layer else class_layer(base)
    count = class_count(base, layer)
    names = class_names(base, layer, args.labels)
    chosen = parse_classes(args.classes, count, names)
    with _held(args.out, strategy):  # from the first dream to the site, as a gallery
        results = _run_gallery(args, spec, [layer], ",".join(map(str, chosen)), strategy,
                               settings=_settings(args, objective="class"), names=names)
        _check_results(results, args)
        _examples_and_site(args, spec, results, strategy)  # the site, with the class names
    print(f"Wrote {os.path.abspath(args.out)}")


from kerasdream.cli import activation_atlas  # noqa: E402

COMMANDS = {
    "layers": _cmd_layers,
    "filters": _profiled(_cmd_gallery),
    "gallery": _profiled(_cmd_gallery),
    "atlas": _profiled(_cmd_atlas),
    "classes": _profiled(_cmd_classes),
    "invert": _cmd_preimage,
    "caricature": _cmd_preimage,
    "accentuate": _cmd_accentuate,
    "evolve": _cmd_evolve,
    "activation-atlas": activation_atlas.run,
}


def __getattr__(name: str):
    """`main`, importable from here as before the split (imported on first use:
    `kerasdream.cli` imports this module)."""
    if name == "main":
        from kerasdream.cli import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
